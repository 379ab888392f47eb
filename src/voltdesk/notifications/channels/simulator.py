"""A local SMS gateway that behaves like a real one, for tests and offline demos.

It checks the request signature, honours the idempotency key (a repeated key gets
the first answer and sends nothing), answers at once with a message id and later
posts a signed delivery receipt, and can be told to fail: HTTP 500 for the next
requests, for a fraction of them or for given numbers; accept a message and then
lose the answer (the crash-after-send case); or hang until the client times out.
``POST /messages/batch`` takes many messages in one request (each with its own
idempotency key) and answers item by item, as bulk gateways do; ``GET /stats``
tells how many it took. Run it with ``voltdesk sms_simulator --port N`` or in a
thread with ``start()``.
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


@dataclass(slots=True)
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
        self._stopped = threading.Event()
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
        self._stopped.set()  # receipts still being posted stop too
        if self._thread is not None:  # shutdown() waits forever for a loop that never ran
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
            verdict, sms = self._take(to, text, str(request.get("reference", "")), key)
            if verdict == "failed":
                return 500, {"error": "simulated outage"}
            if verdict == "rejected":
                return 400, {"error": "number not reachable by SMS"}
            if verdict == "duplicate":
                return 200, {"id": sms.id, "duplicate": True}
            lose_answer = b.lose_answer_next > 0
            if lose_answer:
                b.lose_answer_next -= 1
        self._schedule_receipts([sms], request.get("callback_url") or self.callback_url)
        if b.latency:
            time.sleep(b.latency)
        if to in b.hang_numbers:
            time.sleep(b.hang_seconds)
        if lose_answer:
            return 500, {"error": "simulated crash after accepting"}
        return 202, {"id": sms.id}

    def handle_batch(self, body: bytes, headers) -> tuple[int, dict]:
        """Many messages in one request, answered item by item.

        Each item is accepted, a duplicate (its idempotency key was taken before),
        failed (try again) or rejected (never).
        """
        if not verify(self.secret, body, headers.get(SIGNATURE_HEADER)):
            return 403, {"error": "bad signature"}
        try:
            items = json.loads(body)["messages"]
            parsed = [
                (i["to"], i["text"], str(i.get("reference", "")), i["idempotency_key"], i)
                for i in items
            ]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "expected JSON with 'messages': [{to, text, idempotency_key}]"}
        b = self.behaviour
        results, taken = [], []
        with self._lock:
            self.requests += 1
            if b.fail_next > 0:
                b.fail_next -= 1
                return 500, {"error": "simulated outage"}
            for to, text, reference, key, item in parsed:
                verdict, sms = self._take(to, text, reference, key)
                answer = {"reference": reference, "status": verdict}
                if sms is not None:
                    answer["id"] = sms.id
                if verdict == "failed":
                    answer["error"] = "simulated outage"
                elif verdict == "rejected":
                    answer["error"] = "number not reachable by SMS"
                elif verdict == "accepted":
                    taken.append((sms, item.get("callback_url") or self.callback_url))
                results.append(answer)
            lose_answer = b.lose_answer_next > 0
            if lose_answer:
                b.lose_answer_next -= 1
        by_url: dict[str, list[SimulatedSms]] = {}
        for sms, url in taken:
            by_url.setdefault(url, []).append(sms)
        for url, batch in by_url.items():
            self._schedule_receipts(batch, url)
        if b.latency:
            time.sleep(b.latency)
        if lose_answer:
            return 500, {"error": "simulated crash after accepting"}
        return 200, {"results": results}

    def _take(self, to: str, text: str, reference: str, key: str):
        """One message's fate (call with the lock held): accepted, duplicate, failed, rejected."""
        b = self.behaviour
        if to in b.fail_numbers or (b.fail_rate and self._random.random() < b.fail_rate):
            return "failed", None
        if to in b.reject_numbers:
            return "rejected", None
        existing = self._by_key.get(key)
        if existing is not None:
            self.duplicates += 1
            return "duplicate", existing
        sms = SimulatedSms(
            id=f"gw-{next(self._ids):06d}",
            to=to,
            text=text,
            reference=reference,
            idempotency_key=key,
        )
        self._by_key[key] = sms
        self.sent.append(sms)
        return "accepted", sms

    def stats(self, full: bool = False) -> dict:
        """Counts of what the gateway took; ``full`` adds distinct numbers (a pass over all)."""
        with self._lock:
            answer = {
                "sent": len(self.sent),
                "unique_keys": len(self._by_key),
                "duplicates": self.duplicates,
                "requests": self.requests,
                "receipts_posted": self.receipts_posted,
            }
            if full:
                answer["unique_numbers"] = len({sms.to for sms in self.sent})
            return answer

    def _schedule_receipts(self, batch: list[SimulatedSms], callback_url: str) -> None:
        """One timer per request posts the receipts of all its messages, one by one."""
        if not batch or (not callback_url and self.on_receipt is None):
            return
        receipts = []
        for sms in batch:
            status = "failed" if sms.to in self.behaviour.undeliverable_numbers else "delivered"
            receipt = {"id": sms.id, "reference": sms.reference, "status": status}
            if status == "failed":
                receipt["error"] = "handset unreachable"
            receipts.append(receipt)
        timer = threading.Timer(
            self.behaviour.receipt_delay, self._post_receipts, (receipts, callback_url)
        )
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def _post_receipts(self, receipts: list[dict], callback_url: str) -> None:
        for receipt in receipts:
            if self._stopped.is_set():
                return
            self._post_receipt(receipt, callback_url)

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
            if self._stopped.is_set():
                return
            try:
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                    with self._lock:
                        self.receipts_posted += 1
                    return
            except OSError as exc:
                if self._stopped.is_set():
                    return  # the test or demo is over; nobody is listening
                logger.warning("receipt %s not taken (%s), attempt %d", receipt, exc, attempt)
                time.sleep(0.2 * (attempt + 1))

    def _handler_class(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path.rstrip("/").endswith("/batch"):
                    status, answer = simulator.handle_batch(body, self.headers)
                else:
                    status, answer = simulator.handle_send(body, self.headers)
                self._answer(status, answer)

            def do_GET(self):  # noqa: N802
                path, _sep, query = self.path.partition("?")
                if path.rstrip("/").endswith("/stats"):
                    self._answer(200, simulator.stats(full="full=1" in query))
                else:
                    self._answer(404, {"error": "not found"})

            def _answer(self, status: int, answer: dict):
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
