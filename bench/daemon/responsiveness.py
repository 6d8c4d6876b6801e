#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How long a second D-Bus client waits while postroomd does heavy work.

A probe client (a process of its own) calls ListMessages(INBOX, {limit: 20}) every 5 ms
and records each round trip, while the main client makes the daemon
  list   - ListMessages of the whole 50,000-message INBOX (no limit), five times
  fetch  - GetMail of 2,000 bodies (the stores' flushes and their syncfs), three times
  remove - RemoveService of a second account whose store holds every body (50,000 files)
and, before them, nothing at all (idle); then "floor": the same big and small replies,
prebuilt, from a minimal GDBus service on the same bus. Prints, per phase, the probe's median, p99 and
maximum and the heavy calls' own durations.

Run by bench/run-responsiveness (which builds and sets POSTROOMD etc.).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
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


def probe_main(address, service, out_path, stop_path, dest=None, iface=None):
    """The probe, in a process of its own (a thread would share the benchmark's GIL with
    the unpacking of big replies): ListMessages with a small limit every 5 ms until
    @stop_path exists; "start seconds" per call into @out_path (CLOCK_MONOTONIC, which
    every process shares)."""
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    args = V("(sa{sv})", ("INBOX", {"limit": V("u", 20)}))
    with open(out_path, "w") as out:
        while not os.path.exists(stop_path):
            t0 = time.monotonic()
            conn.call_sync(dest or harness.BUS_NAME, service, iface or SERVICE, "ListMessages",
                           args, None,
                           Gio.DBusCallFlags.NO_AUTO_START, 60_000, None)
            out.write(f"{t0} {time.monotonic() - t0}\n")
            time.sleep(0.005)


FLOOR_NAME = "org.postroom.ResponsivenessFloor"
FLOOR_PATH = "/org/postroom/ResponsivenessFloor"
FLOOR_XML = """<node><interface name="org.postroom.ResponsivenessFloor">
<method name="ListMessages"><arg type="s" direction="in"/><arg type="a{sv}" direction="in"/>
<arg type="a(ta{sv})" direction="out"/></method></interface></node>"""


def floor_main(address, big_path, small_path):
    """The floor: a minimal GDBus service on the same bus that answers ListMessages with
    prebuilt replies (the daemon's own, read from files): a small one for a limit, the big
    one otherwise. What a probe waits for while it sends the big one is the bus's cost."""
    conn = Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    reply_type = GLib.VariantType.new("(a(ta{sv}))")
    with open(big_path, "rb") as f:
        big = GLib.Variant.new_from_bytes(reply_type, GLib.Bytes.new(f.read()), False)
    with open(small_path, "rb") as f:
        small = GLib.Variant.new_from_bytes(reply_type, GLib.Bytes.new(f.read()), False)

    def on_call(connection, sender, path, iface, method, params, invocation):
        invocation.return_value(small if "limit" in params.unpack()[1] else big)

    info = Gio.DBusNodeInfo.new_for_xml(FLOOR_XML)
    conn.register_object(FLOOR_PATH, info.interfaces[0], on_call, None, None)
    conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "RequestName", V("(su)", (FLOOR_NAME, 4)), None, 0, -1, None)
    GLib.MainLoop().run()


class Probe:
    def __init__(self, address, service, workdir, floor=False):
        self.out = os.path.join(workdir, "probe-floor.txt" if floor else "probe.txt")
        self.stop_path = self.out + ".stop"
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                      "--floor-probe" if floor else "--probe",
                                      address, service, self.out, self.stop_path])
        self.samples = []

    def stop(self):
        with open(self.stop_path, "w"):
            pass
        self.proc.wait(timeout=120)
        with open(self.out) as f:
            self.samples = [tuple(float(x) for x in line.split()) for line in f]

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
    ap.add_argument("--probe", nargs=4, metavar=("ADDRESS", "SERVICE", "OUT", "STOP"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--floor-probe", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--floor", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe_main(*args.probe)
        return
    if args.floor_probe:
        probe_main(*args.floor_probe, dest=FLOOR_NAME, iface=FLOOR_NAME)
        return
    if args.floor:
        floor_main(*args.floor)
        return

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

        workdir = tempfile.mkdtemp(prefix="pr-resp-")
        probe = Probe(s.address, reader, workdir)
        time.sleep(1)  # its connection is up
        phases = []
        marks = []

        start = time.monotonic()
        time.sleep(2)
        phases.append(("idle", start, time.monotonic(), []))

        start, work = time.monotonic(), []
        for _ in range(5):
            t = time.monotonic()
            marks.append(t)
            # the reply is not unpacked: only the daemon's side is the load
            s.call_raw(reader, SERVICE, "ListMessages", V("(sa{sv})", ("INBOX", {})),
                       timeout=600)
            work.append(time.monotonic() - t)
        phases.append(("list", start, time.monotonic(), work))

        start, work = time.monotonic(), []
        for k in range(3):  # noqa
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

        probe.stop()

        # the floor: the same replies from a minimal service on the same bus
        big = s.call_raw(reader, SERVICE, "ListMessages", V("(sa{sv})", ("INBOX", {})),
                         timeout=600)
        small = s.call_raw(reader, SERVICE, "ListMessages",
                           V("(sa{sv})", ("INBOX", {"limit": V("u", 20)})))
        for name, reply in (("big", big), ("small", small)):
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(reply.get_data_as_bytes().get_data())
        print(f"# the big reply: {len(big.get_data_as_bytes().get_data()) / 1e6:.1f} MB")
        floor = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--floor",
                                  s.address, os.path.join(workdir, "big"),
                                  os.path.join(workdir, "small")])
        try:
            time.sleep(2)
            fprobe = Probe(s.address, FLOOR_PATH, workdir, floor=True)
            time.sleep(1)
            start, work = time.monotonic(), []
            for _ in range(5):
                t = time.monotonic()
                s.call_raw(FLOOR_PATH, FLOOR_NAME, "ListMessages",
                           V("(sa{sv})", ("INBOX", {})), timeout=600, dest=FLOOR_NAME)
                work.append(time.monotonic() - t)
            end = time.monotonic()
            fprobe.stop()
            phases.append(("floor", start, end, work))
            probe.samples += [(t, d) for t, d in fprobe.samples if start <= t < end]
        finally:
            floor.kill()
            floor.wait()
        for name, a, b, w in phases:
            print(summary(name, probe.between(a, b), w))
        if os.environ.get("PR_RESP_SLOW"):
            for t, d in probe.samples:
                if d > 0.05:
                    since = [t - m for m in marks if m <= t]
                    print(f"# slow probe call {d * 1000:.0f} ms, "
                          f"{since[-1] * 1000 if since else -1:.0f} ms after a big list began")


if __name__ == "__main__":
    main()
