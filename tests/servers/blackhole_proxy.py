#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TCP proxy on 127.0.0.1 that can go silent, for liveness (watchdog) tests.

    with BlackholeProxy("127.0.0.1", 993) as p:   # listens on 127.0.0.1:p.port
        ...                                        # forwards both ways
        p.silence()   # every connection, open or new, becomes a black hole
        p.forward()   # new connections forward again; the silenced ones stay silent

Silent means what a dead NAT entry or a crashed middlebox looks like to the client: no
byte goes either way, no FIN, no RST. Every accepted socket stays open, new connections are
still accepted (and hang the same way, without an upstream connection), and what arrives is
read and dropped so that a side closing its socket can be noticed: when the client closes a
silenced connection, its upstream is closed too; when the server closes one, the client is
not told. forward() applies to connections accepted after it only, so a client has to
notice the silence and reconnect to get through again.

Threads: one accepting, two per connection (one per direction); all are daemon threads and
stop() closes every socket. Standard library only.
"""

import socket
import sys
import threading

CHUNK = 65536


class _Link:
    """An accepted client connection and its upstream (None when accepted while silent)."""

    def __init__(self, client, upstream, silent):
        self.client = client
        self.upstream = upstream
        self.silent = silent
        self.closed = False


class BlackholeProxy:
    def __init__(self, target_host, target_port, host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.host = host
        self.port = None
        self.accepted = 0          # connections accepted, whatever the mode
        self.accepted_silent = 0   # of which while silent
        self._silent = False
        self._lock = threading.Lock()
        self._links = []
        self._listener = None
        self._thread = None
        self._stopping = False

    # -- life cycle --
    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)  # accept() wakes up to see stop()
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="blackhole-accept",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            self._close(link)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- modes --
    def silence(self):
        """Stops forwarding on every open connection and on every new one."""
        with self._lock:
            self._silent = True
            for link in self._links:
                link.silent = True

    def forward(self):
        """Connections accepted from now on forward; the silenced ones stay silent."""
        with self._lock:
            self._silent = False

    @property
    def silent(self):
        return self._silent

    def open_connections(self):
        """Counts of the connections still open on the client side: (forwarding, silenced
        after they were established, accepted while silent)."""
        with self._lock:
            live = [link for link in self._links if not link.closed]
        hung = sum(1 for link in live if link.upstream is None)
        silenced = sum(1 for link in live if link.silent and link.upstream is not None)
        return len(live) - hung - silenced, silenced, hung

    # -- internals --
    def _accept_loop(self):
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                silent = self._silent
                self.accepted += 1
                if silent:
                    self.accepted_silent += 1
            upstream = None
            if not silent:
                try:
                    upstream = socket.create_connection(self.target, timeout=10)
                    upstream.settimeout(None)
                except OSError as e:
                    print(f"blackhole_proxy: upstream {self.target}: {e}", file=sys.stderr)
                    client.close()
                    continue
            link = _Link(client, upstream, silent)
            with self._lock:
                if self._silent:  # silence() came while connecting upstream
                    link.silent = True
                self._links.append(link)
            self._pump(link, client, upstream, from_client=True)
            if upstream is not None:
                self._pump(link, upstream, client, from_client=False)

    def _pump(self, link, src, dst, from_client):
        threading.Thread(target=self._pump_loop, args=(link, src, dst, from_client),
                         name="blackhole-pump", daemon=True).start()

    def _pump_loop(self, link, src, dst, from_client):
        while True:
            try:
                data = src.recv(CHUNK)
            except OSError:
                data = b""
            if not data:
                break
            if link.silent or dst is None:
                continue  # swallowed
            try:
                dst.sendall(data)
            except OSError:
                break
        if link.silent and not from_client:
            # the server went away from a silenced connection: the client must not hear it
            self._shut(link.upstream)
            return
        self._close(link)

    @staticmethod
    def _shut(sock):
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _close(self, link):
        with self._lock:
            if link.closed:
                return
            link.closed = True
        self._shut(link.client)
        self._shut(link.upstream)


if __name__ == "__main__":
    # a manual check: blackhole_proxy.py HOST PORT; Enter toggles silent/forward
    proxy = BlackholeProxy(sys.argv[1], int(sys.argv[2])).start()
    print(f"listening on 127.0.0.1:{proxy.port}, forwarding (Enter toggles)")
    try:
        for _ in sys.stdin:
            if proxy.silent:
                proxy.forward()
            else:
                proxy.silence()
            print("silent" if proxy.silent else "forwarding (new connections)")
    except KeyboardInterrupt:
        pass
    proxy.stop()
