#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`postroomctl probe` against the private Dovecot (run under tests/servers/with-dovecot).

POSTROOMCTL names the binary (meson sets it). The password goes through --password-stdin,
never argv. Exit 77 only when the binary or Dovecot's environment is missing.
"""

import imaplib
import json
import os
import ssl
import subprocess
import sys
import unittest

E = os.environ
CTL = E.get("POSTROOMCTL")
if not CTL or not os.access(CTL, os.X_OK):
    print("POSTROOMCTL is not set to an executable postroomctl", file=sys.stderr)
    sys.exit(77)
if "PR_TEST_IMAPS_PORT" not in E:
    sys.exit("run me under tests/servers/with-dovecot")

HOST, USER, PASSWORD = E["PR_TEST_IMAP_HOST"], E["PR_TEST_USER"], E["PR_TEST_PASSWORD"]
SHA = E["PR_TEST_CERT_SHA256"]


def probe(*args, port=None, password=None, security="tls"):
    """Runs postroomctl probe; returns (exit code, parsed JSON or None, stdout, stderr)."""
    port = port or (E["PR_TEST_IMAPS_PORT"] if security == "tls" else E["PR_TEST_IMAP_PORT"])
    argv = [CTL, "probe", "--host", HOST, "--port", str(port), "--security", security,
            "--timeout", "20", *args]
    if password is not None:
        argv += ["--user", USER, "--password-stdin"]
    assert password is None or password not in " ".join(argv)
    r = subprocess.run(argv, input=(password + "\n") if password is not None else "",
                       capture_output=True, text=True, timeout=120)
    data = None
    if "--json" in args and r.stdout.strip():
        data = json.loads(r.stdout)
    return r.returncode, data, r.stdout, r.stderr


def dovecot_folder_count():
    m = imaplib.IMAP4_SSL(HOST, int(E["PR_TEST_IMAPS_PORT"]),
                          ssl_context=ssl.create_default_context(cafile=E["PR_TEST_CA_FILE"]))
    m.login(USER, PASSWORD)
    typ, data = m.list('""', "*")
    m.logout()
    return len([d for d in data if d])


class Probe(unittest.TestCase):
    def assertFailed(self, rc, err, name):
        self.assertNotEqual(rc, 0)
        self.assertIn(name, err)
        self.assertNotIn(PASSWORD, err)

    def test_tls_login_json(self):
        rc, data, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--json",
                                   password=PASSWORD)
        self.assertEqual(rc, 0, err)
        self.assertEqual(data["security"], "tls")
        self.assertEqual(data["certificate-sha256"], SHA)
        self.assertIn("localhost", data["certificate-subject"])
        self.assertIs(data["certificate-trusted"], True)
        self.assertIn("IMAP4REV1", data["capabilities"])
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"):
            self.assertIn(mech, data["auth-mechanisms"])
        self.assertIs(data["authenticated"], True)
        self.assertEqual(data["folders"], dovecot_folder_count())
        self.assertNotIn("error", data)
        self.assertNotIn(PASSWORD, out + err)

    def test_text_output(self):
        rc, _, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], password=PASSWORD)
        self.assertEqual(rc, 0, err)
        self.assertIn(SHA, out)
        self.assertNotIn(PASSWORD, out + err)

    def test_connect_only(self):
        rc, data, _, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--json")
        self.assertEqual(rc, 0, err)
        self.assertIs(data["authenticated"], False)
        self.assertNotIn("folders", data)
        self.assertIn("PLAIN", data["auth-mechanisms"])

    def test_wrong_password(self):
        rc, data, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--json",
                                   password=PASSWORD + "x")
        self.assertFailed(rc, err, "LoginFailed")
        self.assertEqual(data["error"], "LoginFailed")
        self.assertIs(data["authenticated"], False)
        self.assertIs(data["certificate-trusted"], True)

    def test_untrusted(self):
        rc, data, out, err = probe("--json", password=PASSWORD)
        self.assertFailed(rc, err, "CertificateUntrusted")
        self.assertIn(SHA, err)  # the user can compare it and pin it
        self.assertEqual(data["certificate-sha256"], SHA)
        self.assertIs(data["certificate-trusted"], False)
        self.assertIs(data["authenticated"], False)

    def test_wrong_certificate_port(self):
        rc, data, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--json",
                                   port=E["PR_TEST_BADCERT_PORT"], password=PASSWORD)
        self.assertFailed(rc, err, "CertificateUntrusted")
        self.assertNotEqual(data["certificate-sha256"], SHA)
        self.assertIn("wrong.example", data["certificate-subject"])

    def test_pin(self):
        colons = ":".join(SHA[i:i + 2] for i in range(0, 64, 2)).upper()
        for pin in (SHA, colons):
            with self.subTest(pin=pin):
                rc, data, out, err = probe("--pin", pin, "--json", password=PASSWORD)
                self.assertEqual(rc, 0, err)
                self.assertIs(data["certificate-trusted"], True)
                self.assertIs(data["authenticated"], True)

    def test_wrong_pin(self):
        other = ("1" if SHA[0] == "0" else "0") + SHA[1:]
        rc, data, out, err = probe("--pin", other, "--json", password=PASSWORD)
        self.assertFailed(rc, err, "CertificateUntrusted")

    def test_starttls(self):
        rc, data, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--json",
                                   security="starttls", password=PASSWORD)
        self.assertEqual(rc, 0, err)
        self.assertEqual(data["security"], "starttls")
        self.assertEqual(data["certificate-sha256"], SHA)
        self.assertIs(data["authenticated"], True)
        self.assertNotIn("STARTTLS", data["capabilities"])  # re-read over TLS

    def test_none_on_loopback(self):
        rc, data, out, err = probe("--json", security="none", password=PASSWORD)
        self.assertEqual(rc, 0, err)
        self.assertEqual(data["security"], "none")
        self.assertIs(data["authenticated"], True)

    def test_mechanisms(self):
        for mech in ("plain", "login", "cram-md5", "scram-sha-256"):
            with self.subTest(mech=mech):
                rc, data, out, err = probe("--ca-file", E["PR_TEST_CA_FILE"], "--auth", mech,
                                           "--json", password=PASSWORD)
                self.assertEqual(rc, 0, err)
                self.assertIs(data["authenticated"], True)

    def test_usage_errors(self):
        r = subprocess.run([CTL, "probe", "--host", HOST, "--security", "bogus"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([CTL, "probe", "--host", "192.0.2.1", "--security", "none"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)  # plaintext to another machine needs a flag
        r = subprocess.run([CTL, "probe", "--host", HOST, "--pin", "xyz"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("InvalidArgument", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
