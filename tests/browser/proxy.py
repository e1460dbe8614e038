"""A TCP relay in front of the test server whose connections can be cut: a real network drop.

``drop()`` closes every open connection (the browser's event stream among them) and refuses new
ones until ``restore()``; the server itself never notices anything but its clients going away.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.refusing = False
        self.accepted = 0
        threading.Thread(target=self._accept, name="test-proxy", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                refusing = self.refusing
                self.accepted += 1
            if refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
        with self.lock:
            self.open.difference_update((source, sink))

    def drop(self) -> None:
        """Cut every connection now and refuse new ones."""
        with self.lock:
            self.refusing = True
            cut = list(self.open)
        for end in cut:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        with self.lock:
            self.refusing = False

    def close(self) -> None:
        self.drop()
        self.listener.close()
