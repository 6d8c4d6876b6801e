#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Staying online: ConnectAndSync's three complete_after modes, BackgroundSync with
WaitForBackground and CancelBackgroundSync, push (IDLE on INBOX, NOTIFY for the other
folders) and the sync-interval poll without IDLE, the watchdog noticing a connection that
went silent (a proxy that stops forwarding) and reconnecting, reconnecting after the
server went away (and not retrying a rejected login), Subscribe/Unsubscribe with every
subscription-update mode, CreateFolder/RenameFolder/DeleteFolder, and Disconnect with
delete-on-disconnect (UID EXPUNGE, or CLOSE with use-expunge off) logging out every
connection.

Each test works on a Dovecot user of its own, so that what one test does to the server is
invisible to the others; the tests that restart Dovecot have a Stack of their own."""

import os
import subprocess
import time
import uuid

import harness
from harness import (ERR, OBJECT_MANAGER, OPERATION, ROOT, SERVICE, GLib, Stack)

import blackhole_proxy
import dovecot

V = GLib.Variant

USERS = {
    "alice": dovecot.USERS["alice"],
    "big": "big pass",        # the large background sync
    "sam": "sam pass",        # complete_after sync / disconnect (read only)
    "pat": "pat pass",        # push
    "polly": "polly pass",    # poll without IDLE
    "sue": "sue pass",        # subscriptions
    "fred": "fred pass",      # folder create / rename / delete
    "erin": "erin pass",      # delete-on-disconnect
    "walt": "walt pass",      # watchdog, through a proxy that goes silent
}
SEEDS = {
    "alice": {"INBOX": 3},
    "big": {"INBOX": 1800, "Archive": 900, "Lists": 600},  # 3,300 messages
    "sam": {"INBOX": 25, "Archive": 8},
    "pat": {"INBOX": 5, "Archive": 4},
    "polly": {"INBOX": 5},
    "sue": {"INBOX": 2, "Archive": 2, "Projects": 1, "Reports": 1},
    "fred": {"INBOX": 2},
    "erin": {"INBOX": 6, "Archive": 4},
    "walt": {"INBOX": 4},
}
BIG_TOTAL = sum(SEEDS["big"].values())

PUSH_BOUND = 2.0       # the bound: NewMail within 2 s of the delivery
POLL_INTERVAL = 3      # sync-interval for the poll test (the schema allows any value)
POLL_MARGIN = 12       # generous: the inbox sync itself, scheduling, a loaded machine

# watchdog: the shortest intervals the schema allows, so that a dead line shows soon
WD_IDLE_TIMEOUT = 10   # idle-timeout (schema minimum): IDLE re-issued every 9 s
WD_TIMEOUT = 5         # timeout: seconds an answer (DONE's, a command's) may take
# generous (a loaded machine): the re-issue interval, a DONE and then a main-connection
# command running into the timeout, scheduling; a never-firing watchdog exceeds any bound
WD_DETECT_BOUND = 3 * (WD_IDLE_TIMEOUT + 2 * WD_TIMEOUT) + 30
WD_PUSH_BOUND = 30     # NewMail by push (sync-interval, the fallback poll, is 300 s)

ROWS = ("SELECT f.name, m.uid, m.id FROM messages m "
        "JOIN folders f ON f.id = m.folder_id WHERE m.uid IS NOT NULL")


def make_message(subject, to="someone@example.test"):
    mid = f"<{uuid.uuid4().hex}@online.postroom.test>"
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return (f"From: Online Test <online@example.test>\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nDate: {date}\r\nMessage-ID: {mid}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"A message for the online tests.\r\n").encode()


def unique_subject(what):
    return f"{what} {uuid.uuid4().hex[:10]}"


def dovecot_sessions(server, user):
    """How many IMAP sessions Dovecot counts for @user (doveadm who)."""
    out = dovecot.doveadm(server.conf, "who", "-1", user).decode()
    return sum(1 for line in out.splitlines()[1:] if line.split()[:1] == [user])


def stop_dovecot(server):
    server.stop()


def start_dovecot_same_ports(server):
    """Starts the fixture's Dovecot again on the ports it had (Dovecot.start() picks new
    ones, which a configured account would never find again) and the same maildirs."""
    server._start_instance("main", server.conf,
                           [("imap", server.port, False), ("imaps", server.imaps_port, True)],
                           server.server_cert)
    if server.badcert:
        server._start_instance("badcert", server.badcert_conf,
                               [("imaps", server.badcert_port, True)], server.wrong_cert)
    server._wait_ready()


def drop_into_maildir(server, user, folder, data):
    """Delivers @data straight into the maildir (works while Dovecot is stopped)."""
    path = server.maildir(user, folder)
    name = f"{int(time.time())}.M{uuid.uuid4().hex}.postroom-online,S={len(data)}"
    tmp = os.path.join(path, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    server._chown(tmp)
    os.rename(tmp, os.path.join(path, "new", name))


class OnlineCase(harness.TestCase):
    """Helpers shared by both stacks."""

    def account(self, user, sid, **settings):
        s = self.stack
        svc = s.account(password=USERS[user], id=sid, user=user, **settings)
        self.addCleanup(self.offline, svc)
        return svc

    def offline(self, svc):
        """Cleanup: disconnect, whatever state the test left the account in."""
        s = self.stack
        if s is None or not s.daemon_running():
            return
        try:
            s.wait_op(s.disconnect(svc), timeout=60)
        except (harness.DBusCallError, AssertionError):
            pass

    def ops_added(self, svc, kind=None, since=0):
        """[(time, path)] of the operations of @svc (of @kind) the ObjectManager announced."""
        out = []
        for sig in self.stack.recorded("InterfacesAdded", path=ROOT, interface=OBJECT_MANAGER,
                                       since=since):
            path, ifaces = sig.args
            props = ifaces.get(OPERATION)
            if props is None or props.get("Service") != svc:
                continue
            if kind is None or props.get("Kind") == kind:
                out.append((sig.time, path))
        return out

    def completed(self, op, since=0):
        sigs = self.stack.recorded("Completed", path=op, interface=OPERATION, since=since)
        return sigs[0] if sigs else None

    def wait_completed(self, op, since=0, timeout=240):
        return self.stack.wait_signal("Completed", path=op, interface=OPERATION, since=since,
                                      timeout=timeout)

    def wait_push(self, sid, log_offset, timeout=30):
        """Waits (without failing) until the daemon logs that push runs for @sid, so that
        the 2 s bound measures the push path, not its start-up."""
        s = self.stack
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f"{sid}: push started" in s.log_text(log_offset):
                return True
            time.sleep(0.1)
        return False

    def ids_by_subject(self, svc, folder):
        return {m["subject"]: i for i, m in self.stack.list_messages(svc, folder)}

    def rows(self, sid):
        """{(folder, uid): id} straight from store.db (read-only); fails on a duplicate
        (folder, uid) row or a duplicate id."""
        with self.stack.store_db(sid) as db:
            rows = db.execute(ROWS).fetchall()
            dups = db.execute("SELECT folder_id, uid, COUNT(*) FROM messages WHERE uid IS NOT "
                              "NULL GROUP BY folder_id, uid HAVING COUNT(*) > 1").fetchall()
            ids = db.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM messages "
                             "WHERE uid IS NOT NULL").fetchone()
        self.assertEqual(dups, [], "(folder, uid) stored more than once")
        self.assertEqual(ids[0], ids[1], "message ids are not unique")
        return {(f, u): i for f, u, i in rows}


class OnlineTest(OnlineCase):
    @classmethod
    def setUpClass(cls):
        seed_users = {u: f for u, f in SEEDS.items() if u != "alice"}
        cls.stack = Stack(users=USERS, seed=SEEDS["alice"], seed_users=seed_users,
                          badcert=False)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    # -- 1. complete_after=connect, BackgroundSync, WaitForBackground, CancelBackgroundSync --
    def test_01_connect_mode_background_sync_wait_and_cancel(self):
        s = self.stack
        svc = self.account("big", "bg_big", folder_sync="all")

        # nothing runs: WaitForBackground completes at once
        w0 = s.call(svc, SERVICE, "WaitForBackground", V("(a{sv})", ({},)))[0]
        s.wait_op(w0, timeout=30)
        self.assertEqual(s.prop(w0, OPERATION, "State"), "succeeded")
        self.assertEqual(s.prop(w0, OPERATION, "Kind"), "wait-for-background")

        mark = s.mark()
        op = s.connect_and_sync(svc, "connect")
        s.wait_op(op, timeout=120)
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        done = self.completed(op, mark)
        self.assertIsNotNone(done, "no Completed for the connect-and-sync operation")
        self.assertTrue(done.args[0], f"Completed {done.args}")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))

        # the full sync goes on in the background, in an operation of its own
        s.wait_until(lambda: True in s.property_changes(svc, SERVICE, "BackgroundSync",
                                                        since=mark), 30,
                     "BackgroundSync true to be announced")
        syncs = s.wait_until(lambda: self.ops_added(svc, "synchronise", mark), 30,
                             "a background synchronise operation")
        bg = syncs[0][1]
        bg_done = self.completed(bg, mark)
        self.assertIsNone(bg_done, "the background sync ended before the test could look; "
                          "the seed is too small")
        self.assertEqual(s.prop(bg, OPERATION, "State"), "running")
        self.assertTrue(s.prop(svc, SERVICE, "BackgroundSync"))

        # WaitForBackground: an operation that ends with the background sync
        w = s.call(svc, SERVICE, "WaitForBackground", V("(a{sv})", ({},)))[0]
        self.assertEqual(s.prop(w, OPERATION, "Kind"), "wait-for-background")
        self.assertIn(s.prop(w, OPERATION, "State"), ("queued", "running"),
                      "WaitForBackground ended while the background sync runs")

        # let it get properly under way, then cancel it
        s.wait_signal("Progress", path=bg, since=mark, timeout=120,
                      match=lambda x: x.args[0].get("MessagesDone", 0) >= 300)
        self.assertIsNone(self.completed(w, mark), "WaitForBackground ended early")
        self.assertIsNone(self.completed(bg, mark), "the background sync ended before the "
                          "cancel; the seed is too small")
        cancel_mark = s.mark()
        s.call(svc, SERVICE, "CancelBackgroundSync", V("(a{sv})", ({},)))
        bg_done = self.wait_completed(bg, cancel_mark, timeout=60)
        self.assertFalse(bg_done.args[0], f"background sync Completed {bg_done.args}")
        self.assertEqual(bg_done.args[1], ERR + "Cancelled")
        self.assertEqual(s.prop(bg, OPERATION, "State"), "cancelled")
        w_done = self.wait_completed(w, mark, timeout=30)
        self.assertGreaterEqual(w_done.time, bg_done.time,
                                "WaitForBackground ended before the background sync")
        s.wait_op(w, timeout=30)
        self.assertEqual(s.prop(w, OPERATION, "State"), "succeeded")
        s.wait_until(lambda: s.prop(svc, SERVICE, "BackgroundSync") is False, 30,
                     "BackgroundSync false")
        self.assertIn(False, s.property_changes(svc, SERVICE, "BackgroundSync",
                                                since=cancel_mark))

        # the store is consistent: a part of the messages, no (folder, uid) twice
        before = self.rows("bg_big")
        self.assertLess(len(before), BIG_TOTAL, "the cancelled sync stored everything")
        server, _ = s.server_snapshot("big")
        stray = [k for k in before if k[1] not in server.get(k[0], {})]
        self.assertEqual(stray, [], "rows the server does not have")

        # and a full sync afterwards completes it without touching the ids
        s.full_sync(svc)
        self.assertStoreEqualsServer(s, svc, user="big")
        after = self.rows("bg_big")
        self.assertEqual(len(after), BIG_TOTAL)
        changed = sorted(k for k, i in before.items() if after.get(k) != i)
        self.assertEqual(changed[:5], [], f"{len(changed)} ids changed by the resync")

        # cancelling the sync is not leaving: the account stayed connected throughout
        dropped = s.property_changes(svc, SERVICE, "Connected", since=cancel_mark)
        self.assertNotIn(False, dropped,
                         "CancelBackgroundSync dropped the connection (Connected false; "
                         f"States since the cancel: "
                         f"{s.property_changes(svc, SERVICE, 'State', since=cancel_mark)})")

    # -- 2. complete_after=sync --
    def test_02_sync_mode_stays_online(self):
        s = self.stack
        svc = self.account("sam", "mode_sync", folder_sync="all")
        mark = s.mark()
        offset = s.log_size()
        op = s.connect_and_sync(svc, "sync")
        s.wait_op(op)
        # what a client asks for right after the sync goes first: push (a second login and
        # SELECT) starts only once the account has had no work for a moment
        get_mail = s.run(svc, "GetMail", V("(a{sv})", ({"action": V("s", "populate"),
                                                         "messages": V("s", "all")},)))
        self.assertTrue(self.wait_push("mode_sync", offset), "push did not start")
        log = s.log_text(offset)
        ended = log.find(f"{get_mail} (get-mail) ended")
        started = log.find("mode_sync: starting push")
        self.assertGreaterEqual(ended, 0, "the daemon did not log the end of GetMail")
        self.assertGreater(started, ended, "push started while GetMail ran")
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        self.assertNotEqual(s.prop(svc, SERVICE, "LastSync"), 0, "no full sync ran")
        self.assertStoreEqualsServer(s, svc, user="sam")
        end = s.mark()
        time.sleep(3)
        p = s.props(svc, SERVICE)
        self.assertTrue(p["Connected"], "Connected went false after the sync")
        self.assertEqual(p["State"], "connected")
        self.assertNotIn(False, s.property_changes(svc, SERVICE, "Connected", since=end),
                         "the service went offline after ConnectAndSync('sync')")
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        self.assertTrue(self.completed(op, mark).args[0])

    # -- 3. complete_after=disconnect --
    def test_03_disconnect_mode_runs_until_disconnect(self):
        s = self.stack
        svc = self.account("sam", "mode_disc", folder_sync="all")
        mark = s.mark()
        op = s.connect_and_sync(svc, "disconnect")
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "connect-and-sync")
        # the full sync runs and ends
        s.wait_until(lambda: s.prop(svc, SERVICE, "LastSync") != 0, 120,
                     "the full sync (LastSync) to finish")
        self.assertStoreEqualsServer(s, svc, user="sam")
        time.sleep(3)
        self.assertIsNone(self.completed(op, mark),
                          "ConnectAndSync('disconnect') ended without a Disconnect")
        self.assertEqual(s.prop(op, OPERATION, "State"), "running")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))

        dmark = s.mark()
        s.wait_op(s.disconnect(svc), timeout=60)
        done = self.wait_completed(op, dmark, timeout=30)
        self.assertTrue(done.args[0], f"Completed {done.args}")
        self.assertEqual(s.prop(op, OPERATION, "State"), "succeeded")
        s.wait_op(op, timeout=30)
        p = s.props(svc, SERVICE)
        self.assertFalse(p["Connected"])
        self.assertEqual(p["State"], "disconnected")

    # -- 4. push: IDLE on INBOX, NOTIFY for other folders --
    def _expect_new_mail(self, svc, folder, subject, deliver, bound=PUSH_BOUND):
        s = self.stack
        mark = s.mark()
        deliver()
        t0 = time.monotonic()
        sig = s.wait_signal("NewMail", path=svc, interface=SERVICE, since=mark, timeout=60,
                            match=lambda x: x.args[0] == folder)
        delay = sig.time - t0
        listed = {i: m for i, m in s.list_messages(svc, folder)}
        ids = list(sig.args[1])
        self.assertTrue(ids, f"NewMail({folder}) without ids")
        subjects = [listed[i]["subject"] for i in ids if i in listed]
        self.assertEqual(len(subjects), len(ids), f"NewMail ids {ids} not in ListMessages")
        self.assertIn(subject, subjects, f"NewMail({folder}, {ids}) is not the new message")
        self.assertLessEqual(delay, bound,
                             f"NewMail({folder}) came {delay:.2f} s after the delivery")
        return ids

    def test_04_push_idle_and_notify(self):
        s = self.stack
        offset = s.log_size()
        svc = self.account("pat", "push", folder_sync="all")
        s.full_sync(svc)
        self.wait_push("push", offset)

        with self.subTest(delivery="APPEND from another connection"):
            subject = unique_subject("Appended")
            data = make_message(subject)

            def append():
                with s.server_view("pat") as v:
                    typ, resp = v.imap.append("INBOX", None, None, data)
                    self.assertEqual(typ, "OK", resp)
            self._expect_new_mail(svc, "INBOX", subject, append)

        with self.subTest(delivery="doveadm save"):
            subject = unique_subject("Saved")
            self._expect_new_mail(svc, "INBOX", subject,
                                  lambda: s.server.deliver("pat", "INBOX",
                                                           make_message(subject)))

        with self.subTest(delivery="NOTIFY: Archive"):
            caps = {c.upper() for c in s.prop(svc, SERVICE, "ServerCapabilities")}
            # the fixture's Dovecot has the notify plugin: NOTIFY must be there and used
            self.assertIn("NOTIFY", caps)
            subject = unique_subject("Archived")
            self._expect_new_mail(svc, "Archive", subject,
                                  lambda: s.server.deliver("pat", "Archive",
                                                           make_message(subject)))
        self.assertStoreEqualsServer(s, svc, user="pat")

    # -- 5. no IDLE: poll every sync-interval --
    def test_05_poll_without_idle(self):
        s = self.stack
        svc = s.add_account(id="poll", user="polly", folder_sync="all")
        self.addCleanup(self.offline, svc)
        s.set_password(svc, USERS["polly"])
        s.call(svc, SERVICE, "UpdateSettings",
               V("(a{sv})", ({"idle": V("b", False),
                              "sync-interval": V("u", POLL_INTERVAL)},)))
        got = s.call(svc, SERVICE, "GetSettings")[0]
        self.assertEqual((got["idle"], got["sync-interval"]), (False, POLL_INTERVAL))
        s.full_sync(svc)
        # no push connection: one session only
        time.sleep(1)
        self.assertEqual(dovecot_sessions(s.server, "polly"), 1,
                         "a second (push) session with idle=false")
        for n in range(2):
            with self.subTest(round=n):
                subject = unique_subject("Polled")
                mark = s.mark()
                s.server.deliver("polly", "INBOX", make_message(subject))
                t0 = time.monotonic()
                sig = s.wait_signal("NewMail", path=svc, interface=SERVICE, since=mark,
                                    timeout=POLL_INTERVAL + POLL_MARGIN + 30,
                                    match=lambda x: x.args[0] == "INBOX")
                delay = sig.time - t0
                listed = {i: m["subject"] for i, m in s.list_messages(svc, "INBOX")}
                self.assertIn(subject, [listed.get(i) for i in sig.args[1]])
                self.assertLessEqual(delay, POLL_INTERVAL + POLL_MARGIN,
                                     f"NewMail {delay:.1f} s after delivery with "
                                     f"sync-interval {POLL_INTERVAL}")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))

    # -- 8. watchdog --
    def test_08_watchdog_reconnects_through_silent_proxy(self):
        # A proxy that silently stops forwarding makes the watchdog reconnect: push's
        # liveness cycle (DONE + IDLE, here every re-issue interval of idle-timeout less a
        # tenth, with `timeout` for the answer) finds the dead line, the service reconnects
        # once the path is back, push runs again, and new mail raises NewMail with no
        # duplicate in the store.
        s = self.stack
        proxy = blackhole_proxy.BlackholeProxy(s.server.host, s.server.imaps_port).start()
        self.addCleanup(proxy.stop)
        svc = self.account("walt", "watchdog", folder_sync="all", port=proxy.port,
                           idle_timeout=WD_IDLE_TIMEOUT, timeout=WD_TIMEOUT)
        self.addCleanup(proxy.forward)  # cleanups run last first: before offline()
        offset = s.log_size()
        s.full_sync(svc)
        self.assertTrue(self.wait_push("watchdog", offset), "push did not start")
        self.assertEqual(proxy.open_connections(), (2, 0, 0),
                         "the main and the push connection through the proxy")
        first = unique_subject("Before the silence")
        self._expect_new_mail(svc, "INBOX", first,
                              lambda: s.server.deliver("walt", "INBOX", make_message(first)),
                              bound=WD_PUSH_BOUND)
        before = self.rows("watchdog")
        self.assertEqual(len(before), SEEDS["walt"]["INBOX"] + 1)

        # the path goes silent: no byte either way, no FIN, no RST
        mark = s.mark()
        proxy.silence()
        s.wait_until(lambda: False in s.property_changes(svc, SERVICE, "Connected",
                                                         since=mark),
                     WD_DETECT_BOUND, "Connected false after the connection went silent "
                     f"(idle-timeout {WD_IDLE_TIMEOUT} s, timeout {WD_TIMEOUT} s)")
        self.assertTrue(s.prop(svc, SERVICE, "LastError")[0].endswith("Timeout"),
                        f"LastError {s.prop(svc, SERVICE, 'LastError')}")
        s.wait_until(lambda: "connecting" in s.property_changes(svc, SERVICE, "State",
                                                               since=mark), 30,
                     "State 'connecting' after the silent connection was given up")
        # a reconnect attempt meets the silent proxy too, and must not hang for ever
        s.wait_until(lambda: proxy.accepted_silent >= 1, WD_DETECT_BOUND,
                     "a reconnect attempt while the proxy is silent")
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        self.assertNotEqual(s.prop(svc, SERVICE, "State"), "disconnected",
                            "the service gave up while the path was silent")

        # the path is back for new connections: the service gets through again
        up = s.mark()
        offset = s.log_size()
        proxy.forward()
        s.wait_until(lambda: True in s.property_changes(svc, SERVICE, "Connected", since=up),
                     WD_DETECT_BOUND, "Connected true again once the proxy forwards")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))
        self.assertTrue(self.wait_push("watchdog", offset, timeout=60),
                        "push did not start again after the reconnect")
        # the connections that went silent under the daemon were given up, not kept open,
        # and so were the attempts made while it was silent (their TLS handshake never
        # ended)
        try:
            s.wait_until(lambda: proxy.open_connections()[1:] == (0, 0), WD_DETECT_BOUND)
        except AssertionError:
            self.fail("the daemon keeps connections that went silent open (forwarding, "
                      f"silenced, accepted while silent: {proxy.open_connections()})")

        second = unique_subject("After the reconnect")
        self._expect_new_mail(svc, "INBOX", second,
                              lambda: s.server.deliver("walt", "INBOX", make_message(second)),
                              bound=WD_PUSH_BOUND)
        after = self.rows("watchdog")
        self.assertEqual(len(after), len(before) + 1, "messages stored after the reconnect")
        changed = sorted(k for k, i in before.items() if after.get(k) != i)
        self.assertEqual(changed, [], "ids of earlier messages changed")
        subjects = [m["subject"] for _, m in s.list_messages(svc, "INBOX")]
        self.assertEqual((subjects.count(first), subjects.count(second)), (1, 1),
                         "a message listed twice")
        self.assertStoreEqualsServer(s, svc, user="walt")

        s.wait_op(s.disconnect(svc), timeout=60)
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))

    # -- 9. subscriptions --
    def _lsub(self, user):
        with self.stack.server_view(user) as v:
            return v.subscribed()

    def _set_server_subs(self, user, wanted, folders):
        with self.stack.server_view(user) as v:
            for f in folders:
                enc = v._encode(f)
                if f in wanted:
                    v._ok(*v.imap.subscribe(enc), "SUBSCRIBE")
                else:
                    v._ok(*v.imap.unsubscribe(enc), "UNSUBSCRIBE")

    def _local_subs(self, svc, folders):
        listed = self.stack.list_folders(svc)
        return {f for f in folders if listed[f]["subscribed"]}

    def _set_local_subs(self, svc, wanted, folders):
        s = self.stack
        for f in folders:
            op = s.call(svc, SERVICE, "Subscribe" if f in wanted else "Unsubscribe",
                        V("(sa{sv})", (f, {})))[0]
            s.wait_op(op, timeout=30)

    def test_09_subscriptions(self):
        s = self.stack
        folders = ["INBOX", "Archive", "Projects", "Reports"]
        svc = self.account("sue", "subs", folder_sync="all", subscription_update="neither")
        s.full_sync(svc)
        self.assertEqual(sorted(f for f, i in s.list_folders(svc).items() if not i["local"]),
                         sorted(folders))

        with self.subTest("Subscribe/Unsubscribe flip the local flag"):
            mark = s.mark()
            op = s.call(svc, SERVICE, "Subscribe", V("(sa{sv})", ("Archive", {})))[0]
            s.wait_op(op, timeout=30)
            self.assertEqual(s.prop(op, OPERATION, "Kind"), "subscribe")
            self.assertTrue(s.list_folders(svc)["Archive"]["subscribed"])
            op = s.call(svc, SERVICE, "Unsubscribe", V("(sa{sv})", ("Archive", {})))[0]
            s.wait_op(op, timeout=30)
            self.assertEqual(s.prop(op, OPERATION, "Kind"), "unsubscribe")
            self.assertFalse(s.list_folders(svc)["Archive"]["subscribed"])
            s.wait_signal("FoldersChanged", path=svc, since=mark, timeout=10)
            self.assertCallFails("NotFound", s.call, svc, SERVICE, "Subscribe",
                                 V("(sa{sv})", ("No Such Folder", {})))
            self.assertCallFails("NotFound", s.call, svc, SERVICE, "Unsubscribe",
                                 V("(sa{sv})", ("No Such Folder", {})))

        local = {"INBOX", "Archive", "Projects"}
        remote = {"Archive", "Reports"}
        expected = {
            "neither": (local, remote),
            "remote-from-local": (local, local),
            "local-from-remote": (remote, remote),
            "both": (local | remote, local | remote),
        }
        for mode, (want_local, want_server) in expected.items():
            with self.subTest(subscription_update=mode):
                # arranged offline; the setting is in place before the connect
                s.wait_op(s.disconnect(svc), timeout=60)
                self._set_local_subs(svc, local, folders)
                self._set_server_subs("sue", remote, folders)
                s.call(svc, SERVICE, "UpdateSettings",
                       V("(a{sv})", ({"subscription-update": V("s", mode)},)))
                s.full_sync(svc)
                self.assertEqual(self._lsub("sue") & set(folders), want_server,
                                 f"{mode}: server LSUB")
                self.assertEqual(self._local_subs(svc, folders), want_local,
                                 f"{mode}: local flags")

        with self.subTest("a subscription-update change applies at the next sync"):
            # not a setting that needs a reconnect (dbus-api.md: only those wait for one)
            s.wait_op(s.disconnect(svc), timeout=60)
            s.call(svc, SERVICE, "UpdateSettings",
                   V("(a{sv})", ({"subscription-update": V("s", "neither")},)))
            s.full_sync(svc)
            self._set_local_subs(svc, local, folders)
            self._set_server_subs("sue", remote, folders)
            s.call(svc, SERVICE, "UpdateSettings",
                   V("(a{sv})", ({"subscription-update": V("s", "remote-from-local")},)))
            s.wait_op(s.synchronise(svc, "subscriptions"))
            self.assertEqual(self._lsub("sue") & set(folders), local,
                             "server LSUB after changing subscription-update to "
                             "remote-from-local while connected and syncing subscriptions")

    # -- 10. folders --
    def _create(self, svc, *names):
        s = self.stack
        for name in names:
            op = s.call(svc, SERVICE, "CreateFolder", V("(sa{sv})", (name, {})))[0]
            self.assertEqual(s.prop(op, OPERATION, "Kind"), "create-folder")
            s.wait_op(op)

    def _rename(self, svc, old, new):
        s = self.stack
        op = s.call(svc, SERVICE, "RenameFolder", V("(ssa{sv})", (old, new, {})))[0]
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "rename-folder")
        s.wait_op(op)

    def _delete(self, svc, name):
        s = self.stack
        op = s.call(svc, SERVICE, "DeleteFolder", V("(sa{sv})", (name, {})))[0]
        self.assertEqual(s.prop(op, OPERATION, "Kind"), "delete-folder")
        s.wait_op(op)

    def _assert_folders(self, svc, user, present=(), absent=()):
        s = self.stack
        with s.server_view(user) as v:
            on_server = v.folders()
        listed = s.list_folders(svc)
        for name in present:
            self.assertIn(name, on_server, f"{name} on the server")
            self.assertIn(name, listed, f"{name} in ListFolders")
            self.assertFalse(listed[name]["local"], f"{name} is local")
        for name in absent:
            self.assertNotIn(name, on_server, f"{name} on the server")
            self.assertNotIn(name, listed, f"{name} in ListFolders")

    def test_10_create_rename_delete_folders(self):
        s = self.stack
        svc = self.account("fred", "folders", folder_sync="all")
        s.full_sync(svc)
        delim = s.list_folders(svc)["INBOX"]["delimiter"]
        self.assertTrue(delim, "INBOX has no delimiter")
        child = "Projects" + delim + "2026"
        new_child = "Work" + delim + "2026"

        self._create(svc, "Projects", child)
        self._assert_folders(svc, "fred", present=("Projects", child))

        with self.subTest("errors"):
            self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "CreateFolder",
                                 V("(sa{sv})", ("Projects", {})))
            self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "DeleteFolder",
                                 V("(sa{sv})", ("INBOX", {})))
            self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "RenameFolder",
                                 V("(ssa{sv})", ("INBOX", "Elsewhere", {})))
            self.assertCallFails("InvalidArgument", s.call, svc, SERVICE, "DeleteFolder",
                                 V("(sa{sv})", ("local:Outbox", {})))
            self.assertCallFails("NotFound", s.call, svc, SERVICE, "RenameFolder",
                                 V("(ssa{sv})", ("No Such Folder", "Whatever", {})))
            self.assertCallFails("NotFound", s.call, svc, SERVICE, "DeleteFolder",
                                 V("(sa{sv})", ("No Such Folder", {})))

        self._rename(svc, "Projects", "Work")
        self._assert_folders(svc, "fred", present=("Work", new_child),
                             absent=("Projects", child))
        self._delete(svc, "Work")
        self._assert_folders(svc, "fred", absent=("Work", new_child))
        self.assertStoreEqualsServer(s, svc, user="fred")

        # offline: server folders need a connection, local ones do not
        s.wait_op(s.disconnect(svc), timeout=60)
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        self.assertCallFails("NotConnected", s.call, svc, SERVICE, "CreateFolder",
                             V("(sa{sv})", ("Offline", {})))
        for method, args, present, absent in (
                ("CreateFolder", ("local:Notes", {}), "local:Notes", None),
                ("RenameFolder", ("local:Notes", "local:Ideas", {}), "local:Ideas",
                 "local:Notes"),
                ("DeleteFolder", ("local:Ideas", {}), None, "local:Ideas")):
            with self.subTest(offline=method):
                sig = "(ssa{sv})" if method == "RenameFolder" else "(sa{sv})"
                op = s.call(svc, SERVICE, method, V(sig, args))[0]
                s.wait_op(op, timeout=30)
                listed = s.list_folders(svc)
                if present:
                    self.assertIn(present, listed)
                    self.assertTrue(listed[present]["local"])
                if absent:
                    self.assertNotIn(absent, listed)

    def _assert_uncancelable_before_end(self, op, since):
        """The operation announced Cancelable false while it still ran: a client offering
        "Cancel" learns that the change can no longer be taken back."""
        s = self.stack
        changes = [sig.args[1] for sig in s.recorded("PropertiesChanged", path=op,
                                                     interface=harness.PROPERTIES,
                                                     since=since)
                   if sig.args[0] == OPERATION]
        ended = [i for i, c in enumerate(changes)
                 if c.get("State") in ("succeeded", "failed", "cancelled")]
        closed = [i for i, c in enumerate(changes)
                  if c.get("Cancelable") is False and c.get("State", "running") == "running"]
        self.assertTrue(ended, f"{op} never ended: {changes}")
        self.assertTrue(closed and closed[0] < ended[0],
                        f"{op}: Cancelable never became false before the end: {changes}")

    def test_10c_point_of_no_return(self):
        s = self.stack
        svc = self.account("fred", "folders_nocancel", folder_sync="all")
        s.full_sync(svc)
        mark = s.mark()
        op = s.call(svc, SERVICE, "CreateFolder", V("(sa{sv})", ("Committed", {})))[0]
        s.wait_op(op)
        self._assert_uncancelable_before_end(op, mark)
        mark = s.mark()
        op = s.call(svc, SERVICE, "DeleteFolder", V("(sa{sv})", ("Committed", {})))[0]
        s.wait_op(op)
        self._assert_uncancelable_before_end(op, mark)
        mark = s.mark()
        op = s.disconnect(svc)
        s.wait_op(op, timeout=60)
        self._assert_uncancelable_before_end(op, mark)

    def test_10b_rename_keeps_ids_in_child_then_delete(self):
        # the same with a message in the child, synced (so the child was SELECTed last)
        s = self.stack
        svc = self.account("fred", "folders_ids", folder_sync="all")
        s.full_sync(svc)
        delim = s.list_folders(svc)["INBOX"]["delimiter"]
        child = "Plans" + delim + "2027"
        new_child = "Ideas" + delim + "2027"
        self._create(svc, "Plans", child)
        subject = unique_subject("In the child")
        s.server.deliver("fred", child, make_message(subject))
        s.wait_op(s.synchronise(svc, "folders", [child]))
        mid = self.ids_by_subject(svc, child).get(subject)
        self.assertIsNotNone(mid, "the delivered message is not in the store")

        self._rename(svc, "Plans", "Ideas")
        self._assert_folders(svc, "fred", present=("Ideas", new_child),
                             absent=("Plans", child))
        self.assertEqual(self.ids_by_subject(svc, new_child).get(subject), mid,
                         "the message in the renamed child changed its id")
        s.wait_op(s.synchronise(svc, "full"))
        self.assertEqual(self.ids_by_subject(svc, new_child).get(subject), mid,
                         "the message's id changed at the next full sync")

        s.wait_op(s.synchronise(svc, "folders", [new_child]))  # the child is selected
        self._delete(svc, "Ideas")
        self._assert_folders(svc, "fred", absent=("Ideas", new_child))
        self.assertStoreEqualsServer(s, svc, user="fred")

    # -- 11. Disconnect with delete-on-disconnect --
    def _flag_deleted_and_disconnect(self, svc, folder, subject_index):
        s = self.stack
        s.full_sync(svc)
        listed = s.list_messages(svc, folder)
        mid, info = listed[subject_index]
        uid = info["uid"]
        with s.server_view("erin") as v:
            v.store_flags(folder, uid, "+FLAGS", ["\\Deleted"])
        s.wait_op(s.synchronise(svc, "folders", [folder]))
        flags = dict(s.list_messages(svc, folder))[mid]["flags"]
        self.assertIn("\\Deleted", flags, "the resync did not bring the \\Deleted flag")
        others = {i for i, _ in listed if i != mid}
        mark = s.mark()
        s.wait_op(s.disconnect(svc), timeout=60)
        with s.server_view("erin") as v:
            server_uids = set(v.messages(folder))
        self.assertNotIn(uid, server_uids, f"{folder} UID {uid} is still on the server")
        ids = {i for i, _ in s.list_messages(svc, folder)}
        self.assertNotIn(mid, ids, "the expunged message is still listed")
        self.assertEqual(ids, others, "other messages went too")
        removed = [x for x in s.recorded("MessagesChanged", path=svc, since=mark)
                   if x.args[0] == folder and mid in x.args[3]]
        self.assertTrue(removed, "no MessagesChanged announced the removal")
        p = s.props(svc, SERVICE)
        self.assertFalse(p["Connected"])
        self.assertEqual(p["State"], "disconnected")
        s.wait_until(lambda: dovecot_sessions(s.server, "erin") == 0, 20,
                     "every IMAP session of the account to end after Disconnect")

    def test_11_delete_on_disconnect(self):
        s = self.stack
        svc = self.account("erin", "expunge", folder_sync="all", delete_on_disconnect=True)
        with self.subTest(use_expunge=True):
            self._flag_deleted_and_disconnect(svc, "INBOX", 1)
        with self.subTest(use_expunge=False):
            s.call(svc, SERVICE, "UpdateSettings",
                   V("(a{sv})", ({"use-expunge": V("b", False)},)))
            self._flag_deleted_and_disconnect(svc, "Archive", 2)
        with self.subTest("a plain Disconnect logs out every connection"):
            s.call(svc, SERVICE, "UpdateSettings",
                   V("(a{sv})", ({"delete-on-disconnect": V("b", False)},)))
            s.full_sync(svc)
            s.wait_until(lambda: dovecot_sessions(s.server, "erin") >= 1, 10, "a session")
            s.wait_op(s.disconnect(svc), timeout=60)
            s.wait_until(lambda: dovecot_sessions(s.server, "erin") == 0, 20,
                         "every IMAP session of the account to end after Disconnect")


class ReconnectTest(OnlineCase):
    """Stops and starts Dovecot (on the same ports): a Stack of its own."""

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed={"INBOX": 12, "Archive": 5}, badcert=False)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def setUp(self):
        if not self.stack.server.running():  # a failed test left it stopped
            start_dovecot_same_ports(self.stack.server)
        super().setUp()

    def tearDown(self):
        if not self.stack.server.running():
            start_dovecot_same_ports(self.stack.server)
        super().tearDown()

    # -- 6. reconnect --
    def test_06_reconnect_after_server_restart(self):
        s = self.stack
        svc = self.account("alice", "reconnect", folder_sync="all")
        s.full_sync(svc)
        before = self.rows("reconnect")
        self.assertTrue(before)

        mark = s.mark()
        stop_dovecot(s.server)
        s.wait_until(lambda: False in s.property_changes(svc, SERVICE, "Connected",
                                                         since=mark), 60,
                     "Connected false after the server went away")
        s.wait_until(lambda: "connecting" in s.property_changes(svc, SERVICE, "State",
                                                               since=mark), 60,
                     "State 'connecting' while the server is away")
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        subject = unique_subject("Delivered while down")
        drop_into_maildir(s.server, "alice", "INBOX", make_message(subject))
        time.sleep(3)  # a few reconnect attempts fail meanwhile
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        self.assertNotEqual(s.prop(svc, SERVICE, "State"), "disconnected",
                            "the service gave up while the server was away")

        up = s.mark()
        start_dovecot_same_ports(s.server)
        s.wait_until(lambda: True in s.property_changes(svc, SERVICE, "Connected", since=up),
                     90, "Connected true again after the server came back")
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))
        s.wait_until(lambda: subject in self.ids_by_subject(svc, "INBOX"), 60,
                     "the message delivered while the server was down to be synced")
        after = self.rows("reconnect")
        changed = sorted(k for k, i in before.items() if after.get(k) != i)
        self.assertEqual(changed, [], "ids of earlier messages changed")
        self.assertEqual(len(after), len(before) + 1)
        s.full_sync(svc)
        self.assertStoreEqualsServer(s, svc)
        self.rows("reconnect")

    # -- 7. a rejected login while reconnecting is not retried --
    def test_07_login_failure_while_reconnecting(self):
        s = self.stack
        svc = self.account("alice", "relogin", folder_sync="all")
        s.full_sync(svc)
        s.set_password(svc, "not alice's password")
        mark = s.mark()
        stop_dovecot(s.server)
        s.wait_until(lambda: False in s.property_changes(svc, SERVICE, "Connected",
                                                         since=mark), 60,
                     "Connected false after the server went away")
        time.sleep(1)
        start_dovecot_same_ports(s.server)
        s.wait_until(lambda: s.prop(svc, SERVICE, "LastError")[0].endswith("LoginFailed"),
                     90, "LastError LoginFailed after the reconnect")
        s.wait_until(lambda: s.prop(svc, SERVICE, "State") == "disconnected", 30,
                     "State disconnected after the rejected login")
        self.assertFalse(s.prop(svc, SERVICE, "Connected"))
        attempts = self.ops_added(svc, "connect", mark)
        self.assertTrue(attempts, "no reconnect (connect operation) was announced")
        time.sleep(20)  # longer than the next backoff step would be
        again = self.ops_added(svc, "connect", mark)
        self.assertEqual(len(again), len(attempts),
                         f"{len(again) - len(attempts)} more connect attempts after the "
                         f"rejected login")
        p = s.props(svc, SERVICE)
        self.assertEqual(p["State"], "disconnected")
        self.assertFalse(p["Connected"])
        self.assertTrue(p["LastError"][0].endswith("LoginFailed"), p["LastError"])
        # the user connects again with the right password: fine again
        s.set_password(svc, USERS["alice"])
        s.full_sync(svc)
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))


if __name__ == "__main__":
    harness.main()
