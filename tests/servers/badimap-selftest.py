#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that every badimap scenario misbehaves exactly as the fault tests assume.

Plain python sockets/ssl against badimap.py; run directly or from meson (exit 77 without
openssl).
"""

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BADIMAP = os.path.join(HERE, "badimap.py")
PASSWORD = 'wonder land"pass'
TMP = None


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="badimap-selftest-")
    subprocess.run([sys.executable, BADIMAP, "--make-cert", os.path.join(TMP, "ssl")],
                   check=True, stdout=subprocess.DEVNULL)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


class Conn:
    def __init__(self, scenario, tls=None):
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.log = os.path.join(self.dir, "log")
        port_file = os.path.join(self.dir, "port")
        env = dict(os.environ, PR_TEST_USER="alice", PR_TEST_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, BADIMAP, "--scenario", scenario, "--port-file", port_file,
             "--log", self.log, "--cert", os.path.join(TMP, "ssl", "server.pem"),
             "--key", os.path.join(TMP, "ssl", "server.key")], env=env)
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.025)
        with open(port_file) as f:
            self.port = int(f.read())
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if tls:
            self.starttls_wrap()

    def starttls_wrap(self):
        ctx = ssl.create_default_context(cafile=os.path.join(TMP, "ssl", "ca.pem"))
        self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")

    def send(self, line):
        self.sock.sendall(line + b"\r\n")

    def recv(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1 << 20)
        except socket.timeout:
            return None

    def recv_until(self, needle, timeout=5):
        data, end = b"", time.monotonic() + timeout
        while needle not in data and time.monotonic() < end:
            chunk = self.recv(max(0.01, end - time.monotonic()))
            if not chunk:
                break
            data += chunk
        return data

    def login(self):
        self.recv_until(b"\r\n")
        self.send(b'a1 LOGIN alice "wonder land\\"pass"')
        return self.recv_until(b"a1 ")

    def logged(self):
        with open(self.log, "rb") as f:
            return f.read()

    def close(self):
        self.sock.close()
        self.proc.kill()
        self.proc.wait()


class Scenarios(unittest.TestCase):
    def conn(self, scenario, tls=None):
        c = Conn(scenario, tls)
        self.addCleanup(c.close)
        return c

    def test_starttls_missing(self):
        c = self.conn("starttls-missing")
        self.assertTrue(c.recv_until(b"\r\n").startswith(b"* OK"))
        c.send(b"a0 CAPABILITY")
        caps = c.recv_until(b"a0 OK")
        self.assertNotIn(b"STARTTLS", caps)
        self.assertIn(b"AUTH=PLAIN", caps)
        c.send(b'a1 LOGIN alice "wonder land\\"pass"')
        self.assertIn(b"a1 OK", c.recv_until(b"a1 "))
        self.assertIn(PASSWORD.replace('"', '\\"').encode(), c.logged())

    def test_starttls_refused(self):
        for scenario, word in (("starttls-no", b"a1 NO"), ("starttls-bad", b"a1 BAD")):
            c = self.conn(scenario)
            c.recv_until(b"\r\n")
            c.send(b"a0 CAPABILITY")
            self.assertIn(b"STARTTLS", c.recv_until(b"a0 OK"))
            c.send(b"a1 STARTTLS")
            self.assertTrue(c.recv_until(b"\r\n").startswith(word), scenario)

    def test_starttls_inject(self):
        c = self.conn("starttls-inject")
        c.recv_until(b"\r\n")
        c.send(b"A1 STARTTLS")
        data = c.recv_until(b"A2 OK\r\n")
        self.assertEqual(data, b"A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
                               b"A2 OK\r\n")
        c.starttls_wrap()
        c.send(b"A2 CAPABILITY")
        caps = c.recv_until(b"A2 OK")
        self.assertIn(b"X-BADIMAP-TLS", caps)
        c.send(b'A3 LOGIN alice "wonder land\\"pass"')
        self.assertIn(b"A3 OK", c.recv_until(b"A3 "))
        self.assertNotIn(b"LOGIN", c.logged())

    def test_starttls_cap_in_ok(self):
        c = self.conn("starttls-cap-in-ok")
        c.recv_until(b"\r\n")
        c.send(b"t7 STARTTLS")
        ok = c.recv_until(b"\r\n")
        self.assertTrue(ok.startswith(b"t7 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED"))
        c.starttls_wrap()
        c.send(b'a1 LOGIN alice "wonder land\\"pass"')
        self.assertIn(b"a1 OK", c.recv_until(b"a1 "))
        self.assertNotIn(b"LOGIN", c.logged())

    def test_greetings(self):
        for scenario, want in (("preauth", b"* PREAUTH "), ("bye-greeting", b"* BYE server busy"),
                               ("logindisabled", b"* OK")):
            c = self.conn(scenario)
            self.assertTrue(c.recv_until(b"\r\n").startswith(want), scenario)
        c.send(b"a1 CAPABILITY")
        self.assertIn(b"LOGINDISABLED", c.recv_until(b"a1 OK"))
        c.send(b"a2 LOGIN alice x")
        self.assertIn(b"a2 NO", c.recv_until(b"a2 "))

    def test_everything_refused(self):
        for scenario, word in (("no-everything", b"NO go away"), ("bad-everything", b"BAD")):
            c = self.conn(scenario, tls=True)
            self.assertIn(b"[CAPABILITY IMAP4rev1 AUTH=PLAIN]", c.recv_until(b"\r\n"))
            for cmd in (b"CAPABILITY", b"AUTHENTICATE PLAIN AGFsaWNlAHg=", b"LOGIN a b"):
                c.send(b"x " + cmd)
                self.assertIn(b"x " + word, c.recv_until(b"\r\n"), (scenario, cmd))
            self.assertEqual(c.logged(), b"")

    def test_literal_attacks(self):
        for scenario, needle in (("huge-literal", b"{4294967297}\r\n"),
                                 ("negative-literal", b"{-1}\r\n"),
                                 ("long-digits-literal", b"{18446744073709551617}\r\n"),
                                 ("short-literal", b"{1000}\r\n0123456789"),
                                 ("deep-nesting", b"(" * 10000 + b")" * 10000)):
            c = self.conn(scenario, tls=True)
            self.assertIn(b"a1 OK", c.login())
            c.send(b"a2 UID FETCH 1 (UID BODY.PEEK[])")
            data = c.recv_until(needle)
            self.assertIn(needle, data, scenario)
            if scenario == "short-literal":
                self.assertIsNone(c.recv_until(b"never", timeout=1) or None)

    def test_deep_nesting_list(self):
        c = self.conn("deep-nesting", tls=True)
        c.login()
        c.send(b'a2 LIST "" "*"')
        self.assertIn(b"* LIST (" + b"(" * 10000, c.recv_until(b"a2 OK", timeout=5))

    def test_slow_and_silent(self):
        c = self.conn("slow-drip")
        self.assertEqual(c.recv(timeout=2), b"*")
        self.assertIsNone(c.recv(timeout=1.5))
        c = self.conn("silent")
        self.assertIsNone(c.recv(timeout=1.5))
        c = self.conn("silent-after-login", tls=True)
        self.assertIn(b"a1 OK", c.login())
        c.send(b"a2 NOOP")
        self.assertIsNone(c.recv(timeout=1.5))

    def test_hostile_names(self):
        c = self.conn("hostile-names", tls=True)
        c.login()
        c.send(b'a2 LIST "" "*"')
        data = c.recv_until(b"a2 OK", timeout=5)
        self.assertEqual(data.count(b"* LIST "), 8)
        self.assertIn(b'"../../etc/passwd"', data)
        self.assertIn(b"{11}\r\n\xff\xfe8bit\xe9name", data)
        self.assertIn(b"{61440}\r\n" + b"n" * 61440, data)

    def test_drop_mid_fetch(self):
        c = self.conn("drop-mid-fetch", tls=True)
        c.login()
        c.send(b"a2 UID FETCH 1:* (UID BODY.PEEK[])")
        data = b""
        while True:
            try:
                chunk = c.recv(timeout=5)
            except (ssl.SSLError, OSError):  # no close_notify: the point of the scenario
                break
            if not chunk:
                break
            data += chunk
        self.assertIn(b"* 2 FETCH (UID 2 BODY[] {200000}\r\n", data)
        self.assertNotIn(b"a2 ", data)

    def test_tls_ok_checks_password(self):
        c = self.conn("tls-ok", tls=True)
        self.assertIn(b"a1 OK", c.login())
        c.send(b"a2 LOGOUT")
        self.assertIn(b"a2 OK", c.recv_until(b"a2 "))
        c = self.conn("tls-ok", tls=True)
        c.recv_until(b"\r\n")
        c.send(b"a1 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n")
        self.assertIn(b"a1 NO", c.recv_until(b"a1 "))


if __name__ == "__main__":
    if shutil.which("openssl") is None:
        print("openssl is missing", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
