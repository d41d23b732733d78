"""A real local HTTP server that plays back scripted responses and records what it got."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict


@dataclass
class Recorded:
    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes
    arrived: float  # time.monotonic() when the request line was read


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _as_bytes(body: Any) -> tuple[bytes, str | None]:
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode(), "text/plain"
    return json.dumps(body).encode(), "application/json"


class ScriptedServer:
    """Serves queued replies in order, then the fallback reply for anything after."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._queue: deque[Reply] = deque()
        self._fallback = Reply(200, {"Content-Type": "application/json"}, b"{}")
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, status: int, headers: dict[str, str] | None = None, body: Any = b"") -> None:
        self._queue.append(self._reply(status, headers, body))

    def always(self, status: int, headers: dict[str, str] | None = None, body: Any = b"") -> None:
        self._fallback = self._reply(status, headers, body)

    def gaps(self) -> list[float]:
        """Seconds between consecutive request arrivals."""
        times = [r.arrived for r in self.requests]
        return [b - a for a, b in pairwise(times)]

    @staticmethod
    def _reply(status: int, headers: dict[str, str] | None, body: Any) -> Reply:
        raw, content_type = _as_bytes(body)
        merged = dict(headers or {})
        if content_type and not any(k.lower() == "content-type" for k in merged):
            merged["Content-Type"] = content_type
        return Reply(status, merged, raw)

    def _next(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            return self._queue.popleft() if self._queue else self._fallback

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = server._next(
                    Recorded(
                        self.command,
                        self.path,
                        CaseInsensitiveDict(self.headers.items()),
                        body,
                        arrived,
                    )
                )
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    scripted.start()
    try:
        yield scripted
    finally:
        scripted.stop()
