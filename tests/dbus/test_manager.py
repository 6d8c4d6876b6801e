#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""org.postroom.Postroom1.Manager over the bus: Version, AddService, RemoveService,
ProbeServer, the ObjectManager, and accounts across a daemon restart (dbus-api.md)."""

import os
import re
import subprocess

import harness
from harness import (ERR, MANAGER, OBJECT_MANAGER, OPERATION, ROOT, SERVICE, SERVICES,
                     GLib, Stack, settings_dict)

SEED = {"INBOX": 12, "Archive": 4, "Lists/dovecot": 2}
PROBE_RESULT_TYPES = {
    "capabilities": "as", "security": "s", "certificate-sha256": "s",
    "certificate-subject": "s", "certificate-trusted": "b", "auth-mechanisms": "as",
    "authenticated": "b", "folders": "u",
}


def names_key(message, key):
    """Whether @message names @key as a word of its own (not inside another word)."""
    return re.search(r"(?<![\w-])" + re.escape(key) + r"(?![\w-])", message) is not None


class ManagerTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(seed=SEED)
        cls.stack.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def services(self):
        return sorted(p for p, ifaces in self.stack.managed_objects().items()
                      if SERVICE in ifaces)

    def configured_ids(self):
        out = self.stack.gsettings("get", "org.postroom.Postroom1", "services")
        return re.findall(r"'([^']*)'", out)

    def probe(self, **settings):
        s = self.stack
        return s.call(ROOT, MANAGER, "ProbeServer",
                      GLib.Variant("(a{sv})", (settings_dict(settings),)))[0]

    # -- Version --
    def test_version(self):
        props = self.stack.props_raw(ROOT, MANAGER)
        self.assertType(props["Version"], "s", "Version")
        out = subprocess.run([harness.POSTROOMD, "--version"], capture_output=True, text=True,
                             timeout=30).stdout.split()
        self.assertEqual(props["Version"].unpack(), out[-1])

    # -- AddService --
    def test_add_service_with_chosen_id(self):
        s = self.stack
        path = s.add_account(id="chosen_1", display_name="Chosen One")
        self.assertEqual(path, SERVICES + "chosen_1")
        self.assertIn(path, self.services())
        props = s.props(path, SERVICE)
        self.assertEqual(props["Id"], "chosen_1")
        self.assertEqual(props["DisplayName"], "Chosen One")
        settings = s.call(path, SERVICE, "GetSettings")[0]
        self.assertEqual(settings["host"], s.server.host)
        self.assertEqual(settings["user"], s.user)
        self.assertEqual(settings["port"], s.server.imaps_port)
        self.assertIn("chosen_1", self.configured_ids())
        # the id is taken now
        self.assertCallFails("InvalidArgument", s.add_account, id="chosen_1")

    def test_add_service_makes_an_id(self):
        s = self.stack
        path = s.add_account(user="bob")
        m = re.fullmatch(re.escape(SERVICES) + r"([a-z0-9_]+)", path)
        self.assertIsNotNone(m, path)
        self.assertEqual(s.prop(path, SERVICE, "Id"), m.group(1))
        # a second account of the same user and host gets another id
        other = s.add_account(user="bob")
        self.assertNotEqual(other, path)
        self.assertRegex(other, re.escape(SERVICES) + r"[a-z0-9_]+$")

    def test_add_service_rejects_bad_values_naming_the_key(self):
        s = self.stack
        V = GLib.Variant
        cases = [
            ("host", {"user": V("s", "alice")}),
            ("user", {"host": V("s", "127.0.0.1")}),
            ("colour", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                        "colour": V("s", "blue")}),
            ("port", {"host": V("s", "127.0.0.1"), "user": V("s", "a"), "port": V("s", "993")}),
            ("timeout", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                         "timeout": V("i", 30)}),
            ("security", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                          "security": V("s", "foo")}),
            ("folder-sync", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                             "folder-sync": V("s", "some")}),
            ("security", {"host": V("s", "mail.example.org"), "user": V("s", "a"),
                          "security": V("s", "none")}),
            ("tls-pinned-certificate", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                                        "tls-pinned-certificate": V("s", "ab:cd:ef")}),
            ("tls-pinned-certificate", {"host": V("s", "127.0.0.1"), "user": V("s", "a"),
                                        "tls-pinned-certificate": V("s", "z" * 64)}),
        ]
        before_objects, before_ids = self.services(), self.configured_ids()
        for key, settings in cases:
            with self.subTest(key=key, settings=sorted(settings)):
                e = self.assertCallFails("InvalidArgument", s.add_service, settings)
                self.assertTrue(names_key(e.message, key),
                                f"the error does not name {key!r}: {e.message!r}")
        bad_id = {"host": V("s", "127.0.0.1"), "user": V("s", "a"), "id": V("s", "Bad-Id")}
        self.assertCallFails("InvalidArgument", s.add_service, bad_id)
        self.assertEqual(self.services(), before_objects, "a rejected AddService made an object")
        self.assertEqual(self.configured_ids(), before_ids, "a rejected AddService was stored")

    def test_add_service_accepts_insecure_when_allowed_and_pins_in_any_case(self):
        s = self.stack
        path = s.add_account(host="mail.example.org", security="none", allow_insecure=True)
        self.assertIn(path, self.services())
        pin = s.server.cert_sha256.upper()
        pin = ":".join(pin[i:i + 2] for i in range(0, 64, 2))
        path = s.add_account(tls_pinned_certificate=pin)
        got = s.call(path, SERVICE, "GetSettings")[0]["tls-pinned-certificate"]
        self.assertEqual(got.replace(":", "").lower(), s.server.cert_sha256)

    # -- the ObjectManager --
    def test_object_manager_announces_services(self):
        s = self.stack
        mark = s.mark()
        path = s.add_account(id="announced", display_name="Announced")
        sig = s.wait_signal("InterfacesAdded", path=ROOT, interface=OBJECT_MANAGER, since=mark,
                            match=lambda x: x.args[0] == path, timeout=30)
        self.assertIn(SERVICE, sig.args[1])
        self.assertEqual(sig.args[1][SERVICE]["Id"], "announced")
        self.assertEqual(sig.args[1][SERVICE]["DisplayName"], "Announced")
        mark = s.mark()
        s.call(ROOT, MANAGER, "RemoveService", GLib.Variant("(oa{sv})", (path, {})))
        sig = s.wait_signal("InterfacesRemoved", path=ROOT, interface=OBJECT_MANAGER,
                            since=mark, match=lambda x: x.args[0] == path, timeout=30)
        self.assertIn(SERVICE, sig.args[1])
        self.assertNotIn(path, self.services())

    # -- RemoveService --
    def test_remove_service_removes_everything(self):
        s = self.stack
        marker = "Remove Me 7731"
        path = s.account(id="doomed", display_name=marker, folder_sync="all")
        s.set_password(path, "smtp-secret-7731", protocol="smtp")
        s.full_sync(path)
        store = s.store_dir("doomed")
        self.assertTrue(os.path.exists(os.path.join(store, "store.db")))
        self.assertEqual(s.secret_lookup("doomed"), s.password)
        self.assertEqual(s.secret_lookup("doomed", "smtp"), "smtp-secret-7731")
        self.assertIn("doomed", self.configured_ids())

        s.call(ROOT, MANAGER, "RemoveService", GLib.Variant("(oa{sv})", (path, {})))
        self.assertNotIn(path, self.services())
        self.assertNoObject(path, SERVICE)
        self.assertNotIn("doomed", self.configured_ids())
        reloc = "org.postroom.Imap4Service:" + SERVICES + "doomed/"
        self.assertEqual(s.gsettings("get", reloc, "display-name").strip(), "''")
        self.assertEqual(s.gsettings("get", reloc, "host").strip(), "''")
        keyfile = os.path.join(s.config_home, "glib-2.0", "settings", "keyfile")
        if os.path.exists(keyfile):
            with open(keyfile, encoding="utf-8") as f:
                self.assertNotIn(marker, f.read())
        self.assertIsNone(s.secret_lookup("doomed"), "the IMAP password is still stored")
        self.assertIsNone(s.secret_lookup("doomed", "smtp"), "the SMTP password is still stored")
        self.assertFalse(os.path.exists(store), "the store directory is still there")

    def test_remove_service_not_found(self):
        s = self.stack
        for path in (SERVICES + "nope", ROOT, "/org/postroom/Postroom1/operations/1"):
            with self.subTest(path=path):
                self.assertCallFails("NotFound", s.call, ROOT, MANAGER, "RemoveService",
                                     GLib.Variant("(oa{sv})", (path, {})))

    def test_remove_service_unknown_option(self):
        s = self.stack
        path = s.add_account(id="kept")
        self.assertCallFails("InvalidArgument", s.call, ROOT, MANAGER, "RemoveService",
                             GLib.Variant("(oa{sv})", (path, {"force": GLib.Variant("b", True)})))
        self.assertIn(path, self.services())

    # -- ProbeServer --
    def test_probe_success(self):
        s = self.stack
        before_objects, before_ids = self.services(), self.configured_ids()
        op = self.probe(host=s.server.host, port=s.server.imaps_port, security="tls",
                        tls_ca_file=s.server.ca_file, user=s.user, password=s.password)
        self.assertTrue(op.startswith(harness.OPERATIONS), op)
        s.wait_op(op)
        raw = s.props_raw(op, OPERATION)
        self.assertEqual(raw["Kind"].unpack(), "probe")
        self.assertEqual(raw["State"].unpack(), "succeeded")
        self.assertVardictTypes(raw["Result"], PROBE_RESULT_TYPES, "probe Result")
        r = raw["Result"].unpack()
        self.assertIn("IMAP4REV1", [c.upper() for c in r["capabilities"]])
        self.assertEqual(r["security"], "tls")
        self.assertEqual(r["certificate-sha256"], s.server.cert_sha256)
        self.assertTrue(r["certificate-trusted"])
        self.assertTrue(r["authenticated"])
        self.assertIn("PLAIN", [m.upper() for m in r["auth-mechanisms"]])
        with s.server_view() as v:
            self.assertEqual(r["folders"], len(v.folders()), "folders: every mailbox LIST gives")
        self.assertEqual(self.services(), before_objects, "a probe made an account")
        self.assertEqual(self.configured_ids(), before_ids, "a probe stored settings")

    def test_probe_wrong_password(self):
        s = self.stack
        op = self.probe(host=s.server.host, port=s.server.imaps_port, security="tls",
                        tls_ca_file=s.server.ca_file, user=s.user, password="not the password")
        e = s.wait_op_error(op)
        self.assertEqual(e.name, ERR + "LoginFailed")
        props = s.props(op, OPERATION)
        self.assertEqual(props["State"], "failed")
        self.assertEqual(props["Error"][0], ERR + "LoginFailed")

    def test_probe_untrusted_certificate(self):
        s = self.stack
        op = self.probe(host=s.server.host, port=s.server.badcert_port, security="tls",
                        user=s.user, password=s.password)
        e = s.wait_op_error(op)
        self.assertEqual(e.name, ERR + "CertificateUntrusted")
        self.assertIn(s.server.badcert_sha256, e.message.replace(":", "").lower(),
                      "the error message gives the fingerprint")
        self.assertIn("wrong.example", e.message, "the error message gives the subject")
        raw = s.props_raw(op, OPERATION)
        self.assertEqual(raw["State"].unpack(), "failed")
        self.assertEqual(raw["Error"].unpack()[0], ERR + "CertificateUntrusted")
        got = self.assertVardictTypes(raw["Result"], {"certificate-sha256": "s",
                                                      "certificate-subject": "s",
                                                      "certificate-trusted": "b"},
                                      "probe Result of an untrusted certificate")
        self.assertTrue(got)
        r = raw["Result"].unpack()
        self.assertEqual(r["certificate-sha256"], s.server.badcert_sha256)
        self.assertIn("wrong.example", r["certificate-subject"])
        self.assertFalse(r["certificate-trusted"])

    def test_probe_bad_arguments(self):
        s = self.stack
        e = self.assertCallFails("InvalidArgument", self.probe, port=s.server.imaps_port)
        self.assertTrue(names_key(e.message, "host"), e.message)
        e = self.assertCallFails("InvalidArgument", self.probe, host=s.server.host,
                                 nonsense=GLib.Variant("s", "x"))
        self.assertTrue(names_key(e.message, "nonsense"), e.message)

    # -- restart --
    def test_accounts_survive_restart(self):
        s = self.stack
        a = s.account(id="survivor_a", display_name="Survivor A", folder_sync="all")
        b = s.add_account(id="survivor_b", user="bob", timeout=42)
        s.full_sync(a)
        before_a = s.call(a, SERVICE, "GetSettings")[0]
        before_b = s.call(b, SERVICE, "GetSettings")[0]
        messages = s.list_messages(a, "INBOX")
        self.assertEqual(len(messages), SEED["INBOX"])

        s.restart_daemon()
        self.assertIn(a, self.services())
        self.assertIn(b, self.services())
        self.assertEqual(s.prop(a, SERVICE, "DisplayName"), "Survivor A")
        self.assertEqual(s.call(a, SERVICE, "GetSettings")[0], before_a)
        self.assertEqual(s.call(b, SERVICE, "GetSettings")[0], before_b)
        self.assertEqual(s.list_messages(a, "INBOX"), messages, "the store (read offline)")
        self.assertFalse(s.prop(a, SERVICE, "Connected"))
        s.full_sync(a)  # the password is still in the keyring
        self.assertTrue(s.prop(a, SERVICE, "Connected"))


if __name__ == "__main__":
    harness.main()
