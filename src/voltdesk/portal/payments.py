"""Payments in the lounge: what I paid, and paying my debt online ("pay now").

Rows come from ``core.access`` (``visible_payments``, ``visible_online_payments``,
``visible_bills``), only for a company role that handles money: an energy manager
gets 403, another company's online payment answers 404.

"Pay now" posts the amount, the bill (none: the whole open debt) and an
idempotency key made when the form was rendered, so a double click starts one
payment; ``billing.gateway.start_paying_debt`` creates it and we send the
cardholder to the gateway's page. The gateway sends them back to the online
payment's page, which only reads: the signed webhook alone settles a payment.
"""

import secrets

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voltdesk.billing import gateway
from voltdesk.billing.choices import OnlinePaymentStatus
from voltdesk.billing.display import format_money
from voltdesk.billing.models import PaymentAllocation
from voltdesk.billing.payments import PaymentError, debt_to_pay
from voltdesk.core.access import (
    sees_money,
    visible_bills,
    visible_online_payments,
    visible_payments,
)
from voltdesk.core.services import get_utility, utility_zone

from .views import customer_required

PER_PAGE = 50
UNSETTLED_SHOWN = 20  # the latest online payments not (yet) paid; older ones are history

WAITING = (OnlinePaymentStatus.CREATED, OnlinePaymentStatus.PENDING)

# The status of an online payment as the customer reads it.
IN_PLAIN_WORDS = {
    OnlinePaymentStatus.CREATED: gettext_lazy("Waiting for your bank's answer."),
    OnlinePaymentStatus.PENDING: gettext_lazy("Waiting for your bank's answer."),
    OnlinePaymentStatus.SUCCEEDED: gettext_lazy("Paid: the money was received."),
    OnlinePaymentStatus.DECLINED: gettext_lazy(
        "Your bank declined the payment. No money was taken."
    ),
    OnlinePaymentStatus.TIMED_OUT: gettext_lazy(
        "Your bank did not answer in time. If your card was charged, "
        "the payment will appear in your payments."
    ),
}

FIELD_LABELS = {
    "amount": gettext_lazy("Amount"),
    "bills": gettext_lazy("Bill"),
    "bill": gettext_lazy("Bill"),
    "Idempotency-Key": gettext_lazy("Payment form"),
}


def _money_required(user) -> None:
    # As on the bills: an energy manager's role is consumption, not money.
    if not sees_money(user):
        raise PermissionDenied


def _local_day(moment) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, utility_zone()), "SHORT_DATE_FORMAT")


def _local_time(moment) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, utility_zone()), "SHORT_DATETIME_FORMAT")


def pay_now_form(customer, bill=None) -> dict | None:
    """What a "pay now" form shows and sends, or None when nothing is due.

    The key is new each time the page is rendered: the form's own double click
    or resend carries the same key and pays once; a fresh page is a new payment.
    """
    due = debt_to_pay(customer, bill)
    if due.amount <= 0:
        return None
    currency = bill.currency if bill is not None else get_utility().currency
    return {
        "key": secrets.token_urlsafe(24),
        "amount": str(due.amount),  # unlocalised: the value of a number input
        "amount_display": format_money(due.amount, currency),
        "bill": bill.number if bill is not None else "",
    }


def _payment_rows(payments):
    rows = []
    for payment in payments:
        left = payment.amount - payment.allocated
        rows.append(
            {
                "id": payment.pk,
                "day": _local_day(payment.received_at),
                "method": payment.get_method_display(),
                "amount": format_money(payment.amount, payment.currency),
                "reference": payment.reference,
                "allocations": [
                    {
                        "number": a.bill.number,
                        "amount": format_money(a.amount, payment.currency),
                    }
                    for a in payment.allocations.all()
                ],
                "credit": format_money(left, payment.currency) if left > 0 else "",
            }
        )
    return rows


def _online_row(online) -> dict:
    return {
        "ref": online.provider_ref or "",
        "started": _local_time(online.created_at),
        "amount": format_money(online.amount, online.currency),
        "bills": [b.number for b in online.bills.all()],
        "status": online.status,
        "status_words": str(IN_PLAIN_WORDS.get(online.status, online.get_status_display())),
        "waiting": online.status in WAITING,
    }


@customer_required
def payments_page(request, customer):
    """My payments, newest first, with the bills each settled; my online payments not paid."""
    user = request.user
    _money_required(user)
    allocations = PaymentAllocation.objects.select_related("bill").order_by(
        "bill__due_date", "bill__number", "pk"
    )
    listed = (
        visible_payments(user)
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .order_by("-received_at", "-pk")
    )
    page = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    unsettled = (
        visible_online_payments(user)
        .exclude(status=OnlinePaymentStatus.SUCCEEDED)
        .prefetch_related("bills")
        .order_by("-created_at", "-pk")[:UNSETTLED_SHOWN]
    )
    return render(
        request,
        "portal/payments.html",
        {
            "nav": "payments",
            "customer": customer,
            "rows": _payment_rows(page.object_list),
            "page": page,
            "online": [_online_row(o) for o in unsettled],
        },
    )


def _refused(request, customer, message: str, field: str | None, *, status: int, bill=""):
    label = FIELD_LABELS.get(field or "", "")
    return render(
        request,
        "portal/pay_refused.html",
        {
            "nav": "payments",
            "customer": customer,
            "message": message,
            "field": label,
            "back": reverse("portal:bill", args=[bill]) if bill else reverse("portal:bills"),
        },
        status=status,
    )


@customer_required
@require_POST
def pay(request, customer):
    """Start paying online (the whole open debt, or one bill) and go to the gateway's page."""
    user = request.user
    _money_required(user)
    key = request.POST.get("idempotency_key", "").strip()
    number = request.POST.get("bill", "").strip()
    amount = request.POST.get("amount", "").strip()
    bills = None
    if number:
        bill = visible_bills(user).filter(number=number).first()
        if bill is None:
            # Another company's bill reads as one that does not exist.
            return _refused(
                request,
                customer,
                _("None of your bills has the number %(number)s.") % {"number": number},
                "bill",
                status=404,
            )
        bills = [bill]
    back = number if bills else ""
    if not key or len(key) > gateway.KEY_MAX or not key.isprintable():
        return _refused(
            request,
            customer,
            _("This payment form is incomplete or out of date: open the page again."),
            "Idempotency-Key",
            status=400,
            bill=back,
        )
    if not amount:
        return _refused(
            request, customer, _("Enter the amount to pay."), "amount", status=400, bill=back
        )
    # The provider sends the cardholder back to this payment's own page.
    # (The placeholder is put in last: building the URL would escape its braces.)
    page = request.build_absolute_uri(reverse("portal:online_payment", args=["_"]))
    return_url = page.removesuffix("/_/") + f"/{gateway.PAYMENT_REF}/"
    try:
        start = gateway.start_paying_debt(
            customer, amount, key, user=user, bills=bills, return_url=return_url
        )
    except PaymentError as exc:
        if exc.code == "conflict":
            return _refused(
                request,
                customer,
                _(
                    "This payment form was already sent for another amount. "
                    "Open the page again to start a new payment."
                ),
                exc.field,
                status=409,
                bill=back,
            )
        return _refused(request, customer, str(exc), exc.field, status=400, bill=back)
    online = start.payment
    if online.status in WAITING:
        return redirect(start.redirect_url)
    # A form sent again after its payment ended: show how it ended, not the gateway's page.
    return redirect("portal:online_payment", online.provider_ref)


@customer_required
def online_payment(request, customer, ref):
    """Where the gateway sends the cardholder back: pending until the signed webhook settles it."""
    user = request.user
    _money_required(user)
    online = get_object_or_404(
        visible_online_payments(user).prefetch_related("bills"), provider_ref=ref
    )
    settled = []
    received = ""
    if online.status == OnlinePaymentStatus.SUCCEEDED:
        payment = getattr(online, "payment", None)
        if payment is not None:
            received = _local_day(payment.received_at)
            settled = [
                {
                    "number": a.bill.number,
                    "amount": format_money(a.amount, payment.currency),
                    "left": format_money(a.bill.open_amount, a.bill.currency),
                }
                for a in payment.allocations.select_related("bill").order_by(
                    "bill__due_date", "bill__number", "pk"
                )
            ]
    context = {
        "nav": "payments",
        "customer": customer,
        "online": _online_row(online),
        "settled": settled,
        "received": received,
    }
    if request.headers.get("HX-Request"):
        # The poll asks for the status block alone; once settled it stops asking.
        return render(request, "portal/online_payment_status.html", context)
    return render(request, "portal/online_payment.html", context)
