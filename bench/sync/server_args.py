"""The options naming the benchmark's IMAP server and account, shared by the scripts here."""


def add_server_args(ap):
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=10143)
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench")
    ap.add_argument("--mailbox", default="INBOX")
