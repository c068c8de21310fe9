"""An HTTP server on 127.0.0.1 (a free port) serving from a daemon thread: the local stand-ins' shared transport."""

from __future__ import annotations

import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

_JOIN_TIMEOUT_SECONDS = 5


class LoopbackRequestHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 answers, sent at once, with no access log on stderr."""

    protocol_version = "HTTP/1.1"
    # Without it every answer waits for the client's delayed ACK: about 40 ms per call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return


class LoopbackHttpServer:
    """Binds a port on 127.0.0.1 when made; ``start`` serves ``handler_class`` in a thread, ``close`` stops it.

    The local stand-ins subclass it: ``with`` one starts its server and stops it on the way out.
    """

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], thread_name: str) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        # serve_forever() notices shutdown() only at its next poll (half its interval on average: 25 ms per server
        # and run at 0.05 s); the serving loop here also waits on this pair, and close() wakes it at once.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=thread_name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_reader in ready:
                    return
                # A connection is waiting: accepted at once and served on its own thread (ThreadingHTTPServer).
                self._server.handle_request()

    def close(self) -> None:
        if self._thread.is_alive():
            self._wake_writer.send(b"stop")
            self._thread.join(timeout=_JOIN_TIMEOUT_SECONDS)
        self._server.server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
