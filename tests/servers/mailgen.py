#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Deterministic generator of realistic RFC 5322 messages for the test servers.

    msg = generate(index, folder="INBOX")   # -> Message(data, message_id, flags, date, ...)

The same (index, folder, seed) always gives the same bytes. Lines end in CRLF and no line
exceeds 998 bytes, so a maildir file is byte-for-byte what IMAP BODY[] returns. Kinds, in a
fixed rotation: text/plain (us-ascii, UTF-8 8bit, quoted-printable), multipart/alternative
(text + HTML) and multipart/mixed with a base64 attachment. Subjects are RFC 2047 encoded in
several scripts and charsets; every fifth message replies to an earlier one (Re:,
In-Reply-To, References). Sizes are spread log-uniformly from 1 KB to 200 KB.

Run as a script: mailgen.py INDEX [FOLDER] writes one message to stdout.
"""

import base64
import hashlib
import math
import quopri
import random
import sys
import time
from collections import namedtuple
from email.header import Header

Message = namedtuple("Message", "data message_id flags date subject kind in_reply_to")

MIN_SIZE = 1024
MAX_SIZE = 200 * 1024
EPOCH = 1_700_000_000  # 2023-11-14, the first message's date

PEOPLE = [
    ("Alice Liddell", "alice@wonderland.test"),
    ("Bob the Builder", "bob@builder.test"),
    ("Zoë Ångström", "zoe@example.test"),
    ("Дмитрий Иванов", "dmitri@example.test"),
    ("山田 太郎", "taro@example.test"),
    ("Νίκος Παπαδόπουλος", "nikos@example.test"),
    ("محمد علي", "mohammed@example.test"),
    ("", "noreply@lists.example.test"),
]

# (text, charset, encoding): rendered as RFC 2047 encoded words unless pure ASCII.
SUBJECTS = [
    ("Quarterly report", "us-ascii", None),
    ("Café meeting at noon — bring the naïve résumé", "utf-8", "q"),
    ("Réunion à Zürich: Übersicht", "iso-8859-1", "q"),
    ("Отчёт за неделю", "koi8-r", "b"),
    ("Отчёт за неделю (UTF-8)", "utf-8", "b"),
    ("会議の議事録について", "iso-2022-jp", "b"),
    ("会議の議事録 UTF-8 版", "utf-8", "b"),
    ("Συνάντηση την Τρίτη", "utf-8", "b"),
    ("مرحبا بالعالم", "utf-8", "b"),
    ("Emoji test 🎉📬 party", "utf-8", "b"),
    ("A rather long subject line that goes on and on so that it has to be folded "
     "over more than one header line", "us-ascii", None),
    ("Straße, Größe und Maß — ein ziemlich langer deutscher Betreff mit Umlauten äöü",
     "utf-8", "q"),
]

WORDS = ("the of and to in is that it for on with as was at by be this from or have an "
         "mailbox folder message server client sync offline queue flag seen draft archive "
         "literal capability idle select fetch envelope structure attachment quota").split()

UNICODE_LINES = [
    "Grüße aus Köln — schöne Tage!",
    "Привет из Москвы, всё хорошо.",
    "東京からこんにちは。よろしくお願いします。",
    "Καλημέρα από την Αθήνα.",
    "سلام عليكم من القاهرة",
    "Emoji: ✉️ 📎 ✅",
]

FLAG_CYCLE = ["S", "", "S", "FS", "RS", "S", "DS", "", "S", "ST"]
KINDS = ["plain", "plain-utf8", "alternative", "plain-qp", "mixed"]


def _rng(folder, index, seed):
    h = hashlib.sha256(f"{seed}/{folder}/{index}".encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def message_id(index, folder="INBOX", seed=0):
    slug = "".join(c if c.isalnum() else "-" for c in folder.encode("ascii", "replace").decode())
    digest = hashlib.sha256(f"{seed}/{folder}/{index}".encode()).hexdigest()[:12]
    return f"<{index}.{slug}.{digest}@postroom.test>"


def _encode_header_text(text, charset, encoding, header_name):
    if charset == "us-ascii":
        return Header(text, "us-ascii", header_name=header_name).encode(linesep="\r\n")
    if encoding == "q":
        # email.header picks the charset's default; force Q by encoding words ourselves
        words, cur = [], ""
        for ch in text:
            if len(_q(cur + ch, charset)) > 60:
                words.append(cur)
                cur = ""
            cur += ch
        words.append(cur)
        return "\r\n ".join(f"=?{charset}?Q?{_q(w, charset)}?=" for w in words)
    return Header(text, charset, header_name=header_name).encode(linesep="\r\n")


def _q(text, charset):
    out = []
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append(f"={b:02X}")
    return "".join(out)


def _address(person):
    name, addr = person
    if not name:
        return addr
    if name.isascii():
        return f'"{name}" <{addr}>'
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


def _make_paragraphs(unicode_ok, count=256):
    """A fixed pool of paragraphs (lists of lines <= 76 characters) to draw bodies from."""
    rng = random.Random(2026 + unicode_ok)
    pool = []
    for _ in range(count):
        lines = []
        for _ in range(rng.randrange(3, 12)):
            if unicode_ok and rng.random() < 0.2:
                lines.append(rng.choice(UNICODE_LINES))
                continue
            words = []
            while True:
                w = rng.choice(WORDS)
                if len(" ".join(words + [w])) > 72:
                    break
                words.append(w)
            lines.append(" ".join(words).capitalize() + ".")
        lines.append("")
        pool.append((lines, sum(len(line.encode()) + 2 for line in lines)))
    return pool


PARAGRAPHS = {False: _make_paragraphs(False), True: _make_paragraphs(True)}


def _text_lines(rng, nbytes, unicode_ok):
    """Paragraphs of text, lines <= 76 characters, about @nbytes UTF-8 bytes."""
    lines, total, pool = [], 0, PARAGRAPHS[unicode_ok]
    while total < nbytes:
        para, size = pool[rng.randrange(len(pool))]
        lines.extend(para)
        total += size
    return lines


def _crlf(lines):
    return "".join(line + "\r\n" for line in lines)


def _size_target(rng):
    return int(math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE * 0.95))))


def _body(kind, rng, target, index):
    """Returns (content-type header lines, body text) for the kind."""
    if kind == "plain":
        hdr = ["Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit"]
        return hdr, _crlf(_text_lines(rng, target, False))
    if kind == "plain-utf8":
        hdr = ["Content-Type: text/plain; charset=utf-8; format=flowed",
               "Content-Transfer-Encoding: 8bit"]
        return hdr, _crlf(_text_lines(rng, target, True))
    if kind == "plain-qp":
        hdr = ["Content-Type: text/plain; charset=utf-8",
               "Content-Transfer-Encoding: quoted-printable"]
        raw = _crlf(_text_lines(rng, int(target * 0.8), True)).encode()
        qp = quopri.encodestring(raw.replace(b"\r\n", b"\n")).decode("ascii")
        return hdr, qp.replace("\n", "\r\n")
    boundary = f"=_postroom_{index}_{rng.getrandbits(48):012x}"
    if kind == "alternative":
        text = _text_lines(rng, target * 2 // 5, True)
        html = ["<html><body>"] + [f"<p>{line}</p>" for line in text[: max(1, len(text))]]
        html.append("</body></html>")
        parts = [
            (["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"],
             _crlf(text)),
            (["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit"],
             _crlf(html)),
        ]
        ctype = "multipart/alternative"
    else:  # mixed: a short text and a base64 attachment making up the size
        text = _text_lines(rng, min(target // 4, 2000), False)
        payload = rng.randbytes(max(64, (target - 600) * 3 * 76 // (4 * 78)))
        b64 = base64.encodebytes(payload).decode("ascii").replace("\n", "\r\n")
        fname = rng.choice(["report.pdf", "photo.jpg", "data.bin", "Übersicht.pdf"])
        if fname.isascii():
            disp = f'attachment; filename="{fname}"'
        else:
            disp = "attachment; filename*=utf-8''" + "".join(
                c if c.isascii() and c.isalnum() or c in "._-" else
                "".join(f"%{b:02X}" for b in c.encode()) for c in fname)
        parts = [
            (["Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit"],
             _crlf(text)),
            (["Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64",
              "Content-Disposition: " + disp], b64),
        ]
        ctype = "multipart/mixed"
    body = "This is a multi-part message in MIME format.\r\n"
    for headers, content in parts:
        body += f"\r\n--{boundary}\r\n" + _crlf(headers) + "\r\n" + content
    body += f"\r\n--{boundary}--\r\n"
    return [f'Content-Type: {ctype};\r\n boundary="{boundary}"'], body


def generate(index, folder="INBOX", seed=0):
    """The @index-th (0-based) message of @folder."""
    rng = _rng(folder, index, seed)
    kind = KINDS[index % len(KINDS)]
    date = EPOCH + index * 3607 + rng.randrange(600)
    sender = PEOPLE[index % len(PEOPLE)]
    rcpt = PEOPLE[(index + 3) % len(PEOPLE)]
    mid = message_id(index, folder, seed)
    subj_text, charset, enc = SUBJECTS[index % len(SUBJECTS)]
    in_reply_to = None
    if index % 5 == 4:
        parent = index - 1 - rng.randrange(min(index, 10))
        in_reply_to = message_id(parent, folder, seed)
        subj_text = "Re: " + SUBJECTS[parent % len(SUBJECTS)][0]
        charset, enc = SUBJECTS[parent % len(SUBJECTS)][1:]
    subject = f"{subj_text} #{index}"
    if charset == "us-ascii" and not subject.isascii():
        charset = "utf-8"

    headers = [
        f"Return-Path: <{sender[1]}>",
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(date))}",
        "From: " + _address(sender),
        "To: " + _address(rcpt),
    ]
    if index % 3 == 0:
        headers.append("Cc: " + _address(PEOPLE[(index + 5) % len(PEOPLE)]) + ",\r\n "
                       + _address(PEOPLE[(index + 6) % len(PEOPLE)]))
    headers.append("Subject: " + _encode_header_text(subject, charset, enc, "Subject"))
    headers.append("Message-ID: " + mid)
    if in_reply_to:
        headers.append("In-Reply-To: " + in_reply_to)
        headers.append("References: " + in_reply_to)
    headers.append("MIME-Version: 1.0")
    headers.append("X-Postroom-Seed: " + f"{folder.encode('unicode_escape').decode()} {index}")

    target = _size_target(rng)
    head_len = sum(len(h) + 2 for h in headers) + 200
    ctype, body = _body(kind, rng, max(256, target - head_len), index)
    data = (_crlf(headers + ctype) + "\r\n" + body).encode("utf-8")
    if len(data) < MIN_SIZE:
        pad = _crlf(["-- ", "Sent from the Postroom test generator."] +
                    ["." * 70] * ((MIN_SIZE - len(data)) // 72 + 1))
        data += pad.encode()
    flags = FLAG_CYCLE[index % len(FLAG_CYCLE)]
    return Message(data, mid, flags, date, subject, kind, in_reply_to)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: mailgen.py INDEX [FOLDER]")
    m = generate(int(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else "INBOX")
    sys.stdout.buffer.write(m.data)
