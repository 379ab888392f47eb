"""Bills, balances and payments over the API, and the payment gateway's webhook.

Rows come from ``core.access``: a customer user whose company role handles money
sees its own customer's issued and credited documents; another customer's bill
or balance answers 404. Staff need their role's billing permissions. Amounts are
exact decimal strings. The webhook is the gateway's: it is authenticated by its
signature, not by a key.
"""

import datetime as dt
from typing import Annotated

from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status

from voltdesk.api.auth import acting_user, require_view
from voltdesk.api.errors import InvalidInput
from voltdesk.api.pagination import LimitOffset
from voltdesk.api.params import PRINTABLE, REF_MAX, CustomerRef, parse_moment
from voltdesk.core.access import (
    customer_of,
    sees_money,
    visible_bills,
    visible_customers,
)

from . import gateway, payments
from .models import Bill

router = Router(tags=["bills and payments"])

BillNumber = Annotated[
    str, Path(min_length=1, max_length=24, pattern=PRINTABLE, description="The bill's number.")
]
Code = Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]*$")]
Ref = Annotated[str | None, Query(max_length=REF_MAX, pattern=PRINTABLE)]


class ContractBalanceOut(Schema):
    contract: int | None
    site: str | None
    open_debt: str
    overdue: str


class BalanceOut(Schema):
    customer: str
    as_of: dt.date
    currency: str
    open_debt: str = Field(..., description="Issued documents' total less paid.")
    overdue: str = Field(..., description="Open debt past its due date.")
    credit: str = Field(..., description="Money received and not yet allocated.")
    balance: str = Field(..., description="Open debt less credit; negative: in credit.")
    contracts: list[ContractBalanceOut]


class LineOut(Schema):
    position: int
    kind: str
    period: str
    covers_from: dt.date
    covers_to: dt.date
    quantity: str
    unit: str
    unit_price: str
    amount: str


class AllocationOut(Schema):
    payment_id: int
    received_at: dt.datetime
    method: str
    amount: str


class BillOut(Schema):
    number: str | None
    kind: str
    status: str
    customer: str
    contract: int | None
    site: str | None
    period_start: dt.date
    period_end: dt.date
    corrects: str | None
    energy_kwh: str
    net_amount: str
    vat_amount: str
    total: str
    paid: str
    open_amount: str
    currency: str
    issued_at: dt.datetime | None
    due_date: dt.date | None
    overdue: bool


class BillDetailOut(BillOut):
    lines: list[LineOut]
    allocations: list[AllocationOut]


class PaymentIn(Schema):
    customer_ref: str = Field(..., min_length=1, max_length=REF_MAX, pattern=PRINTABLE)
    amount: str = Field(..., max_length=20, description="Decimal string, e.g. 120.50.")
    method: str = Field(..., max_length=8, description="bank, debit, cash, prepaid or online.")
    received_at: str | None = Field(None, max_length=40, description="ISO 8601; default now.")
    reference: str = Field("", max_length=80, pattern=PRINTABLE)


class PaymentOut(Schema):
    id: int
    customer: str
    amount: str
    currency: str
    method: str
    received_at: dt.datetime
    reference: str
    allocated: str
    credit_left: str
    allocations: list[dict]


class OnlineIn(Schema):
    customer_ref: str | None = Field(
        None, max_length=REF_MAX, pattern=PRINTABLE, description="Staff: whose bills."
    )
    bills: list[Annotated[str, Field(max_length=24, pattern=PRINTABLE)]] = Field(
        ..., min_length=1, max_length=100, description="Numbers of the bills to pay."
    )
    amount: str | None = Field(None, max_length=20, description="Default: all that is open.")
    return_url: str = Field("", max_length=300, pattern=PRINTABLE)


class OnlineOut(Schema):
    id: int
    status: str
    amount: str
    currency: str
    provider: str
    redirect_url: str
    failure_reason: str


def _money(user) -> None:
    if customer_of(user) is not None and not sees_money(user):
        raise HttpError(403, _("Your role in the company does not cover bills and payments."))


def _bill_out(bill: Bill, today: dt.date) -> dict:
    return {
        "number": bill.number,
        "kind": bill.kind,
        "status": bill.status,
        "customer": bill.customer.ref,
        "contract": bill.contract_id,
        "site": bill.site.ref if bill.site_id else None,
        "period_start": bill.period_start,
        "period_end": bill.period_end,
        "corrects": bill.corrects.number if bill.corrects_id else None,
        "energy_kwh": str(bill.energy_kwh),
        "net_amount": str(bill.net_amount),
        "vat_amount": str(bill.vat_amount),
        "total": str(bill.total),
        "paid": str(bill.paid),
        "open_amount": str(bill.open_amount),
        "currency": bill.currency,
        "issued_at": bill.issued_at,
        "due_date": bill.due_date,
        "overdue": bool(bill.due_date and bill.due_date < today and bill.open_amount > 0),
    }


def _refused(exc: payments.PaymentError):
    return InvalidInput(exc.field or "", str(exc))


@router.get(
    "/customers/{ref}/balance", response=BalanceOut, summary="A customer's balance and debts"
)
def get_balance(request, ref: CustomerRef):
    user = require_view(request, "billing.view_bill")
    _money(user)
    customer = get_object_or_404(visible_customers(user), ref=ref)
    balance = payments.customer_balance(customer)
    return {
        "customer": customer.ref,
        "as_of": balance.as_of,
        "currency": balance.currency,
        "open_debt": str(balance.open_debt),
        "overdue": str(balance.overdue),
        "credit": str(balance.credit),
        "balance": str(balance.balance),
        "contracts": [
            {
                "contract": c.contract_id,
                "site": c.site_ref,
                "open_debt": str(c.open_debt),
                "overdue": str(c.overdue),
            }
            for c in balance.contracts
        ],
    }


class _Mapped:
    """A queryset that ``paginate`` counts and slices, mapping each row on the way out."""

    def __init__(self, qs, fn):
        self.qs, self.fn = qs, fn

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        return [self.fn(b) for b in self.qs[key]]


@router.get("/bills", response=list[BillOut], summary="List bills")
@paginate(LimitOffset)
def list_bills(
    request,
    customer_ref: Ref = None,
    site_ref: Ref = None,
    kind: Code = None,
    status: Code = None,
    open: bool | None = None,  # noqa: A002 - the interface's own name
    overdue: bool | None = None,
    period_from: Annotated[str | None, Query(max_length=40)] = None,
    period_to: Annotated[str | None, Query(max_length=40)] = None,
):
    user = require_view(request, "billing.view_bill")
    _money(user)
    qs = visible_bills(user).select_related("customer", "site", "corrects")
    if customer_ref:
        qs = qs.filter(customer__ref=customer_ref)
    if site_ref:
        qs = qs.filter(site__ref=site_ref)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    today = payments.today()
    if open is not None:
        qs = qs.filter(total__gt=F("paid")) if open else qs.exclude(total__gt=F("paid"))
    if overdue is not None:
        late = Q(due_date__lt=today, total__gt=F("paid"))
        qs = qs.filter(late) if overdue else qs.exclude(late)
    start = parse_moment("period_from", period_from)
    end = parse_moment("period_to", period_to)
    if start:
        qs = qs.filter(period_end__gt=start.date())
    if end:
        qs = qs.filter(period_start__lt=end.date())
    qs = qs.order_by("-period_start", "-pk")
    return _Mapped(qs, lambda b: _bill_out(b, today))


@router.get("/bills/{number}", response=BillDetailOut, summary="A bill with its lines and payments")
def get_bill(request, number: BillNumber):
    user = require_view(request, "billing.view_bill")
    _money(user)
    bill = get_object_or_404(
        visible_bills(user).select_related("customer", "site", "corrects"), number=number
    )
    data = _bill_out(bill, payments.today())
    data["lines"] = [
        {
            "position": line.position,
            "kind": line.kind,
            "period": line.period,
            "covers_from": line.covers_from,
            "covers_to": line.covers_to,
            "quantity": str(line.quantity),
            "unit": line.unit,
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
        }
        for line in bill.lines.order_by("position")
    ]
    data["allocations"] = [
        {
            "payment_id": a.payment_id,
            "received_at": a.payment.received_at,
            "method": a.payment.method,
            "amount": str(a.amount),
        }
        for a in bill.allocations.select_related("payment").order_by("payment__received_at", "pk")
    ]
    return data


@router.post("/payments", response={201: PaymentOut}, summary="Record a payment received")
def post_payment(request, payload: PaymentIn):
    user = acting_user(request)
    if customer_of(user) is not None or not user.has_perm("billing.add_payment"):
        raise HttpError(403, _("You do not have permission to do this."))
    customer = get_object_or_404(visible_customers(user), ref=payload.customer_ref)
    received_at = parse_moment("received_at", payload.received_at)
    try:
        result = payments.record_payment(
            customer,
            payload.amount,
            payload.method,
            received_at,
            payload.reference,
            user=user,
        )
    except payments.PaymentError as exc:
        raise _refused(exc) from None
    payment = result.payment
    mine = [a for a in result.allocations if a.payment_id == payment.pk]
    return Status(
        201,
        {
            "id": payment.pk,
            "customer": customer.ref,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "method": payment.method,
            "received_at": payment.received_at,
            "reference": payment.reference,
            "allocated": str(payment.allocated),
            "credit_left": str(payment.unallocated),
            "allocations": [{"bill": a.bill.number, "amount": str(a.amount)} for a in mine],
        },
    )


@router.post(
    "/payments/online",
    response={200: OnlineOut, 201: OnlineOut},
    summary="Start an online payment (redirect to the gateway)",
)
def post_online_payment(
    request,
    payload: OnlineIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
):
    user = acting_user(request)
    own = customer_of(user)
    if own is None and not user.has_perm("billing.add_payment"):
        raise HttpError(403, _("You do not have permission to do this."))
    _money(user)
    if own is not None:
        if payload.customer_ref and payload.customer_ref != own.ref:
            raise HttpError(404, _("Not found."))
        customer = own
    else:
        if not payload.customer_ref:
            raise InvalidInput("customer_ref", _("This field is required."), code="missing")
        customer = get_object_or_404(visible_customers(user), ref=payload.customer_ref)
    if not idempotency_key:
        raise InvalidInput(
            "Idempotency-Key",
            _("Send an Idempotency-Key header: one per payment, so a retry pays once."),
            code="missing",
        )
    numbers = set(payload.bills)
    bills = list(visible_bills(user).filter(customer=customer, number__in=numbers))
    if len(bills) != len(numbers):
        raise HttpError(404, _("Not found."))
    try:
        start = gateway.start_online_payment(
            customer,
            bills,
            payload.amount,
            idempotency_key,
            user=user,
            return_url=payload.return_url,
        )
    except payments.PaymentError as exc:
        if exc.code == "conflict":
            raise HttpError(409, str(exc)) from None
        raise _refused(exc) from None
    online = start.payment
    return Status(
        201 if start.created else 200,
        {
            "id": online.pk,
            "status": online.status,
            "amount": str(online.amount),
            "currency": online.currency,
            "provider": online.provider,
            "redirect_url": start.redirect_url,
            "failure_reason": online.failure_reason,
        },
    )


@router.post(
    "/payments/webhook/sandbox",
    auth=None,
    response={200: dict, 400: dict},
    summary="The sandbox gateway's signed webhook",
    include_in_schema=True,
)
def sandbox_webhook(request):
    try:
        result = gateway.receive_webhook("sandbox", request.body, request.headers)
    except gateway.WebhookRejected as exc:
        return Status(400, {"detail": str(exc)})
    return {"received": True, "duplicate": result.duplicate}
