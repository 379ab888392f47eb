"""SMS through an HTTP gateway: a signed JSON POST, answered with the gateway's message id.

Delivery confirmations come back later on the receipt webhook (``views.sms_receipt``).
"""

import json
import logging
import urllib.error
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


class InProcessSimulatorDriver:
    """For the demo (no SMS_GATEWAY_URL): the message counts as sent to a simulator, offline.

    Nothing leaves the machine; the outbox row shows driver "simulator" so nobody
    mistakes it for a real SMS.
    """

    name = "simulator"

    def send(self, message: Outgoing) -> SendResult:
        logger.info("simulated SMS to %s: %s", message.address, message.body)
        return SendResult(provider_message_id=f"sim-{message.idempotency_key[:24]}")


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
