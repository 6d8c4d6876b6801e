#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small scriptable misbehaving IMAP server for client fault tests.

    badimap.py --scenario NAME --port-file FILE [--log FILE] [--trace FILE]
               [--cert PEM --key PEM | --make-cert DIR] [--tls | --plain]
    badimap.py --make-cert DIR          (CA, server and wrong certificates, then exit)
    badimap.py --list                   (the scenarios)

Listens on 127.0.0.1 port 0 and writes the port to --port-file once it accepts. Serves one
scenario (to every connection) until killed, its parent dies or --lifetime runs out.
--log gets every byte received before TLS (all bytes on a plaintext connection), so a test
can assert that no credential arrived in the clear; --trace gets a readable transcript of
both directions. Credentials checked by LOGIN/AUTHENTICATE come from the environment
(PR_TEST_USER, PR_TEST_PASSWORD; any are accepted when unset) - never from argv.

The scenario table (SCENARIOS) says, per scenario, whether the listener is implicit TLS,
the greeting, the capabilities and which commands misbehave; everything else is a minimal
well-behaved IMAP4rev1 server.
"""

import argparse
import base64
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import certs  # noqa: E402

CAPS_PLAIN = "IMAP4rev1 STARTTLS LOGINDISABLED"  # a plaintext port that insists on TLS
CAPS_TLS = "IMAP4rev1 ID ENABLE AUTH=PLAIN AUTH=LOGIN X-BADIMAP-TLS"
CAPS_AUTHED = "IMAP4rev1 ID ENABLE X-BADIMAP-TLS X-BADIMAP-AUTHED"
MESSAGE = (b"From: a@example.test\r\nTo: b@example.test\r\nSubject: badimap\r\n"
           b"Message-ID: <1@badimap.test>\r\n\r\nHello from badimap.\r\n")
STREAMED = 100_000  # bytes: above the client's in-memory literal threshold (64 KiB)


class Closed(Exception):
    """The session ends (peer gone or the scenario hangs up)."""


# -- misbehaviours: each gets (session, tag, args) and replaces the normal handler ------------

def reply(text):
    """A canned reply line (or lines); {tag} is the command's tag."""
    return lambda s, tag, args: s.send(text.format(tag=tag).encode() + b"\r\n")


def next_tag(tag):
    """The tag a client would probably use next: A1 -> A2, pr0041 -> pr0042."""
    m = re.match(r"(.*?)(\d+)$", tag)
    if not m:
        return "A2"
    return m.group(1) + str(int(m.group(2)) + 1).zfill(len(m.group(2)))


def starttls_inject(s, tag, args):
    # the OK and forged plaintext data in ONE segment, before the handshake
    forged = f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{next_tag(tag)} OK\r\n"
    s.starttls(f"{tag} OK Begin TLS\r\n{forged}".encode())


def starttls_cap_in_ok(s, tag, args):
    s.starttls(f"{tag} OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED X-INJECTED] Begin TLS"
               "\r\n".encode())


def fetch_then(prefix, then_close=False, tail=b""):
    """Answers FETCH with @prefix (raw bytes), then closes or completes with @tail + OK."""
    def handler(s, tag, args):
        s.send(prefix)
        if then_close:
            s.abrupt = True
            raise Closed()
        s.send(tail + f"{tag} OK FETCH done\r\n".encode())
    return handler


def drop_mid_fetch(s, tag, args):
    s.send(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % STREAMED + b"a" * STREAMED + b")\r\n")
    s.send(b"* 2 FETCH (UID 2 BODY[] {%d}\r\n" % (2 * STREAMED) + b"b" * STREAMED)
    s.abrupt = True
    raise Closed()


def then_silent(command):
    """The normal @command; once it logged in, never answer again."""
    def handler(s, tag, args):
        getattr(s, "cmd_" + command)(tag, args)
        if s.authed:
            s.silent = True
    return handler


HOSTILE_NAMES = [
    b'"../../etc/passwd"',
    b'"a/b"',
    b'"&AGE"',
    b'".."',
    b'"/etc/shadow"',
    b'"INBOX/../../x"',
    b"{11}\r\n\xff\xfe8bit\xe9name",
    b"{61440}\r\n" + b"n" * 61440,
]


def hostile_list(s, tag, args):
    if len(args) >= 2 and args[1] == b"":  # LIST "" "": the delimiter query stays sane
        return s.cmd_list(tag, args)
    for name in HOSTILE_NAMES:
        s.send(b'* LIST (\\HasNoChildren) "/" ' + name + b"\r\n")
    s.send(f"{tag} OK LIST done\r\n".encode())


def deep_nesting(keyword):
    def handler(s, tag, args):
        if keyword == "LIST" and len(args) >= 2 and args[1] == b"":
            return s.cmd_list(tag, args)  # the delimiter query stays sane
        if keyword == "FETCH":
            s.send(b"* 1 FETCH (UID 1 X-NEST " + b"(" * 10_000 + b")" * 10_000 + b")\r\n")
        else:
            s.send(b"* LIST (" + b"(" * 10_000 + b")" * 10_000 + b') "/" INBOX\r\n')
        s.send(f"{tag} OK done\r\n".encode())
    return handler


def slow_greeting(s):
    for ch in b"* OK slow badimap ready\r\n":
        s.send(bytes([ch]))
        time.sleep(3)


# -- the table -----------------------------------------------------------------------------
# tls: implicit TLS listener; greeting: text or a callable; caps: pre-login capabilities
# (default: CAPS_PLAIN before TLS, CAPS_TLS after); tls_caps: the capabilities over TLS
# before login; on: command -> misbehaviour ("*" = every command); silent: accept and never
# answer; alert: LOGIN and AUTHENTICATE answer with [ALERT]s (ALERT_* below).
SCENARIOS = {
    "starttls-missing": dict(caps="IMAP4rev1 AUTH=PLAIN AUTH=LOGIN"),
    "starttls-no": dict(on={"STARTTLS": reply("{tag} NO STARTTLS not today")}),
    "starttls-bad": dict(on={"STARTTLS": reply("{tag} BAD what is STARTTLS")}),
    "starttls-inject": dict(on={"STARTTLS": starttls_inject}),
    "starttls-cap-in-ok": dict(on={"STARTTLS": starttls_cap_in_ok}),
    "preauth": dict(greeting="* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] you are in already"),
    "logindisabled": dict(caps="IMAP4rev1 LOGINDISABLED"),
    "bye-greeting": dict(greeting="* BYE server busy", hangup=True),
    "no-everything": dict(tls=True, greeting="* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi",
                          on={"*": reply("{tag} NO go away")}),
    "bad-everything": dict(tls=True, greeting="* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi",
                           on={"*": reply("{tag} BAD go away")}),
    "huge-literal": dict(tls=True, on={"FETCH": fetch_then(
        b"* 1 FETCH (UID 1 BODY[] {4294967297}\r\n" + b"x" * 4096)}),
    "negative-literal": dict(tls=True, on={"FETCH": fetch_then(
        b"* 1 FETCH (UID 1 BODY[] {-1}\r\n" + b"x" * 64 + b")\r\n")}),
    "long-digits-literal": dict(tls=True, on={"FETCH": fetch_then(
        b"* 1 FETCH (UID 1 BODY[] {18446744073709551617}\r\n" + b"x" * 64 + b")\r\n")}),
    "short-literal": dict(tls=True, on={"FETCH": fetch_then(
        b"* 1 FETCH (UID 1 BODY[] {1000}\r\n0123456789", then_close=True)}),
    "deep-nesting": dict(tls=True, on={"FETCH": deep_nesting("FETCH"),
                                       "LIST": deep_nesting("LIST")}),
    "slow-drip": dict(greeting=slow_greeting),
    "silent": dict(silent=True),
    "silent-after-login": dict(tls=True, on={"LOGIN": then_silent("login"),
                                             "AUTHENTICATE": then_silent("authenticate")}),
    "hostile-names": dict(tls=True, on={"LIST": hostile_list}),
    "drop-mid-fetch": dict(tls=True, on={"FETCH": drop_mid_fetch}),
    "tls-ok": dict(tls=True),
    # [ALERT] in an untagged OK during login and in the tagged OK (or NO) that ends it
    "alert-login": dict(tls=True, tls_caps="IMAP4rev1 ID ENABLE", alert=True),
    "alert-authenticate": dict(tls=True, alert=True),
    "alert-plain": dict(caps="IMAP4rev1 ID ENABLE", alert=True),
}
ALERT_UNTAGGED = "Maintenance tonight at 22:00"
ALERT_OK = "Your password expires in 3 days"
ALERT_NO = "Your account is locked"


# -- the server ----------------------------------------------------------------------------
class Session:
    def __init__(self, sock, server):
        self.sock, self.server, self.sc = sock, server, server.scenario
        self.buf, self.tls, self.authed, self.silent = b"", False, False, False
        self.abrupt = False  # hang up without a TLS close_notify

    # I/O
    def send(self, data):
        self.server.trace("S", data)
        try:
            self.sock.sendall(data)
        except OSError:
            raise Closed()

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except (OSError, ssl.SSLError):
            data = b""
        if not data:
            raise Closed()
        if not self.tls:
            self.server.log_plain(data)
        self.server.trace("C", data)
        self.buf += data

    def readline(self):
        while b"\r\n" not in self.buf:
            if b"\n" in self.buf:  # tolerate bare LF clients
                break
            self._fill()
        sep = b"\r\n" if b"\r\n" in self.buf else b"\n"
        line, self.buf = self.buf.split(sep, 1)
        return line

    def readexact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_command(self):
        """One command as tokens (bytes); literals are read (and "+" sent) on the way."""
        tokens = []
        while True:
            line = self.readline()
            m = re.search(rb"\{(\d+)(\+?)\}$", line)
            tokens += [_unquote(t) for t in re.findall(rb'"(?:[^"\\]|\\.)*"|\S+',
                                                        line[:m.start()] if m else line)]
            if not m:
                return tokens
            if not m.group(2):
                self.send(b"+ Ready for literal data\r\n")
            tokens.append(self.readexact(int(m.group(1))))

    def starttls(self, ok_bytes):
        self.send(ok_bytes)
        self.buf = b""  # whatever the client sent in plaintext after STARTTLS is dropped
        try:
            self.sock = self.server.tls_context.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.server.trace("!", f"TLS handshake failed: {e}".encode())
            raise Closed()
        self.tls = True
        self.server.trace("!", b"TLS established")

    def caps(self):
        if self.authed:
            return CAPS_AUTHED
        if self.tls:
            return self.sc.get("tls_caps", CAPS_TLS)
        caps = self.sc.get("caps", CAPS_PLAIN)
        return caps if self.server.tls_context else caps.replace(" STARTTLS", "")

    # the conversation
    def run(self):
        if self.sc.get("tls"):
            self.sock = self.server.tls_context.wrap_socket(self.sock, server_side=True)
            self.tls = True
        if self.sc.get("silent"):
            while True:
                self._fill()
        greeting = self.sc.get("greeting", "* OK badimap ready")
        if callable(greeting):
            greeting(self)
        else:
            self.send(greeting.encode() + b"\r\n")
        if self.sc.get("hangup"):
            raise Closed()
        while True:
            tokens = self.read_command()
            if self.silent:
                continue
            if len(tokens) < 2:
                self.send(b"* BAD empty command\r\n")
                continue
            tag, cmd = tokens[0].decode("ascii", "replace"), tokens[1].decode(
                "ascii", "replace").upper()
            args = tokens[2:]
            if cmd == "UID" and args:
                cmd, args = args[0].decode("ascii", "replace").upper(), args[1:]
            on = self.sc.get("on", {})
            method = getattr(self, "cmd_" + cmd.lower().replace("-", "_"), None)
            if cmd in on or "*" in on:
                (on.get(cmd) or on["*"])(self, tag, args)
            elif method:
                method(tag, args)
            else:
                self.send(f"{tag} BAD unknown command\r\n".encode())

    def ok(self, tag, text="done"):
        self.send(f"{tag} OK {text}\r\n".encode())

    def cmd_capability(self, tag, args):
        self.send(f"* CAPABILITY {self.caps()}\r\n".encode())
        self.ok(tag, "CAPABILITY completed")

    def cmd_noop(self, tag, args):
        self.ok(tag)

    def cmd_logout(self, tag, args):
        self.send(b"* BYE badimap logging out\r\n")
        self.ok(tag, "LOGOUT completed")
        raise Closed()

    def cmd_starttls(self, tag, args):
        if self.tls or not self.server.tls_context:
            self.send(f"{tag} BAD no STARTTLS here\r\n".encode())
            return
        self.starttls(f"{tag} OK Begin TLS negotiation now\r\n".encode())

    def check(self, user, password):
        want_user = os.environ.get("PR_TEST_USER")
        want_pass = os.environ.get("PR_TEST_PASSWORD")
        return (want_user is None or user == want_user.encode()) and (
            want_pass is None or password == want_pass.encode())

    def _logged_in(self, tag, ok):
        if self.sc.get("alert"):
            self.send(f"* OK [ALERT] {ALERT_UNTAGGED}\r\n".encode())
            if ok:
                self.authed = True
                self.send(f"{tag} OK [ALERT] {ALERT_OK}\r\n".encode())
            else:
                self.send(f"{tag} NO [ALERT] {ALERT_NO}\r\n".encode())
            return
        if ok:
            self.authed = True
            self.send(f"{tag} OK [CAPABILITY {CAPS_AUTHED}] Logged in\r\n".encode())
        else:
            self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".encode())

    def cmd_login(self, tag, args):
        if "LOGINDISABLED" in self.caps() or len(args) != 2:
            self.send(f"{tag} NO LOGIN is disabled\r\n".encode())
            return
        self._logged_in(tag, self.check(args[0], args[1]))

    def cmd_authenticate(self, tag, args):
        mech = args[0].upper() if args else b""
        if mech == b"PLAIN":
            if len(args) > 1:
                data = args[1]
            else:
                self.send(b"+ \r\n")
                data = self.readline()
            if data == b"*":
                self.send(f"{tag} BAD cancelled\r\n".encode())
                return
            try:
                _, user, password = base64.b64decode(data).split(b"\0")
            except ValueError:
                self.send(f"{tag} BAD bad PLAIN response\r\n".encode())
                return
            self._logged_in(tag, self.check(user, password))
        elif mech == b"LOGIN":
            self.send(b"+ VXNlcm5hbWU6\r\n")
            user = base64.b64decode(self.readline())
            self.send(b"+ UGFzc3dvcmQ6\r\n")
            password = base64.b64decode(self.readline())
            self._logged_in(tag, self.check(user, password))
        else:
            self.send(f"{tag} NO unsupported mechanism\r\n".encode())

    def cmd_enable(self, tag, args):
        self.send(b"* ENABLED\r\n")
        self.ok(tag)

    def cmd_id(self, tag, args):
        self.send(b'* ID ("name" "badimap")\r\n')
        self.ok(tag)

    def cmd_list(self, tag, args):
        if len(args) >= 2 and args[1] == b"":
            self.send(b'* LIST (\\Noselect) "/" ""\r\n')
        else:
            self.send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n')
        self.ok(tag, "LIST completed")

    def cmd_select(self, tag, args):
        self.send(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                  b"* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                  b"* OK [UIDNEXT 2] Predicted next UID\r\n")
        self.ok(tag, "[READ-WRITE] SELECT completed")

    cmd_examine = cmd_select

    def cmd_fetch(self, tag, args):
        self.send(b"* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[] {%d}\r\n" % len(MESSAGE) + MESSAGE
                  + b")\r\n")
        self.ok(tag, "FETCH completed")

    def cmd_idle(self, tag, args):
        self.send(b"+ idling\r\n")
        while self.readline().upper() != b"DONE":
            pass
        self.ok(tag, "IDLE terminated")

    def cmd_compress(self, tag, args):
        self.send(f"{tag} NO no compression here\r\n".encode())


def _unquote(token):
    if len(token) >= 2 and token[:1] == b'"' and token[-1:] == b'"':
        return re.sub(rb"\\(.)", rb"\1", token[1:-1])
    return token


class Server:
    def __init__(self, scenario, tls_context, log_path, trace_path):
        self.scenario, self.tls_context = scenario, tls_context
        self.lock = threading.Lock()
        self.log = open(log_path, "ab", buffering=0) if log_path else None
        self.trace_file = open(trace_path, "a", buffering=1) if trace_path else None

    def log_plain(self, data):
        if self.log:
            with self.lock:
                self.log.write(data)

    def trace(self, who, data):
        if self.trace_file:
            with self.lock:
                shown = data if len(data) <= 400 else data[:300] + b"...<%d bytes>" % len(data)
                self.trace_file.write(f"{time.monotonic():.3f} {who}: {shown!r}\n")

    def serve(self, conn):
        session = Session(conn, self)
        try:
            session.run()
        except (Closed, OSError, ssl.SSLError) as e:
            if not isinstance(e, Closed):
                self.trace("!", f"{type(e).__name__}: {e}".encode())
        finally:
            try:
                if session.tls and not session.abrupt:
                    session.sock.settimeout(1)
                    session.sock.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                pass
            try:
                session.sock.close()
            except OSError:
                pass


def watch_parent(lifetime):
    parent, end = os.getppid(), time.monotonic() + lifetime
    while os.getppid() == parent and time.monotonic() < end:
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="A scriptable misbehaving IMAP server.")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--port-file")
    ap.add_argument("--log", help="raw bytes received before TLS")
    ap.add_argument("--trace", help="readable transcript of both directions")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--make-cert", metavar="DIR", help="create CA and certificates in DIR")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--tls", action="store_true", help="implicit TLS for any scenario")
    mode.add_argument("--plain", action="store_true", help="no implicit TLS for any scenario")
    ap.add_argument("--lifetime", type=float, default=600, help="seconds before exiting")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    if args.list:
        print("\n".join(sorted(SCENARIOS)))
        return 0
    if args.make_cert:
        made = certs.make_all(args.make_cert)
        if not args.scenario:
            for label, c in made.items():
                print(f"{label}: {c.cert} {c.key} {certs.sha256_fingerprint(c.cert)}")
            return 0
        args.cert = args.cert or made["server"].cert
        args.key = args.key or made["server"].key
    if not args.scenario or not args.port_file:
        ap.error("--scenario and --port-file are required")

    scenario = dict(SCENARIOS[args.scenario])
    if args.tls:
        scenario["tls"] = True
    if args.plain:
        scenario["tls"] = False
    if scenario.get("tls") and not args.cert:
        tmp = tempfile.mkdtemp(prefix="badimap-")
        made = certs.make_all(tmp)
        args.cert, args.key = made["server"].cert, made["server"].key
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.cert, args.key)

    server = Server(scenario, context, args.log, args.trace)
    if server.log:
        server.log.flush()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.rename(tmp, args.port_file)
    threading.Thread(target=watch_parent, args=(args.lifetime,), daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=server.serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
