#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the Dovecot fixture is what the integration tests assume.

Run under with-dovecot:  with-dovecot --seed INBOX=2000,Archive=50 -- selftest.py
Uses only python's imaplib/ssl/zlib against the real server: every SASL mechanism, the
LOGIN command with the awkward password, STARTTLS, certificates and fingerprints,
COMPRESS=DEFLATE, the seeded bytes, QRESYNC, IDLE woken by a delivery.
"""

import base64
import collections
import hashlib
import hmac
import imaplib
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dovecot  # noqa: E402
import mailgen  # noqa: E402

if "PR_TEST_IMAP_PORT" not in os.environ:
    sys.exit("run me under with-dovecot")
E = os.environ
HOST, USER, PASSWORD = E["PR_TEST_IMAP_HOST"], E["PR_TEST_USER"], E["PR_TEST_PASSWORD"]
PORT, IMAPS, BADCERT = int(E["PR_TEST_IMAP_PORT"]), int(E["PR_TEST_IMAPS_PORT"]), int(
    E["PR_TEST_BADCERT_PORT"])


def ca_context():
    return ssl.create_default_context(cafile=E["PR_TEST_CA_FILE"])


def imaps():
    return imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ca_context(), timeout=30)


class Scram:
    """SCRAM-SHA-256 client (RFC 5802/7677) as an imaplib authobject."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.step = 0
        self.verified = False

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            self.first_bare = f"n={self.user},r={self.nonce}"
            return ("n,," + self.first_bare).encode()
        if self.step == 2:
            server_first = challenge.decode()
            f = dict(item.split("=", 1) for item in server_first.split(","))
            assert f["r"].startswith(self.nonce)
            salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                         base64.b64decode(f["s"]), int(f["i"]))
            client_key = hmac.digest(salted, b"Client Key", "sha256")
            stored = hashlib.sha256(client_key).digest()
            without_proof = f"c=biws,r={f['r']}"
            self.auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
            sig = hmac.digest(stored, self.auth_message, "sha256")
            proof = bytes(a ^ b for a, b in zip(client_key, sig))
            self.server_key = hmac.digest(salted, b"Server Key", "sha256")
            return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()
        expected = hmac.digest(self.server_key, self.auth_message, "sha256")
        got = base64.b64decode(challenge.decode().split("v=", 1)[1])
        self.verified = hmac.compare_digest(expected, got)
        return b""


class CramMd5:
    def __init__(self, user, password):
        self.user, self.password = user, password

    def __call__(self, challenge):
        digest = hmac.new(self.password.encode(), challenge, "md5").hexdigest()
        return f"{self.user} {digest}".encode()


class Raw:
    """A minimal line-level IMAP connection with optional DEFLATE, for COMPRESS."""

    def __init__(self, sock):
        self.sock, self.buf, self.tag = sock, b"", 0
        self.deflate = self.inflate = None

    def send(self, data):
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += self.inflate.decompress(chunk) if self.inflate else chunk

    def read_until_tag(self, tag):
        while not re.search(rb"(^|\r\n)" + tag.encode() + rb" [A-Z]+[^\r\n]*\r\n", self.buf):
            self._fill()
        out, self.buf = self.buf, b""
        return out

    def command(self, text):
        self.tag += 1
        tag = f"R{self.tag}"
        self.send(f"{tag} {text}\r\n".encode())
        return self.read_until_tag(tag)


def maildir_hashes(root):
    out = collections.Counter()
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(root, sub)):
            with open(os.path.join(root, sub, name), "rb") as f:
                out[hashlib.sha256(f.read()).hexdigest()] += 1
    return out


class FixtureTest(unittest.TestCase):
    def test_listeners_on_distinct_ports(self):
        self.assertEqual(len({PORT, IMAPS, BADCERT}), 3, (PORT, IMAPS, BADCERT))
        # the picker itself: ports chosen together are never the same one twice
        for _ in range(200):
            ports = dovecot.free_ports(3)
            self.assertEqual(len(set(ports)), 3, ports)

    def test_login_command_with_awkward_password_over_starttls(self):
        m = imaplib.IMAP4(HOST, PORT, timeout=30)
        self.assertIn("STARTTLS", m.capabilities)
        m.starttls(ca_context())
        self.assertEqual(m.login(USER, PASSWORD)[0], "OK")
        m.logout()

    def test_every_mechanism(self):
        mechs = {
            "PLAIN": lambda: lambda _: f"\0{USER}\0{PASSWORD}".encode(),
            "LOGIN": lambda: iter([USER.encode(), PASSWORD.encode()]).__next__,
            "CRAM-MD5": lambda: CramMd5(USER, PASSWORD),
            "SCRAM-SHA-256": lambda: Scram(USER, PASSWORD),
        }
        m = imaps()
        offered = {c[5:] for c in m.capabilities if c.startswith("AUTH=")}
        m.logout()
        self.assertEqual(offered, set(mechs))
        for mech, make in mechs.items():
            with self.subTest(mech=mech):
                m = imaps()
                obj = make()
                if mech == "LOGIN":
                    auth = (lambda it: (lambda _: it()))(obj)
                else:
                    auth = obj
                self.assertEqual(m.authenticate(mech, auth)[0], "OK")
                if mech == "SCRAM-SHA-256":
                    self.assertTrue(obj.verified)
                m.logout()

    def test_wrong_password_and_second_user(self):
        m = imaps()
        with self.assertRaises(imaplib.IMAP4.error):
            m.login(USER, PASSWORD + "x")
        m.logout()
        m = imaps()
        self.assertEqual(m.login(E["PR_TEST_USER2"], E["PR_TEST_PASSWORD2"])[0], "OK")
        m.logout()

    def test_certificates(self):
        for name in ("127.0.0.1", "localhost"):
            with socket.create_connection((HOST, IMAPS)) as s:
                with ca_context().wrap_socket(s, server_hostname=name) as t:
                    der = t.getpeercert(binary_form=True)
                    self.assertEqual(hashlib.sha256(der).hexdigest(), E["PR_TEST_CERT_SHA256"])
        self.assertRegex(E["PR_TEST_CERT_SHA256"], r"^[0-9a-f]{64}$")
        with socket.create_connection((HOST, BADCERT)) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ca_context().wrap_socket(s, server_hostname=HOST)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection((HOST, BADCERT)) as s:
            with ctx.wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
                self.assertNotEqual(hashlib.sha256(der).hexdigest(), E["PR_TEST_CERT_SHA256"])
                self.assertIn(b"wrong.example", der)
                self.assertTrue(t.recv(100).startswith(b"* OK"))

    def test_capabilities_after_login(self):
        m = imaps()
        m.login(USER, PASSWORD)
        caps = set(m.capability()[1][0].decode().split())
        m.logout()
        for c in ("CONDSTORE", "QRESYNC", "IDLE", "COMPRESS=DEFLATE", "UIDPLUS", "MOVE",
                  "SPECIAL-USE", "LIST-STATUS", "ENABLE", "LITERAL+"):
            self.assertIn(c, caps)

    def test_folders(self):
        m = imaps()
        m.login(USER, PASSWORD)
        typ, data = m.list('""', "*")
        m.logout()
        names = {re.match(rb'\(.*?\) "/" (.*)$', d).group(1).decode().strip('"') for d in data}
        self.assertIn("INBOX", names)
        self.assertIn("Archive", names)

    def test_seeded_bytes_equal_maildir_files(self):
        want = maildir_hashes(E["PR_TEST_MAILDIR"])
        m = imaps()
        m.login(USER, PASSWORD)
        n = int(m.select("INBOX", readonly=True)[1][0])
        self.assertEqual(n, sum(want.values()))
        got = collections.Counter()
        typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                got[hashlib.sha256(item[1]).hexdigest()] += 1
        m.logout()
        self.assertEqual(got, want)

    def test_seeded_flags_and_message_ids(self):
        m = imaps()
        m.login(USER, PASSWORD)
        n = int(m.select("INBOX", readonly=True)[1][0])  # nothing changes INBOX
        for i in [i for i in (0, 1, 3, 6, 9, 1999) if i < n]:
            gen = mailgen.generate(i, "INBOX")
            typ, data = m.uid("SEARCH", "HEADER", "Message-ID", gen.message_id)
            uids = data[0].split()
            self.assertEqual(len(uids), 1, gen.message_id)
            typ, data = m.uid("FETCH", uids[0], "(FLAGS BODY.PEEK[])")
            flags = re.search(rb"FLAGS \((.*?)\)", data[0][0]).group(1).split()
            self.assertEqual(data[0][1], gen.data)
            expect = set() if i % 3 == 1 else {
                {"S": b"\\Seen", "F": b"\\Flagged", "R": b"\\Answered", "D": b"\\Draft",
                 "T": b"\\Deleted"}[c] for c in gen.flags}
            self.assertEqual(set(flags) - {b"\\Recent"}, expect, (i, gen.flags))
        m.logout()

    def test_compress_deflate(self):
        s = ca_context().wrap_socket(socket.create_connection((HOST, IMAPS), timeout=30),
                                     server_hostname=HOST)
        raw = Raw(s)
        raw.read_until_tag("*")  # greeting: "* OK ..." matches the tag pattern
        user = USER.encode()
        pw = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
        self.assertIn(b"R1 OK", raw.command(f'LOGIN {user.decode()} "{pw}"'))
        self.assertIn(b"R2 OK", raw.command("COMPRESS DEFLATE"))
        raw.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        raw.inflate = zlib.decompressobj(-15)
        self.assertIn(b"R3 OK", raw.command("EXAMINE Archive"))
        gen = mailgen.generate(2, "Archive")
        resp = raw.command(f'UID SEARCH HEADER Message-ID "{gen.message_id}"')
        uid = re.search(rb"\* SEARCH (\d+)", resp).group(1).decode()
        resp = raw.command(f"UID FETCH {uid} (BODY.PEEK[])")
        size = int(re.search(rb"\{(\d+)\}\r\n", resp).group(1))
        start = resp.index(b"}\r\n") + 3
        self.assertEqual(resp[start:start + size], gen.data)
        raw.command("LOGOUT")
        s.close()

    def test_idle_wakes_on_delivery_and_qresync(self):
        m = imaps()
        m.login(USER, PASSWORD)
        m._simple_command("ENABLE", "QRESYNC")
        m.select("Archive")
        uidvalidity = int(m.untagged_responses["UIDVALIDITY"][-1])
        modseq = int(m.untagged_responses["HIGHESTMODSEQ"][-1])
        m.close()
        # a change from a second connection: one flag set, one expunge
        other = imaps()
        other.login(USER, PASSWORD)
        other.select("Archive")
        other.uid("STORE", "1", "+FLAGS", "(\\Flagged)")
        other.uid("STORE", "2", "+FLAGS", "(\\Deleted)")
        other.expunge()
        other.logout()
        tag = m._command("SELECT", "Archive", f"(QRESYNC ({uidvalidity} {modseq}))")
        m._command_complete("SELECT", tag)
        self.assertIn("VANISHED", m.untagged_responses)
        self.assertIn("FETCH", m.untagged_responses)
        # seeded \Deleted messages (maildir "T") went with the EXPUNGE too
        exists = int(m.untagged_responses["EXISTS"][-1])
        self.assertLess(exists, 50)
        # IDLE, then a delivery through doveadm: EXISTS must arrive
        tag = m._new_tag()
        m.send(tag + b" IDLE\r\n")
        self.assertTrue(m._get_line().startswith(b"+"))
        msg = mailgen.generate(999, "Archive").data
        subprocess.run([sys.executable, os.path.join(HERE, "dovecot.py"), "deliver",
                        E["PR_TEST_DOVECOT_CONF"], USER, "Archive"], input=msg, check=True)
        deadline = time.monotonic() + 20
        seen = b""
        m.sock.settimeout(20)
        while b"EXISTS" not in seen and time.monotonic() < deadline:
            seen += m._get_line() + b"\n"
        self.assertIn(f"* {exists + 1} EXISTS".encode(), seen)
        m.send(b"DONE\r\n")
        while not m._get_line().startswith(tag + b" OK"):
            pass
        m.logout()


if __name__ == "__main__":
    unittest.main(verbosity=2)
