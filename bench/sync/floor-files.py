#!/usr/bin/env python3
"""The body floor plus the file work of a durable one-file-per-message store.

What the shared harness's floor_body does (LOGIN, EXAMINE, UID FETCH 1:* (BODY.PEEK[])),
except that each literal goes to its own file the way Postroom's store keeps bodies: a
temporary name in one of 256 bucket directories, renamed to its final name, and one
syncfs() per 200 messages (Postroom's chunk) before they count as stored, in a second
thread while the next ones arrive (one at a time, as Postroom does); no index, no parsing
beyond the literal lengths. The gap between this and floor_body is what any client
that keeps one durable file per message pays on this machine's file system; the gap
between Postroom and this is Postroom's own.

  floor-files.py --port 10143 --dir /path/to/empty/dir

Prints one JSON line: messages, bytes, seconds (wall), and the seconds syncfs() took.
"""
import argparse
import ctypes
import json
import os
import re
import socket
import sys
import threading
import time

from server_args import add_server_args

LIT = re.compile(rb"\{(\d+)\+?\}\r\n$")
CHUNK = 200

libc = ctypes.CDLL(None, use_errno=True)


def syncfs(fd):
    if libc.syncfs(fd) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def quoted(s):
    return b'"' + s.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap)
    ap.add_argument("--dir", required=True, help="an empty directory for the files")
    a = ap.parse_args()

    for b in range(256):
        os.makedirs(os.path.join(a.dir, "%02x" % b), exist_ok=True)
    dfd = os.open(a.dir, os.O_RDONLY | os.O_DIRECTORY)
    t0 = time.monotonic()
    sock = socket.create_connection((a.host, a.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rf = sock.makefile("rb", buffering=1 << 20)
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    if not rf.readline().startswith(b"* OK"):
        sys.exit("floor-files: bad greeting")

    def cmd(tag, line, on_literal=None):
        sock.sendall(tag + b" " + line + b"\r\n")
        while True:
            got = rf.readline()
            if not got:
                sys.exit("floor-files: connection closed")
            while got.endswith(b"}\r\n"):
                m = LIT.search(got)
                if not m:
                    break
                on_literal(int(m.group(1)))
                got = rf.readline()
            if got.startswith(tag + b" "):
                if not got.startswith(tag + b" OK"):
                    sys.exit(f"floor-files: {line[:40]!r} failed: {got.strip()!r}")
                return

    cmd(b"a1", b"LOGIN " + quoted(a.user) + b" " + quoted(a.password))
    cmd(b"a2", b"EXAMINE " + quoted(a.mailbox))

    state = {"n": 0, "bytes": 0, "sync": 0.0, "pending": [], "flusher": None, "error": None}

    def flush_now(batch):
        try:
            for tmp, final in batch:
                os.rename(tmp, final)
            t = time.monotonic()
            syncfs(dfd)
            state["sync"] += time.monotonic() - t
        except OSError as e:
            state["error"] = e

    def flush(wait=False):
        if state["flusher"] is not None:
            state["flusher"].join()
            state["flusher"] = None
        if state["error"] is not None:
            sys.exit(f"floor-files: {state['error']}")
        batch, state["pending"] = state["pending"], []
        if wait:
            flush_now(batch)
            if state["error"] is not None:
                sys.exit(f"floor-files: {state['error']}")
            return
        state["flusher"] = threading.Thread(target=flush_now, args=(batch,))
        state["flusher"].start()

    def literal(n):
        i = state["n"]
        state["n"] += 1
        state["bytes"] += n
        bucket = os.path.join(a.dir, "%02x" % (i % 256))
        tmp = os.path.join(bucket, ".tmp-%d" % i)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            while n:
                k = rf.readinto(mv[:min(n, len(mv))])
                if not k:
                    sys.exit("floor-files: connection closed in a literal")
                done = 0
                while done < k:
                    done += os.write(fd, mv[done:k])
                n -= k
        finally:
            os.close(fd)
        state["pending"].append((tmp, os.path.join(bucket, "%d" % i)))
        if len(state["pending"]) >= CHUNK:
            flush()

    cmd(b"a3", b"UID FETCH 1:* (BODY.PEEK[])", literal)
    flush(wait=True)
    sock.sendall(b"a4 LOGOUT\r\n")
    sock.close()
    print(json.dumps({"messages": state["n"], "bytes": state["bytes"],
                      "seconds": round(time.monotonic() - t0, 3),
                      "syncfs_seconds": round(state["sync"], 3)}))


if __name__ == "__main__":
    main()
