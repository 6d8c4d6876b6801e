#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Black-box harness for the D-Bus tests: a private Dovecot, a private bus with an unlocked
gnome-keyring, and postroomd from the build tree on that bus.

    import harness
    from harness import Stack, GLib, SERVICE, OPERATION
    with Stack(seed={"INBOX": 20}) as s:
        svc = s.account(folder_sync="all")          # AddService + SetPassword
        op = s.call(svc, SERVICE, "ConnectAndSync", GLib.Variant("(sa{sv})", ("sync", {})))[0]
        s.wait_op(op)                               # Wait; raises DBusCallError on failure
        s.assert_store_equals_server(svc)

Environment (meson sets it): POSTROOMD, POSTROOMCTL, GSETTINGS_SCHEMA_DIR (the compiled
schemas of the build tree), PR_TEST_SERVERS_DIR (tests/servers). Run under /usr/bin/python3
(python3-gi). Exit code 77 (via main()) only when dovecot, dbus-daemon, gnome-keyring-daemon
or python3-gi is missing.

Every signal the daemon sends is recorded with its arrival time (a GDBus message filter,
which runs in GDBus's worker thread as messages arrive, so the times are real even while
the test thread is blocked in a call). Passwords travel only over the bus, never in argv.
"""

import atexit
import base64
import collections
import imaplib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS_DIR = os.environ.get("PR_TEST_SERVERS_DIR") or os.path.join(HERE, "..", "servers")
sys.path.insert(0, SERVERS_DIR)
import dovecot  # noqa: E402
import keyring_session  # noqa: E402

try:
    import gi

    gi.require_version("Gio", "2.0")
    gi.require_version("GLib", "2.0")
    from gi.repository import Gio, GLib  # noqa: F401
except (ImportError, ValueError):
    Gio = GLib = None

SKIP = 77
BUS_NAME = "org.postroom.Postroom1"
ROOT = "/org/postroom/Postroom1"
SERVICES = ROOT + "/services/"
OPERATIONS = ROOT + "/operations/"
MANAGER = "org.postroom.Postroom1.Manager"
SERVICE = "org.postroom.Postroom1.Imap4Service"
OPERATION = "org.postroom.Postroom1.Imap4Operation"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
ERR = "org.postroom.Postroom1.Error."
CALL_TIMEOUT = 120  # seconds a D-Bus call may take (Wait calls pass their own)

POSTROOMD = os.environ.get("POSTROOMD", "")
POSTROOMCTL = os.environ.get("POSTROOMCTL", "")
SCHEMA_DIR = os.environ.get("GSETTINGS_SCHEMA_DIR", "")

# The contract's settings keys and their D-Bus types (dbus-api.md, "Settings keys").
SETTING_TYPES = {
    "display-name": "s", "host": "s", "port": "q", "security": "s", "allow-insecure": "b",
    "compress": "b", "user": "s", "auth": "s", "timeout": "u", "tls-ca-file": "s",
    "tls-pinned-certificate": "s", "folder-path": "s", "folder-sync": "s",
    "subscription-update": "s", "inbox-sync-limit": "i", "mailbox-sync-limit": "i",
    "sync-search": "s", "get-mail-parts": "s", "body-text-size-limit": "t",
    "attachment-size-limit": "t", "total-size-limit": "t", "fetch-chunk-size": "u",
    "idle": "b", "idle-timeout": "u", "sync-interval": "u", "offline-operations": "b",
    "update-seen-flags": "b", "delete-on-disconnect": "b", "use-expunge": "b",
    "send-on-next-connection": "b", "smtp-host": "s", "smtp-port": "q", "smtp-security": "s",
    "smtp-user": "s", "from-address": "s", "save-sent": "b", "sent-folder": "s",
    "drafts-folder": "s", "acknowledge-receipts": "b",
    # not settings, accepted by AddService / ProbeServer
    "id": "s", "password": "s",
}


def missing_requirements():
    """What this suite needs that is not installed (a reason to skip)."""
    missing = []
    if Gio is None:
        missing.append("python3-gi")
    if dovecot.dovecot_binary() is None:
        missing.append("dovecot")
    missing += keyring_session.missing_programs(keyring=True)
    return missing


def main():
    """unittest.main(), but exit 77 when a needed program is absent."""
    missing = missing_requirements()
    if missing:
        print("skipped, not installed: " + " ".join(missing), file=sys.stderr)
        sys.exit(SKIP)
    if not POSTROOMD or not os.access(POSTROOMD, os.X_OK):
        sys.exit("POSTROOMD is not set to the postroomd binary (meson test sets it)")
    if not SCHEMA_DIR or not os.path.exists(os.path.join(SCHEMA_DIR, "gschemas.compiled")):
        sys.exit("GSETTINGS_SCHEMA_DIR does not hold compiled schemas (meson test sets it)")
    # meson's timeout sends SIGTERM: unwind (KeyboardInterrupt passes through unittest) so
    # that every Stack stops its processes (atexit)
    signal.signal(signal.SIGTERM, _terminated)
    unittest.main(verbosity=2)


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# -- values --------------------------------------------------------------------------------


def to_variant(key, value):
    """A settings value as the contract's type for @key; a GLib.Variant passes as is."""
    if isinstance(value, GLib.Variant):
        return value
    return GLib.Variant(SETTING_TYPES[key], value)


def settings_dict(settings):
    """{"folder_sync": "all", ...} (underscores or dashes) -> {"folder-sync": Variant}."""
    out = {}
    for key, value in settings.items():
        key = key.replace("_", "-")
        out[key] = to_variant(key, value)
    return out


def vardict(**kw):
    """Options a{sv} from explicit variants: vardict(limit=GLib.Variant("u", 5))."""
    return {k.replace("_", "-"): v for k, v in kw.items()}


class DBusCallError(Exception):
    """A method call answered with a D-Bus error: .name (full) and .message."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    @property
    def short(self):
        return self.name[len(ERR):] if self.name.startswith(ERR) else self.name


def _convert_error(e):
    name = Gio.DBusError.get_remote_error(e) or ""
    message = e.message
    prefix = f"GDBus.Error:{name}: "
    if name and message.startswith(prefix):
        message = message[len(prefix):]
    return DBusCallError(name or f"(GError {e.domain} {e.code})", message)


Signal = collections.namedtuple("Signal", "time sender path interface member args body")


# -- the independent view of the server ----------------------------------------------------


def mutf7_decode(name):
    """IMAP modified UTF-7 -> str."""
    out, i = [], 0
    while i < len(name):
        ch = name[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = name.index("-", i)
        chunk = name[i + 1:end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = end + 1
    return "".join(out)


_LIST_RE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?:"(?P<delim>[^"]*)"|NIL) (?P<name>.*)$')
_FETCH_RE = re.compile(rb"UID (\d+)")
_FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")


def _parse_list(item):
    """One LIST/LSUB reply from imaplib -> (name, {attribute, ...})."""
    if isinstance(item, tuple):  # the name came as a literal
        m = _LIST_RE.match(item[0].rstrip())
        raw = item[1].decode()
    else:
        m = _LIST_RE.match(item)
        raw = m.group("name").decode()
        if raw.startswith('"'):
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return mutf7_decode(raw), {a.decode().lower() for a in m.group("attrs").split()}


def _imap_quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ServerView:
    """What Dovecot holds, read over IMAP (plaintext port on 127.0.0.1), independent of the
    daemon. Flags are compared without \\Recent (a session flag)."""

    def __init__(self, host, port, user, password):
        self.imap = imaplib.IMAP4(host, port)
        self.imap.login(user, password)

    def close(self):
        try:
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ok(self, typ, data, what):
        if typ != "OK":
            raise AssertionError(f"IMAP {what}: {typ} {data}")
        return data

    def folders(self):
        """{name (UTF-8): set of lower-case attributes} of every mailbox LIST returns."""
        data = self._ok(*self.imap.list('""', "*"), "LIST")
        return dict(_parse_list(item) for item in data if item is not None)

    def selectable_folders(self):
        return sorted(n for n, a in self.folders().items()
                      if "\\noselect" not in a and "\\nonexistent" not in a)

    def _encode(self, folder):
        return _imap_quote(dovecot.mutf7_encode(folder))

    def examine(self, folder):
        """(uidvalidity, exists)."""
        data = self._ok(*self.imap.select(self._encode(folder), readonly=True), "EXAMINE")
        typ, uv = self.imap.response("UIDVALIDITY")
        return int(uv[0]), int(data[0])

    def messages(self, folder):
        """{uid: frozenset(flags)} of @folder."""
        _, exists = self.examine(folder)
        out = {}
        if exists == 0:
            return out
        data = self._ok(*self.imap.uid("FETCH", "1:*", "(FLAGS)"), "FETCH")
        for item in data:
            if item is None:
                continue
            line = item[0] if isinstance(item, tuple) else item
            uid = int(_FETCH_RE.search(line).group(1))
            flags = _FLAGS_RE.search(line).group(1).decode().split()
            out[uid] = frozenset(f for f in flags if f.lower() != "\\recent")
        return out

    def uidvalidity(self, folder):
        return self.examine(folder)[0]

    def body(self, folder, uid):
        self.examine(folder)
        data = self._ok(*self.imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH")
        for item in data:
            if isinstance(item, tuple):
                return item[1]
        raise AssertionError(f"no body for {folder} UID {uid}")

    def store_flags(self, folder, uid, op, flags):
        """op: "+FLAGS" or "-FLAGS"; flags: a list."""
        self._ok(*self.imap.select(self._encode(folder)), "SELECT")
        self._ok(*self.imap.uid("STORE", str(uid), op + ".SILENT", "(" + " ".join(flags) + ")"),
                 "STORE")

    def capabilities(self):
        """The capabilities after login, upper-cased."""
        data = self._ok(*self.imap.capability(), "CAPABILITY")
        return {c.upper() for c in data[0].decode().split()}

    def subscribe(self, folder):
        self._ok(*self.imap.subscribe(self._encode(folder)), "SUBSCRIBE")

    def subscribed(self):
        data = self._ok(*self.imap.lsub('""', "*"), "LSUB")
        return {_parse_list(item)[0] for item in data if item is not None}

    def expunge(self, folder, uid):
        self.store_flags(folder, uid, "+FLAGS", ["\\Deleted"])
        self._ok(*self.imap.uid("EXPUNGE", str(uid)), "UID EXPUNGE")


# -- the stack -----------------------------------------------------------------------------


class Stack:
    """Dovecot + private bus + gnome-keyring + postroomd. Use as a context manager; every
    process is stopped on exit, failure or not."""

    def __init__(self, seed=None, seed_users=None, users=None, badcert=True, linger=None,
                 daemon_args=(), start=True):
        self.seed = seed or {}
        self.seed_users = seed_users or {}
        self.users = users
        self.badcert = badcert
        self.linger = linger
        self.daemon_args = list(daemon_args)
        self.autostart = start
        self.server = None
        self.session = None
        self.daemon = None
        self.conn = None
        self.dir = None
        self.signals = []
        self.cond = threading.Condition()
        self.filter_id = None
        self.daemon_starts = 0
        self.seeded = {}

    # -- life cycle --
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        atexit.register(self.stop)
        self.dir = tempfile.mkdtemp(prefix="pr-dbus-test-")
        self.data_home = os.path.join(self.dir, "data")
        self.config_home = os.path.join(self.dir, "config")
        os.makedirs(self.data_home)
        os.makedirs(self.config_home)
        self.log_path = os.path.join(self.dir, "postroomd.log")
        self.server = dovecot.Dovecot(badcert=self.badcert, users=self.users)
        self.seeded = self.server.seed(self.user, self.seed)
        for user, folders in self.seed_users.items():
            self.server.seed(user, folders)
        self.server.start()
        self.session = keyring_session.Session()
        self.session.start()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.session.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.filter_id = self.conn.add_filter(self._filter, None)
        # every signal the daemon's name sends, whatever its unique name is after restarts
        self._bus_call("AddMatch", GLib.Variant("(s)", (f"type='signal',sender='{BUS_NAME}'",)))
        if self.autostart:
            self.start_daemon()

    def stop(self):
        if self.daemon is not None:
            self._stop_process(self.daemon, signal.SIGTERM)
            self.daemon = None
        if self.conn is not None:
            if self.filter_id is not None:
                self.conn.remove_filter(self.filter_id)
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass
            self.conn = None
        if self.session is not None:
            self.session.stop()
            self.session = None
        if self.server is not None:
            self.server.cleanup()
            self.server = None
        if self.dir is not None:
            if os.environ.get("PR_TEST_KEEP"):
                print(f"kept {self.dir}", file=sys.stderr)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    @staticmethod
    def _stop_process(proc, sig):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- facts --
    @property
    def user(self):
        return list((self.users or dovecot.USERS).keys())[0]

    @property
    def password(self):
        return (self.users or dovecot.USERS)[self.user]

    @property
    def address(self):
        return self.session.address

    def env(self):
        """The daemon's environment (and that of gsettings/secret-tool run for a test)."""
        env = self.session.env()
        env.update({
            "XDG_DATA_HOME": self.data_home,
            "XDG_CONFIG_HOME": self.config_home,
            "GSETTINGS_BACKEND": "keyfile",
            "GSETTINGS_SCHEMA_DIR": SCHEMA_DIR,
            "G_MESSAGES_DEBUG": "all",
            "LC_ALL": "C.UTF-8",
        })
        # not fatal-criticals: tearDown fails the test on a logged CRITICAL instead, and
        # the daemon lives on for the next test
        env.pop("G_DEBUG", None)
        return env

    def store_dir(self, service_id):
        return os.path.join(self.data_home, "postroom", service_id)

    # -- the daemon --
    def start_daemon(self, extra_args=()):
        if self.daemon is not None and self.daemon.poll() is None:
            raise RuntimeError("postroomd runs already")
        argv = [POSTROOMD, "--address", self.address, "--verbose", *self.daemon_args,
                *extra_args]
        if self.linger is not None:
            argv += ["--operation-linger", str(self.linger)]
        self.daemon_starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"=== postroomd start #{self.daemon_starts}: {argv}\n".encode())
            log.flush()
            self.daemon = subprocess.Popen(argv, env=self.env(), stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=subprocess.STDOUT,
                                           preexec_fn=dovecot.set_pdeathsig)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError(f"postroomd exited with {self.daemon.returncode}:\n"
                                   + self.log_tail())
            owner = self.name_owner()
            if owner:
                self.unique_name = owner
                return owner
            time.sleep(0.02)
        raise RuntimeError("postroomd did not take its bus name:\n" + self.log_tail())

    def kill_daemon(self, sig=signal.SIGKILL):
        """Sends @sig and waits until the process is gone and its name is released."""
        proc, self.daemon = self.daemon, None
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"postroomd did not exit on signal {sig}")
        self.wait_until(lambda: not self.name_owner(), 20, "the bus name to be released")
        return proc.returncode

    def restart_daemon(self, sig=signal.SIGTERM):
        self.kill_daemon(sig)
        return self.start_daemon()

    def daemon_running(self):
        return self.daemon is not None and self.daemon.poll() is None

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- the bus --
    def _bus_call(self, method, args, sig=None):
        return self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", method, args,
                                   GLib.VariantType(sig) if sig else None,
                                   Gio.DBusCallFlags.NONE, 10000, None)

    def name_owner(self):
        try:
            return self._bus_call("GetNameOwner", GLib.Variant("(s)", (BUS_NAME,)),
                                  "(s)").unpack()[0]
        except GLib.Error:
            return None

    def call_raw(self, path, iface, method, args=None, timeout=CALL_TIMEOUT, dest=BUS_NAME):
        """Returns the reply GLib.Variant; raises DBusCallError."""
        try:
            return self.conn.call_sync(dest, path, iface, method, args, None,
                                       Gio.DBusCallFlags.NO_AUTO_START, int(timeout * 1000),
                                       None)
        except GLib.Error as e:
            raise _convert_error(e) from None

    def call(self, path, iface, method, args=None, timeout=CALL_TIMEOUT):
        """A method call; returns the reply unpacked into a tuple (raises DBusCallError)."""
        reply = self.call_raw(path, iface, method, args, timeout)
        return reply.unpack() if reply is not None else ()

    def call_fds(self, path, iface, method, args, timeout=CALL_TIMEOUT, raw=False):
        """A call whose reply carries file descriptors: (reply unpacked, or the GLib.Variant
        with @raw, [fd, ...]). The fds are ours to close."""
        try:
            reply, fdlist = self.conn.call_with_unix_fd_list_sync(
                BUS_NAME, path, iface, method, args, None, Gio.DBusCallFlags.NO_AUTO_START,
                int(timeout * 1000), None, None)
        except GLib.Error as e:
            raise _convert_error(e) from None
        fds = fdlist.steal_fds() if fdlist is not None else []
        return (reply if raw else reply.unpack()), list(fds)

    def props_raw(self, path, iface):
        """{name: GLib.Variant} of every property (GetAll)."""
        reply = self.call_raw(path, PROPERTIES, "GetAll", GLib.Variant("(s)", (iface,)))
        d = reply.get_child_value(0)
        out = {}
        for i in range(d.n_children()):
            entry = d.get_child_value(i)
            out[entry.get_child_value(0).get_string()] = entry.get_child_value(1).get_variant()
        return out

    def props(self, path, iface):
        return {k: v.unpack() for k, v in self.props_raw(path, iface).items()}

    def prop(self, path, iface, name):
        reply = self.call_raw(path, PROPERTIES, "Get", GLib.Variant("(ss)", (iface, name)))
        return reply.get_child_value(0).get_variant().unpack()

    def managed_objects(self):
        """{path: {interface: {property: value}}} from the ObjectManager."""
        return self.call(ROOT, OBJECT_MANAGER, "GetManagedObjects")[0]

    def introspect_children(self, path):
        xml = self.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")[0]
        return re.findall(r'<node name="([^"]+)"', xml)

    # -- signals --
    def _filter(self, connection, message, incoming, user_data):
        if incoming and message.get_message_type() == Gio.DBusMessageType.SIGNAL:
            body = message.get_body()
            sig = Signal(time.monotonic(), message.get_sender(), message.get_path(),
                         message.get_interface(), message.get_member(),
                         body.unpack() if body is not None else (), body)
            with self.cond:
                self.signals.append(sig)
                self.cond.notify_all()
        return message

    def mark(self):
        """An index into the recorded signals: pass it as since= to look only at later ones."""
        with self.cond:
            return len(self.signals)

    def recorded(self, member=None, path=None, interface=None, since=0):
        with self.cond:
            sigs = self.signals[since:]
        return [s for s in sigs
                if (member is None or s.member == member)
                and (path is None or s.path == path)
                and (interface is None or s.interface == interface)]

    def wait_signal(self, member=None, path=None, interface=None, since=0, timeout=60,
                    match=None):
        """The first recorded signal from index @since on that fits; waits for it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for s in self.signals[since:]:
                    if ((member is None or s.member == member)
                            and (path is None or s.path == path)
                            and (interface is None or s.interface == interface)
                            and (match is None or match(s))):
                        return s
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no signal {interface or ''}.{member} on {path} within {timeout}s")
                self.cond.wait(min(left, 1.0))

    def wait_until(self, predicate, timeout=60, what="a condition", interval=0.05):
        """Polls @predicate until it is true (its value is returned) or the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    def property_changes(self, path, iface, name, since=0):
        """The values of @name announced by PropertiesChanged on @path, in order."""
        out = []
        for s in self.recorded("PropertiesChanged", path=path, interface=PROPERTIES,
                               since=since):
            if s.args[0] == iface and name in s.args[1]:
                out.append(s.args[1][name])
        return out

    # -- manager and accounts --
    def add_service(self, settings):
        """AddService with a{sv} @settings (values: GLib.Variant); returns the path."""
        return self.call(ROOT, MANAGER, "AddService", GLib.Variant("(a{sv})", (settings,)))[0]

    def default_settings(self, **settings):
        base = {"host": self.server.host, "port": self.server.imaps_port, "security": "tls",
                "user": self.user, "tls-ca-file": self.server.ca_file}
        base.update({k.replace("_", "-"): v for k, v in settings.items()})
        return base

    def add_account(self, **settings):
        """AddService with the test Dovecot's TLS port and CA, overridden by @settings
        (python names: folder_sync="all"); returns the service path."""
        return self.add_service(settings_dict(self.default_settings(**settings)))

    def set_password(self, service, password=None, protocol="imap"):
        if password is None:
            password = self.password
        self.call(service, SERVICE, "SetPassword", GLib.Variant("(ss)", (protocol, password)))

    def account(self, password=None, **settings):
        """add_account + set_password."""
        path = self.add_account(**settings)
        self.set_password(path, password)
        return path

    def service_id(self, path):
        return path.rsplit("/", 1)[1]

    # -- operations --
    def op(self, service, method, args):
        """Calls a service method that returns an operation; returns its path."""
        return self.call(service, SERVICE, method, args)[0]

    def connect_and_sync(self, service, complete_after="sync"):
        return self.op(service, "ConnectAndSync", GLib.Variant("(sa{sv})", (complete_after, {})))

    def synchronise(self, service, scope="full", folders=()):
        return self.op(service, "Synchronise",
                       GLib.Variant("(sasa{sv})", (scope, list(folders), {})))

    def connect(self, service):
        return self.op(service, "Connect", GLib.Variant("(a{sv})", ({},)))

    def disconnect(self, service):
        return self.op(service, "Disconnect", GLib.Variant("(a{sv})", ({},)))

    def wait_op(self, path, timeout=240):
        """Blocks in the operation's Wait until it ends; raises DBusCallError with the
        operation's error if it failed."""
        self.call(path, OPERATION, "Wait", GLib.Variant("(a{sv})", ({},)), timeout=timeout)

    def wait_op_error(self, path, timeout=240):
        """Waits for an operation expected to fail; returns its DBusCallError."""
        try:
            self.wait_op(path, timeout)
        except DBusCallError as e:
            return e
        raise AssertionError(f"operation {path} succeeded; a failure was expected")

    def run(self, service, method, args, timeout=240):
        """op() + wait_op(); returns the operation path."""
        path = self.op(service, method, args)
        self.wait_op(path, timeout)
        return path

    def full_sync(self, service):
        """ConnectAndSync("sync") and wait for it."""
        path = self.connect_and_sync(service, "sync")
        self.wait_op(path)
        return path

    # -- the store through the daemon --
    def list_folders(self, service):
        return dict(self.call(service, SERVICE, "ListFolders",
                              GLib.Variant("(a{sv})", ({},)))[0])

    def list_messages(self, service, folder, **query):
        return self.call(service, SERVICE, "ListMessages",
                         GLib.Variant("(sa{sv})", (folder, vardict(**query))))[0]

    def store_snapshot(self, service):
        """{folder: {uid: frozenset(flags)}} of the server folders in the store (D-Bus)."""
        out = {}
        for name, info in self.list_folders(service).items():
            if info["local"]:
                continue
            out[name] = {m["uid"]: frozenset(f for f in m["flags"] if f.lower() != "\\recent")
                         for _, m in self.list_messages(service, name)}
        return out

    # -- the server --
    def server_view(self, user=None, password=None):
        user = user or self.user
        if password is None:
            password = (self.users or dovecot.USERS)[user]
        return ServerView(self.server.host, self.server.port, user, password)

    def server_snapshot(self, user=None):
        """{folder: {uid: frozenset(flags)}} of every selectable folder, plus the
        \\Noselect ones as empty dicts; and {folder: uidvalidity}."""
        with self.server_view(user) as v:
            folders = v.folders()
            snap, validity = {}, {}
            for name, attrs in folders.items():
                if "\\noselect" in attrs or "\\nonexistent" in attrs:
                    snap[name] = {}
                    continue
                snap[name] = v.messages(name)
                validity[name] = v.uidvalidity(name)
            return snap, validity

    def store_db(self, service_id):
        """A read-only sqlite3 connection to the account's store.db."""
        path = os.path.join(self.store_dir(service_id), "store.db")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def message_file(self, service_id, message_id):
        return os.path.join(self.store_dir(service_id), "messages",
                            f"{message_id % 256:02x}", f"{message_id}.eml")

    def tool_env(self):
        """The daemon's environment without debug output (GLib prints it on stdout)."""
        env = self.env()
        env.pop("G_MESSAGES_DEBUG")
        return env

    def gsettings(self, *args):
        """Runs gsettings with the daemon's environment (keyfile backend, schema dir)."""
        return subprocess.run(["gsettings", "--schemadir", SCHEMA_DIR, *args],
                              env=self.tool_env(),
                              capture_output=True, text=True, timeout=60, check=True).stdout

    def secret_lookup(self, service_id, protocol="imap"):
        """The stored password (through secret-tool, i.e. libsecret), or None."""
        r = subprocess.run(["secret-tool", "lookup", "service", service_id, "protocol",
                            protocol], env=self.tool_env(), capture_output=True,
                           timeout=60)
        return r.stdout.decode() if r.returncode == 0 and r.stdout else None


# -- test case helpers ---------------------------------------------------------------------


class TestCase(unittest.TestCase):
    """Assertions on D-Bus errors and types; prints the daemon log tail on failure."""

    stack = None  # set by subclasses (setUpClass or per test)

    def setUp(self):
        super().setUp()
        s = self.stack
        if s is not None and s.dir and s.daemon is not None and not s.daemon_running():
            s.daemon = None
            s.start_daemon()  # an earlier test left it dead; that test has failed already
        self._log_offset = s.log_size() if s is not None and s.dir else 0

    def tearDown(self):
        s = self.stack
        problems = []
        if s is not None and s.dir:
            if s.daemon is not None and s.daemon.poll() is not None:
                problems.append(f"postroomd died (exit status {s.daemon.returncode})")
            criticals = [line for line in s.log_text(self._log_offset).splitlines()
                         if "CRITICAL" in line]
            if criticals:
                problems.append("postroomd logged criticals:\n" + "\n".join(criticals[:10]))
            outcome = getattr(self, "_outcome", None)
            if problems or (outcome is not None and not getattr(outcome, "success", True)):
                print(f"\n--- postroomd log (tail) for {self.id()} ---\n"
                      f"{s.log_tail(80)}\n--- end of log ---", file=sys.stderr)
        super().tearDown()
        if problems:
            self.fail("; ".join(problems))

    def assertCallFails(self, name, fn, *args, **kw):
        """Runs fn(*args); it must raise DBusCallError with @name (short or full)."""
        full = name if "." in name else ERR + name
        try:
            fn(*args, **kw)
        except DBusCallError as e:
            self.assertEqual(e.name, full, f"expected {full}, got {e}")
            return e
        self.fail(f"call succeeded; expected {full}")

    def assertNoObject(self, path, iface):
        """Nothing answers for @iface at @path any more."""
        try:
            self.stack.props(path, iface)
        except DBusCallError as e:
            self.assertIn(e.name.rsplit(".", 1)[-1],
                          ("UnknownMethod", "UnknownObject", "UnknownInterface"), str(e))
            return
        self.fail(f"{path} still answers for {iface}")

    def assertType(self, variant, type_string, what=""):
        self.assertEqual(variant.get_type_string(), type_string,
                         f"{what}: type {variant.get_type_string()}, contract says {type_string}")

    def assertVardictTypes(self, variant, expected, what="", exact=False):
        """@variant a{sv}: each key of @expected present with its type."""
        got = {}
        for i in range(variant.n_children()):
            e = variant.get_child_value(i)
            got[e.get_child_value(0).get_string()] = \
                e.get_child_value(1).get_variant().get_type_string()
        for key, t in expected.items():
            self.assertIn(key, got, f"{what}: key {key!r} missing (has {sorted(got)})")
            self.assertEqual(got[key], t, f"{what}: key {key!r} is {got[key]}, contract {t}")
        if exact:
            self.assertEqual(sorted(got), sorted(expected), f"{what}: keys")
        return got

    def assertStoreEqualsServer(self, stack, service, user=None):
        """Folders, UIDVALIDITY, UIDs and flags in the store (through the daemon) equal
        the server's (through IMAP)."""
        server, validity = stack.server_snapshot(user)
        folders = stack.list_folders(service)
        remote = {n: i for n, i in folders.items() if not i["local"]}
        self.assertEqual(sorted(remote), sorted(server), "folder names: store vs server")
        for name, uv in validity.items():
            self.assertEqual(remote[name]["uidvalidity"], uv, f"UIDVALIDITY of {name}")
        store = stack.store_snapshot(service)
        for name in sorted(server):
            s, r = store[name], server[name]
            self.assertEqual(sorted(s), sorted(r), f"UIDs of {name}: store vs server")
            diff = {uid: (sorted(s[uid]), sorted(r[uid])) for uid in r if s[uid] != r[uid]}
            self.assertEqual(diff, {}, f"flags of {name} (uid: (store, server))")
            self.assertEqual(remote[name]["messages"], len(r), f"message count of {name}")
