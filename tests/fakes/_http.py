"""A threaded local HTTP server that the provider fakes share, with a seeded fault mode.

Each fake subclasses `JsonFake` and implements `handle(request) -> Reply`; this module owns the
socket, the thread, the request log and the fault mode, so the fakes themselves hold only
provider behaviour (the exact error bodies and headers each provider sends, and what an expired
token looks like there).

Fault mode: `Faults(rate=0.2, seed=7)` makes a fake fail about one request in five, the same
requests for the same seed, on the wire the way real networks and providers do:

- `429`, `429_retry_after`: throttled, without and with the provider's retry-after header(s);
- `500`, `502`, `503`: server errors in the provider's error shape;
- `reset`: the request is served, then the socket is closed with no response (RST);
- `read_timeout`: the request is served but no byte comes back until the client hangs up;
- `truncated`: the headers promise more body bytes than are sent before the socket closes;
- `malformed_json`: a complete 200 whose JSON body is cut short (a faulty proxy);
- `slow`: the full answer, late but within the client's timeout;
- `expired_token`: the provider's own token expiry (each fake says how it models it).

Refusals (429, 5xx, expired token) are answered before the request is served; the transport
faults happen after it, so a retried non-idempotent call meets the state its lost first attempt
left behind. Every logged `Request` records the fault it got, its status and when it arrived,
so tests can check attempts against the retry policy. Start a fake with faults from its
constructor (`faults=Faults(...)`) or its CLI (`--faults "rate=0.2,seed=7"`).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import select
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

REFUSALS = ("429", "429_retry_after", "500", "502", "503")
TRANSPORT = ("reset", "read_timeout", "truncated", "malformed_json", "slow")
FAULT_KINDS = (*REFUSALS, *TRANSPORT, "expired_token")


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when the request was read
    fault: str | None = None  # the fault injected into this request's answer, if any
    status: int | None = None  # the status sent; None when no response was sent
    waited: float | None = None  # read_timeout: seconds until the client hung up

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lname), None)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Faults:
    """Which requests fail and how: decided per request from the seed, so runs repeat.

    `rate` is the share of eligible requests that get a fault: one fault in each stretch of
    `1 / rate` requests, at a seeded place within it, so a run of n requests meets n x rate
    faults whatever the seed. The kinds are dealt from a seeded shuffle of `kinds`, reshuffled
    each round, so every kind comes up once in every `len(kinds)` faults. `paths` are regular
    expressions searched in the request path (empty: the fake's own API paths, never its
    token endpoint).
    """

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    paths: tuple[str, ...] = ()
    slow_seconds: float = 0.3  # `slow`: well inside any client timeout
    hold_seconds: float = 30.0  # `read_timeout`: longest wait for the client to hang up
    retry_after_seconds: float = 0.5  # what `429_retry_after` asks for

    def __post_init__(self) -> None:
        self.kinds = tuple(self.kinds)
        self.paths = tuple(self.paths)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s) {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """`rate=0.2,seed=7,kinds=429+503+reset,paths=^/v1/` (the fakes' `--faults` option)."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, raw = part.partition("=")
            if name not in types:
                raise ValueError(f"unknown fault setting {name!r}; known: {sorted(types)}")
            if name in ("kinds", "paths"):
                values[name] = tuple(filter(None, raw.split("+")))
            elif name == "seed":
                values[name] = int(raw)
            else:
                values[name] = float(raw)
        return cls(**values)

    def kind_for(self, ordinal: int, kinds: tuple[str, ...] | None = None) -> str | None:
        """The fault for the `ordinal`-th eligible request, or None: a pure function of the seed.

        `kinds` narrows the deck to what a fake injects per request (default: `self.kinds`).
        """
        deck = list(self.kinds if kinds is None else kinds)
        if self.rate <= 0 or not deck:
            return None
        hits = self._hits(ordinal + 1)
        if not hits[ordinal]:
            return None
        # Which fault this is among the faults so far decides its kind (one round per shuffle).
        round_, position = divmod(sum(hits[:ordinal]), len(deck))
        random.Random(f"{self.seed}:deck:{round_}").shuffle(deck)
        return deck[position]

    def _hits(self, count: int) -> list[bool]:
        """Whether each of the first `count` eligible requests gets a fault (memoised)."""
        cache = self.__dict__.setdefault("_hit_cache", {})
        hits, stretches = cache.setdefault((self.seed, self.rate), ([], [0]))
        while len(hits) < count:
            # Stretch i covers requests [i / rate, (i + 1) / rate); its fault sits at a seeded
            # place in it. Stretches shorter than one request (rate 1) still hit each request.
            place = stretches[0] + random.Random(f"{self.seed}:hit:{stretches[0]}").random()
            at = max(int(place / self.rate), len(hits))  # never on an earlier fault's request
            stretches[0] += 1
            hits.extend([False] * (at + 1 - len(hits)))
            hits[at] = True
        return hits


class JsonFake:
    """Base for a provider fake: start/stop a server on 127.0.0.1 and log what it was sent."""

    # Paths (regular expressions) a fault may hit when `Faults.paths` is empty.
    fault_paths: ClassVar[tuple[str, ...]] = (".*",)
    # Kinds this fake draws per request; a fake that models token expiry by time leaves
    # `expired_token` out and reads `expiring_tokens` instead.
    per_request_kinds: ClassVar[tuple[str, ...]] = FAULT_KINDS

    def __init__(self, faults: Faults | None = None) -> None:
        self.requests: list[Request] = []
        self.fault_mode = faults or Faults()
        self._lock = threading.Lock()
        self._eligible = 0  # requests a fault could have hit so far
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tls = False

    def handle(self, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- provider hooks for the fault mode ------------------------------------------------
    def fault_reply(self, kind: str, request: Request) -> Reply:
        """The answer for a refusal kind; fakes override it with their provider's shape."""
        reason = {
            "429": "Too Many Requests",
            "429_retry_after": "Too Many Requests",
            "500": "Internal Server Error",
            "502": "Bad Gateway",
            "503": "Service Unavailable",
        }[kind]
        headers = {}
        if kind == "429_retry_after":
            headers["Retry-After"] = _whole_seconds(self.fault_mode.retry_after_seconds)
        return Reply(int(kind[:3]), {"message": reason}, headers)

    def expire_token(self, request: Request) -> Reply | None:
        """Refuse the request's credential as expired, or None if that cannot apply to it."""
        return None

    @property
    def expiring_tokens(self) -> bool:
        """Whether the fault mode asks for tokens that expire during a run."""
        mode = self.fault_mode
        return mode.rate > 0 and "expired_token" in mode.kinds

    def injected(self) -> Counter[str]:
        """How many requests got each fault."""
        return Counter(r.fault for r in self.requests if r.fault)

    def eligible(self, request: Request) -> bool:
        """Whether the fault mode may hit this request (its path is one the faults target)."""
        patterns = self.fault_mode.paths or self.fault_paths
        return any(re.search(p, request.path) for p in patterns)

    def _draw(self, request: Request) -> str | None:
        mode = self.fault_mode
        if mode.rate <= 0 or not self.eligible(request):
            return None
        kinds = tuple(k for k in mode.kinds if k in self.per_request_kinds)
        with self._lock:
            ordinal = self._eligible
            self._eligible += 1
        return mode.kind_for(ordinal, kinds)

    # --- server ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "fake not started"
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host}:{port}"

    def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> JsonFake:
        """Serve on `host:port`; with `tls`, over HTTPS (tests of CA-bundle handling)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                    at=time.monotonic(),
                )
                with fake._lock:
                    fake.requests.append(request)
                kind = fake._draw(request)
                if kind in REFUSALS:
                    request.fault = kind
                    self._send(request, fake.fault_reply(kind, request))
                    return
                if kind == "expired_token":
                    refusal = fake.expire_token(request)
                    if refusal is not None:
                        request.fault = kind
                        self._send(request, refusal)
                        return
                    kind = None
                reply = fake.handle(request)
                payload = reply.encoded()
                if kind in ("truncated", "malformed_json") and (not payload or reply.status == 204):
                    kind = None  # nothing to cut: the answer has no body
                if kind == "malformed_json" and not 200 <= reply.status < 300:
                    kind = None  # a success that does not parse; errors keep their bodies
                request.fault = kind
                if kind is None:
                    self._send(request, reply)
                elif kind == "slow":
                    time.sleep(fake.fault_mode.slow_seconds)
                    self._send(request, reply)
                elif kind == "reset":
                    self._reset()
                elif kind == "read_timeout":
                    request.waited = self._hold(fake.fault_mode.hold_seconds)
                    self._reset()
                elif kind == "truncated":
                    self._send(request, reply, body=payload[: len(payload) // 2], length=None)
                    self._close()
                else:  # malformed_json: a whole answer, but its JSON stops half-way
                    self._send(request, reply, body=payload[: max(1, len(payload) // 2)])

            def _send(
                self,
                request: Request,
                reply: Reply,
                *,
                body: bytes | None = None,
                length: int | None = -1,
            ) -> None:
                payload = reply.encoded()
                sent = payload if body is None else body
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                # `length=None`: announce the whole payload but send less (truncated).
                self.send_header("Content-Length", str(len(payload if length is None else sent)))
                self.end_headers()
                self.wfile.write(sent)
                request.status = reply.status

            def _reset(self) -> None:
                """Close at once with an RST, as a crashed server or a dropped link does."""
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                self.close_connection = True

            def _close(self) -> None:
                """An orderly close (FIN): the client keeps the bytes sent, then sees the end."""
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

            def _hold(self, limit: float) -> float | None:
                """Answer nothing; return how long the client waited before hanging up."""
                started = time.monotonic()
                while (left := limit - (time.monotonic() - started)) > 0:
                    ready, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                    if not ready:
                        continue
                    try:
                        data = self.connection.recv(1)
                    except (OSError, ValueError):
                        data = b""
                    if not data:
                        return time.monotonic() - started
                return None

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean; the request log is `fake.requests`

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._tls = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JsonFake:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _whole_seconds(seconds: float) -> str:
    """Retry-After carries whole seconds (RFC 9110); round up so the client never comes early."""
    return str(max(0, -int(-seconds // 1)))
