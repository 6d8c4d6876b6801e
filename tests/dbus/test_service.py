#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""org.postroom.Postroom1.Imap4Service over the bus: state properties and their
PropertiesChanged, settings (D-Bus and GSettings), passwords, connect/disconnect,
Synchronise scopes, the store reads (ListFolders, ListMessages, GetMessage), GetMail
populate, and "the store equals the server" before and after server-side changes.

Alice's mailbox is only read; the one test that changes the server works on bob's."""

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

import harness

sys.path.insert(0, harness.SERVERS_DIR)
import badimap  # noqa: E402
import certs  # noqa: E402
from harness import ERR, SERVICE, GLib, Stack

V = GLib.Variant
SEED = {"INBOX": 40, "Archive": 12, "Lists/dovecot": 5, "Entwürfe": 3}
BOB_SEED = {"INBOX": 15, "Archive": 6}

SERVICE_PROPERTY_TYPES = {
    "Id": "s", "DisplayName": "s", "Connected": "b", "Busy": "b", "State": "s",
    "BackgroundSync": "b", "LastSync": "x", "LastError": "(ss)",
    "PendingOfflineOperations": "u", "OutboxCount": "u", "ServerCapabilities": "as",
}
FOLDER_TYPES = {
    "delimiter": "s", "attributes": "as", "special-use": "s", "subscribed": "b", "local": "b",
    "messages": "u", "unseen": "u", "uidvalidity": "u",
}
MESSAGE_TYPES = {
    "uid": "u", "flags": "as", "internal-date": "x", "size": "t", "subject": "s", "from": "s",
    "to": "as", "cc": "as", "date": "x", "message-id": "s", "in-reply-to": "s",
    "has-attachments": "b", "download": "s", "pending": "s",
}
SETTINGS_KEYS = {k: t for k, t in harness.SETTING_TYPES.items() if k not in ("id", "password")}


def dedupe(values):
    """[a, a, b, a] -> [a, b, a]"""
    out = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out


def is_subsequence(needle, haystack):
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


class ServiceTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed=SEED, seed_users={"bob": BOB_SEED})
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def opts(self):
        return V("(a{sv})", ({},))

    def ids_by_uid(self, svc, folder):
        return {m["uid"]: i for i, m in self.stack.list_messages(svc, folder)}

    # -- properties --
    def test_properties_of_a_new_account(self):
        s = self.stack
        svc = s.add_account(id="fresh", display_name="Fresh")
        raw = s.props_raw(svc, SERVICE)
        for name, t in SERVICE_PROPERTY_TYPES.items():
            with self.subTest(property=name):
                self.assertIn(name, raw)
                self.assertType(raw[name], t, name)
        p = {k: v.unpack() for k, v in raw.items()}
        self.assertEqual(p["Id"], "fresh")
        self.assertEqual(p["DisplayName"], "Fresh")
        self.assertFalse(p["Connected"])
        self.assertFalse(p["Busy"])
        self.assertFalse(p["BackgroundSync"])
        self.assertEqual(p["State"], "disconnected")
        self.assertEqual(p["LastSync"], 0)
        self.assertEqual(p["LastError"], ("", ""))
        self.assertEqual(p["PendingOfflineOperations"], 0)
        self.assertEqual(p["OutboxCount"], 0)

    def test_state_transitions_and_announcements(self):
        s = self.stack
        svc = s.account(id="states", folder_sync="all")
        mark = s.mark()
        before = int(GLib.get_real_time() / 1e6)
        s.full_sync(svc)
        after = int(GLib.get_real_time() / 1e6)
        # PropertiesChanged comes on the service's path; give the last ones a moment
        s.wait_until(lambda: s.property_changes(svc, SERVICE, "LastSync", since=mark), 10,
                     "LastSync to be announced")
        s.wait_until(lambda: s.property_changes(svc, SERVICE, "Busy", since=mark)[-1:] == [False],
                     10, "Busy false to be announced")
        states = dedupe(s.property_changes(svc, SERVICE, "State", since=mark))
        self.assertTrue(is_subsequence(
            ["connecting", "authenticating", "connected", "syncing", "connected"], states),
            f"State announcements: {states}")
        self.assertIn(states[-1], ("connected", "idle"))  # idle: waiting in IDLE
        busy = dedupe(s.property_changes(svc, SERVICE, "Busy", since=mark))
        self.assertEqual((busy[0], busy[-1]), (True, False), f"Busy announcements: {busy}")
        self.assertIn(True, s.property_changes(svc, SERVICE, "Connected", since=mark))
        last_sync = s.property_changes(svc, SERVICE, "LastSync", since=mark)[-1]
        self.assertTrue(before <= last_sync <= after + 1, (before, last_sync, after))
        caps = s.property_changes(svc, SERVICE, "ServerCapabilities", since=mark)
        self.assertTrue(caps and caps[-1], "ServerCapabilities announced after login")
        with s.server_view() as v:
            self.assertEqual({c.upper() for c in caps[-1]}, v.capabilities())
        # push's one catch-up sync of the inbox may still be running: wait for it
        s.wait_until(lambda: s.prop(svc, SERVICE, "Busy") is False, 30, "Busy false")
        p = s.props(svc, SERVICE)
        self.assertEqual((p["Connected"], p["Busy"]), (True, False))
        self.assertIn(p["State"], ("connected", "idle"))
        self.assertEqual(p["LastSync"], last_sync)
        self.assertEqual(p["ServerCapabilities"], caps[-1])

    def test_last_error_set_and_cleared(self):
        s = self.stack
        svc = s.account(id="lasterr", password="wrong password")
        mark = s.mark()
        e = s.wait_op_error(s.connect(svc))
        self.assertEqual(e.name, ERR + "LoginFailed")
        p = s.props(svc, SERVICE)
        self.assertEqual(p["LastError"][0], ERR + "LoginFailed")
        self.assertTrue(p["LastError"][1], "LastError carries a message")
        self.assertFalse(p["Connected"])
        self.assertEqual(p["State"], "disconnected")
        s.wait_until(lambda: s.property_changes(svc, SERVICE, "LastError", since=mark), 10,
                     "LastError to be announced")
        s.set_password(svc)
        mark = s.mark()
        s.wait_op(s.connect(svc))
        self.assertEqual(s.prop(svc, SERVICE, "LastError"), ("", ""))
        s.wait_until(lambda: ("", "") in s.property_changes(svc, SERVICE, "LastError",
                                                            since=mark), 10,
                     "the cleared LastError to be announced")

    # -- settings --
    def test_get_settings_has_every_key(self):
        s = self.stack
        svc = s.add_account(id="settings_all", timeout=77, folder_sync="either")
        reply = s.call_raw(svc, SERVICE, "GetSettings").get_child_value(0)
        got = self.assertVardictTypes(reply, SETTINGS_KEYS, "GetSettings")
        self.assertNotIn("password", got)
        values = reply.unpack()
        self.assertEqual(values["timeout"], 77)
        self.assertEqual(values["folder-sync"], "either")
        self.assertEqual(values["host"], s.server.host)
        self.assertEqual(values["user"], s.user)

    def test_update_settings(self):
        s = self.stack
        svc = s.add_account(id="upd", display_name="Before")
        mark = s.mark()
        s.call(svc, SERVICE, "UpdateSettings",
               V("(a{sv})", ({"display-name": V("s", "After"), "timeout": V("u", 31)},)))
        settings = s.call(svc, SERVICE, "GetSettings")[0]
        self.assertEqual((settings["display-name"], settings["timeout"]), ("After", 31))
        reloc = "org.postroom.Imap4Service:" + harness.SERVICES + "upd/"
        self.assertEqual(s.gsettings("get", reloc, "timeout").strip(), "uint32 31")
        s.wait_until(lambda: "After" in s.property_changes(svc, SERVICE, "DisplayName",
                                                           since=mark), 10,
                     "DisplayName to be announced")
        self.assertEqual(s.prop(svc, SERVICE, "DisplayName"), "After")

        bad = [
            ("colour", {"colour": V("s", "red")}),
            ("timeout", {"timeout": V("s", "30")}),
            ("folder-sync", {"folder-sync": V("s", "bogus")}),
            ("security", {"host": V("s", "mail.example.org"), "security": V("s", "none")}),
            ("host", {"host": V("s", "")}),
        ]
        for key, changes in bad:
            with self.subTest(key=key):
                e = self.assertCallFails("InvalidArgument", s.call, svc, SERVICE,
                                         "UpdateSettings", V("(a{sv})", (changes,)))
                self.assertIn(key, e.message)
                self.assertEqual(s.call(svc, SERVICE, "GetSettings")[0], settings,
                                 "a rejected UpdateSettings changed something")

    def test_gsettings_change_is_picked_up_live(self):
        s = self.stack
        svc = s.add_account(id="live", display_name="Old Name")
        mark = s.mark()
        s.gsettings("set", "org.postroom.Imap4Service:" + harness.SERVICES + "live/",
                    "display-name", "'X'")
        s.wait_until(lambda: s.prop(svc, SERVICE, "DisplayName") == "X", 30,
                     "DisplayName to follow GSettings")
        s.wait_until(lambda: "X" in s.property_changes(svc, SERVICE, "DisplayName", since=mark),
                     10, "the DisplayName change to be announced")
        self.assertEqual(s.call(svc, SERVICE, "GetSettings")[0]["display-name"], "X")

    # -- passwords --
    def test_set_and_clear_password(self):
        s = self.stack
        svc = s.add_account(id="pw")
        s.set_password(svc, "imap-secret-1")
        s.set_password(svc, "smtp-secret-2", protocol="smtp")
        self.assertEqual(s.secret_lookup("pw"), "imap-secret-1")
        self.assertEqual(s.secret_lookup("pw", "smtp"), "smtp-secret-2")
        s.call(svc, SERVICE, "ClearPassword", V("(s)", ("smtp",)))
        self.assertIsNone(s.secret_lookup("pw", "smtp"))
        self.assertEqual(s.secret_lookup("pw"), "imap-secret-1")
        for proto in ("pop3", "IMAP", ""):
            with self.subTest(protocol=proto):
                self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "SetPassword",
                                     V("(ss)", (proto, "x")))
                self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "ClearPassword",
                                     V("(s)", (proto,)))
        text = repr(s.props(svc, SERVICE)) + repr(s.call(svc, SERVICE, "GetSettings"))
        self.assertNotIn("imap-secret-1", text)

    def test_connect_without_password(self):
        s = self.stack
        svc = s.add_account(id="nopw")
        e = s.wait_op_error(s.connect(svc))
        self.assertEqual(e.name, ERR + "NoPassword")
        p = s.props(svc, SERVICE)
        self.assertEqual((p["Connected"], p["State"]), (False, "disconnected"))
        self.assertEqual(p["LastError"][0], ERR + "NoPassword")

    def test_connect_wrong_password(self):
        s = self.stack
        svc = s.account(id="wrongpw", password="definitely wrong")
        op = s.connect(svc)
        e = s.wait_op_error(op)
        self.assertEqual(e.name, ERR + "LoginFailed")
        self.assertEqual(s.prop(op, harness.OPERATION, "State"), "failed")
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))

    def test_connect_and_disconnect_are_idempotent(self):
        s = self.stack
        svc = s.account(id="idem")
        s.wait_op(s.connect(svc))
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))
        mark = s.mark()
        op = s.connect(svc)
        s.wait_op(op)
        self.assertEqual(s.prop(op, harness.OPERATION, "State"), "succeeded")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))
        self.assertNotIn(False, s.property_changes(svc, SERVICE, "Connected", since=mark))
        self.assertNotIn("connecting", s.property_changes(svc, SERVICE, "State", since=mark))

        s.wait_op(s.disconnect(svc))
        p = s.props(svc, SERVICE)
        self.assertEqual((p["Connected"], p["State"]), (False, "disconnected"))
        mark = s.mark()
        op = s.disconnect(svc)
        s.wait_op(op)
        self.assertEqual(s.prop(op, harness.OPERATION, "State"), "succeeded")
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        self.assertEqual(s.property_changes(svc, SERVICE, "Connected", since=mark), [])

    # -- Synchronise --
    def test_synchronise_while_disconnected(self):
        s = self.stack
        svc = s.account(id="offline_sync")
        for scope in ("full", "tree", "inbox-new", "subscriptions"):
            with self.subTest(scope=scope):
                self.assertCallFails("NotConnected", s.synchronise, svc, scope)

    def test_synchronise_scopes(self):
        s = self.stack
        svc = s.account(id="scopes", folder_sync="all")
        s.wait_op(s.connect(svc))
        self.assertCallFails("NotFound", s.synchronise, svc, "folders", ["Archive"])
        with s.server_view() as v:
            server_folders = sorted(v.folders())
            inbox = v.messages("INBOX")
            archive = v.messages("Archive")

        s.wait_op(s.synchronise(svc, "tree"))
        folders = s.list_folders(svc)
        self.assertEqual(sorted(n for n, i in folders.items() if not i["local"]), server_folders)
        self.assertEqual(s.list_messages(svc, "Archive"), [], "tree synced messages")

        s.wait_op(s.synchronise(svc, "inbox-new"))
        self.assertEqual(sorted(self.ids_by_uid(svc, "INBOX")), sorted(inbox))
        self.assertEqual(s.list_messages(svc, "Archive"), [], "inbox-new synced Archive")

        s.wait_op(s.synchronise(svc, "folders", ["Archive"]))
        self.assertEqual(s.store_snapshot(svc)["Archive"], archive)
        self.assertEqual(s.list_messages(svc, "Lists/dovecot"), [],
                         "folders [Archive] synced another folder")

        self.assertCallFails("NotFound", s.synchronise, svc, "folders", ["No/Such/Folder"])
        self.assertCallFails("InvalidArgument", s.synchronise, svc, "everything")
        self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "Synchronise",
                             V("(sasa{sv})", ("full", [], {"deep": V("b", True)})))

        s.wait_op(s.synchronise(svc, "subscriptions"))
        s.wait_op(s.synchronise(svc, "full"))
        self.assertStoreEqualsServer(s, svc)

    def test_synchronise_subscriptions_local_from_remote(self):
        s = self.stack
        svc = s.account(id="subs", user="bob", password=harness.dovecot.USERS["bob"],
                        subscription_update="local-from-remote")
        with s.server_view("bob") as v:
            v.subscribe("Archive")
            remote = v.subscribed()
        self.assertIn("Archive", remote)
        s.wait_op(s.connect(svc))
        s.wait_op(s.synchronise(svc, "tree"))
        s.wait_op(s.synchronise(svc, "subscriptions"))
        local = {n for n, i in s.list_folders(svc).items() if i["subscribed"] and not i["local"]}
        self.assertEqual(local, remote)

    # -- reading the store --
    def synced(self, sid):
        s = self.stack
        svc = s.account(id=sid, folder_sync="all")
        s.full_sync(svc)
        return svc

    def test_list_folders(self):
        s = self.stack
        svc = self.synced("lf")
        reply = s.call_raw(svc, SERVICE, "ListFolders", self.opts()).get_child_value(0)
        self.assertType(reply, "a(sa{sv})", "ListFolders")
        for i in range(reply.n_children()):
            entry = reply.get_child_value(i)
            name = entry.get_child_value(0).get_string()
            with self.subTest(folder=name):
                self.assertVardictTypes(entry.get_child_value(1), FOLDER_TYPES, name)
        folders = s.list_folders(svc)
        for local in ("local:Outbox", "local:Drafts", "local:Sent"):
            self.assertIn(local, folders)
            self.assertTrue(folders[local]["local"])
        for name in ("INBOX", "Archive", "Entwürfe", "Lists/dovecot"):
            self.assertIn(name, folders)
            self.assertFalse(folders[name]["local"])
        self.assertEqual(folders["Lists/dovecot"]["delimiter"], "/")
        with s.server_view() as v:
            for name in ("INBOX", "Archive", "Entwürfe"):
                msgs = v.messages(name)
                self.assertEqual(folders[name]["messages"], len(msgs), name)
                self.assertEqual(folders[name]["unseen"],
                                 sum("\\Seen" not in f for f in msgs.values()), name)
                self.assertEqual(folders[name]["uidvalidity"], v.uidvalidity(name), name)
        self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "ListFolders",
                             V("(a{sv})", ({"all": V("b", True)},)))

    def test_list_messages(self):
        s = self.stack
        svc = self.synced("lm")
        reply = s.call_raw(svc, SERVICE, "ListMessages",
                           V("(sa{sv})", ("INBOX", {}))).get_child_value(0)
        self.assertType(reply, "a(ta{sv})", "ListMessages")
        for i in range(reply.n_children()):
            self.assertVardictTypes(reply.get_child_value(i).get_child_value(1), MESSAGE_TYPES,
                                    f"message {i}")
        msgs = s.list_messages(svc, "INBOX")
        self.assertEqual(len(msgs), SEED["INBOX"])
        uids = [m["uid"] for _, m in msgs]
        self.assertEqual(uids, sorted(uids), "ordered by UID")
        ids = [i for i, _ in msgs]
        self.assertNotIn(0, ids)
        self.assertEqual(len(set(ids)), len(ids), "message ids are unique")
        seeded = {m.message_id: m for m in s.seeded["INBOX"]}
        self.assertEqual({m["message-id"] for _, m in msgs}, set(seeded))
        for _, m in msgs:
            g = seeded[m["message-id"]]
            self.assertEqual(m["size"], len(g.data), m["message-id"])
            self.assertEqual(m["subject"], g.subject, m["message-id"])
            self.assertEqual(m["in-reply-to"], g.in_reply_to or "", m["message-id"])
            self.assertEqual(m["download"], "headers")

        def query(**q):
            return s.list_messages(svc, "INBOX", **q)

        self.assertEqual(query(offset=V("u", 10), limit=V("u", 5)), msgs[10:15])
        self.assertEqual(query(offset=V("u", 35)), msgs[35:])
        self.assertEqual(query(offset=V("u", 1000)), [])
        self.assertEqual(query(limit=V("u", 0)), msgs)
        self.assertEqual(query(unseen_only=V("b", True)),
                         [(i, m) for i, m in msgs if "\\Seen" not in m["flags"]])
        self.assertEqual(query(unseen_only=V("b", False)), msgs)
        self.assertEqual(query(changed_since=V("t", 2 ** 62)), [])

        # changed-since: the store's change counter before a server-side flag change
        with s.store_db("lm") as db:
            counter = db.execute(
                "SELECT value FROM meta WHERE key = 'change-counter'").fetchone()[0]
        target_id, target = msgs[7]
        # alice's mailbox stays as seeded: use a keyword, removed again below
        with s.server_view() as v:
            v.store_flags("INBOX", target["uid"], "+FLAGS", ["$PostroomTest"])
        try:
            s.wait_op(s.synchronise(svc, "folders", ["INBOX"]))
            changed = query(changed_since=V("t", counter))
            self.assertEqual([i for i, _ in changed], [target_id])
            self.assertIn("$PostroomTest", changed[0][1]["flags"])
        finally:
            with s.server_view() as v:
                v.store_flags("INBOX", target["uid"], "-FLAGS", ["$PostroomTest"])

        for key, value in (("sort", V("s", "date")), ("limit", V("i", 3)),
                           ("unseen-only", V("s", "yes"))):
            with self.subTest(key=key):
                self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "ListMessages",
                                     V("(sa{sv})", ("INBOX", {key: value})))
        self.assertCallFails("NotFound", s.list_messages, svc, "No such folder")

    def test_get_message_and_get_mail_populate(self):
        s = self.stack
        svc = self.synced("gm")
        msgs = s.list_messages(svc, "Archive")
        (id1, m1), (id2, _) = msgs[0], msgs[3]
        self.assertCallFails("NotDownloaded", s.call_fds, svc, SERVICE, "GetMessage",
                             V("(ta{sv})", (id1, {})))
        for bad in (0, 987654321):
            self.assertCallFails("NotFound", s.call_fds, svc, SERVICE, "GetMessage",
                                 V("(ta{sv})", (bad, {})))
        self.assertCallFails("NotFound", s.op, svc, "GetMail",
                             V("(a{sv})", ({"action": V("s", "populate"),
                                            "messages": V("s", "selection"),
                                            "ids": V("at", [id1, 987654321])},)))
        self.assertCallFails("InvalidArgument", s.op, svc, "GetMail",
                             V("(a{sv})", ({"action": V("s", "populate"),
                                            "colour": V("s", "red")},)))
        op = s.op(svc, "GetMail", V("(a{sv})", ({"action": V("s", "populate"),
                                                  "messages": V("s", "selection"),
                                                  "ids": V("at", [id1, id2])},)))
        s.wait_op(op)
        self.assertEqual(sorted(s.prop(op, harness.OPERATION, "Result")["ids"]),
                         sorted([id1, id2]))
        with s.server_view() as v:
            server_body = v.body("Archive", m1["uid"])
        reply, fds = s.call_fds(svc, SERVICE, "GetMessage", V("(ta{sv})", (id1, {})), raw=True)
        try:
            self.assertType(reply, "(a{sv}h)", "GetMessage reply")
            self.assertVardictTypes(reply.get_child_value(0),
                                    dict(MESSAGE_TYPES, id="t", folder="s", complete="b"),
                                    "GetMessage info")
            info = reply.get_child_value(0).unpack()
            self.assertEqual(len(fds), 1)
            fd = fds[reply.get_child_value(1).get_handle()]
            self.assertEqual(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE, os.O_RDONLY,
                             "the descriptor is read-only")
            with self.assertRaises(OSError):
                os.write(fd, b"overwrite")
            data = b"".join(iter(lambda: os.read(fd, 1 << 16), b""))
        finally:
            for fd in fds:
                os.close(fd)
        with open(s.message_file("gm", id1), "rb") as f:
            self.assertEqual(data, f.read(), "the fd's bytes equal the stored file")
        self.assertEqual(data, server_body, "the stored bytes equal the server's")
        self.assertEqual((info["id"], info["folder"], info["complete"]), (id1, "Archive", True))
        self.assertEqual(info["uid"], m1["uid"])
        self.assertEqual(info["download"], "complete")
        listed = dict(s.list_messages(svc, "Archive"))
        self.assertEqual(listed[id2]["download"], "complete")
        self.assertEqual(listed[msgs[1][0]]["download"], "headers")

    def test_get_mail_while_disconnected(self):
        s = self.stack
        svc = self.synced("gm_off")
        s.wait_op(s.disconnect(svc))
        mid = s.list_messages(svc, "INBOX")[0][0]
        self.assertCallFails("NotConnected", s.op, svc, "GetMail",
                             V("(a{sv})", ({"action": V("s", "populate"),
                                            "messages": V("s", "selection"),
                                            "ids": V("at", [mid])},)))

    # -- alerts --
    def test_alert_in_the_login_response(self):
        """Servers most often send an [ALERT] in their answer to LOGIN ("your password
        expires in 3 days"): it reaches the Alert signal, as the untagged one before it."""
        s = self.stack
        tmp = tempfile.mkdtemp(prefix="pr-alert-")
        self.addCleanup(shutil.rmtree, tmp, True)
        made = certs.make_all(tmp)
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen(
            [sys.executable, os.path.join(harness.SERVERS_DIR, "badimap.py"),
             "--scenario", "alert-login", "--port-file", port_file,
             "--cert", made["server"].cert, "--key", made["server"].key, "--lifetime", "300"])
        self.addCleanup(server.wait)
        self.addCleanup(server.kill)
        s.wait_until(lambda: os.path.exists(port_file), timeout=30, what="badimap's port")
        with open(port_file) as f:
            port = int(f.read())
        svc = s.account(id="alerted", host="127.0.0.1", port=port, security="tls",
                        tls_ca_file=made["ca"].cert)
        mark = s.mark()
        op = s.connect(svc)
        try:
            s.wait_op(op, timeout=60)
        except harness.DBusCallError:
            pass  # a minimal server; only the login matters here
        alerts = [sig.args[0] for sig in s.recorded("Alert", path=svc, since=mark)]
        self.assertIn(badimap.ALERT_UNTAGGED, alerts)
        self.assertIn(badimap.ALERT_OK, alerts)
        s.wait_op(s.disconnect(svc), timeout=60)

    # -- the store follows the server --
    def test_store_equals_server_after_changes(self):
        s = self.stack
        svc = s.account(id="follow", user="bob", password=harness.dovecot.USERS["bob"],
                        folder_sync="all")
        mark = s.mark()
        s.full_sync(svc)
        self.assertStoreEqualsServer(s, svc, user="bob")
        # first sync: MessagesChanged "added" are exactly the ids listed per folder
        for folder in ("INBOX", "Archive"):
            added = set()
            for sig in s.recorded("MessagesChanged", path=svc, since=mark):
                if sig.args[0] == folder:
                    added.update(sig.args[1])
            self.assertEqual(added, set(self.ids_by_uid(svc, folder).values()), folder)
        self.assertTrue(s.recorded("FoldersChanged", path=svc, since=mark))

        before = {f: self.ids_by_uid(svc, f) for f in ("INBOX", "Archive")}
        # from here on: push, started after the first sync, may report the changes below
        # before the Synchronise does, in a background sync of its own
        mark = s.mark()
        with s.server_view("bob") as v:
            flags = v.messages("INBOX")
            seen_uid = min(u for u, f in flags.items() if "\\Seen" in f)
            flag_uid = min(u for u, f in flags.items() if "\\Flagged" not in f and u != seen_uid)
            gone_uid = max(flags)
            v.store_flags("INBOX", seen_uid, "-FLAGS", ["\\Seen"])
            v.store_flags("INBOX", flag_uid, "+FLAGS", ["\\Flagged"])
            v.expunge("INBOX", gone_uid)
        new_inbox = b"Subject: fresh mail\r\nMessage-ID: <fresh-1@postroom.test>\r\n\r\nhi\r\n"
        s.server.deliver("bob", "INBOX", new_inbox)
        s.server.deliver("bob", "Archive", b"Subject: archived\r\n\r\nold\r\n")
        s.server.create_folder("bob", "Projects")
        s.server.deliver("bob", "Projects", b"Subject: project\r\n\r\nplan\r\n")

        s.wait_op(s.synchronise(svc, "full"))
        self.assertStoreEqualsServer(s, svc, user="bob")
        after = {f: self.ids_by_uid(svc, f) for f in ("INBOX", "Archive")}
        for folder in before:
            for uid, mid in before[folder].items():
                if uid in after[folder]:
                    self.assertEqual(after[folder][uid], mid, f"id of {folder} UID {uid}")
        new_ids = set(after["INBOX"].values()) - set(before["INBOX"].values())
        self.assertEqual(len(new_ids), 1)
        self.assertTrue(new_ids.isdisjoint(set().union(*(set(b.values()) for b in before.values()))),
                        "a new message reused an id")

        changes = [x for x in s.recorded("MessagesChanged", path=svc, since=mark)
                   if x.args[0] == "INBOX"]
        added = set().union(*(set(x.args[1]) for x in changes)) if changes else set()
        changed = set().union(*(set(x.args[2]) for x in changes)) if changes else set()
        removed = set().union(*(set(x.args[3]) for x in changes)) if changes else set()
        self.assertEqual(added, new_ids, "MessagesChanged added")
        self.assertTrue({before["INBOX"][seen_uid], before["INBOX"][flag_uid]} <= changed,
                        f"MessagesChanged changed: {changed}")
        self.assertEqual(removed, {before["INBOX"][gone_uid]}, "MessagesChanged removed")
        new_mail = s.recorded("NewMail", path=svc, since=mark)
        inbox_new = set().union(*(set(x.args[1]) for x in new_mail if x.args[0] == "INBOX")) \
            if new_mail else set()
        self.assertEqual(inbox_new, new_ids, "NewMail for INBOX")
        self.assertTrue(s.recorded("FoldersChanged", path=svc, since=mark),
                        "FoldersChanged after a folder appeared")
        self.assertIn("Projects", s.list_folders(svc))
        for sig in s.recorded("MessagesChanged", path=svc, since=mark):
            self.assertEqual(sig.body.get_type_string(), "(satatat)")


if __name__ == "__main__":
    harness.main()
