#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""src/account/pr-secrets.c against a real gnome-keyring-daemon on a private bus.

    test-secrets.py PR_SECRETS_TOOL

The bus and keyring come from tests/servers/keyring_session.py (its docstring holds the
recipe). Passwords go to the tool on stdin, never in argv. Exit 77 only when dbus-daemon
or gnome-keyring-daemon is missing.
"""

import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("PR_TEST_SERVERS_DIR") or os.path.join(HERE, "..", "servers"))
from keyring_session import Session, missing_programs  # noqa: E402

TOOL = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ.get("PR_SECRETS_TOOL", "")
SECRET_TOOL = shutil.which("secret-tool")


class Client:
    """Runs pr-secrets-tool in a session; returns (exit code, stdout, error name)."""

    def __init__(self, env):
        self.env = env

    def run(self, *args, stdin=""):
        r = subprocess.run([TOOL, *args], input=stdin, env=self.env, capture_output=True,
                           text=True, timeout=60)
        name = ""
        if r.returncode != 0:
            line = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
            assert line.startswith("ERROR "), r.stderr
            name = line.split()[1].rstrip(":")
        return r.returncode, r.stdout, name

    def store(self, service, protocol, password, user=None, host=None):
        extra = [user, host] if user is not None else []
        return self.run("store", service, protocol, *extra, stdin=password)

    def lookup(self, service, protocol):
        return self.run("lookup", service, protocol)

    def clear(self, service, protocol=None):
        return self.run("clear", service, *([protocol] if protocol else []))


class SecretsTestCase(unittest.TestCase):
    def assertOk(self, result, stdout=None):
        rc, out, name = result
        self.assertEqual((rc, name), (0, ""))
        if stdout is not None:
            self.assertEqual(out, stdout)

    def assertFails(self, result, name):
        rc, out, got = result
        self.assertEqual(rc, 1)
        self.assertEqual(got, name)
        self.assertEqual(out, "")


class UnlockedKeyring(SecretsTestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = Session()
        cls.session.start()
        cls.c = Client(cls.session.env())

    @classmethod
    def tearDownClass(cls):
        cls.session.stop()

    def test_store_lookup_clear(self):
        c = self.c
        self.assertFails(c.lookup("ann_example", "imap"), "NoPassword")
        self.assertOk(c.store("ann_example", "imap", "imap-secret"))
        self.assertOk(c.lookup("ann_example", "imap"), "imap-secret")
        self.assertFails(c.lookup("ann_example", "smtp"), "NoPassword")
        self.assertOk(c.store("ann_example", "smtp", "smtp-secret"))
        self.assertOk(c.lookup("ann_example", "smtp"), "smtp-secret")
        self.assertOk(c.lookup("ann_example", "imap"), "imap-secret")

        # storing again replaces
        self.assertOk(c.store("ann_example", "imap", "imap-secret-2"))
        self.assertOk(c.lookup("ann_example", "imap"), "imap-secret-2")

        # clear one protocol, then all; clearing nothing succeeds
        self.assertOk(c.clear("ann_example", "imap"))
        self.assertFails(c.lookup("ann_example", "imap"), "NoPassword")
        self.assertOk(c.lookup("ann_example", "smtp"), "smtp-secret")
        self.assertOk(c.clear("ann_example"))
        self.assertFails(c.lookup("ann_example", "smtp"), "NoPassword")
        self.assertOk(c.clear("ann_example"))
        self.assertOk(c.clear("ann_example", "imap"))

    def test_services_are_separate(self):
        c = self.c
        self.assertOk(c.store("svc_a", "imap", "aaa"))
        self.assertOk(c.store("svc_b", "imap", "bbb"))
        self.assertOk(c.store("svc_a_2", "imap", "ccc"))
        self.assertOk(c.lookup("svc_a", "imap"), "aaa")
        self.assertOk(c.lookup("svc_b", "imap"), "bbb")
        self.assertOk(c.clear("svc_a"))
        self.assertFails(c.lookup("svc_a", "imap"), "NoPassword")
        self.assertOk(c.lookup("svc_b", "imap"), "bbb")
        self.assertOk(c.lookup("svc_a_2", "imap"), "ccc")
        self.assertOk(c.clear("svc_b"))
        self.assertOk(c.clear("svc_a_2"))

    def test_any_characters(self):
        password = "pä ss:wörd\t\"'$(x) — ✓ " + "x" * 300
        self.assertOk(self.c.store("chars", "imap", password))
        self.assertOk(self.c.lookup("chars", "imap"), password)
        self.assertOk(self.c.clear("chars"))

    def test_invalid_arguments(self):
        c = self.c
        self.assertFails(c.store("ann_example", "pop3", "x"), "InvalidArgument")
        self.assertFails(c.lookup("ann_example", "IMAP"), "InvalidArgument")
        self.assertFails(c.clear("ann_example", "http"), "InvalidArgument")
        self.assertFails(c.lookup("Not-An-Id", "imap"), "InvalidArgument")
        self.assertFails(c.clear("../x"), "InvalidArgument")
        self.assertFails(c.store("ann_example", "imap", ""), "InvalidArgument")

    @unittest.skipIf(SECRET_TOOL is None, "secret-tool (libsecret-tools) is not installed")
    def test_item_schema_and_label(self):
        self.assertOk(self.c.store("labelled", "imap", "s3cret", "ann", "imap.example.com"))
        r = subprocess.run([SECRET_TOOL, "search", "--all", "service", "labelled"],
                           env=self.session.env(), capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertIn("label = Postroom password for ann@imap.example.com (IMAP)", out)
        self.assertIn("schema = org.postroom.Password", out)
        self.assertIn("attribute.protocol = imap", out)
        self.assertIn("attribute.service = labelled", out)
        self.assertOk(self.c.clear("labelled"))

    @unittest.skipIf(SECRET_TOOL is None, "secret-tool (libsecret-tools) is not installed")
    def test_foreign_items_untouched(self):
        # another application's item with the same attribute names and values
        env = self.session.env()
        subprocess.run([SECRET_TOOL, "store", "--label=foreign", "service", "foreign",
                        "protocol", "imap"], input="not-ours", env=env, check=True,
                       text=True, timeout=60)
        self.assertFails(self.c.lookup("foreign", "imap"), "NoPassword")
        self.assertOk(self.c.clear("foreign"))
        r = subprocess.run([SECRET_TOOL, "lookup", "service", "foreign", "protocol", "imap"],
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "not-ours")


class LockedKeyring(SecretsTestCase):
    """A password locked away is never reported as absent, and nothing is lost."""

    def test_locked(self):
        with Session() as s:
            c = Client(s.env())
            self.assertOk(c.store("locked", "imap", "kept"))
            s.stop_keyring()
            s.start_keyring(unlock=False)
            self.assertFails(c.lookup("locked", "imap"), "SecretServiceUnavailable")
            self.assertFails(c.store("locked", "imap", "new"), "SecretServiceUnavailable")
            self.assertFails(c.store("other", "imap", "new"), "SecretServiceUnavailable")
            self.assertFails(c.clear("locked"), "SecretServiceUnavailable")
            # attributes still match while locked: a password never stored is absent
            self.assertFails(c.lookup("never_stored", "imap"), "NoPassword")

            s.stop_keyring()
            s.start_keyring(unlock=True)
            self.assertOk(c.lookup("locked", "imap"), "kept")
            self.assertFails(c.lookup("other", "imap"), "NoPassword")
            self.assertOk(c.clear("locked"))
            self.assertFails(c.lookup("locked", "imap"), "NoPassword")


class NoSecretService(SecretsTestCase):
    """Fail closed: no Secret Service, no fallback."""

    def check_unavailable(self, env, data_home):
        c = Client(env)
        self.assertFails(c.store("ann_example", "imap", "pw"), "SecretServiceUnavailable")
        self.assertFails(c.lookup("ann_example", "imap"), "SecretServiceUnavailable")
        self.assertFails(c.clear("ann_example"), "SecretServiceUnavailable")
        self.assertFails(c.clear("ann_example", "smtp"), "SecretServiceUnavailable")
        written = [os.path.join(d, f) for d, _, files in os.walk(data_home) for f in files]
        self.assertEqual(written, [])

    def test_bus_without_secret_service(self):
        with Session(keyring=False) as s:
            env = s.env()
            # libsecret's local file backend must not be used either
            env["SECRET_BACKEND"] = "file"
            self.check_unavailable(env, env["XDG_DATA_HOME"])

    def test_no_bus(self):
        with Session(keyring=False) as s:
            env = s.env()
            env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + os.path.join(s.dir, "no-such-bus")
            self.check_unavailable(env, env["XDG_DATA_HOME"])


if __name__ == "__main__":
    missing = missing_programs()
    if missing:
        print("skipped, not installed: " + " ".join(missing), file=sys.stderr)
        sys.exit(77)
    if not TOOL or not os.access(TOOL, os.X_OK):
        sys.exit("usage: test-secrets.py PR_SECRETS_TOOL")
    unittest.main(verbosity=2)
