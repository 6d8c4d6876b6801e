#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How long a second D-Bus client waits while postroomd does heavy work.

A probe client calls ListMessages(INBOX, {limit: 20}) every 5 ms on a connection of its
own and records each round trip, while the main client makes the daemon
  list   - ListMessages of the whole 50,000-message INBOX (no limit), five times
  fetch  - GetMail of 2,000 bodies (the stores' flushes and their syncfs), three times
  remove - RemoveService of a second account whose store holds every body (50,000 files)
and, before them, nothing at all (idle). Prints, per phase, the probe's median, p99 and
maximum and the heavy calls' own durations.

Run by bench/run-responsiveness (which builds and sets POSTROOMD etc.).
"""

import argparse
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "dbus"))
sys.path.insert(0, os.path.join(TOP, "tests", "servers"))

import harness  # noqa: E402
from harness import SERVICE, GLib, Gio, Stack  # noqa: E402

V = GLib.Variant


def write_small_messages(server, user, count):
    """@count small messages straight into the user's INBOX maildir (headers are what a
    message list needs; bodies stay small so that 50,000 of them seed in seconds)."""
    path = server.maildir(user, "INBOX")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    base_date = 1_700_000_000
    for i in range(count):
        data = (f"From: Sender {i % 97} <s{i % 97}@example.org>\r\n"
                f"To: {user}@example.org\r\n"
                f"Subject: Message number {i} of the responsiveness corpus\r\n"
                f"Message-ID: <resp-{i}@postroom.test>\r\n"
                f"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                "\r\n"
                f"Body of message {i}.\r\n" + "x" * (i % 400) + "\r\n").encode()
        name = f"{base_date + i}.M{i}P1.resp,S={len(data)},W={len(data)}:2,S"
        tmp = os.path.join(path, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        server._chown(tmp)
        os.rename(tmp, os.path.join(path, "cur", name))


class Probe(threading.Thread):
    """ListMessages with a small limit, every 5 ms, on a connection of its own."""

    def __init__(self, address, service):
        super().__init__(daemon=True)
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.service = service
        self.samples = []  # (start, seconds)
        self.stopping = threading.Event()

    def run(self):
        args = V("(sa{sv})", ("INBOX", {"limit": V("u", 20)}))
        while not self.stopping.is_set():
            t0 = time.monotonic()
            self.conn.call_sync(harness.BUS_NAME, self.service, SERVICE, "ListMessages", args,
                                None, Gio.DBusCallFlags.NO_AUTO_START, 60_000, None)
            self.samples.append((t0, time.monotonic() - t0))
            time.sleep(0.005)

    def between(self, start, end):
        return [d for t, d in self.samples if start <= t < end]


def summary(name, waits, work):
    waits_ms = sorted(w * 1000 for w in waits)
    p99 = waits_ms[min(len(waits_ms) - 1, int(len(waits_ms) * 0.99))]
    work_ms = ", ".join(f"{w * 1000:.0f}" for w in work) or "-"
    return (f"{name:<7} probe calls {len(waits_ms):>5}  median {statistics.median(waits_ms):6.1f} ms"
            f"  p99 {p99:6.1f} ms  max {waits_ms[-1]:6.1f} ms   heavy calls (ms): {work_ms}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", "--messages", type=int, default=50_000)
    args = ap.parse_args()

    with Stack() as s:
        write_small_messages(s.server, s.user, args.messages)
        reader = s.account(id="lists")
        remover = s.account(id="removes")
        t0 = time.monotonic()
        s.wait_op(s.connect_and_sync(reader), timeout=1800)
        s.wait_op(s.connect_and_sync(remover), timeout=1800)
        s.run(remover, "GetMail", V("(a{sv})", ({"messages": V("s", "all")},)), timeout=3600)
        s.wait_op(s.disconnect(remover), timeout=600)
        print(f"# {args.messages} messages; set-up (2 syncs, {args.messages} bodies) "
              f"{time.monotonic() - t0:.1f} s")
        ids = [i for i, _ in s.list_messages(reader, "INBOX")]

        probe = Probe(s.address, reader)
        probe.start()
        phases = []

        start = time.monotonic()
        time.sleep(2)
        phases.append(("idle", start, time.monotonic(), []))

        start, work = time.monotonic(), []
        for _ in range(5):
            t = time.monotonic()
            s.call(reader, SERVICE, "ListMessages", V("(sa{sv})", ("INBOX", {})), timeout=600)
            work.append(time.monotonic() - t)
        phases.append(("list", start, time.monotonic(), work))

        start, work = time.monotonic(), []
        for k in range(3):
            chunk = ids[k * 2000:(k + 1) * 2000]
            t = time.monotonic()
            s.run(reader, "GetMail", V("(a{sv})", ({"messages": V("s", "selection"),
                                                    "ids": V("at", chunk)},)), timeout=600)
            work.append(time.monotonic() - t)
        phases.append(("fetch", start, time.monotonic(), work))

        start = time.monotonic()
        s.call(harness.ROOT, harness.MANAGER, "RemoveService",
               V("(oa{sv})", (remover, {})), timeout=600)
        work = [time.monotonic() - start]
        time.sleep(0.2)
        phases.append(("remove", start, time.monotonic(), work))

        probe.stopping.set()
        probe.join()
        for name, a, b, w in phases:
            print(summary(name, probe.between(a, b), w))


if __name__ == "__main__":
    main()
