#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SetFlags, DeleteMessages and UndeleteMessages while connected: each checked against
Dovecot (read by a client of the test's own), against the store (ListMessages) and against
MessagesChanged; ids of two folders in one call; a keyword round trip (Dovecot's
PERMANENTFLAGS has \\*); a message another client changed meanwhile left alone (CONDSTORE
UNCHANGEDSINCE) and reported; 3,000 ids of scattered UIDs in one SetFlags, which takes more
than one command line; and the call errors.

Each test works on a Dovecot user of its own."""

import os
import re

# the daemon logs the command lines it sends: the bulk test measures them
os.environ["PR_IMAP_TRACE"] = "1"

import harness  # noqa: E402
from harness import ERR, OPERATION, SERVICE, GLib, Stack  # noqa: E402

V = GLib.Variant

USERS = {
    "fay": "fay pass",      # the three methods, two folders, keywords
    "cole": "cole pass",    # a conflicting change by another client
    "ivy": "ivy pass",      # invalid arguments
    "flo": "flo pass",      # 3,000 ids in one call
}
SEEDS = {
    "fay": {"INBOX": 6, "Archive": 4},
    "cole": {"Archive": 4},
    "ivy": {"INBOX": 3},
    "flo": {"INBOX": 6000},
}
MAX_LINE = 8192


class FlagsTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(users=USERS, seed_users=SEEDS, badcert=False)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def account(self, user, sid, **settings):
        s = self.stack
        svc = s.account(password=USERS[user], id=sid, user=user, folder_sync="all",
                        **settings)
        self.addCleanup(self.offline, svc)
        s.full_sync(svc)
        return svc

    def offline(self, svc):
        try:
            self.stack.wait_op(self.stack.disconnect(svc), timeout=60)
        except (harness.DBusCallError, AssertionError):
            pass

    def listed(self, svc, folder):
        """{uid: (id, frozenset(flags))} of @folder in the store."""
        return {m["uid"]: (i, frozenset(m["flags"]))
                for i, m in self.stack.list_messages(svc, folder)}

    def server(self, user, folder):
        with self.stack.server_view(user, USERS[user]) as v:
            return v.messages(folder)

    def set_flags(self, svc, ids, add=(), remove=(), options=None):
        return self.stack.run(svc, "SetFlags",
                              V("(atasasa{sv})", (list(ids), list(add), list(remove),
                                                  options or {})))

    def result(self, op):
        return self.stack.prop(op, OPERATION, "Result")

    def changed_ids(self, svc, folder, since):
        """The ids MessagesChanged reported as changed in @folder since @since."""
        out = set()
        for sig in self.stack.recorded("MessagesChanged", path=svc, interface=SERVICE,
                                       since=since):
            name, added, changed, removed = sig.args
            if name == folder:
                self.assertEqual((list(added), list(removed)), ([], []))
                out |= set(changed)
        return out

    def assertStoreIsServer(self, svc, user, folder):
        store = {uid: flags for uid, (_, flags) in self.listed(svc, folder).items()}
        self.assertEqual(store, self.server(user, folder))

    # -- SetFlags over two folders, a keyword round trip --
    def test_01_set_flags_two_folders_and_keyword(self):
        s = self.stack
        svc = self.account("fay", "fay")
        inbox, archive = self.listed(svc, "INBOX"), self.listed(svc, "Archive")
        before = {"INBOX": self.server("fay", "INBOX"), "Archive": self.server("fay", "Archive")}
        picked = {"INBOX": sorted(inbox)[:3], "Archive": sorted(archive)[1:3]}
        ids = [inbox[u][0] for u in picked["INBOX"]] + [archive[u][0] for u in picked["Archive"]]
        # some seeded messages are \Seen: make the first one so, to see it removed
        with s.server_view("fay", USERS["fay"]) as v:
            v.store_flags("INBOX", picked["INBOX"][0], "+FLAGS", ["\\Seen"])
        s.wait_op(s.synchronise(svc, "folders", ["INBOX"]))
        before["INBOX"] = self.server("fay", "INBOX")

        mark = s.mark()
        op = self.set_flags(svc, ids, add=["\\Flagged", "$Todo"], remove=["\\Seen"])
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "set-flags")
        res = self.result(op)
        self.assertEqual(res["changed"], len(ids))
        self.assertEqual(list(res["conflicts"]), [])
        self.assertEqual(list(res["unsupported-flags"]), [])
        self.assertEqual(s.prop(op, OPERATION, "MessagesDone"), len(ids))
        for folder, uids in picked.items():
            after = self.server("fay", folder)
            for uid, flags in after.items():
                if uid in uids:
                    want = (before[folder][uid] - {"\\Seen"}) | {"\\Flagged", "$Todo"}
                else:
                    want = before[folder][uid]
                self.assertEqual(flags, want, f"{folder} UID {uid}")
            self.assertStoreIsServer(svc, "fay", folder)
            listed = self.listed(svc, folder)
            self.assertEqual(self.changed_ids(svc, folder, mark),
                             {listed[u][0] for u in uids})

        with self.subTest("the keyword goes again"):
            op = self.set_flags(svc, ids, remove=["$Todo"])
            self.assertEqual(self.result(op)["changed"], len(ids))
            for folder, uids in picked.items():
                after = self.server("fay", folder)
                for uid in uids:
                    self.assertNotIn("$Todo", after[uid])
                    self.assertIn("\\Flagged", after[uid])
                self.assertStoreIsServer(svc, "fay", folder)

    # -- DeleteMessages and UndeleteMessages --
    def test_02_delete_and_undelete(self):
        s = self.stack
        svc = self.account("fay", "fay_del")
        inbox = self.listed(svc, "INBOX")
        uids = sorted(inbox)[-2:]
        ids = [inbox[u][0] for u in uids]
        before = self.server("fay", "INBOX")

        mark = s.mark()
        op = s.run(svc, "DeleteMessages", V("(ata{sv})", (ids, {})))
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "delete")
        self.assertEqual(self.result(op)["changed"], 2)
        after = self.server("fay", "INBOX")
        for uid, flags in after.items():
            self.assertEqual(flags, before[uid] | {"\\Deleted"} if uid in uids else before[uid])
        self.assertStoreIsServer(svc, "fay", "INBOX")
        self.assertEqual(self.changed_ids(svc, "INBOX", mark), set(ids))

        mark = s.mark()
        op = s.run(svc, "UndeleteMessages", V("(ata{sv})", (ids, {})))
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "undelete")
        self.assertEqual(self.result(op)["changed"], 2)
        after = self.server("fay", "INBOX")
        for uid, flags in after.items():
            self.assertEqual(flags, before[uid] - {"\\Deleted"})
        self.assertStoreIsServer(svc, "fay", "INBOX")
        self.assertEqual(self.changed_ids(svc, "INBOX", mark), set(ids))

    # -- another client changed a message meanwhile --
    def test_03_conflict_left_alone(self):
        s = self.stack
        with s.server_view("cole", USERS["cole"]) as v:
            self.assertIn("CONDSTORE", v.capabilities())
        # no push: the other client's change must not reach the store before the call
        svc = self.account("cole", "cole", idle=False)
        archive = self.listed(svc, "Archive")
        first, second = sorted(archive)[:2]
        with s.server_view("cole", USERS["cole"]) as v:
            v.store_flags("Archive", first, "+FLAGS", ["\\Answered"])
        op = self.set_flags(svc, [archive[first][0], archive[second][0]], add=["\\Flagged"])
        res = self.result(op)
        self.assertEqual(list(res["conflicts"]), [archive[first][0]])
        self.assertEqual(res["changed"], 1)
        after = self.server("cole", "Archive")
        self.assertNotIn("\\Flagged", after[first])
        self.assertIn("\\Answered", after[first])
        self.assertIn("\\Flagged", after[second])
        self.assertIn("\\Flagged", self.listed(svc, "Archive")[second][1])

    # -- call errors --
    def test_04_invalid_arguments(self):
        s = self.stack
        svc = self.account("ivy", "ivy")
        inbox = self.listed(svc, "INBOX")
        some = inbox[min(inbox)][0]

        def set_flags(ids, add=(), remove=(), options=None):
            return s.call(svc, SERVICE, "SetFlags",
                          V("(atasasa{sv})", (ids, list(add), list(remove), options or {})))

        self.assertCallFails("InvalidArgument", set_flags, [], ["\\Seen"])
        for method in ("DeleteMessages", "UndeleteMessages"):
            self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, method,
                                 V("(ata{sv})", ([], {})))
            self.assertCallFails("NotFound", s.call, svc, SERVICE, method,
                                 V("(ata{sv})", ([2 ** 62], {})))
        self.assertCallFails("NotFound", set_flags, [some, 2 ** 62], ["\\Seen"])
        for bad in ("\\Recent", "\\recent", "\\Foo", "two words", "a(b", "", "caf\u00e9",
                    "x" * 1000):
            with self.subTest(flag=bad):
                self.assertCallFails("InvalidArgument", set_flags, [some], [bad])
                self.assertCallFails("InvalidArgument", set_flags, [some], [], [bad])
        self.assertCallFails("InvalidArgument", set_flags, [some], ["\\Seen"], ["\\Seen"])
        self.assertCallFails("InvalidArgument", set_flags, [some], ["\\seen"], ["\\Seen"])
        self.assertCallFails("InvalidArgument", set_flags, [some], ["$Todo"], ["$todo"])
        self.assertCallFails("InvalidArgument", set_flags, [some], ["\\Seen"], [],
                             {"unchanged-since": V("t", 1)})
        # nothing was sent: the server still has what it had
        self.assertStoreIsServer(svc, "ivy", "INBOX")

        s.wait_op(s.disconnect(svc), timeout=60)
        self.assertCallFails("NotConnected", set_flags, [some], ["\\Flagged"])
        self.assertCallFails("NotConnected", s.call, svc, SERVICE, "DeleteMessages",
                             V("(ata{sv})", ([some], {})))
        self.assertNotIn("\\Flagged", self.server("ivy", "INBOX")[min(inbox)])

    # -- 3,000 ids in one call --
    def test_05_three_thousand_ids(self):
        s = self.stack
        svc = self.account("flo", "flo")
        inbox = self.listed(svc, "INBOX")
        self.assertEqual(len(inbox), SEEDS["flo"]["INBOX"])
        # every other UID: the set cannot be written as a few ranges
        picked = sorted(inbox)[::2]
        self.assertEqual(len(picked), 3000)
        ids = [inbox[u][0] for u in picked]
        before = self.server("flo", "INBOX")

        offset = s.log_size()
        mark = s.mark()
        op = self.set_flags(svc, ids, add=["\\Flagged", "$Bulk"])
        res = self.result(op)
        self.assertEqual(res["changed"], 3000)
        self.assertEqual(list(res["conflicts"]), [])
        self.assertEqual(s.prop(op, OPERATION, "MessagesDone"), 3000)
        self.assertEqual(s.prop(op, OPERATION, "MessagesTotal"), 3000)
        after = self.server("flo", "INBOX")
        chosen = set(picked)
        for uid, flags in after.items():
            want = before[uid] | {"\\Flagged", "$Bulk"} if uid in chosen else before[uid]
            self.assertEqual(flags, want, f"UID {uid}")
        self.assertStoreIsServer(svc, "flo", "INBOX")
        self.assertEqual(self.changed_ids(svc, "INBOX", mark), set(ids))
        stores = [line for line in s.log_text(offset).splitlines()
                  if re.search(r"C: \S+ UID STORE ", line)]
        self.assertGreaterEqual(len(stores), 2, "one command line would be too long")
        for line in stores:
            command = line[line.index("C: ") + 3:]
            self.assertLess(len(command) + 2, MAX_LINE)

        with self.subTest("and all cleared again"):
            op = self.set_flags(svc, ids, remove=["\\Flagged", "$Bulk"])
            self.assertEqual(self.result(op)["changed"], 3000)
            self.assertEqual(self.server("flo", "INBOX"), before)
            self.assertStoreIsServer(svc, "flo", "INBOX")


if __name__ == "__main__":
    harness.main()
