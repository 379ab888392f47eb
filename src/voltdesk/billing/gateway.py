"""Online payment through a payment gateway, and the sandbox gateway that stands in for a bank.

The flow is the one every hosted-payment provider uses (Stripe Checkout, Adyen,
Tranzila, Alipay): we create a payment at the gateway and send the cardholder to
its page; the gateway later tells us the outcome in a signed webhook. Only that
signed confirmation settles an online payment: the cardholder coming back to our
page proves nothing.

* ``start_online_payment`` creates (or, for a repeated idempotency key, finds)
  the ``OnlinePayment`` and answers the gateway's redirect URL.
* ``receive_webhook`` checks the signature over the raw body, keeps each event
  once (``GatewayEvent``, unique per provider and event id), and on
  ``payment.succeeded`` records the payment exactly once (the online payment's
  row is locked and ``Payment.online_payment`` is one-to-one).
* ``expire_online_payments`` marks payments the bank never answered timed out.

A provider is a ``GatewayAdapter``; ``SandboxGateway`` is ours for the demo and
the tests. A real provider plugs in by subclassing the adapter and registering
it in ``ADAPTERS`` (see docs/payments.md).
"""

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, log_action

from .choices import BillKind, BillStatus, OnlinePaymentStatus, PaymentMethod
from .models import Bill, GatewayEvent, OnlinePayment
from .payments import ZERO, PaymentError, debt_to_pay, parse_amount, record_payment

PENDING_TIMEOUT = timedelta(minutes=30)  # the bank's answer is not waited for longer
SIGNATURE_TOLERANCE = 300  # seconds: an older signed webhook is a replay
KEY_MAX = 80


def gateway_secret() -> str:
    """The secret the sandbox signs webhooks with (settings, else the environment)."""
    return getattr(settings, "GATEWAY_SECRET", None) or os.environ.get(
        "VOLTDESK_GATEWAY_SECRET", "sandbox-dev-secret"
    )


class WebhookRejected(ValueError):
    """A webhook call that is not taken: bad signature, stale, malformed. Nothing is written."""


@dataclass
class Checkout:
    provider_ref: str
    redirect_url: str


@dataclass
class GatewayEventData:
    event_id: str
    kind: str
    provider_ref: str
    amount: Decimal | None
    currency: str
    reason: str
    payload: dict


# A return URL may carry this placeholder; the provider puts its reference in its place
# (Stripe's {CHECKOUT_SESSION_ID}), so the cardholder comes back to that payment's page.
PAYMENT_REF = "{PAYMENT_REF}"


class GatewayAdapter:
    """What a payment provider must do for us. Subclass it for a real provider.

    ``return_url`` is where the provider sends the cardholder back; a ``PAYMENT_REF``
    in it is replaced with the payment's provider reference.
    """

    name = ""

    def create_checkout(self, payment: OnlinePayment, return_url: str) -> Checkout:
        """Create the payment at the provider; answer its reference and the hosted page's URL."""
        raise NotImplementedError

    def checkout_url(self, payment: OnlinePayment, return_url: str) -> str:
        """The hosted page of a payment already created (a repeated request is sent there)."""
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers, now: float) -> GatewayEventData:
        """Check the signature over the raw body and read the event, or raise WebhookRejected."""
        raise NotImplementedError


# Signatures: "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + raw body>" (Stripe's scheme).
SIGNATURE_HEADER = "X-Sandbox-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, body: bytes, header: str | None, now: float) -> None:
    if not header:
        raise WebhookRejected(_("The signature header is missing."))
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookRejected(_("The signature has no valid timestamp.")) from None
    if abs(now - timestamp) > SIGNATURE_TOLERANCE:
        raise WebhookRejected(_("The signature is too old or from the future."))
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise WebhookRejected(_("The signature does not match the body."))


class SandboxGateway(GatewayAdapter):
    """A gateway of our own that behaves like a real one, with test cards as Stripe's.

    Its hosted page is ``/sandbox-pay/<provider_ref>/``; the cardholder's choice
    of card decides the outcome, which arrives later in a signed webhook sent by a
    Celery task (``tasks.send_sandbox_webhook``).
    """

    name = "sandbox"

    def create_checkout(self, payment, return_url):
        # Unguessable: the hosted page is reached by its link alone, as a provider's is.
        payment.provider_ref = "sbx_" + secrets.token_urlsafe(18)
        return Checkout(payment.provider_ref, self.checkout_url(payment, return_url))

    def checkout_url(self, payment, return_url):
        url = reverse("sandbox:pay", args=[payment.provider_ref])
        return_url = return_url.replace(PAYMENT_REF, payment.provider_ref or "")
        return url + ("?" + urlencode({"return": return_url}) if return_url else "")

    def parse_webhook(self, body, headers, now):
        verify_signature(gateway_secret(), body, headers.get(SIGNATURE_HEADER), now)
        try:
            event = json.loads(body)
            data = event["data"]
            event_id, kind = str(event["id"]), str(event["type"])
            provider_ref = str(data["provider_ref"])
            amount = data.get("amount")
            amount = Decimal(str(amount)) if amount is not None else None
        except (ValueError, KeyError, TypeError, InvalidOperation, AttributeError):
            raise WebhookRejected(
                _("The event must be JSON with id, type and data.provider_ref.")
            ) from None
        if not event_id or len(event_id) > 80 or not kind or len(kind) > 40:
            raise WebhookRejected(_("The event id or type is missing or too long."))
        return GatewayEventData(
            event_id=event_id,
            kind=kind,
            provider_ref=provider_ref,
            amount=amount,
            currency=str(data.get("currency") or ""),
            reason=str(data.get("reason") or "")[:200],
            payload=event,
        )


ADAPTERS: dict[str, GatewayAdapter] = {"sandbox": SandboxGateway()}
DEFAULT_PROVIDER = "sandbox"


def adapter(provider: str) -> GatewayAdapter:
    try:
        return ADAPTERS[provider]
    except KeyError:
        raise WebhookRejected(_("Unknown payment provider.")) from None


# Starting a payment ------------------------------------------------------------------


@dataclass
class OnlineStart:
    payment: OnlinePayment
    redirect_url: str
    created: bool


def start_online_payment(
    customer,
    bills,
    amount,
    idempotency_key: str,
    *,
    user,
    provider: str = DEFAULT_PROVIDER,
    return_url: str = "",
) -> OnlineStart:
    """Start paying ``bills`` (their open amount when ``amount`` is None) at the gateway.

    The same idempotency key answers the same payment (a double click pays once);
    the same key with a different amount or bills is refused.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise PaymentError(
            _("Send an Idempotency-Key header of 1 to 80 printable characters."),
            "Idempotency-Key",
        )
    bill_ids = sorted({b.pk for b in bills})
    existing = OnlinePayment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, customer, bill_ids, amount, return_url)
    chosen = list(
        Bill.objects.filter(pk__in=bill_ids, customer=customer, status=BillStatus.ISSUED).exclude(
            kind=BillKind.CREDIT_NOTE
        )
    )
    if len(chosen) != len(bill_ids):
        raise PaymentError(_("A chosen bill is not one of this customer's issued bills."), "bills")
    if not chosen:
        raise PaymentError(_("Choose at least one bill to pay."), "bills")
    owed = sum((b.total - b.paid for b in chosen), ZERO)
    if owed <= 0:
        raise PaymentError(_("The chosen bills are already paid."), "bills")
    amount = owed if amount is None else parse_amount(amount)
    if amount > owed:
        raise PaymentError(
            _("The amount is more than the %(owed)s open on the chosen bills.") % {"owed": owed},
            "amount",
        )
    gateway = adapter(provider)
    try:
        with transaction.atomic():
            payment = OnlinePayment.objects.create(
                customer=customer,
                created_by=user if getattr(user, "pk", None) else None,
                amount=amount,
                currency=get_utility().currency,
                idempotency_key=key,
                provider=gateway.name,
            )
            payment.bills.set(chosen)
            checkout = gateway.create_checkout(payment, return_url)
            payment.provider_ref = checkout.provider_ref
            payment.status = OnlinePaymentStatus.PENDING
            payment.save(update_fields=["provider_ref", "status"])
            log_action(
                user,
                "billing.online_payment_started",
                payment,
                {
                    "amount": str(amount),
                    "bills": [str(b) for b in chosen],
                    "provider": gateway.name,
                },
            )
    except IntegrityError:
        # The same key arrived twice at once (a double click): the first one stands.
        existing = OnlinePayment.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_request(existing, customer, bill_ids, amount, return_url)
    return OnlineStart(payment=payment, redirect_url=checkout.redirect_url, created=True)


def _same_request(existing, customer, bill_ids, amount, return_url) -> OnlineStart:
    same_bills = sorted(existing.bills.values_list("pk", flat=True)) == bill_ids
    same_amount = amount is None or parse_amount(amount) == existing.amount
    if existing.customer_id != customer.pk or not same_bills or not same_amount:
        raise PaymentError(
            _("This idempotency key was already used for another payment."),
            "Idempotency-Key",
            code="conflict",
        )
    return OnlineStart(
        payment=existing,
        redirect_url=adapter(existing.provider).checkout_url(existing, return_url),
        created=False,
    )


def start_paying_debt(
    customer,
    amount,
    idempotency_key: str,
    *,
    user,
    bills=None,
    return_url: str = "",
) -> OnlineStart:
    """The lounge's "pay now": start paying ``bills``, or the whole open debt when None.

    The whole debt's bills are those open when the payment is first started
    (``payments.debt_to_pay``); a repeated request with the same key (a double
    click, a reload) answers that same payment, even if its bills were paid meanwhile.
    ``amount`` None pays all that is due on them.
    """
    if bills is None:
        key = (idempotency_key or "").strip()
        existing = (
            OnlinePayment.objects.filter(idempotency_key=key, customer=customer).first()
            if key
            else None
        )
        if existing is not None:
            bills = list(existing.bills.all())
        else:
            due = debt_to_pay(customer)
            if not due.bills:
                raise PaymentError(_("You have no open debt to pay."), "bills")
            bills = due.bills
            if amount is None:
                amount = due.amount
    return start_online_payment(
        customer, bills, amount, idempotency_key, user=user, return_url=return_url
    )


# The gateway's answer ----------------------------------------------------------------

SUCCEEDED, DECLINED, TIMED_OUT = "payment.succeeded", "payment.declined", "payment.timed_out"


@dataclass
class WebhookResult:
    duplicate: bool
    event: GatewayEvent | None


def receive_webhook(provider: str, body: bytes, headers, *, now: float | None = None):
    """Take one webhook call: verify, keep the event once, settle the online payment.

    Raises WebhookRejected (nothing written) for a bad signature, a stale
    timestamp, malformed JSON or an unknown payment. A repeated event id changes
    nothing. A success that arrives after we timed the payment out still records
    the payment: the bank has taken the money.
    """
    gateway = adapter(provider)
    data = gateway.parse_webhook(body, headers, time.time() if now is None else now)
    with transaction.atomic():
        payment = (
            OnlinePayment.objects.select_for_update()
            .filter(provider=gateway.name, provider_ref=data.provider_ref)
            .first()
        )
        if payment is None:
            raise WebhookRejected(_("No payment with this provider reference."))
        if data.kind == SUCCEEDED and (
            data.amount != payment.amount or (data.currency and data.currency != payment.currency)
        ):
            raise WebhookRejected(_("The amount or currency does not match the payment."))
        try:
            with transaction.atomic():
                event = GatewayEvent.objects.create(
                    provider=gateway.name,
                    event_id=data.event_id,
                    online_payment=payment,
                    kind=data.kind,
                    payload=data.payload,
                )
        except IntegrityError:
            return WebhookResult(duplicate=True, event=None)
        _settle(payment, data)
    return WebhookResult(duplicate=False, event=event)


def _settle(payment: OnlinePayment, data: GatewayEventData) -> None:
    """Apply an event to a locked online payment."""
    if data.kind == SUCCEEDED:
        if payment.status == OnlinePaymentStatus.SUCCEEDED or hasattr(payment, "payment"):
            return
        payment.status = OnlinePaymentStatus.SUCCEEDED
        payment.settled_at = timezone.now()
        payment.failure_reason = ""
        payment.save(update_fields=["status", "settled_at", "failure_reason"])
        record_payment(
            payment.customer,
            payment.amount,
            PaymentMethod.ONLINE,
            payment.settled_at,
            reference=payment.provider_ref or "",
            user=None,
            online_payment=payment,
            first=list(payment.bills.values_list("pk", flat=True)),
        )
        log_action(None, "billing.online_payment_succeeded", payment, {"event": data.event_id})
    elif data.kind in (DECLINED, TIMED_OUT):
        if payment.status not in (OnlinePaymentStatus.CREATED, OnlinePaymentStatus.PENDING):
            return  # a late failure never undoes a success
        payment.status = (
            OnlinePaymentStatus.DECLINED if data.kind == DECLINED else OnlinePaymentStatus.TIMED_OUT
        )
        payment.failure_reason = data.reason or (
            _("Declined by the bank.") if data.kind == DECLINED else _("The bank did not answer.")
        )
        payment.settled_at = timezone.now()
        payment.save(update_fields=["status", "failure_reason", "settled_at"])
        log_action(
            None,
            "billing.online_payment_failed",
            payment,
            {"event": data.event_id, "reason": payment.failure_reason},
        )
    # Other kinds are kept (GatewayEvent) and otherwise ignored.


def expire_online_payments(now=None) -> int:
    """Mark online payments still waiting after PENDING_TIMEOUT as timed out (beat job)."""
    now = now or timezone.now()
    stale = OnlinePayment.objects.filter(
        status__in=[OnlinePaymentStatus.CREATED, OnlinePaymentStatus.PENDING],
        created_at__lt=now - PENDING_TIMEOUT,
    )
    with transaction.atomic():
        ids = list(stale.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        OnlinePayment.objects.filter(pk__in=ids).update(
            status=OnlinePaymentStatus.TIMED_OUT,
            failure_reason=_("No answer from the bank within 30 minutes."),
            settled_at=now,
        )
        for payment in OnlinePayment.objects.filter(pk__in=ids):
            log_action(None, "billing.online_payment_timed_out", payment)
    return len(ids)


# The sandbox bank ----------------------------------------------------------------------

# Test cards, as Stripe's: the number the cardholder picks decides what the bank does.
TEST_CARDS = {
    "4242424242424242": "success",
    "4000000000000002": "decline",
    "4000000000000119": "timeout",
}


def sandbox_event(payment: OnlinePayment, outcome: str, *, created: int | None = None) -> dict:
    """The event the sandbox bank sends for a cardholder's choice (same choice, same event id)."""
    kind = {"success": SUCCEEDED, "decline": DECLINED, "timeout": TIMED_OUT}[outcome]
    reasons = {"decline": "card_declined", "timeout": "issuer_timeout", "success": ""}
    return {
        "id": f"evt_{payment.provider_ref}_{outcome}",
        "type": kind,
        "created": created or int(time.time()),
        "data": {
            "provider_ref": payment.provider_ref,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "reason": reasons[outcome],
        },
    }


def sandbox_cardholder_chose(provider_ref: str, card: str) -> OnlinePayment:
    """The cardholder submitted the sandbox page: the bank will answer by webhook, later."""
    payment = OnlinePayment.objects.filter(provider="sandbox", provider_ref=provider_ref).first()
    if payment is None:
        raise PaymentError(_("No such payment."), "provider_ref")
    outcome = TEST_CARDS.get(card.replace(" ", ""))
    if outcome is None:
        raise PaymentError(_("Use one of the sandbox's test cards."), "card")
    from .tasks import send_sandbox_webhook

    # The bank answers asynchronously, after our page's transaction is committed.
    transaction.on_commit(lambda: send_sandbox_webhook.delay(payment.pk, outcome))
    return payment


def deliver_sandbox_webhook(online_payment_id: int, outcome: str) -> WebhookResult | None:
    """What the sandbox bank does: sign its event and call our webhook.

    With ``VOLTDESK_GATEWAY_WEBHOOK_URL`` set it POSTs over HTTP like a real
    provider; otherwise (demo, tests) it hands the same bytes and header to the
    webhook's own handler in-process.
    """
    payment = OnlinePayment.objects.get(pk=online_payment_id)
    body = json.dumps(sandbox_event(payment, outcome), separators=(",", ":")).encode()
    header = sign(gateway_secret(), body, int(time.time()))
    url = os.environ.get("VOLTDESK_GATEWAY_WEBHOOK_URL", "")
    if url:
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - our own configured URL
            url,
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own configured URL
            return None
    return receive_webhook("sandbox", body, {SIGNATURE_HEADER: header})
