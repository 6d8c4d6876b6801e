#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""org.postroom.Postroom1.Imap4Operation over the bus: properties and their types, the
Progress signal (rate limit, monotonic counters, range), Completed, Cancel in the middle
of a large sync, Wait, linger and removal, operation numbers."""

import harness
from harness import (ERR, OBJECT_MANAGER, OPERATION, OPERATIONS, ROOT, SERVICE, GLib,
                     Stack)

V = GLib.Variant
SEED = {"INBOX": 2500, "Archive": 1200}
TOTAL = sum(SEED.values())

OPERATION_PROPERTY_TYPES = {
    "Kind": "s", "Service": "o", "State": "s", "Stage": "s", "Folder": "s", "FoldersDone": "u",
    "FoldersTotal": "u", "MessagesDone": "u", "MessagesTotal": "u", "BytesDone": "t",
    "BytesTotal": "t", "Progress": "d", "StartTime": "x", "Cancelable": "b", "Error": "(ss)",
    "Result": "a{sv}",
}
PROGRESS_KEYS = {k: OPERATION_PROPERTY_TYPES[k] for k in (
    "State", "Stage", "Folder", "FoldersDone", "FoldersTotal", "MessagesDone", "MessagesTotal",
    "BytesDone", "BytesTotal", "Progress")}
MAX_PROGRESS_PER_SECOND = 10


def op_number(path):
    return int(path[len(OPERATIONS):])


def max_in_window(times, window=1.0):
    """The most events in any half-open interval [t, t + window)."""
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class OperationTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed=SEED)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def progress_signals(self, op, since=0):
        return [x for x in self.stack.recorded("Progress", path=op, interface=OPERATION,
                                               since=since)]

    def test_properties_and_kinds(self):
        s = self.stack
        svc = s.account(id="props", folder_sync="all", inbox_sync_limit=50,
                        mailbox_sync_limit=50)
        before = int(GLib.get_real_time() / 1e6)
        op = s.connect_and_sync(svc)
        s.wait_op(op)
        raw = s.props_raw(op, OPERATION)
        for name, t in OPERATION_PROPERTY_TYPES.items():
            with self.subTest(property=name):
                self.assertIn(name, raw)
                self.assertType(raw[name], t, name)
        p = {k: v.unpack() for k, v in raw.items()}
        self.assertEqual(p["Kind"], "connect-and-sync")
        self.assertEqual(p["Service"], svc)
        self.assertEqual(p["State"], "succeeded")
        self.assertEqual(p["Error"], ("", ""))
        self.assertEqual(p["Progress"], 1.0)
        self.assertFalse(p["Cancelable"], "a finished operation cannot be cancelled")
        self.assertTrue(before - 1 <= p["StartTime"] <= before + 60, p["StartTime"])

        kinds = [
            ("synchronise", lambda: s.synchronise(svc, "tree")),
            ("wait-for-background", lambda: s.op(svc, "WaitForBackground",
                                                 V("(a{sv})", ({},)))),
            ("get-mail", lambda: s.op(svc, "GetMail", V("(a{sv})", (
                {"action": V("s", "populate"), "messages": V("s", "selection"),
                 "ids": V("at", [s.list_messages(svc, "INBOX")[0][0]])},)))),
            ("disconnect", lambda: s.disconnect(svc)),
            ("connect", lambda: s.connect(svc)),
            ("probe", lambda: s.call(ROOT, harness.MANAGER, "ProbeServer", V("(a{sv})", (
                harness.settings_dict({"host": s.server.host, "port": s.server.imaps_port,
                                       "tls-ca-file": s.server.ca_file}),)))[0]),
        ]
        for kind, make in kinds:
            with self.subTest(kind=kind):
                path = make()
                self.assertEqual(s.prop(path, OPERATION, "Kind"), kind)
                s.wait_op(path)
                self.assertEqual(s.prop(path, OPERATION, "Service"),
                                 "/" if kind == "probe" else svc)

    def run_large_sync(self, sid):
        s = self.stack
        svc = s.account(id=sid, folder_sync="all")
        mark = s.mark()
        op = s.connect_and_sync(svc)
        s.wait_op(op)
        s.wait_signal("Completed", path=op, since=mark, timeout=10)
        return svc, op, self.progress_signals(op, mark)

    def test_progress_signal_over_a_large_sync(self):
        s = self.stack
        svc, op, sigs = self.run_large_sync("large")
        self.assertGreaterEqual(len(sigs), 3, "a sync of thousands of messages reports progress")
        for x in sigs:
            self.assertEqual(x.body.get_type_string(), "(a{sv})")
            self.assertVardictTypes(x.body.get_child_value(0), PROGRESS_KEYS, "Progress signal")
        times = [x.time for x in sigs]
        self.assertLessEqual(max_in_window(times), MAX_PROGRESS_PER_SECOND,
                             "Progress signals in one second "
                             f"(gaps ms: {[round((b - a) * 1000) for a, b in zip(times, times[1:])]})")
        values = [x.args[0] for x in sigs]
        for key in ("MessagesDone", "BytesDone", "FoldersDone"):
            seq = [v[key] for v in values]
            self.assertEqual(seq, sorted(seq), f"{key} never decreases: {seq}")
        for v in values:
            self.assertTrue(v["Progress"] == -1.0 or 0.0 <= v["Progress"] <= 1.0, v["Progress"])
        p = s.props(op, OPERATION)
        self.assertEqual(p["State"], "succeeded")
        self.assertEqual(p["Progress"], 1.0)
        self.assertEqual(p["MessagesDone"], TOTAL)
        self.assertEqual(p["MessagesTotal"], TOTAL)
        self.assertEqual(p["FoldersDone"], p["FoldersTotal"])
        done = s.recorded("Completed", path=op)
        self.assertEqual(len(done), 1, "Completed is emitted once")
        self.assertEqual(done[0].args, (True, "", ""))

    def test_progress_fraction_agrees_with_the_counters(self):
        # "Progress: the fraction done"; counters "cover the whole operation": while
        # messages remain to do, the operation is not done.
        # Progress is throttled to 10 a second: on an idle machine a whole header fetch can
        # fall between two signals, so try a few fresh accounts until one shows the middle
        for attempt in range(4):
            svc, op, sigs = self.run_large_sync(f"fraction{attempt}")
            early = [(v["MessagesDone"], v["MessagesTotal"], v["Progress"])
                     for v in (x.args[0] for x in sigs)
                     if v["State"] == "running" and v["MessagesDone"] < v["MessagesTotal"]]
            if early:
                break
        self.assertTrue(early, "no Progress signal while messages remained")
        self.assertEqual([e for e in early if e[2] >= 1.0], [],
                         "Progress 1.0 while messages remained (done, total, progress)")

    def test_cancel_in_the_middle_of_a_large_sync(self):
        s = self.stack
        svc = s.account(id="cancel", folder_sync="all")
        mark = s.mark()
        op = s.connect_and_sync(svc)
        s.wait_signal("Progress", path=op, since=mark, timeout=120,
                      match=lambda x: x.args[0]["MessagesDone"] >= 500)
        s.call(op, OPERATION, "Cancel", V("(a{sv})", ({},)))
        e = s.wait_op_error(op)
        self.assertEqual(e.name, ERR + "Cancelled")
        p = s.props(op, OPERATION)
        self.assertEqual(p["State"], "cancelled")
        self.assertEqual(p["Error"][0], ERR + "Cancelled")
        self.assertLess(p["MessagesDone"], TOTAL, "the sync had finished before the Cancel")
        done = s.wait_signal("Completed", path=op, since=mark, timeout=10)
        self.assertEqual(done.args[:2], (False, ERR + "Cancelled"))
        s.wait_until(lambda: not s.prop(svc, SERVICE, "Busy"), 30, "Busy to become false")

        # what the cancelled sync stored is consistent: server UIDs, once each
        with s.store_db("cancel") as db:
            dups = db.execute("SELECT folder_id, uid, COUNT(*) FROM messages WHERE uid IS NOT "
                              "NULL GROUP BY folder_id, uid HAVING COUNT(*) > 1").fetchall()
            rows = db.execute("SELECT f.name, m.uid, m.id FROM messages m JOIN folders f "
                              "ON f.id = m.folder_id WHERE m.uid IS NOT NULL").fetchall()
        self.assertEqual(dups, [])
        server, _ = s.server_snapshot()
        stray = [(f, u) for f, u, _ in rows if u not in server.get(f, {})]
        self.assertEqual(stray, [], "store rows that the server does not have")
        self.assertLess(len(rows), TOTAL, "the cancelled sync stored everything")

        s.full_sync(svc)  # ConnectAndSync: connects again if the cancel disconnected
        self.assertStoreEqualsServer(s, svc)
        with s.store_db("cancel") as db:
            after = {(f, u): i for f, u, i in db.execute(
                "SELECT f.name, m.uid, m.id FROM messages m JOIN folders f "
                "ON f.id = m.folder_id WHERE m.uid IS NOT NULL")}
        self.assertEqual(len(after), TOTAL, "duplicate or missing rows after the resync")
        changed = [(f, u) for f, u, i in rows if after.get((f, u)) != i]
        self.assertEqual(len(changed), 0, f"{len(changed)} message ids changed by the resync, "
                         f"e.g. {changed[:5]}")

    def test_wait(self):
        s = self.stack
        svc = s.account(id="waiter")
        op = s.connect(svc)
        s.wait_op(op)
        s.wait_op(op, timeout=10)  # again, after the end: returns at once
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        self.assertCallFails("InvalidArgument", s.call, op, OPERATION, "Wait",
                             V("(a{sv})", ({"timeout": V("u", 1)},)))
        self.assertCallFails("InvalidArgument", s.call, op, OPERATION, "Cancel",
                             V("(a{sv})", ({"force": V("b", True)},)))

        bad = s.account(id="waiter_bad", password="wrong wrong")
        op = s.connect(bad)
        e = s.wait_op_error(op)
        self.assertEqual(e.name, ERR + "LoginFailed")
        self.assertEqual(s.prop(op, OPERATION, "Error")[0], e.name)
        e = s.wait_op_error(op, timeout=10)  # after the end too
        self.assertEqual(e.name, ERR + "LoginFailed")

    def test_operation_numbers_count_up(self):
        s = self.stack
        svc = s.account(id="numbers")
        paths = []
        for make in (s.connect, lambda svc: s.synchronise(svc, "tree"), s.disconnect,
                     s.connect, s.disconnect):
            paths.append(make(svc))
            s.wait_op(paths[-1])
        numbers = [op_number(p) for p in paths]
        self.assertEqual(numbers, sorted(set(numbers)), numbers)
        objects = [p for p in s.managed_objects() if p.startswith(OPERATIONS)]
        self.assertTrue(set(paths) <= set(objects), "finished operations linger (60 s)")


class LingerTest(harness.TestCase):
    """postroomd --operation-linger 2: finished operations go after two seconds."""

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed={"INBOX": 5}, linger=2)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def test_linger_then_removal_and_numbers_never_reused(self):
        s = self.stack
        svc = s.account(id="linger")
        mark = s.mark()
        first = s.connect(svc)
        added = s.wait_signal("InterfacesAdded", path=ROOT, interface=OBJECT_MANAGER,
                              since=mark, match=lambda x: x.args[0] == first, timeout=30)
        self.assertIn(OPERATION, added.args[1])
        s.wait_op(first)
        done = s.wait_signal("Completed", path=first, since=mark, timeout=30)
        self.assertIn(first, s.managed_objects(), "gone at once; it should linger")
        removed = s.wait_signal("InterfacesRemoved", path=ROOT, interface=OBJECT_MANAGER,
                                since=mark, match=lambda x: x.args[0] == first, timeout=30)
        self.assertIn(OPERATION, removed.args[1])
        self.assertGreaterEqual(removed.time - done.time, 1.0, "lingered less than the 2 s")
        self.assertNotIn(first, s.managed_objects())
        self.assertNoObject(first, OPERATION)

        later = [s.disconnect(svc), s.connect(svc)]
        for p in later:
            s.wait_op(p)
        self.assertTrue(all(op_number(p) > op_number(first) for p in later),
                        f"numbers reused: {first} then {later}")
        self.assertLess(op_number(later[0]), op_number(later[1]))


if __name__ == "__main__":
    harness.main()
