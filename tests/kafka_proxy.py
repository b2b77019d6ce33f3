"""A TCP proxy the test controls, to cut services off from the broker and bring them back.

Kafka clients connect to the bootstrap address and then to the address the broker
*advertises*, so to sit in the path the proxy must be that advertised address: start a broker
that listens on one port and advertises the proxy's port (see tests/kafka_broker.py).

The proxy runs in its own threads, so it keeps working whatever the test's event loop does.

- ``cut()`` drops every open connection (RST) and, until ``restore()``, either refuses new
  ones (accept, then reset at once: ``mode="refuse"``) or swallows them (accept, read and
  discard, never answer: ``mode="blackhole"``, what a network partition looks like).
- ``restore()`` lets new connections through again; the clients reconnect by themselves.
"""
from __future__ import annotations

import selectors
import socket
import struct
import threading
from typing import Literal

Mode = Literal["refuse", "blackhole"]


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees the connection die, as in a real outage."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _shutdown(sock: socket.socket) -> None:
    """Wake whichever thread is blocked on `sock`; that thread then closes it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class TcpProxy:
    def __init__(self, upstream: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0)):
        self.upstream = upstream
        self._listener = socket.create_server(listen, reuse_port=False, backlog=128)
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()  # every socket a pump thread owns
        self._blackholed: set[socket.socket] = set()
        self._cut: Mode | None = None
        self._closed = False
        self._accept_thread: threading.Thread | None = None
        self.accepted = 0
        self.refused = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._cut is not None

    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns) // 2

    # -- control ------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True, name=f"proxy-{self.port}")
        self._accept_thread.start()
        return self

    def cut(self, mode: Mode = "refuse") -> None:
        with self._lock:
            self._cut = mode
            conns = list(self._conns)
        for sock in conns:
            _shutdown(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = None
            held = list(self._blackholed)
            self._blackholed.clear()
        for sock in held:  # the clients gave up on these long ago; let them see it
            _reset(sock)

    def close(self) -> None:
        self._closed = True
        self.cut("refuse")
        _shutdown(self._listener)
        self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(5)
        self.restore()

    # -- plumbing -----------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                continue
            with self._lock:
                mode = self._cut
                if mode == "blackhole":
                    self._blackholed.add(client)
            if mode == "refuse":
                self.refused += 1
                _reset(client)
            elif mode == "blackhole":
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
            else:
                self.accepted += 1
                threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _swallow(self, client: socket.socket) -> None:
        try:
            while client.recv(65536):
                pass
        except OSError:
            pass
        with self._lock:
            self._blackholed.discard(client)
        _reset(client)

    def _pump(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        server.settimeout(None)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._cut is not None:  # cut while we were connecting
                _reset(client)
                _reset(server)
                return
            self._conns.update((client, server))
        peer = {client: server, server: client}
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ)
        sel.register(server, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select():
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(65536)
                    if not data or self._cut is not None:
                        return
                    peer[src].sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            with self._lock:
                self._conns.discard(client)
                self._conns.discard(server)
            _reset(client)
            _reset(server)
