#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""No password anywhere it should not be: with G_MESSAGES_DEBUG=all and --verbose, run the
account, sync, probe and wrong-password flows while dbus-monitor records the whole bus;
then the passwords must appear in no daemon output, in no bus message other than the
client's own SetPassword/ProbeServer method calls, in no file of the daemon's
XDG_DATA_HOME/XDG_CONFIG_HOME, not in the keyring's files in clear, not in the daemon's
argv or environment, and in no property or operation Result."""

import os
import signal
import struct
import subprocess

import harness
from harness import ERR, MANAGER, ROOT, SERVICE, GLib, Gio, Stack

V = GLib.Variant
PASSWORD = "pr-LEAK-7f3a9c wombat"     # alice's real password
WRONG = "pr-WRONG-41b2d8 numbat"       # a wrong one, which must not leak either
SECRETS = {"right": PASSWORD.encode(), "wrong": WRONG.encode()}
CARRIERS = ("SetPassword", "ProbeServer")  # the only messages allowed to hold a password


def read_pcap(path):
    """The D-Bus messages of a dbus-monitor --pcap file: [(raw bytes, Gio.DBusMessage)]."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic == b"\xd4\xc3\xb2\xa1" else ">"
    if struct.unpack(endian + "I", magic)[0] != 0xA1B2C3D4:
        raise AssertionError("not a pcap file")
    out, pos = [], 24
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        blob = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        try:
            message = Gio.DBusMessage.new_from_blob(blob, Gio.DBusCapabilityFlags.UNIX_FD_PASSING)
        except GLib.Error:
            message = None
        out.append((blob, message))
    return out


def holds_secret(path):
    with open(path, "rb") as f:
        data = f.read()
    return any(secret in data for secret in SECRETS.values())


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


class SecretsLeakTest(harness.TestCase):
    def setUp(self):
        self.stack = Stack(seed={"INBOX": 8, "Archive": 2}, start=False,
                           users={"alice": PASSWORD, "bob": "builder"})
        self.stack.__enter__()
        self.addCleanup(self.stack.__exit__, None, None, None)
        self.capture = os.path.join(self.stack.dir, "bus.pcap")
        self.monitor_out = open(self.capture, "wb")
        self.monitor = subprocess.Popen(
            ["dbus-monitor", "--address", self.stack.address, "--pcap"],
            stdout=self.monitor_out, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_monitor)
        self.sentinel("started")
        super().setUp()

    def stop_monitor(self):
        if self.monitor.poll() is None:
            self.monitor.terminate()
            self.monitor.wait(timeout=30)
        self.monitor_out.close()

    def sentinel(self, text):
        """Emits a signal until dbus-monitor wrote it (the monitor may not be listening yet):
        then everything sent before it is on disk."""
        s, marker = self.stack, f"pr-sentinel-{text}".encode()

        def written():
            s.conn.emit_signal(None, "/org/postroom/Test", "org.postroom.Test", "Sentinel",
                               V("(s)", (marker.decode(),)))
            s.conn.flush_sync(None)
            with open(self.capture, "rb") as f:
                return marker in f.read()
        s.wait_until(written, 30, "dbus-monitor to record the sentinel", interval=0.2)

    def run_flows(self):
        s = self.stack
        s.start_daemon()
        svc = s.add_account(id="leak", folder_sync="all")
        s.set_password(svc, PASSWORD)
        s.set_password(svc, PASSWORD, protocol="smtp")
        s.full_sync(svc)
        ids = [i for i, _ in s.list_messages(svc, "INBOX", limit=V("u", 2))]
        s.run(svc, "GetMail", V("(a{sv})", ({"action": V("s", "populate"),
                                              "messages": V("s", "selection"),
                                              "ids": V("at", ids)},)))
        _, fds = s.call_fds(svc, SERVICE, "GetMessage", V("(ta{sv})", (ids[0], {})))
        for fd in fds:
            os.close(fd)
        s.wait_op(s.disconnect(svc))
        s.wait_op(s.connect_and_sync(svc, "connect"))
        s.wait_op(s.op(svc, "WaitForBackground", V("(a{sv})", ({},))))
        s.wait_op(s.disconnect(svc))

        def probe(password, **extra):
            settings = {"host": s.server.host, "port": s.server.imaps_port,
                        "tls-ca-file": s.server.ca_file, "user": s.user, "password": password}
            settings.update(extra)
            return s.call(ROOT, MANAGER, "ProbeServer",
                          V("(a{sv})", (harness.settings_dict(settings),)))[0]

        self.probes = [probe(PASSWORD),
                       probe(PASSWORD, port=s.server.port, security="starttls"),
                       probe(WRONG)]
        s.wait_op(self.probes[0])
        s.wait_op(self.probes[1])
        self.assertEqual(s.wait_op_error(self.probes[2]).name, ERR + "LoginFailed")

        bad = s.add_account(id="leak_wrong")
        s.set_password(bad, WRONG)
        self.assertEqual(s.wait_op_error(s.connect(bad)).name, ERR + "LoginFailed")
        self.assertEqual(s.wait_op_error(s.connect_and_sync(bad)).name, ERR + "LoginFailed")
        s.call(bad, SERVICE, "ClearPassword", V("(s)", ("imap",)))
        s.call(ROOT, MANAGER, "RemoveService", V("(oa{sv})", (bad, {})))

        # the password read back from the keyring after a restart
        s.restart_daemon()
        s.wait_op(s.connect(svc))
        self.assertTrue(s.prop(svc, SERVICE, "Connected"))
        self.objects = repr(s.managed_objects()) + repr(s.call(svc, SERVICE, "GetSettings"))
        self.daemon_proc = (self.read_proc("cmdline"), self.read_proc("environ"))
        s.kill_daemon(signal.SIGTERM)
        self.sentinel("done")
        self.stop_monitor()

    def read_proc(self, name):
        with open(f"/proc/{self.stack.daemon.pid}/{name}", "rb") as f:
            return f.read()

    def test_no_password_leaks(self):
        s = self.stack
        self.run_flows()

        with open(s.log_path, "rb") as f:
            log = f.read()
        self.assertGreater(len(log), 1000, "the daemon wrote hardly any log: debug output off?")
        self.assertIn(b"DEBUG", log)
        for what, secret in SECRETS.items():
            self.assertNotIn(secret, log, f"the {what} password is in the daemon's output")
            self.assertNotIn(secret, self.daemon_proc[0], f"the {what} password is in argv")
            self.assertNotIn(secret, self.daemon_proc[1], f"the {what} password is in environ")
            self.assertNotIn(secret.decode(), self.objects,
                             f"the {what} password is in a property or the settings")

        carriers = {("right", "SetPassword"): 0, ("right", "ProbeServer"): 0,
                    ("wrong", "SetPassword"): 0, ("wrong", "ProbeServer"): 0}
        members = set()
        for blob, message in read_pcap(self.capture):
            if message is not None:
                members.add(message.get_member())
            for what, secret in SECRETS.items():
                if secret not in blob:
                    continue
                self.assertIsNotNone(message, f"an unparsable message holds the {what} password")
                kind = message.get_message_type()
                desc = (f"{kind.value_nick} {message.get_interface()}.{message.get_member()} "
                        f"from {message.get_sender()} to {message.get_destination()}")
                self.assertEqual(kind, Gio.DBusMessageType.METHOD_CALL,
                                 f"the {what} password is in a {desc}")
                self.assertIn(message.get_member(), CARRIERS, f"the {what} password in {desc}")
                carriers[(what, message.get_member())] += 1
        self.assertEqual([k for k, n in carriers.items() if n == 0], [],
                         "the capture misses the client's own calls: is it complete?")
        self.assertIn("CreateItem", members, "the keyring traffic was not captured")
        self.assertTrue(members & {"GetSecrets", "GetSecret"},
                        "the password lookups were not captured")

        for root in (s.data_home, s.config_home):
            found = [p for p in files_under(root) if holds_secret(p)]
            self.assertEqual(found, [], f"files under {root} hold a password")
        self.assertTrue(os.path.exists(os.path.join(s.store_dir("leak"), "store.db")))
        keyrings = os.path.join(s.session.dir, "home", ".local", "share", "keyrings")
        keyring_files = list(files_under(keyrings))
        self.assertTrue(keyring_files, "the keyring wrote no file")
        found = [p for p in keyring_files if holds_secret(p)]
        self.assertEqual(found, [], "a keyring file holds a password in clear")


if __name__ == "__main__":
    harness.main()
