"""A local SMS gateway that behaves like a real one, for tests and offline demos.

It checks the request signature, honours the idempotency key (a repeated key gets
the first answer and sends nothing), answers at once with a message id and later
posts a signed delivery receipt, and can be told to fail: HTTP 500 for the next
requests, for a fraction of them or for given numbers; accept a message and then
lose the answer (the crash-after-send case); or hang until the client times out.
Run it with ``voltdesk sms_simulator --port N`` or in a thread with ``start()``.
"""

import itertools
import json
import logging
import random
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign, verify

logger = logging.getLogger(__name__)


@dataclass
class SimulatedSms:
    id: str
    to: str
    text: str
    reference: str
    idempotency_key: str


@dataclass
class SimulatorBehaviour:
    """How the simulated gateway misbehaves; change it while it runs."""

    fail_next: int = 0  # answer HTTP 500 to the next N requests
    fail_rate: float = 0.0  # answer HTTP 500 to this fraction of requests
    fail_numbers: set[str] = field(default_factory=set)  # always HTTP 500 for these
    reject_numbers: set[str] = field(default_factory=set)  # HTTP 400: a permanent refusal
    lose_answer_next: int = 0  # accept the next N, then answer 500 as if it crashed
    hang_numbers: set[str] = field(default_factory=set)  # answer only after hang_seconds
    hang_seconds: float = 30.0
    latency: float = 0.0  # seconds every accepted request takes, like a real network
    undeliverable_numbers: set[str] = field(default_factory=set)  # receipt says "failed"
    receipt_delay: float = 0.05


class SmsGatewaySimulator:
    def __init__(
        self,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_url: str = "",
        on_receipt: Callable[[bytes, str], None] | None = None,
        behaviour: SimulatorBehaviour | None = None,
        seed: int | None = None,
    ):
        self.secret = secret
        self.callback_url = callback_url
        self.on_receipt = on_receipt
        self.behaviour = behaviour or SimulatorBehaviour()
        self.sent: list[SimulatedSms] = []  # what reached handsets: once per idempotency key
        self.requests = 0
        self.duplicates = 0
        self.receipts_posted = 0
        self._by_key: dict[str, SimulatedSms] = {}
        self._ids = itertools.count(1)
        self._random = random.Random(seed)  # noqa: S311 - failure injection, not security
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._thread: threading.Thread | None = None
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/messages"

    def start(self) -> "SmsGatewaySimulator":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for timer in self._timers:
                timer.cancel()

    # The gateway's decisions, one request at a time.

    def handle_send(self, body: bytes, headers) -> tuple[int, dict]:
        if not verify(self.secret, body, headers.get(SIGNATURE_HEADER)):
            return 403, {"error": "bad signature"}
        key = headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return 400, {"error": "Idempotency-Key header required"}
        try:
            request = json.loads(body)
            to, text = request["to"], request["text"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "expected JSON with 'to' and 'text'"}
        b = self.behaviour
        with self._lock:
            self.requests += 1
            if b.fail_next > 0:
                b.fail_next -= 1
                return 500, {"error": "simulated outage"}
            if to in b.fail_numbers or self._random.random() < b.fail_rate:
                return 500, {"error": "simulated outage"}
            if to in b.reject_numbers:
                return 400, {"error": "number not reachable by SMS"}
            existing = self._by_key.get(key)
            if existing is not None:
                self.duplicates += 1
                return 200, {"id": existing.id, "duplicate": True}
            sms = SimulatedSms(
                id=f"gw-{next(self._ids):06d}",
                to=to,
                text=text,
                reference=str(request.get("reference", "")),
                idempotency_key=key,
            )
            self._by_key[key] = sms
            self.sent.append(sms)
            lose_answer = b.lose_answer_next > 0
            if lose_answer:
                b.lose_answer_next -= 1
        self._schedule_receipt(sms, request.get("callback_url") or self.callback_url)
        if b.latency:
            time.sleep(b.latency)
        if to in b.hang_numbers:
            time.sleep(b.hang_seconds)
        if lose_answer:
            return 500, {"error": "simulated crash after accepting"}
        return 202, {"id": sms.id}

    def _schedule_receipt(self, sms: SimulatedSms, callback_url: str) -> None:
        if not callback_url and self.on_receipt is None:
            return
        status = "failed" if sms.to in self.behaviour.undeliverable_numbers else "delivered"
        receipt = {"id": sms.id, "reference": sms.reference, "status": status}
        if status == "failed":
            receipt["error"] = "handset unreachable"
        timer = threading.Timer(
            self.behaviour.receipt_delay, self._post_receipt, (receipt, callback_url)
        )
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def _post_receipt(self, receipt: dict, callback_url: str) -> None:
        data = json.dumps(receipt).encode()
        signature = sign(self.secret, data)
        if self.on_receipt is not None:
            self.on_receipt(data, signature)
            with self._lock:
                self.receipts_posted += 1
            return
        request = urllib.request.Request(  # noqa: S310 - loopback callback in tests and demos
            callback_url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )
        # A real gateway retries receipts for a while; a few quick tries are enough here.
        for attempt in range(5):
            try:
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                    with self._lock:
                        self.receipts_posted += 1
                    return
            except OSError as exc:
                logger.warning("receipt %s not taken (%s), attempt %d", receipt, exc, attempt)
                time.sleep(0.2 * (attempt + 1))

    def _handler_class(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                status, answer = simulator.handle_send(self.rfile.read(length), self.headers)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (a simulated hang)

            def log_message(self, format, *args):  # noqa: A002 - http.server's signature
                logger.debug("sms simulator: " + format, *args)

        return Handler
