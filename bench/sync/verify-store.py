#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check a postroomd store against the server's mailbox, like the harness's verify.py does
for a Maildir: the same set of Message-IDs and the same \\Seen \\Flagged \\Answered \\Draft
\\Deleted flags; with --bodies also that every message is downloaded (download = complete)
and its body file has exactly the server's RFC822.SIZE bytes.

    verify-store.py --port P --store DIR [--bodies] [--mailbox INBOX]

DIR is the account's store directory ($XDG_DATA_HOME/postroom/ID/: store.db, messages/);
the database is opened read-only. Prints one JSON line; exit 0 when identical, 1 if not.
"""
import argparse
import imaplib
import json
import os
import re
import sqlite3
import sys

from server_args import add_server_args

FLAGMAP = {"\\seen": "S", "\\flagged": "F", "\\answered": "R", "\\draft": "D", "\\deleted": "T"}
MID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^>]*>)", re.I | re.M)
DOWNLOAD_COMPLETE = 2  # PrStoreDownload


def letters(flags):
    return "".join(sorted(FLAGMAP[f.lower()] for f in flags if f.lower() in FLAGMAP))


def server_index(a):
    m = imaplib.IMAP4(a.host, a.port)
    m.login(a.user, a.password)
    m.select(a.mailbox, readonly=True)
    typ, data = m.uid("FETCH", "1:*",
                      "(FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    m.logout()
    out = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, hdr = item
        fl = re.search(rb"FLAGS \(([^)]*)\)", meta)
        sz = re.search(rb"RFC822\.SIZE (\d+)", meta)
        mid = MID.search(hdr)
        key = mid.group(1).decode() if mid else f"<nomid-{len(out)}>"
        out[key] = (letters(fl.group(1).decode().split() if fl else []),
                    int(sz.group(1)) if sz else -1)
    return out


def store_index(a):
    db = sqlite3.connect(f"file:{os.path.join(a.store, 'store.db')}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT m.id, m.message_id, m.flags, m.download, m.size FROM messages m "
        "JOIN folders f ON f.id = m.folder_id WHERE f.name = ? AND m.uid IS NOT NULL",
        (a.mailbox,)).fetchall()
    db.close()
    out = {}
    for mid_id, mid, flags, download, size in rows:
        m = re.search(r"<[^>]*>", mid or "")
        key = m.group(0) if m else f"<nomid-{mid_id}>"
        body = -1
        if a.bodies and download == DOWNLOAD_COMPLETE:
            path = os.path.join(a.store, "messages", "%02x" % (mid_id % 256), f"{mid_id}.eml")
            try:
                body = os.path.getsize(path)
            except OSError:
                body = -2
        out[key] = (letters((flags or "").split()), download, body)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_args(ap)
    ap.add_argument("--store", required=True, help="the account's store directory")
    ap.add_argument("--bodies", action="store_true", help="also check every body")
    a = ap.parse_args()

    if not os.path.exists(os.path.join(a.store, "store.db")):
        print(json.dumps({"ok": False, "error": f"no store.db in {a.store}"}))
        return 1
    srv = server_index(a)
    loc = store_index(a)
    missing = [k for k in srv if k not in loc]
    extra = [k for k in loc if k not in srv]
    flag_diff = [k for k in srv if k in loc and srv[k][0] != loc[k][0]]
    res = {"server": len(srv), "local": len(loc), "missing": len(missing), "extra": len(extra),
           "flag_mismatch": len(flag_diff)}
    bad = missing or extra or flag_diff
    if a.bodies:
        not_dl = [k for k in srv if k in loc and loc[k][1] != DOWNLOAD_COMPLETE]
        size_diff = [k for k in srv if k in loc and loc[k][1] == DOWNLOAD_COMPLETE
                     and loc[k][2] != srv[k][1]]
        res["not_downloaded"] = len(not_dl)
        res["body_size_mismatch"] = len(size_diff)
        bad = bad or not_dl or size_diff
        if size_diff:
            k = size_diff[0]
            res["example_size_mismatch"] = {"id": k, "server": srv[k][1], "file": loc[k][2]}
    if flag_diff:
        k = flag_diff[0]
        res["example_flag_mismatch"] = {"id": k, "server": srv[k][0], "local": loc[k][0]}
    res["ok"] = not bad
    print(json.dumps(res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
