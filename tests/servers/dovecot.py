#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private Dovecot for tests: loopback only, free ports, throwaway CA, seeded maildirs.

Library use:

    from dovecot import Dovecot
    with Dovecot() as d:                      # or d = Dovecot(); d.start(); ...; d.stop()
        d.seed("alice", {"INBOX": 2000, "Archive": 50})   # also fine before start()
        d.deliver("alice", "INBOX", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        d.create_folder("bob", "Projects/2026")
        print(d.port, d.imaps_port, d.badcert_port, d.ca_file, d.cert_sha256)
        env = d.env()                         # the PR_TEST_* variables

Command line (the instance outlives the command; stop it with "stop"):

    dovecot.py start RUN_DIR [--seed INBOX=2000,Archive=50] [--no-badcert]  # prints env lines
    dovecot.py env RUN_DIR
    dovecot.py deliver RUN_DIR|CONF USER FOLDER < message    # doveadm save
    dovecot.py create-folder RUN_DIR|CONF USER FOLDER
    dovecot.py stop RUN_DIR

Layout of the run directory: ssl/ (CA, server and wrong certificates), home/USER/Maildir
(maildir++ layout, IMAP hierarchy separator "/"), passwd, dovecot.conf, run/ (base_dir),
state/, dovecot.log. As root, mail processes run as the system user "mail" (Dovecot's imap
refuses uid 0); otherwise everything runs as the calling user. /etc/dovecot is never read.

Listeners, all on 127.0.0.1: "port" (plaintext, STARTTLS offered), "imaps_port" (implicit
TLS, CA-signed certificate for IP 127.0.0.1 and DNS localhost) and, unless badcert=False,
"badcert_port": a second Dovecot instance on the same maildirs with a self-signed
certificate for CN wrong.example, for certificate-untrusted tests.
"""

import argparse
import atexit
import base64
import ctypes
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import certs  # noqa: E402
import mailgen  # noqa: E402

HOST = "127.0.0.1"
USERS = {"alice": 'wonder land"pass', "bob": "builder"}
MECHANISMS = "plain login cram-md5 scram-sha-256"
WELL_KNOWN = {25, 110, 143, 465, 587, 993, 995, 4190}
START_ATTEMPTS = 5
MAIL_USER_AS_ROOT = "mail"


def dovecot_binary():
    """Path of the dovecot master, or None when Dovecot is not installed.
    PR_TEST_DOVECOT_BIN overrides the search (a missing path means "not installed")."""
    path = os.environ.get("PR_TEST_DOVECOT_BIN") or shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.access(path, os.X_OK) or not os.path.exists("/usr/lib/dovecot/imap"):
        return None
    return path


def doveadm_binary():
    return shutil.which("doveadm") or "/usr/bin/doveadm"


def free_ports(n):
    """@n distinct ports the kernel considers free on 127.0.0.1 now (may be taken again
    later). Each stays bound until all are chosen, so that none is handed out twice."""
    held = []
    try:
        ports = []
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind((HOST, 0))
            port = s.getsockname()[1]
            if port not in WELL_KNOWN:
                ports.append(port)
        return ports
    finally:
        for s in held:
            s.close()


def mutf7_encode(name):
    """IMAP modified UTF-7 (RFC 3501 5.1.3), as Dovecot names maildir++ folders on disk."""
    out, pending = [], ""

    def flush():
        if pending:
            b64 = base64.b64encode(pending.encode("utf-16-be")).decode("ascii")
            out.append("&" + b64.rstrip("=").replace("/", ",") + "-")

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            pending = ""
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    flush()
    return "".join(out)


def set_pdeathsig():
    """preexec: the child gets SIGTERM when the process that started it dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class DovecotError(RuntimeError):
    pass


class Dovecot:
    def __init__(self, run_dir=None, badcert=True, users=None, tie_to_parent=True):
        self.owns_run_dir = run_dir is None
        if run_dir is None:
            # short path: base_dir holds unix sockets (108-byte limit)
            tmp = os.environ.get("TMPDIR", "/tmp")
            run_dir = tempfile.mkdtemp(prefix="pr-dovecot-", dir=tmp if len(tmp) < 40 else "/tmp")
        self.run_dir = os.path.abspath(run_dir)
        self.badcert = badcert
        self.users = dict(users or USERS)
        self.tie_to_parent = tie_to_parent
        self.host = HOST
        self.port = self.imaps_port = self.badcert_port = None
        self.procs = []  # Popen of each master we started
        self.short_dirs = []  # base_dirs outside a long run_dir
        self.ssl_dir = os.path.join(self.run_dir, "ssl")
        self.conf = os.path.join(self.run_dir, "dovecot.conf")
        self.badcert_conf = os.path.join(self.run_dir, "dovecot-badcert.conf")
        self.log = os.path.join(self.run_dir, "dovecot.log")
        if os.geteuid() == 0:
            pw = pwd.getpwnam(MAIL_USER_AS_ROOT)
        else:
            pw = pwd.getpwuid(os.geteuid())
        self.mail_user, self.mail_uid, self.mail_gid = pw.pw_name, pw.pw_uid, pw.pw_gid
        self.mail_group = grp.getgrgid(pw.pw_gid).gr_name
        os.makedirs(self.run_dir, exist_ok=True)
        os.chmod(self.run_dir, 0o755)  # the mail and login users must traverse it
        if os.geteuid() == 0:
            parent = os.path.dirname(self.run_dir)
            while parent != "/":
                if not os.stat(parent).st_mode & 0o001:
                    raise DovecotError(f"{parent} is not searchable by other users; the "
                                       f"mail user {self.mail_user} cannot reach {self.run_dir}")
                parent = os.path.dirname(parent)
        self._make_certs()
        for user in self.users:
            self._make_maildir(self.maildir(user))
        self._atexit_registered = False

    # -- paths and facts ---------------------------------------------------------------
    def home(self, user):
        return os.path.join(self.run_dir, "home", user)

    def maildir(self, user, folder="INBOX"):
        root = os.path.join(self.home(user), "Maildir")
        if folder.upper() == "INBOX":
            return root
        if "." in folder:
            raise ValueError("maildir++ folder names cannot contain '.': " + folder)
        return os.path.join(root, "." + ".".join(mutf7_encode(p) for p in folder.split("/")))

    @property
    def ca_file(self):
        return self.ca.cert

    @property
    def cert_sha256(self):
        return certs.sha256_fingerprint(self.server_cert.cert)

    @property
    def badcert_sha256(self):
        return certs.sha256_fingerprint(self.wrong_cert.cert)

    def env(self):
        users = list(self.users.items())
        return {
            "PR_TEST_IMAP_HOST": self.host,
            "PR_TEST_IMAP_PORT": str(self.port),
            "PR_TEST_IMAPS_PORT": str(self.imaps_port),
            "PR_TEST_BADCERT_PORT": str(self.badcert_port or ""),
            "PR_TEST_CA_FILE": self.ca_file,
            "PR_TEST_CERT_SHA256": self.cert_sha256,
            "PR_TEST_USER": users[0][0],
            "PR_TEST_PASSWORD": users[0][1],
            "PR_TEST_USER2": users[1][0] if len(users) > 1 else "",
            "PR_TEST_PASSWORD2": users[1][1] if len(users) > 1 else "",
            "PR_TEST_MAILDIR": self.maildir(users[0][0]),
            "PR_TEST_DOVECOT_CONF": self.conf,
            "PR_TEST_SERVERS_DIR": HERE,
            "PR_TEST_RUN_DIR": self.run_dir,
            "PR_TEST_SERVER_CERT": self.server_cert.cert,
            "PR_TEST_SERVER_KEY": self.server_cert.key,
        }

    # -- setup -------------------------------------------------------------------------
    def _make_certs(self):
        if os.path.exists(os.path.join(self.ssl_dir, "wrong.pem")):
            self.ca = certs.Cert(*(os.path.join(self.ssl_dir, "ca." + e) for e in ("pem", "key")))
        else:
            self.ca = certs.make_ca(self.ssl_dir)
            certs.make_server_cert(self.ssl_dir, self.ca)
            certs.make_self_signed(self.ssl_dir)
        self.server_cert = certs.Cert(*(os.path.join(self.ssl_dir, "server." + e)
                                        for e in ("pem", "key")))
        self.wrong_cert = certs.Cert(*(os.path.join(self.ssl_dir, "wrong." + e)
                                       for e in ("pem", "key")))
        for name in os.listdir(self.ssl_dir):
            if name.endswith(".pem"):
                os.chmod(os.path.join(self.ssl_dir, name), 0o644)

    def _chown(self, path):
        if os.geteuid() == 0:
            os.chown(path, self.mail_uid, self.mail_gid)

    def _make_maildir(self, path):
        for sub in ("", "cur", "new", "tmp"):
            d = os.path.join(path, sub)
            os.makedirs(d, exist_ok=True)
        # every directory from home down belongs to the mail user
        p = path
        while True:
            self._chown(p)
            if os.path.basename(os.path.dirname(p)) == "home" or p == self.run_dir:
                break
            p = os.path.dirname(p)
        for sub in ("cur", "new", "tmp"):
            self._chown(os.path.join(path, sub))

    def _write_passwd(self):
        path = os.path.join(self.run_dir, "passwd")
        with open(path, "w") as f:
            for user, password in self.users.items():
                if any(c in password for c in ":\n\r"):
                    raise ValueError("passwd-file passwords cannot hold ':' or newlines")
                # user:password:uid:gid:gecos:home:shell:extra (empty uid/gid: mail_uid)
                f.write(f"{user}:{{PLAIN}}{password}::::{self.home(user)}::\n")
        if os.geteuid() == 0:
            os.chown(path, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(path, 0o640)
        return path

    def _config(self, name, listeners, cert, base_dir, state_dir):
        if os.geteuid() == 0:
            users = ("default_internal_user = dovecot\n"
                     "default_login_user = dovenull\n")
        else:
            users = (f"default_internal_user = {self.mail_user}\n"
                     f"default_internal_group = {self.mail_group}\n"
                     f"default_login_user = {self.mail_user}\n"
                     "service anvil {\n  chroot =\n}\n"
                     "service imap-login {\n  chroot =\n}\n")
        dh = "ssl_dh = </usr/share/dovecot/dh.pem\n" if os.path.exists(
            "/usr/share/dovecot/dh.pem") else ""
        inet = ""
        for lname, port, tls in listeners:
            inet += (f"  inet_listener {lname} {{\n    address = {HOST}\n    port = {port}\n"
                     f"    ssl = {'yes' if tls else 'no'}\n  }}\n")
        # the default listeners we did not configure must not bind 143/993
        for lname in ("imap", "imaps"):
            if lname not in [n for n, _, _ in listeners]:
                inet += f"  inet_listener {lname} {{\n    port = 0\n  }}\n"
        passwd = os.path.join(self.run_dir, "passwd")
        log = self.log if name.startswith("pr-test-main") else self.log.replace(".log", "-2.log")
        return f"""# Generated by tests/servers/dovecot.py: a private test instance.
instance_name = {name}
base_dir = {base_dir}
state_dir = {state_dir}
protocols = imap
listen = {HOST}
log_path = {log}
info_log_path = {log}
login_greeting = Postroom test Dovecot ready.
{users}first_valid_uid = 1
first_valid_gid = 1
mail_uid = {self.mail_uid}
mail_gid = {self.mail_gid}

disable_plaintext_auth = no
auth_mechanisms = {MECHANISMS}
auth_cache_size = 0
ssl = yes
ssl_cert = <{cert.cert}
ssl_key = <{cert.key}
{dh}ssl_min_protocol = TLSv1.2

mail_location = maildir:~/Maildir
mail_save_crlf = yes
mail_max_userip_connections = 200
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}

# CONDSTORE, QRESYNC and IDLE are built into imap; COMPRESS=DEFLATE comes from imap_zlib.
protocol imap {{
  mail_plugins = $mail_plugins imap_zlib
  imap_idle_notify_interval = 10 secs
}}

service imap-login {{
{inet}}}
"""

    # -- seeding and delivery ----------------------------------------------------------
    def create_folder(self, user, folder):
        """Creates @folder (UTF-8, "/"-separated); through doveadm when running."""
        if self.running():
            self._doveadm("mailbox", "create", "-u", user, folder)
            return
        self._make_folder_dirs(self.maildir(user, folder))

    def _make_folder_dirs(self, path):
        self._make_maildir(path)
        if os.path.basename(path).startswith("."):
            marker = os.path.join(path, "maildirfolder")
            open(marker, "a").close()
            self._chown(marker)

    def seed(self, user, folders, seed=0):
        """Writes mailgen messages straight into the maildirs: {"INBOX": 2000, ...}.
        Fast; meant for before start() but safe while running (maildir delivery rules).
        Returns {folder: [mailgen.Message, ...]}."""
        made = {}
        for folder, count in folders.items():
            path = self.maildir(user, folder)
            if not os.path.isdir(os.path.join(path, "cur")):
                self._make_folder_dirs(path)
            tmpdir = os.path.join(path, "tmp")
            msgs = []
            for i in range(count):
                m = mailgen.generate(i, folder, seed)
                size = len(m.data)
                base = f"{m.date}.M{i}P{seed}.postroom-seed,S={size},W={size}"
                # every third message is new (unseen, \Recent), the others carry flags
                if i % 3 == 1:
                    final = os.path.join(path, "new", base)
                else:
                    final = os.path.join(path, "cur", base + ":2," + m.flags)
                tmp = os.path.join(tmpdir, base)
                with open(tmp, "wb") as f:
                    f.write(m.data)
                os.utime(tmp, (m.date, m.date))
                self._chown(tmp)
                os.rename(tmp, final)
                msgs.append(m)
            made[folder] = msgs
        return made

    def deliver(self, user, folder, message):
        """Saves @message (bytes) into @folder through doveadm (the instance must run)."""
        self._doveadm("save", "-u", user, "-m", folder, input_bytes=message)

    def _doveadm(self, *args, input_bytes=None):
        if not self.running():
            raise DovecotError("dovecot is not running")
        return doveadm(self.conf, *args, input_bytes=input_bytes)

    # -- start and stop ----------------------------------------------------------------
    def running(self):
        return any(p.poll() is None for p in self.procs)

    def start(self):
        if dovecot_binary() is None:
            raise DovecotError("dovecot is not installed")
        self._write_passwd()
        last = None
        for _ in range(START_ATTEMPTS):
            ports = free_ports(3 if self.badcert else 2)
            self.port, self.imaps_port = ports[0], ports[1]
            self.badcert_port = ports[2] if self.badcert else None
            try:
                self._start_instance("main", self.conf,
                                     [("imap", self.port, False),
                                      ("imaps", self.imaps_port, True)], self.server_cert)
                if self.badcert:
                    self._start_instance("badcert", self.badcert_conf,
                                         [("imaps", self.badcert_port, True)], self.wrong_cert)
                self._wait_ready()
                self._save_state()
                if self.tie_to_parent and not self._atexit_registered:
                    atexit.register(self.stop)
                    self._atexit_registered = True
                return self
            except DovecotError as e:
                last = e
                self.stop()
                if "in use" not in str(e):
                    raise
        raise DovecotError(f"could not start dovecot after {START_ATTEMPTS} attempts: {last}")

    def _start_instance(self, name, conf, listeners, cert):
        base_dir = os.path.join(self.run_dir, "run-" + name)
        if len(base_dir) > 60:  # unix socket paths there must stay under 108 bytes
            base_dir = tempfile.mkdtemp(prefix=f"pr-dovecot-{name}-", dir="/tmp")
            os.chmod(base_dir, 0o755)
            self.short_dirs.append(base_dir)
        state_dir = os.path.join(self.run_dir, "state-" + name)
        os.makedirs(state_dir, exist_ok=True)
        with open(conf, "w") as f:
            f.write(self._config(f"pr-test-{name}-{listeners[0][1]}", listeners, cert,
                                 base_dir, state_dir))
        check = subprocess.run(["doveconf", "-c", conf, "-n"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        if check.returncode != 0:
            raise DovecotError(f"doveconf {conf}: {check.stderr.decode().strip()}")
        errlog = open(os.path.join(self.run_dir, f"master-{name}.stderr"), "ab")
        proc = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", conf],
            stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog,
            start_new_session=True,  # its own process group: stop() kills exactly it
            preexec_fn=set_pdeathsig if self.tie_to_parent else None,
        )
        errlog.close()
        self.procs.append(proc)

    def _master_failed(self):
        for p in self.procs:
            if p.poll() is not None:
                text = ""
                for name in os.listdir(self.run_dir):
                    if name.startswith("master-") or name == "dovecot.log":
                        with open(os.path.join(self.run_dir, name), errors="replace") as f:
                            text += f.read()[-3000:]
                return text or f"dovecot exited with {p.returncode}"
        return None

    def _wait_ready(self, timeout=20):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        wrong_ctx = ssl.create_default_context(cafile=self.wrong_cert.cert)
        wrong_ctx.check_hostname = False
        checks = [(self.port, None), (self.imaps_port, ctx)]
        if self.badcert:
            checks.append((self.badcert_port, wrong_ctx))
        deadline = time.monotonic() + timeout
        while checks:
            failed = self._master_failed()
            if failed:
                raise DovecotError(failed)
            port, context = checks[0]
            try:
                with socket.create_connection((HOST, port), timeout=2) as s:
                    if context:
                        with context.wrap_socket(s, server_hostname=HOST) as t:
                            greeting = t.recv(200)
                    else:
                        greeting = s.recv(200)
                if greeting.startswith(b"* OK"):
                    checks.pop(0)
                    continue
            except (OSError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                raise DovecotError(f"dovecot did not answer on port {port}; see {self.log}")
            time.sleep(0.05)

    def _save_state(self):
        state = {"pids": [p.pid for p in self.procs], "env": self.env(),
                 "confs": [self.conf, self.badcert_conf]}
        with open(os.path.join(self.run_dir, "fixture.json"), "w") as f:
            json.dump(state, f, indent=1)

    def stop(self):
        """Stops the masters we started and anything left in their process groups."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            _kill_group(p.pid)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []

    def cleanup(self):
        """stop() and remove the run directory if we made it."""
        self.stop()
        for d in self.short_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self.owns_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def _kill_group(pgid):
    """SIGKILL whatever is left in process group @pgid (the group of a master we started)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def parse_seed(text):
    """"INBOX=2000,Archive=50" -> {"INBOX": 2000, "Archive": 50}."""
    folders = {}
    for item in filter(None, (text or "").split(",")):
        name, _, count = item.rpartition("=")
        if not name or not count.isdigit():
            raise ValueError(f"bad --seed item {item!r}: want FOLDER=COUNT")
        folders[name] = int(count)
    return folders


def _cli_stop(run_dir):
    path = os.path.join(run_dir, "fixture.json")
    if not os.path.exists(path):
        print(f"no fixture state in {run_dir}", file=sys.stderr)
        return 1
    with open(path) as f:
        state = json.load(f)
    for pid in state["pids"]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        if not any(c.encode() in cmdline for c in state["confs"]):
            continue  # the pid was reused by something that is not ours
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        _kill_group(pid)
    os.unlink(path)
    return 0


def doveadm(conf, *args, input_bytes=None):
    """Runs doveadm against the instance of @conf; returns stdout (bytes)."""
    r = subprocess.run([doveadm_binary(), "-c", conf, *args], input=input_bytes,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise DovecotError(f"doveadm {' '.join(args)} failed: {r.stderr.decode().strip()}")
    return r.stdout


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["start", "stop", "env", "deliver", "create-folder"])
    ap.add_argument("run_dir", help="run directory, or for deliver/create-folder the config "
                    "(PR_TEST_DOVECOT_CONF)")
    ap.add_argument("user", nargs="?")
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--seed", default="", help="FOLDER=COUNT,... for user alice")
    ap.add_argument("--no-badcert", action="store_true")
    args = ap.parse_args(argv)
    if args.action == "stop":
        return _cli_stop(args.run_dir)
    if args.action in ("deliver", "create-folder"):
        if not args.user or not args.folder:
            ap.error(args.action + " needs USER and FOLDER")
        conf = args.run_dir
        if os.path.isdir(conf):
            conf = os.path.join(conf, "dovecot.conf")
        if args.action == "deliver":  # the message comes on stdin
            doveadm(conf, "save", "-u", args.user, "-m", args.folder,
                    input_bytes=sys.stdin.buffer.read())
        else:
            doveadm(conf, "mailbox", "create", "-u", args.user, args.folder)
        return 0
    if args.action == "env":
        with open(os.path.join(args.run_dir, "fixture.json")) as f:
            env = json.load(f)["env"]
    else:
        if dovecot_binary() is None:
            print("dovecot is not installed", file=sys.stderr)
            return 77
        d = Dovecot(args.run_dir, badcert=not args.no_badcert, tie_to_parent=False)
        d.seed("alice", parse_seed(args.seed))
        d.start()
        env = d.env()
    for k, v in env.items():
        print(f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
