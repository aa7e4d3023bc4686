"""A loopback TCP proxy in front of a chain node's JSON-RPC port, to stage outages a test controls.

    with RpcProxy() as proxy:
        url = proxy.start("http://127.0.0.1:8545")   # give ``url`` to the node instead of the real one
        proxy.refuse()    # no listener: new connections are refused, open ones reset
        proxy.drop()      # connections accepted and requests passed on, but no answer ever comes back
        proxy.restore()   # forward new connections again (on the same port)

``drop`` is the nastier outage: a transaction sent meanwhile reaches the chain, yet its sender never hears
so; and a connection that lived through it stays mute after ``restore`` (as after a network partition), so
only a client that gives up on its own comes back. Plain threads and sockets: nothing but the standard
library.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = ["ProxyMode", "RpcProxy"]

_CHUNK = 65536
_TICK = 0.05  # seconds the accept loop waits before looking at its listener again


class ProxyMode(StrEnum):
    UP = "up"
    REFUSE = "refuse"
    DROP = "drop"


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (and wake a thread blocked reading it)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Link:
    """One client connection and its upstream connection, pumped by two threads."""

    def __init__(self, proxy: RpcProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.mute = proxy.mode is ProxyMode.DROP  # answers are swallowed for good
        self._closed = threading.Event()

    def start(self) -> None:
        for source, target, answers in ((self.client, self.upstream, False), (self.upstream, self.client, True)):
            threading.Thread(target=self._pump, args=(source, target, answers), name="rpc-proxy-pump",
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        try:
            while not self._closed.is_set():
                data = source.recv(_CHUNK)
                if not data:
                    break
                if answers and self.mute:
                    continue  # the chain answered; the client never hears it
                target.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            _reset(self.client)
            _reset(self.upstream)
            self.proxy._forget(self)


class RpcProxy:
    """Forwards 127.0.0.1:<port> to the upstream RPC endpoint until told otherwise (see the module doc)."""

    def __init__(self) -> None:
        self.mode = ProxyMode.UP
        self.port = 0
        self.accepted = 0  # connections accepted so far (a test can see the node came back)
        self._upstream: tuple[str, int] | None = None
        self._listener: socket.socket | None = None
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RpcProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, upstream_url: str) -> str:
        """Listen on a free loopback port and forward to ``upstream_url``; returns the proxy's URL."""
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"the upstream URL needs a host and a port: {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, name="rpc-proxy", daemon=True)
        self._thread.start()
        return self.url

    def refuse(self) -> None:
        """Stop listening (connections are refused) and reset every open connection."""
        with self._lock:
            self.mode = ProxyMode.REFUSE
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._reset_links()

    def drop(self) -> None:
        """Keep accepting and passing requests on, but swallow every answer, on open connections too (they
        stay mute until their client closes them)."""
        with self._lock:
            self.mode = ProxyMode.DROP
            for link in self._links:
                link.mute = True

    def restore(self) -> None:
        """Forward new connections again (mute ones stay mute: their clients must time out)."""
        with self._lock:
            if self._listener is None:
                self._listen()
            self.mode = ProxyMode.UP

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._reset_links()

    # ------------------------------------------------------------------ internals

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port after an outage: clients keep their URL
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                self._stop.wait(_TICK)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], _TICK)
                if not ready:
                    continue
                client, _address = listener.accept()
            except (OSError, ValueError):  # closed by refuse() meanwhile
                continue
            self._open(client)

    def _open(self, client: socket.socket) -> None:
        assert self._upstream is not None
        try:
            upstream = socket.create_connection(self._upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self.mode is ProxyMode.REFUSE:  # refused while this one was being accepted
                _reset(client)
                _reset(upstream)
                return
            link = _Link(self, client, upstream)
            self._links.add(link)
            self.accepted += 1
        link.start()

    def _forget(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)

    def _reset_links(self) -> None:
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
