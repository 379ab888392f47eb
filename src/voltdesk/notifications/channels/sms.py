"""SMS through an HTTP gateway: a signed JSON POST, answered with the gateway's message id.

One message at a time (``send``) or a batch in one request (``send_batch``,
``<url>/batch``, over a kept-alive connection), as bulk SMS gateways offer.
Delivery confirmations come back later on the receipt webhook (``views.sms_receipt``).
"""

import http.client
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from .base import Outgoing, PermanentDeliveryError, SendResult, TransientDeliveryError
from .signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)


class HttpGatewayDriver:
    """Posts to ``SMS_GATEWAY_URL`` signed with ``SMS_GATEWAY_SECRET``.

    The idempotency key is the same on every attempt of a message, so a gateway
    that already took it answers with the first message id instead of sending again.
    """

    name = "sms-gateway"

    def __init__(self, url: str, secret: str, timeout: float = 10.0, callback_url: str = ""):
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.callback_url = callback_url

    def send(self, message: Outgoing) -> SendResult:
        request_body = {"to": message.address, "text": message.body, "reference": message.reference}
        if self.callback_url:
            request_body["callback_url"] = self.callback_url
        data = json.dumps(request_body, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                IDEMPOTENCY_HEADER: message.idempotency_key,
                SIGNATURE_HEADER: sign(self.secret, data),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            # 429 and 5xx are the gateway's trouble; other 4xx are about this message.
            if exc.code == 429 or exc.code >= 500:
                raise TransientDeliveryError(f"gateway HTTP {exc.code}: {detail}") from exc
            raise PermanentDeliveryError(f"gateway HTTP {exc.code}: {detail}") from exc
        except OSError as exc:  # URLError and timeouts are OSErrors
            raise TransientDeliveryError(f"gateway unreachable: {exc}") from exc
        except ValueError as exc:
            raise TransientDeliveryError(f"gateway answered no JSON: {exc}") from exc
        provider_id = answer.get("id") if isinstance(answer, dict) else None
        if not provider_id:
            raise TransientDeliveryError(f"gateway answered without a message id: {answer!r}")
        return SendResult(provider_message_id=str(provider_id))

    @property
    def batch_url(self) -> str:
        return self.url.rstrip("/") + "/batch"

    def send_batch(self, messages: list[Outgoing]) -> list:
        """Hand many messages over in one request; an answer per message, in order.

        Each item carries its own idempotency key, so a batch sent again after a
        lost answer is dropped item by item by the gateway. The answer for an item
        is a ``SendResult`` or the ``DeliveryError`` for it; a whole request that
        fails raises, as ``send`` does.
        """
        items = []
        for m in messages:
            item = {
                "to": m.address,
                "text": m.body,
                "reference": m.reference,
                "idempotency_key": m.idempotency_key,
            }
            if self.callback_url:
                item["callback_url"] = self.callback_url
            items.append(item)
        data = json.dumps({"messages": items}, ensure_ascii=False).encode()
        status, body = _post_kept_alive(
            self.batch_url,
            data,
            {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: sign(self.secret, data),
            },
            self.timeout,
        )
        detail = body[:200].decode(errors="replace")
        if status == 429 or status >= 500:
            raise TransientDeliveryError(f"gateway HTTP {status}: {detail}")
        if status >= 400:
            raise PermanentDeliveryError(f"gateway HTTP {status}: {detail}")
        try:
            answers = json.loads(body)["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientDeliveryError(f"gateway answered no results: {detail}") from exc
        by_reference = {str(a.get("reference")): a for a in answers if isinstance(a, dict)}
        return [_item_result(by_reference.get(m.reference)) for m in messages]


def _item_result(answer: dict | None):
    if answer is None:
        return TransientDeliveryError("gateway answered nothing for this message")
    status, error = answer.get("status"), answer.get("error") or ""
    if status in ("accepted", "duplicate") and answer.get("id"):
        return SendResult(provider_message_id=str(answer["id"]))
    if status == "rejected":
        return PermanentDeliveryError(f"gateway rejected: {error}")
    return TransientDeliveryError(f"gateway: {status} {error}".strip())


_connections = threading.local()


def _post_kept_alive(url: str, data: bytes, headers: dict, timeout: float) -> tuple[int, bytes]:
    """POST over this thread's kept-alive connection to the host; reconnect once if it was closed.

    Sending again after a dropped connection is safe: the items' idempotency keys
    make the gateway drop what it already took.
    """
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = (parts.scheme, parts.netloc)
    pool = _connections.__dict__.setdefault("pool", {})
    for attempt in (1, 2):
        conn = pool.get(key)
        if conn is None:
            https = parts.scheme == "https"
            cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
            conn = pool[key] = cls(parts.netloc, timeout=timeout)
        try:
            conn.request("POST", path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine) as exc:
            conn.close()
            pool.pop(key, None)
            if attempt == 2:
                raise TransientDeliveryError(f"gateway unreachable: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused connections
            conn.close()
            pool.pop(key, None)
            raise TransientDeliveryError(f"gateway unreachable: {exc}") from exc
    raise AssertionError("unreachable")


class InProcessSimulatorDriver:
    """For the demo (no SMS_GATEWAY_URL): the message counts as sent to a simulator, offline.

    Nothing leaves the machine; the outbox row shows driver "simulator" so nobody
    mistakes it for a real SMS.
    """

    name = "simulator"

    def send(self, message: Outgoing) -> SendResult:
        logger.info("simulated SMS to %s: %s", message.address, message.body)
        return SendResult(provider_message_id=f"sim-{message.idempotency_key[:24]}")

    def send_batch(self, messages: list[Outgoing]) -> list:
        return [self.send(m) for m in messages]


def gateway_driver_from_settings():
    url = getattr(settings, "SMS_GATEWAY_URL", "")
    if not url:
        return InProcessSimulatorDriver()
    return HttpGatewayDriver(
        url=url,
        secret=settings.SMS_GATEWAY_SECRET,
        timeout=float(getattr(settings, "SMS_GATEWAY_TIMEOUT", 10)),
        callback_url=getattr(settings, "SMS_GATEWAY_CALLBACK_URL", ""),
    )
