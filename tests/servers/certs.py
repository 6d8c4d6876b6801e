#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Throwaway TLS material for the test servers, made with the openssl command.

    ca = make_ca(dir)                          # ca.pem / ca.key
    server = make_server_cert(dir, ca)         # server.pem / server.key for 127.0.0.1, localhost
    wrong = make_self_signed(dir)              # wrong.pem / wrong.key, CN wrong.example
    sha256_fingerprint(server.cert)            # 64 lower-case hex of the DER certificate

Run as a script: certs.py DIR makes all three and prints the fingerprints.
"""

import hashlib
import os
import secrets
import ssl
import subprocess
import sys
from collections import namedtuple

Cert = namedtuple("Cert", "cert key")

DAYS = "30"
# EC P-256 keys: generation is instant and GnuTLS, OpenSSL and Dovecot all accept them.
KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args, input_text=None):
    subprocess.run(
        ["openssl", *args],
        check=True,
        input=input_text,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _serial():
    return "0x" + secrets.token_hex(8)


def make_ca(directory, name="ca", cn="Postroom Test CA"):
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    _openssl("req", "-x509", *KEY_ARGS, "-days", DAYS, "-set_serial", _serial(),
             "-subj", "/O=Postroom tests/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", key, "-out", cert)
    os.chmod(key, 0o600)
    return Cert(cert, key)


def make_server_cert(directory, ca, name="server", cn="localhost",
                     alt_names=("IP:127.0.0.1", "DNS:localhost")):
    """A leaf certificate signed by @ca (a Cert), valid for @alt_names."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    csr, ext = os.path.join(directory, name + ".csr"), os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=" + ",".join(alt_names) + "\n")
    _openssl("req", *KEY_ARGS, "-subj", "/O=Postroom tests/CN=" + cn, "-keyout", key, "-out", csr)
    _openssl("x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial",
             _serial(), "-days", DAYS, "-extfile", ext, "-out", cert)
    os.unlink(csr)
    os.unlink(ext)
    os.chmod(key, 0o600)
    return Cert(cert, key)


def make_self_signed(directory, name="wrong", cn="wrong.example"):
    """A self-signed leaf for @cn only: untrusted by the test CA and wrong for 127.0.0.1."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    _openssl("req", "-x509", *KEY_ARGS, "-days", DAYS, "-set_serial", _serial(),
             "-subj", "/CN=" + cn,
             "-addext", "subjectAltName=DNS:" + cn,
             "-addext", "extendedKeyUsage=serverAuth",
             "-keyout", key, "-out", cert)
    os.chmod(key, 0o600)
    return Cert(cert, key)


def sha256_fingerprint(pem_path):
    """SHA-256 of the (first) certificate's DER encoding, 64 lower-case hex digits."""
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def make_all(directory):
    """CA, CA-signed server certificate and the wrong self-signed one; returns a dict."""
    ca = make_ca(directory)
    server = make_server_cert(directory, ca)
    wrong = make_self_signed(directory)
    return {"ca": ca, "server": server, "wrong": wrong}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: certs.py DIR")
    made = make_all(sys.argv[1])
    for label, c in made.items():
        print(f"{label}: {c.cert} {sha256_fingerprint(c.cert)}")
