#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private D-Bus session bus and, optionally, an unlocked gnome-keyring for tests.

Library use:

    from keyring_session import Session
    with Session() as s:                      # bus + unlocked keyring
        subprocess.run(cmd, env=s.env())      # DBUS_SESSION_BUS_ADDRESS, HOME, XDG_* ...
        s.stop_keyring(); s.start_keyring(unlock=False)   # the same keyring, now locked
    with Session(keyring=False) as s:         # a bus on which no Secret Service exists
        ...

Command line (runs COMMAND inside the session, exits with its status):

    keyring_session.py [--no-keyring] -- COMMAND [ARGS...]

Exit code 77 (skip) when dbus-daemon or gnome-keyring-daemon is missing.

The recipe, and why each step is there:

1. A throwaway HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR
   (mode 0700): the keyring files (XDG_DATA_HOME/keyrings/login.keyring) and control
   socket never touch the user's, and every run starts with no keyring at all.
2. Our own dbus-daemon with a config of type "session" that allows everything and has NO
   <standard_session_servicedirs/>: nothing gets D-Bus-activated. With the stock session
   config (dbus-run-session), the first call to org.freedesktop.secrets would activate
   /usr/share/dbus-1/services/org.freedesktop.secrets.service: a second gnome-keyring
   whose login keyring is locked and which needs a graphical prompter to unlock it.
3. gnome-keyring-daemon --foreground --unlock --components=secrets, the password on stdin
   and stdin then closed. On an empty XDG_DATA_HOME, --unlock creates the "login"
   collection with that password, leaves it unlocked and points the "default" alias at
   it, so libsecret's SECRET_COLLECTION_DEFAULT works without any prompt. This works as
   root with no login session; no PAM, no gcr-prompter and no X are needed.
4. Wait until org.freedesktop.secrets has an owner on the bus (NameHasOwner, polled).
5. Teardown: SIGTERM the keyring, then the bus, each waited for (no stray daemons).

A locked keyring for fail-closed tests: stop the keyring and start it again without
--unlock on the same XDG_DATA_HOME. Unlocking then needs a prompt, which fails at once on
this bus (org.gnome.keyring.SystemPrompter cannot be activated), so the collection stays
locked and clients get an error instead of hanging.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

SECRETS_NAME = "org.freedesktop.secrets"
DEFAULT_PASSWORD = "postroom-test-keyring"


def missing_programs(keyring=True):
    """The programs this fixture needs that are not installed."""
    progs = ["dbus-daemon"] + (["gnome-keyring-daemon"] if keyring else [])
    return [p for p in progs if shutil.which(p) is None]


class Session:
    def __init__(self, keyring=True, password=DEFAULT_PASSWORD):
        self.want_keyring = keyring
        self.password = password
        self.dir = None
        self.bus = None
        self.keyring = None
        self.address = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def env(self, base=None):
        """The environment a client needs: the private bus and the throwaway home."""
        env = dict(os.environ if base is None else base)
        for k in ("DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK",
                  "SECRET_BACKEND"):
            env.pop(k, None)
        env.update({
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "HOME": os.path.join(self.dir, "home"),
            "XDG_DATA_HOME": os.path.join(self.dir, "home", ".local", "share"),
            "XDG_CONFIG_HOME": os.path.join(self.dir, "home", ".config"),
            "XDG_CACHE_HOME": os.path.join(self.dir, "home", ".cache"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "run"),
        })
        return env

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="pr-keyring-")
        for d in ("home/.local/share", "home/.config", "home/.cache", "run", "bus"):
            os.makedirs(os.path.join(self.dir, d), mode=0o700, exist_ok=True)
        os.chmod(os.path.join(self.dir, "run"), 0o700)
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(dir=os.path.join(self.dir, "bus")))
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.bus.stdout.readline().strip()
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon did not start")
        if self.want_keyring:
            self.start_keyring(unlock=True)

    def start_keyring(self, unlock=True):
        argv = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlock:
            argv.append("--unlock")
        self.keyring = subprocess.Popen(
            argv, env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        # --unlock reads the password up to EOF; without it, EOF is all it gets
        if unlock:
            self.keyring.stdin.write(self.password.encode())
        self.keyring.stdin.close()
        self.wait_for_name(SECRETS_NAME)

    def stop_keyring(self):
        if self.keyring is not None:
            _terminate(self.keyring)
            self.keyring = None
            self.wait_for_name(SECRETS_NAME, present=False)

    def name_has_owner(self, name):
        r = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:" + name],
            env=self.env(), capture_output=True, text=True, timeout=10)
        return "boolean true" in r.stdout

    def wait_for_name(self, name, present=True, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.name_has_owner(name) == present:
                return
            if present and self.keyring is not None and self.keyring.poll() is not None:
                raise RuntimeError("gnome-keyring-daemon exited with %d" % self.keyring.returncode)
            time.sleep(0.05)
        raise RuntimeError("%s %s on the bus after %ds" %
                           (name, "not" if present else "still", timeout))

    def stop(self):
        if self.keyring is not None:
            _terminate(self.keyring)
            self.keyring = None
        if self.bus is not None:
            _terminate(self.bus)
            self.bus.stdout.close()
            self.bus = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _terminate(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-keyring", action="store_true",
                        help="a private bus without any Secret Service")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    missing = missing_programs(keyring=not args.no_keyring)
    if missing:
        print("keyring_session.py: skipped, not installed: " + " ".join(missing), file=sys.stderr)
        return 77
    with Session(keyring=not args.no_keyring) as s:
        return subprocess.run(command, env=s.env()).returncode


if __name__ == "__main__":
    sys.exit(main())
