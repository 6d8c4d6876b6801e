#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 postroomd in the middle of a large sync (and of a body download), start it
again, sync again: the store equals the server, no (folder, uid) twice, and the messages
stored before the crash keep their ids."""

import os
import signal

import harness
from harness import OPERATION, GLib, Stack

V = GLib.Variant
SEED = {"INBOX": 3000, "Archive": 600}
TOTAL = sum(SEED.values())
ROWS = ("SELECT f.name, m.uid, m.id, m.download FROM messages m "
        "JOIN folders f ON f.id = m.folder_id WHERE m.uid IS NOT NULL")


class CrashTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed=SEED)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def setUp(self):
        if self.stack.daemon is None:  # a failed test left it killed
            self.stack.start_daemon()
        super().setUp()

    def rows(self, sid):
        """{(folder, uid): (id, download)} read straight from store.db (read-only)."""
        with self.stack.store_db(sid) as db:
            rows = db.execute(ROWS).fetchall()
            dups = db.execute("SELECT folder_id, uid, COUNT(*) FROM messages WHERE uid IS NOT "
                              "NULL GROUP BY folder_id, uid HAVING COUNT(*) > 1").fetchall()
            ids = db.execute("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id) FROM messages "
                             "WHERE uid IS NOT NULL").fetchone()
        self.assertEqual(dups, [], "(folder, uid) stored more than once")
        if rows:
            self.assertEqual(ids[0], ids[1], "message ids are not unique")
            self.assertGreater(ids[2], 0, "message id 0")
        return {(f, u): (i, d) for f, u, i, d in rows}

    def test_kill_during_header_sync(self):
        s = self.stack
        svc = s.account(id="crash_sync", folder_sync="all")
        mark = s.mark()
        op = s.connect_and_sync(svc)
        # the first committed batch has been announced: kill in the middle of the rest
        s.wait_signal("MessagesChanged", path=svc, since=mark, timeout=120,
                      match=lambda x: len(x.args[1]) > 0)
        s.wait_signal("Progress", path=op, since=mark, timeout=120,
                      match=lambda x: x.args[0]["MessagesDone"] >= 1000)
        s.kill_daemon(signal.SIGKILL)
        self.assertEqual(s.recorded("Completed", path=op, since=mark), [],
                         "the sync ended before the kill; the seed is too small")

        before = self.rows("crash_sync")
        self.assertTrue(0 < len(before) < TOTAL, f"{len(before)} rows at the crash")
        server, _ = s.server_snapshot()
        stray = [k for k in before if k[1] not in server.get(k[0], {})]
        self.assertEqual(stray, [], "rows the server does not have")

        s.start_daemon()
        s.full_sync(svc)
        self.assertStoreEqualsServer(s, svc)
        after = self.rows("crash_sync")
        self.assertEqual(len(after), TOTAL)
        changed = sorted(k for k, (i, _) in before.items() if after.get(k, (None,))[0] != i)
        self.assertEqual(len(changed), 0, f"{len(changed)} messages stored before the crash "
                         f"got another id, e.g. {changed[:5]}")

    def test_kill_during_body_download(self):
        s = self.stack
        svc = s.account(id="crash_bodies", folder_sync="all")
        s.full_sync(svc)
        # every INBOX body: batched writes made a few hundred finish before the kill lands
        ids = [i for i, _ in s.list_messages(svc, "INBOX")]
        mark = s.mark()
        op = s.op(svc, "GetMail", V("(a{sv})", ({"action": V("s", "populate"),
                                                  "messages": V("s", "selection"),
                                                  "ids": V("at", ids)},)))
        s.wait_signal("Progress", path=op, since=mark, timeout=120,
                      match=lambda x: x.args[0]["MessagesDone"] >= 30)
        s.kill_daemon(signal.SIGKILL)
        self.assertEqual(s.recorded("Completed", path=op, since=mark), [],
                         "the download ended before the kill")
        before = self.rows("crash_bodies")
        complete = {k: i for k, (i, d) in before.items() if d != 0 and k[0] == "INBOX"}

        s.start_daemon()
        # what the store calls downloaded is byte-for-byte the server's message
        with s.server_view() as v:
            for (folder, uid), mid in sorted(complete.items()):
                info, fds = s.call_fds(svc, harness.SERVICE, "GetMessage",
                                       V("(ta{sv})", (mid, {})))
                try:
                    if not info[0]["complete"]:
                        continue
                    data = b"".join(iter(lambda: os.read(fds[0], 1 << 16), b""))
                finally:
                    for fd in fds:
                        os.close(fd)
                self.assertEqual(data, v.body(folder, uid), f"{folder} UID {uid} after crash")

        s.wait_op(s.connect(svc))
        op = s.op(svc, "GetMail", V("(a{sv})", ({"action": V("s", "populate"),
                                                  "messages": V("s", "selection"),
                                                  "ids": V("at", ids)},)))
        s.wait_op(op)
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        listed = dict(s.list_messages(svc, "INBOX"))
        self.assertEqual([i for i in ids if listed[i]["download"] != "complete"], [])
        with s.server_view() as v:
            for i in ids[::25]:
                with open(s.message_file("crash_bodies", i), "rb") as f:
                    self.assertEqual(f.read(), v.body("INBOX", listed[i]["uid"]))
        s.full_sync(svc)
        self.assertStoreEqualsServer(s, svc)
        after = self.rows("crash_bodies")
        self.assertEqual({k: i for k, (i, _) in before.items()},
                         {k: i for k, (i, _) in after.items() if k in before},
                         "message ids changed")


if __name__ == "__main__":
    harness.main()
