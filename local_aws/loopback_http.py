"""An HTTP server on 127.0.0.1 (a free port) serving from a daemon thread: the local stand-ins' shared transport."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

# A short poll interval: shutdown() waits up to one interval (0.5 s by default) for the serving loop.
_POLL_INTERVAL_SECONDS = 0.05
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
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL_SECONDS,), name=thread_name, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=_JOIN_TIMEOUT_SECONDS)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
