#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""postroomctl against a running postroomd, checked against what the server has.

Needs a private bus with postroomd (and a Secret Service) on it, and the private Dovecot of
tests/servers/with-dovecot:

  POSTROOMCTL           the postroomctl binary
  POSTROOM_BUS_ADDRESS  the private bus postroomd runs on (unset: exit 77, skipped)
  PR_TEST_IMAP_HOST, PR_TEST_IMAPS_PORT, PR_TEST_CA_FILE, PR_TEST_USER, PR_TEST_PASSWORD
  PR_TEST_MAILDIR       the user's maildir (the fetch/show byte comparison needs it)
  PR_TEST_DOVECOT_CONF  the instance's dovecot.conf: new mail is delivered with doveadm save
                        (unset: APPEND over IMAP instead)

The tests run in name order on one account, "ctltest": add, set, connect (also --stay and
--until-disconnect), sync (also --background), wait, folders (subscribe, mkdir, rename,
rmdir), read, flags (flag, delete, undelete), fetch, watch (new mail as it arrives),
disconnect, remove. The password only ever goes through --password-stdin.
"""

import base64
import imaplib
import json
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import unittest
import uuid
from email.parser import BytesHeaderParser

SKIP = 77
E = os.environ
if not E.get("POSTROOM_BUS_ADDRESS"):
    print("POSTROOM_BUS_ADDRESS is not set: no postroomd to test against", file=sys.stderr)
    sys.exit(SKIP)
CTL = E.get("POSTROOMCTL")
if not CTL or not os.access(CTL, os.X_OK):
    print("POSTROOMCTL is not set to an executable postroomctl", file=sys.stderr)
    sys.exit(SKIP)
if "PR_TEST_IMAPS_PORT" not in E:
    sys.exit("run me under tests/servers/with-dovecot")

HOST, PORT = E["PR_TEST_IMAP_HOST"], int(E["PR_TEST_IMAPS_PORT"])
USER, PASSWORD, CA_FILE = E["PR_TEST_USER"], E["PR_TEST_PASSWORD"], E["PR_TEST_CA_FILE"]
MAILDIR = E.get("PR_TEST_MAILDIR")
DOVECOT_CONF = E.get("PR_TEST_DOVECOT_CONF")
SERVICE = "ctltest"
SERVICE_PATH = "/org/postroom/Postroom1/services/" + SERVICE
OPERATION_PATH = re.compile(r"^/org/postroom/Postroom1/operations/[0-9]+$")
STATES = {"disconnected", "connecting", "authenticating", "connected", "syncing", "idle",
          "disconnecting"}
TIMEOUT = 300  # seconds one postroomctl run may take; a safety net, not an assertion
# untranslated messages, UTF-8 output
CTL_ENV = dict(E, LC_ALL="C.UTF-8", LANGUAGE="")


def ctl(*args, stdin=None, text=True):
    """Runs postroomctl; returns the CompletedProcess. stdin goes in as given."""
    argv = [CTL, *args]
    assert PASSWORD not in argv, "a password on the command line"
    r = subprocess.run(argv, input=stdin, capture_output=True, text=text, timeout=TIMEOUT,
                       env=CTL_ENV)
    if not text:  # stdout stays bytes (message contents); stderr is always text
        r.stderr = r.stderr.decode("utf-8", "replace")
    out = r.stdout if text else r.stdout.decode("utf-8", "replace")
    assert PASSWORD not in out + r.stderr, "postroomctl printed the password"
    return r


def ctl_json(testcase, *args, stdin=None):
    """Runs postroomctl --json, asserts success and returns the document."""
    r = ctl(*args, "--json", stdin=stdin)
    testcase.assertEqual(r.returncode, 0, f"postroomctl {' '.join(args)}: {r.stderr}")
    lines = r.stdout.splitlines()
    testcase.assertEqual(len(lines), 1, f"not one JSON document: {r.stdout!r}")
    return json.loads(lines[0])


def svc(*args):
    """The arguments of a command for our account."""
    return (args[0], "--service", SERVICE, *args[1:])


# -- the server's view, over IMAP ---------------------------------------------------------

def mutf7_decode(name):
    """RFC 3501 modified UTF-7 to str."""
    out, i = [], 0
    while i < len(name):
        if name[i] != "&":
            out.append(name[i])
            i += 1
            continue
        j = name.index("-", i)
        if j == i + 1:
            out.append("&")
        else:
            b64 = name[i + 1:j].replace(",", "/")
            out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


LIST_LINE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<delim>NIL|"(?:[^"\\]|\\.)*") (?P<name>.+)$')


def imap():
    m = imaplib.IMAP4_SSL(HOST, PORT, ssl_context=ssl.create_default_context(cafile=CA_FILE))
    m.login(USER, PASSWORD)
    return m


def server_folders(m):
    """{decoded name: (raw name for commands, selectable)} of every mailbox LIST returns."""
    typ, data = m.list('""', "*")
    assert typ == "OK", data
    folders = {}
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):  # the name came as a literal
            head, raw = item
            match = LIST_LINE.match(head.rstrip() + b" x")
        else:
            match = LIST_LINE.match(item)
            raw = match.group("name")
            if raw.startswith(b'"'):
                raw = re.sub(rb'\\(.)', rb"\1", raw[1:-1])
        attrs = match.group("attrs").lower().split()
        selectable = b"\\noselect" not in attrs and b"\\nonexistent" not in attrs
        raw = raw.decode("ascii")
        folders[mutf7_decode(raw)] = (raw, selectable)
    return folders


def imap_quote(raw):
    return '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_status(m, raw):
    typ, data = m.status(imap_quote(raw), "(MESSAGES UNSEEN)")
    assert typ == "OK", data
    found = dict(re.findall(rb"(MESSAGES|UNSEEN) ([0-9]+)", data[0]))
    return int(found[b"MESSAGES"]), int(found[b"UNSEEN"])


def server_uids(m, raw, criteria="ALL"):
    typ, data = m.select(imap_quote(raw), readonly=True)
    assert typ == "OK", data
    typ, data = m.uid("SEARCH", criteria)
    assert typ == "OK", data
    return [int(u) for u in data[0].split()]


def server_flags(m, uid):
    """The flags of INBOX message @uid on the server, without \\Recent."""
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert typ == "OK", data
    flags = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split()
    return {f for f in flags if f.lower() != "\\recent"}


def server_body(m, uid):
    """BODY.PEEK[] of INBOX message @uid: the bytes the server sends."""
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
    assert typ == "OK", data
    return next(part[1] for part in data if isinstance(part, tuple))


def append_message(m, tag):
    """Appends an unseen message to INBOX; returns its Message-ID."""
    message_id = f"<{tag}.{uuid.uuid4().hex}@ctl.test>"
    data = (f"From: Ctl Test <ctl@example.test>\r\nTo: {USER}@example.test\r\n"
            f"Subject: postroomctl {tag}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nBody of {tag}.\r\n").encode()
    typ, resp = m.append("INBOX", None, None, data)
    assert typ == "OK", resp
    return message_id


def deliver_message(m, tag):
    """Delivers a new message to INBOX as mail arrives (doveadm save, else APPEND on @m);
    returns its Subject."""
    subject = f"postroomctl {tag} {uuid.uuid4().hex[:8]}"
    data = (f"From: Ctl Sender <sender@example.test>\r\nTo: {USER}@example.test\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{tag}.{uuid.uuid4().hex}@ctl.test>\r\n"
            f"Date: Thu, 26 Nov 2026 11:00:00 +0000\r\n\r\nBody of {tag}.\r\n").encode()
    doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
    if DOVECOT_CONF and os.access(doveadm, os.X_OK):
        subprocess.run([doveadm, "-c", DOVECOT_CONF, "save", "-u", USER, "-m", "INBOX"],
                       input=data, check=True, capture_output=True, timeout=60)
    else:
        typ, resp = m.append("INBOX", None, None, data)
        assert typ == "OK", resp
    return subject


def bare_message_id(value):
    return value.strip().strip("<>")


def maildir_file(message_id):
    """The bytes of the maildir file (INBOX) with @message_id, or None."""
    for sub in ("cur", "new"):
        directory = os.path.join(MAILDIR, sub)
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            headers = BytesHeaderParser().parsebytes(data)
            if bare_message_id(headers.get("Message-ID") or "") == bare_message_id(message_id):
                return data
    return None


class Watch:
    """`postroomctl watch --json` (or, with json=False, its text for people) in the
    background; lines collected by a thread."""

    def __init__(self, json=True):
        argv = [CTL, "watch", "--service", SERVICE] + (["--json"] if json else [])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=CTL_ENV)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, deadline):
        """The next line (without its end), or None at end of output or past @deadline."""
        try:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            return None
        return None if line is None else line.rstrip("\n")

    def next_event(self, deadline):
        """The next event (parsed), or None at end of output or past @deadline."""
        line = self.next_line(deadline)
        return None if line is None else json.loads(line)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=30)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err


class Ctl(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        for service in (SERVICE, SERVICE + "_two"):
            ctl("remove", service)  # leftovers of an interrupted run; usually NotFound
        r = ctl("add", "--id", SERVICE, "--host", HOST, "--port", str(PORT), "--security",
                "tls", "--ca-file", CA_FILE, "--user", USER, "--display-name", "Ctl",
                "--password-stdin", "--json", stdin=PASSWORD + "\n")
        if r.returncode != 0:
            raise AssertionError(f"postroomctl add: {r.stderr}")
        cls.added = json.loads(r.stdout)
        cls.imap = imap()

    @classmethod
    def tearDownClass(cls):
        cls.imap.logout()
        ctl("remove", SERVICE)

    def assertFails(self, r, name, rc=1):
        self.assertEqual(r.returncode, rc, f"{r.stdout!r}\n{r.stderr}")
        self.assertTrue(r.stderr.startswith(f"postroomctl: {name}: "), r.stderr)

    def assertOperationSucceeded(self, doc, kind):
        self.assertRegex(doc["operation"], OPERATION_PATH)
        self.assertEqual(doc["kind"], kind)
        self.assertIs(doc["success"], True)
        self.assertEqual(doc["state"], "succeeded")
        self.assertEqual(doc["error"], "")
        self.assertEqual(doc["progress"], 1.0)
        self.assertEqual(doc["service"], SERVICE_PATH)

    def settings(self):
        return ctl_json(self, *svc("settings"))

    def status(self):
        return ctl_json(self, *svc("status"))

    def folders(self):
        """{name: entry} of `folders --json`."""
        return {f["name"]: f for f in ctl_json(self, *svc("folders"))["folders"]}

    def wait_for_status(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if predicate(st):
                return st
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}: {st}")
            time.sleep(0.1)

    def assertWaited(self, doc):
        """`wait --json`: the WaitForBackground operation, and what else it waited for."""
        self.assertOperationSucceeded(doc, "wait-for-background")
        self.assertIsInstance(doc["waited-for"], list)
        for path in doc["waited-for"]:
            self.assertRegex(path, OPERATION_PATH)

    def inbox(self, *args):
        return ctl_json(self, *svc("messages", "INBOX", *args))["messages"]

    def message_id_of(self, header_message_id):
        found = [m for m in self.inbox()
                 if bare_message_id(m["message-id"]) == bare_message_id(header_message_id)]
        self.assertEqual(len(found), 1, f"{header_message_id} in the store")
        return found[0]

    # -- accounts and settings ------------------------------------------------------------

    def test_00_add_lists_service(self):
        self.assertEqual(self.added["service"], SERVICE)
        self.assertEqual(self.added["path"], SERVICE_PATH)
        self.assertIs(self.added["password-stored"], True)
        services = ctl_json(self, "services")["services"]
        mine = [s for s in services if s["id"] == SERVICE]
        self.assertEqual(len(mine), 1, services)
        self.assertEqual(mine[0]["path"], SERVICE_PATH)
        self.assertIn(mine[0]["state"], STATES)
        r = ctl("services")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf"(?m)^{SERVICE}\s")

    def test_05_service_choice(self):
        r = ctl("add", "--id", SERVICE + "_two", "--host", HOST, "--user", USER,
                "--no-password", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            r = ctl("status")  # two services at least: which one?
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn(SERVICE + "_two", r.stderr)
            self.assertIn(SERVICE + ",", r.stderr)
        finally:
            r = ctl("remove", SERVICE + "_two")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFails(ctl("status", "--service", "nosuchservice"), "NotFound")
        r = ctl("status", "--service", "Not-An-Id")
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_10_set_each_type(self):
        r = ctl(*svc("set", "display-name=Ctl Test", "folder-sync=all", "compress=no",
                     "idle=yes", "timeout=45", "inbox-sync-limit=-1",
                     "body-text-size-limit=1048576", f"port={PORT}"))
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.settings()
        self.assertEqual(s["display-name"], "Ctl Test")  # s
        self.assertEqual(s["folder-sync"], "all")
        self.assertIs(s["compress"], False)  # b
        self.assertIs(s["idle"], True)
        self.assertEqual(s["timeout"], 45)  # u
        self.assertEqual(s["inbox-sync-limit"], -1)  # i
        self.assertEqual(s["body-text-size-limit"], 1048576)  # t
        self.assertEqual(s["port"], PORT)  # q
        for spelling, value in (("true", True), ("NO", False), ("1", True), ("False", False),
                                ("yes", True), ("0", False)):
            with self.subTest(spelling=spelling):
                r = ctl(*svc("set", f"compress={spelling}"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIs(self.settings()["compress"], value)
        doc = ctl_json(self, *svc("set", "timeout=60"))
        self.assertEqual(doc["updated"], {"timeout": 60})

    def test_11_set_invalid(self):
        before = self.settings()
        for assignment in ("port=notanumber", "port=70000", "port=-1", "timeout=-1",
                           "inbox-sync-limit=1.5", "body-text-size-limit=", "compress=maybe",
                           "security=bogus", "no-such-key=1"):
            with self.subTest(assignment=assignment):
                self.assertFails(ctl(*svc("set", assignment)), "InvalidArgument")
        self.assertEqual(self.settings(), before)
        for usage in (("set", "port"), ("set", "=1"), ("set",), ("set", "password=x")):
            with self.subTest(usage=usage):
                r = ctl(*svc(*usage))
                self.assertEqual(r.returncode, 2, r.stderr)

    def test_12_password(self):
        doc = ctl_json(self, *svc("password", "--clear"))
        self.assertEqual(doc, {"service": SERVICE, "protocol": "imap", "stored": False})
        doc = ctl_json(self, *svc("password", "--password-stdin"), stdin=PASSWORD + "\n")
        self.assertEqual(doc, {"service": SERVICE, "protocol": "imap", "stored": True})
        r = ctl(*svc("password", "--password-stdin"), stdin="")
        self.assertFails(r, "InvalidArgument", rc=2)
        r = ctl(*svc("password"), stdin=PASSWORD + "\n")  # no terminal to ask on
        self.assertFails(r, "InvalidArgument", rc=2)

    def test_20_status(self):
        st = ctl_json(self, *svc("status"))
        self.assertEqual(st["id"], SERVICE)
        self.assertEqual(st["path"], SERVICE_PATH)
        self.assertEqual(st["display-name"], "Ctl Test")
        self.assertIn(st["state"], STATES)
        for key in ("connected", "busy", "background-sync"):
            self.assertIsInstance(st[key], bool, key)
        for key in ("last-sync", "pending-offline-operations", "outbox-count"):
            self.assertIsInstance(st[key], int, key)
        self.assertIsInstance(st["last-error"], str)
        self.assertIsInstance(st["server-capabilities"], list)
        r = ctl(*svc("status"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(SERVICE, r.stdout)

    # -- operations -----------------------------------------------------------------------

    def test_30_connect(self):
        doc = ctl_json(self, *svc("connect"))
        self.assertOperationSucceeded(doc, "connect")
        st = ctl_json(self, *svc("status"))
        self.assertIs(st["connected"], True)
        self.assertEqual(st["last-error"], "")
        self.assertIn("IMAP4REV1", [c.upper() for c in st["server-capabilities"]])

    def test_32_connect_stay_then_wait(self):
        self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
        before = self.status()["last-sync"]
        if before:
            time.sleep(1.1)  # LastSync counts seconds
        doc = ctl_json(self, *svc("connect", "--stay"))
        self.assertOperationSucceeded(doc, "connect-and-sync")
        self.assertIs(self.status()["connected"], True)
        self.assertWaited(ctl_json(self, *svc("wait")))
        st = self.status()
        self.assertIs(st["connected"], True, "online after the background sync")
        self.assertGreater(st["last-sync"], before, "wait returned before the full sync ended")
        # push starts once the full sync ends, and its catch-up inbox sync is background
        # work of its own: it may be running now, but it must end
        self.wait_for_status("the push catch-up sync to end",
                             lambda st: st["background-sync"] is False)
        # for people: what happens, and how to wait for it
        r = ctl(*svc("connect", "--stay"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("postroomctl wait", r.stdout.splitlines()[-1])
        r = ctl(*svc("wait"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.splitlines()[-1], r"background")
        for usage in (("connect", "--stay", "--until-disconnect"), ("disconnect", "--stay"),
                      ("wait", "extra"), ("wait", "--no-wait")):
            with self.subTest(usage=usage):
                self.assertEqual(ctl(*svc(*usage)).returncode, 2)

    def start_until_disconnect(self):
        """`connect --until-disconnect` in the background, once it is online."""
        self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
        proc = subprocess.Popen([CTL, "connect", "--service", SERVICE, "--until-disconnect"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=CTL_ENV)
        try:
            self.wait_for_status("connected", lambda st: st["connected"])
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "--until-disconnect returned while online")
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        return proc

    def test_33_connect_until_disconnect(self):
        proc = self.start_until_disconnect()
        try:
            self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.splitlines()[-1], "Disconnected.")

        # Ctrl-C disconnects
        proc = self.start_until_disconnect()
        try:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 130, err)
        self.assertEqual(out.splitlines()[-1], "Disconnected.")
        st = self.status()
        self.assertIs(st["connected"], False)
        self.assertEqual(st["state"], "disconnected")

        # wait waits for its sync, not for the connection to end
        doc = ctl_json(self, *svc("connect", "--until-disconnect", "--no-wait"))
        self.assertRegex(doc["operation"], OPERATION_PATH)
        self.assertWaited(ctl_json(self, *svc("wait")))
        self.assertIs(self.status()["connected"], True)
        self.wait_for_status("the push catch-up sync to end",
                             lambda st: st["background-sync"] is False)
        self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
        self.assertOperationSucceeded(ctl_json(self, *svc("connect")), "connect")

    def test_40_sync(self):
        doc = ctl_json(self, *svc("sync"))
        self.assertOperationSucceeded(doc, "synchronise")
        doc = ctl_json(self, *svc("sync", "--connect"))
        self.assertOperationSucceeded(doc, "connect-and-sync")
        doc = ctl_json(self, *svc("sync", "--scope", "tree", "--no-wait"))
        self.assertEqual(list(doc), ["operation"])
        self.assertRegex(doc["operation"], OPERATION_PATH)
        # not a terminal: no progress bar, only plain lines and the result
        r = ctl(*svc("sync", "--scope", "folders", "INBOX"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\r", r.stdout)
        self.assertIn("Synchronised", r.stdout.splitlines()[-1])
        self.assertGreater(ctl_json(self, *svc("status"))["last-sync"], 0)

    def test_41_sync_unknown_folder(self):
        r = ctl(*svc("sync", "No such folder here"))
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"^postroomctl: (NotFound|InvalidArgument): ")

    def test_42_sync_background_then_wait(self):
        before = self.status()["last-sync"]
        if before:
            time.sleep(1.1)  # LastSync counts seconds
        r = ctl(*svc("sync", "--background"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), OPERATION_PATH)
        self.assertEqual(len(r.stdout.splitlines()), 1, r.stdout)
        self.assertWaited(ctl_json(self, *svc("wait")))
        self.assertGreater(self.status()["last-sync"], before,
                           "wait returned before the sync ended")
        doc = ctl_json(self, *svc("sync", "--background", "--scope", "tree"))
        self.assertEqual(list(doc), ["operation"])
        self.assertRegex(doc["operation"], OPERATION_PATH)
        self.assertWaited(ctl_json(self, *svc("wait")))
        self.wait_for_status("background sync to end",
                             lambda st: st["background-sync"] is False)

    def test_43_sync_cancel_background(self):
        self.assertWaited(ctl_json(self, *svc("wait")))
        doc = ctl_json(self, *svc("sync", "--cancel-background"))
        self.assertEqual(doc, {"service": SERVICE, "cancelled": False})
        r = ctl(*svc("sync", "--cancel-background"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No background synchronisation", r.stdout)
        for usage in (("--scope", "tree"), ("INBOX",), ("--background",), ("--connect",),
                      ("--no-wait",)):
            with self.subTest(usage=usage):
                r = ctl(*svc("sync", "--cancel-background", *usage))
                self.assertEqual(r.returncode, 2, r.stderr)

    # -- folders --------------------------------------------------------------------------

    def test_44_subscribe_unsubscribe(self):
        self.assertIn("Archive", self.folders())
        initial = self.folders()["Archive"]["subscribed"]
        try:
            for command, value in (("unsubscribe", False), ("subscribe", True),
                                   ("unsubscribe", False), ("subscribe", True)):
                with self.subTest(command=command):
                    doc = ctl_json(self, *svc(command, "Archive"))
                    self.assertOperationSucceeded(doc, command)
                    self.assertIs(self.folders()["Archive"]["subscribed"], value)
                    r = ctl(*svc("folders"))
                    self.assertEqual(r.returncode, 0, r.stderr)
                    column = "yes" if value else "no"
                    self.assertRegex(r.stdout, rf"(?m)^Archive\s+\d+\s+\d+\s+{column}\b")
            r = ctl(*svc("unsubscribe", "Archive"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.splitlines()[-1], "Unsubscribed from “Archive”.")
            self.assertIs(self.folders()["Archive"]["subscribed"], False)
        finally:
            ctl(*svc("subscribe" if initial else "unsubscribe", "Archive"))
        self.assertFails(ctl(*svc("subscribe", "No such folder here")), "NotFound")
        self.assertFails(ctl(*svc("unsubscribe", "No such folder here")), "NotFound")
        for usage in (("subscribe",), ("unsubscribe",), ("subscribe", "Archive", "INBOX")):
            with self.subTest(usage=usage):
                self.assertEqual(ctl(*svc(*usage)).returncode, 2)

    def cleanup_folders(self, *names):
        """After a failure: online, no test folders left, and the folder list current."""
        for step in range(2):
            deadline = time.monotonic() + 30
            while not self.status()["connected"] and time.monotonic() < deadline:
                time.sleep(0.2)
            ctl(*svc("sync", "--scope", "tree"))
            left = [n for n in names if n in self.folders()]
            if not left:
                return
            for name in left:
                ctl(*svc("rmdir", name))

    def test_46_mkdir_rename_rmdir(self):
        delimiter = self.folders()["INBOX"]["delimiter"] or "/"
        parent, renamed = "CtlParent", "CtlRenamed"
        child, renamed_child = (parent + delimiter + "Child", renamed + delimiter + "Child")

        def names():
            local = {n for n, f in self.folders().items() if not f["local"]}
            return local, set(server_folders(self.imap))

        try:
            self.assertOperationSucceeded(ctl_json(self, *svc("mkdir", parent)), "create-folder")
            r = ctl(*svc("mkdir", child))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, f"Created folder “{child}”.\n")
            local, server = names()
            self.assertLessEqual({parent, child}, local)
            self.assertLessEqual({parent, child}, server)
            self.assertIs(self.folders()[child]["subscribed"], True)

            self.assertFails(ctl(*svc("mkdir", "INBOX")), "InvalidArgument")
            self.assertFails(ctl(*svc("mkdir", parent)), "InvalidArgument")
            self.assertFails(ctl(*svc("rename", "INBOX", "CtlInbox")), "InvalidArgument")
            self.assertFails(ctl(*svc("rename", parent, "Archive")), "InvalidArgument")
            self.assertFails(ctl(*svc("rename", "No such folder here", "CtlX")), "NotFound")
            self.assertFails(ctl(*svc("rmdir", "No such folder here")), "NotFound")
            self.assertFails(ctl(*svc("rmdir", "INBOX")), "InvalidArgument")

            doc = ctl_json(self, *svc("rename", parent, renamed))
            self.assertOperationSucceeded(doc, "rename-folder")
            local, server = names()
            self.assertLessEqual({renamed, renamed_child}, local)
            self.assertLessEqual({renamed, renamed_child}, server)
            self.assertFalse({parent, child} & local, local)
            self.assertFalse({parent, child} & server, server)

            r = ctl(*svc("rmdir", renamed))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, f"Deleted folder “{renamed}”.\n")
            local, server = names()
            self.assertFalse({renamed, renamed_child} & local, local)
            self.assertFalse({renamed, renamed_child} & server, server)
        finally:
            self.cleanup_folders(parent, renamed)
        for usage in (("mkdir",), ("rmdir",), ("rename", "A"), ("rename", "A", "B", "C"),
                      ("mkdir", "")):
            with self.subTest(usage=usage):
                self.assertEqual(ctl(*svc(*usage)).returncode, 2)

    # -- reading the store ----------------------------------------------------------------

    def test_50_folders_match_server(self):
        mine = {f["name"]: f for f in ctl_json(self, *svc("folders"))["folders"]
                if not f["local"]}
        server = server_folders(self.imap)
        selectable = {name for name, (_, ok) in server.items() if ok}
        self.assertLessEqual(selectable, set(mine))
        self.assertLessEqual(set(mine), set(server))
        for name in sorted(selectable):
            with self.subTest(folder=name):
                messages, unseen = server_status(self.imap, server[name][0])
                self.assertEqual(mine[name]["messages"], messages)
                self.assertEqual(mine[name]["unseen"], unseen)
        r = ctl(*svc("folders"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^INBOX\s")

    def test_60_messages_match_server(self):
        uids = server_uids(self.imap, "INBOX")
        self.assertGreaterEqual(len(uids), 3, "the test wants a seeded INBOX")
        listed = self.inbox()
        self.assertEqual([m["uid"] for m in listed], uids)
        self.assertEqual(len({m["id"] for m in listed}), len(listed))
        self.assertTrue(all(m["id"] > 0 for m in listed))
        self.assertEqual(self.inbox("--limit", "2"), listed[:2])
        self.assertEqual(self.inbox("--offset", "1", "--limit", "2"), listed[1:3])
        self.assertEqual(self.inbox("--offset", str(len(listed))), [])
        unseen = server_uids(self.imap, "INBOX", "UNSEEN")
        self.assertEqual([m["uid"] for m in self.inbox("--unseen")], unseen)
        for m in listed:
            self.assertEqual("\\Seen" in m["flags"], m["uid"] not in unseen)
            self.assertIn(m["download"], ("headers", "partial", "complete"))
        r = ctl(*svc("messages", "INBOX", "--limit", "2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 3)  # the header and two messages
        self.assertFails(ctl(*svc("messages", "No such folder here")), "NotFound")

    def test_70_header_only_then_fetch(self):
        message_id = append_message(self.imap, "header-only")
        self.assertOperationSucceeded(ctl_json(self, *svc("sync", "--scope", "inbox-new")),
                                      "synchronise")
        entry = self.message_id_of(message_id)
        self.assertEqual(entry["download"], "headers")
        r = ctl(*svc("show", str(entry["id"])), text=False)
        self.assertFails(r, "NotDownloaded")
        self.assertEqual(r.stdout, b"")
        self.assertIn(f"postroomctl fetch --service {SERVICE} {entry['id']}", r.stderr)

        doc = ctl_json(self, *svc("fetch", str(entry["id"])))
        self.assertOperationSucceeded(doc, "get-mail")
        self.assertIn(entry["id"], doc["result"]["ids"])
        self.assertEqual(self.message_id_of(message_id)["download"], "complete")
        r = ctl(*svc("show", str(entry["id"])), text=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, server_body(self.imap, entry["uid"]))
        info = ctl_json(self, *svc("show", str(entry["id"])))
        self.assertEqual(info["id"], entry["id"])
        self.assertEqual(info["folder"], "INBOX")
        self.assertIs(info["complete"], True)

    def test_72_flag_delete_undelete(self):
        first, second = self.inbox("--limit", "2")
        before = {m["uid"]: server_flags(self.imap, m["uid"]) for m in (first, second)}
        doc = ctl_json(self, *svc("flag", str(first["id"]), str(second["id"]), "--add",
                                  "\\Flagged", "--add", "$Ctl", "--remove", "\\Answered"))
        self.assertOperationSucceeded(doc, "set-flags")
        self.assertEqual(doc["result"]["changed"], 2)
        self.assertEqual(doc["result"]["conflicts"], [])
        self.assertEqual(doc["result"]["unsupported-flags"], [])
        for m in (first, second):
            want = (before[m["uid"]] - {"\\Answered"}) | {"\\Flagged", "$Ctl"}
            self.assertEqual(server_flags(self.imap, m["uid"]), want)
        listed = {m["id"]: set(m["flags"]) for m in self.inbox("--limit", "2")}
        self.assertEqual(listed[first["id"]], server_flags(self.imap, first["uid"]))

        doc = ctl_json(self, *svc("delete", str(first["id"])))
        self.assertOperationSucceeded(doc, "delete")
        self.assertEqual(doc["result"]["changed"], 1)
        self.assertIn("\\Deleted", server_flags(self.imap, first["uid"]))
        self.assertNotIn("\\Deleted", server_flags(self.imap, second["uid"]))
        doc = ctl_json(self, *svc("undelete", str(first["id"])))
        self.assertOperationSucceeded(doc, "undelete")
        self.assertNotIn("\\Deleted", server_flags(self.imap, first["uid"]))

        r = ctl(*svc("flag", str(first["id"]), "--remove", "\\Flagged", "--remove", "$Ctl"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Changed 1 message.", r.stdout)
        self.assertEqual(server_flags(self.imap, first["uid"]),
                         before[first["uid"]] - {"\\Answered"})

        for args in (("flag",), ("flag", str(first["id"])), ("delete",), ("undelete", "x")):
            with self.subTest(args=args):
                self.assertEqual(ctl(*svc(*args)).returncode, 2)
        self.assertFails(ctl(*svc("flag", str(first["id"]), "--add", "\\Recent")),
                         "InvalidArgument")
        self.assertFails(ctl(*svc("delete", str(2 ** 62))), "NotFound")

    def test_75_fetch_show_equals_maildir(self):
        self.assertTrue(MAILDIR, "with-dovecot sets PR_TEST_MAILDIR")
        first = self.inbox("--limit", "1")[0]
        expected = maildir_file(first["message-id"])
        self.assertIsNotNone(expected, "the seeded message in the maildir")
        self.assertOperationSucceeded(ctl_json(self, *svc("fetch", str(first["id"]))),
                                      "get-mail")
        r = ctl(*svc("show", str(first["id"])), text=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, expected)

    def test_76_show_fetch_usage(self):
        for args in (("show",), ("show", "0"), ("show", "x"), ("fetch",), ("fetch", "1", "y")):
            with self.subTest(args=args):
                self.assertEqual(ctl(*svc(*args)).returncode, 2)
        self.assertFails(ctl(*svc("show", str(2 ** 63))), "NotFound")

    def test_80_watch(self):
        watch = Watch()
        try:
            deadline = time.monotonic() + TIMEOUT
            ready = watch.next_event(deadline)
            self.assertIsNotNone(ready, "watch ended early")
            self.assertEqual(ready["event"], "Watching")
            self.assertEqual(ready["services"], [SERVICE])
            message_id = append_message(self.imap, "watched")
            doc = ctl_json(self, *svc("sync", "--scope", "inbox-new"))
            self.assertOperationSucceeded(doc, "synchronise")
            new_id = self.message_id_of(message_id)["id"]
            events = []
            while True:
                event = watch.next_event(deadline)
                self.assertIsNotNone(event, f"no Completed for {doc['operation']}: {events}")
                events.append(event)
                if event["event"] == "Completed" and event["operation"] == doc["operation"]:
                    break
        finally:
            rc, err = watch.stop()
        self.assertEqual(rc, 0, err)
        for event in events:
            self.assertEqual(event.get("service"), SERVICE, event)
            self.assertIsInstance(event["time"], int)
        completed = events[-1]
        self.assertIs(completed["success"], True)
        self.assertEqual(completed["kind"], "synchronise")
        announced = [e for e in events
                     if (e["event"] == "NewMail" and new_id in e["ids"]) or
                     (e["event"] == "MessagesChanged" and new_id in e["added"])]
        self.assertTrue(announced, events)
        self.assertEqual(announced[0]["folder"], "INBOX")
        for event in announced:
            if event["event"] == "NewMail":
                about = [m for m in event["messages"] if m["id"] == new_id]
                self.assertEqual(len(about), 1, event)
                self.assertEqual(about[0]["subject"], "postroomctl watched")
                self.assertIn("ctl@example.test", about[0]["from"])

    def test_81_watch_new_mail_as_it_arrives(self):
        # online, keeping the inbox current: by IDLE, or else by this short sync-interval
        # (it applies at the next connect)
        r = ctl(*svc("set", "sync-interval=2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        watch = None
        try:
            self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
            self.assertOperationSucceeded(ctl_json(self, *svc("connect", "--stay")),
                                          "connect-and-sync")
            self.assertWaited(ctl_json(self, *svc("wait")))
            watch = Watch(json=False)
            deadline = time.monotonic() + 120
            # the text has no "watching" line: an operation of ours shows that it listens
            lines = []
            while not lines:
                doc = ctl_json(self, *svc("sync", "--scope", "tree"))
                self.assertOperationSucceeded(doc, "synchronise")
                line = watch.next_line(min(deadline, time.monotonic() + 2))
                self.assertTrue(line is not None or time.monotonic() < deadline,
                                "watch printed nothing")
                if line is not None:
                    lines.append(line)
            subject = deliver_message(self.imap, "arrived")
            found = None
            while found is None:
                line = watch.next_line(deadline)
                self.assertIsNotNone(line, f"no New mail line: {lines}")
                lines.append(line)
                for i, seen in enumerate(lines):
                    if (re.search(r"  New mail in INBOX: [0-9]+ messages?$", seen) and
                            i + 1 < len(lines) and subject in lines[i + 1]):
                        found = i
            self.assertRegex(lines[found],
                             rf"^\d\d:\d\d:\d\d  {SERVICE}  New mail in INBOX: 1 message$")
            self.assertRegex(lines[found + 1],
                             rf"^ +[0-9]+  From: Ctl Sender <sender@example.test>  "
                             rf"Subject: {re.escape(subject)}$")
            self.assertTrue(any(re.search(r"messages changed in INBOX: 1 added", line)
                                for line in lines), lines)
            self.assertTrue(any("background sync: started" in line for line in lines), lines)
        finally:
            if watch is not None:
                rc, err = watch.stop()
            ctl(*svc("set", "sync-interval=300"))
        self.assertEqual(rc, 0, err)

    def test_85_disconnect(self):
        self.assertOperationSucceeded(ctl_json(self, *svc("disconnect")), "disconnect")
        st = ctl_json(self, *svc("status"))
        self.assertIs(st["connected"], False)
        self.assertEqual(st["state"], "disconnected")
        # the store still answers offline
        self.assertGreaterEqual(len(self.inbox()), 3)

    def test_86_folders_offline(self):
        r = ctl(*svc("mkdir", "CtlOffline"))
        self.assertFails(r, "NotConnected")
        self.assertIn(f"postroomctl connect --service {SERVICE}", r.stderr)
        self.assertFails(ctl(*svc("rename", "Archive", "CtlOffline")), "NotConnected")
        self.assertFails(ctl(*svc("rmdir", "Archive")), "NotConnected")
        self.assertNotIn("CtlOffline", self.folders())
        # local folders and subscriptions are this machine's business
        self.assertOperationSucceeded(ctl_json(self, *svc("mkdir", "local:CtlLocal")),
                                      "create-folder")
        self.assertIs(self.folders()["local:CtlLocal"]["local"], True)
        self.assertOperationSucceeded(
            ctl_json(self, *svc("rename", "local:CtlLocal", "local:CtlMoved")), "rename-folder")
        self.assertFails(ctl(*svc("rename", "local:CtlMoved", "CtlOnServer")),
                         "InvalidArgument")
        self.assertOperationSucceeded(ctl_json(self, *svc("rmdir", "local:CtlMoved")),
                                      "delete-folder")
        self.assertFalse({"local:CtlLocal", "local:CtlMoved"} & set(self.folders()))
        initial = self.folders()["Archive"]["subscribed"]
        self.assertOperationSucceeded(
            ctl_json(self, *svc("unsubscribe" if initial else "subscribe", "Archive")),
            "unsubscribe" if initial else "subscribe")
        self.assertIs(self.folders()["Archive"]["subscribed"], not initial)
        self.assertOperationSucceeded(
            ctl_json(self, *svc("subscribe" if initial else "unsubscribe", "Archive")),
            "subscribe" if initial else "unsubscribe")

    def test_90_bus_address(self):
        r = ctl("services", "--address", "unix:path=/nonexistent/postroom-bus")
        self.assertFails(r, "Failed")
        self.assertIn("/nonexistent/postroom-bus", r.stderr)

    def test_99_remove(self):
        doc = ctl_json(self, "remove", SERVICE)
        self.assertEqual(doc, {"service": SERVICE, "removed": True})
        ids = [s["id"] for s in ctl_json(self, "services")["services"]]
        self.assertNotIn(SERVICE, ids)
        self.assertFails(ctl(*svc("status")), "NotFound")
        self.assertFails(ctl("remove", SERVICE), "NotFound")


if __name__ == "__main__":
    unittest.main(verbosity=2)
