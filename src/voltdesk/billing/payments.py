"""Balances and payments: what a customer owes, and how money received settles it.

Open debt is, over the customer's issued and credited documents, ``total - paid``
(a credit note's total is negative). Money received and not yet allocated is the
customer's credit. A payment settles debt oldest first: by due date, then issue
date, then number. Before any payment is spent, a credit note's negative amount
offsets the bill it corrects (then other debt, oldest first), so money is never
spent on a bill that has been cancelled.

``Bill.paid`` and ``Payment.allocated`` move only here, with ``F()`` updates in
one transaction that holds the customer's row lock, so two payments of one
customer never allocate the same euro twice.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, log_action, utility_zone
from voltdesk.customers.models import Customer

from .choices import ArrangementStatus, BillKind, BillStatus, PaymentMethod
from .models import Bill, Instalment, Payment, PaymentAllocation, PaymentArrangement

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # what a MONEY column holds


class PaymentError(ValueError):
    """A payment request that cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


def to_cents(amount) -> Decimal:
    """The one rounding rule of money: to the cent, half up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value, field: str = "amount") -> Decimal:
    """A positive amount of money with at most two decimals, or PaymentError naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise PaymentError(_("Enter an amount such as 120.50."), field) from None
    if not amount.is_finite() or amount <= 0:
        raise PaymentError(_("The amount must be more than zero."), field)
    if amount != amount.quantize(CENT):
        raise PaymentError(_("The amount can have at most two decimals (cents)."), field)
    if amount > MAX_AMOUNT:
        raise PaymentError(_("The amount is too large."), field)
    return amount.quantize(CENT)


def today() -> date:
    """Today in the utility's time zone: due dates are its local days."""
    return timezone.localdate(timezone=utility_zone())


# Balances ----------------------------------------------------------------------------

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
OPEN = ExpressionWrapper(F("total") - F("paid"), output_field=MONEY_FIELD)
LIVE = Q(status__in=[BillStatus.ISSUED, BillStatus.CREDITED])


@dataclass
class ContractBalance:
    contract_id: int | None
    site_ref: str | None
    open_debt: Decimal
    overdue: Decimal


@dataclass
class Balance:
    """What a customer owes as of a day: ``balance`` is debt less credit (negative: in credit)."""

    customer: Customer
    as_of: date
    currency: str
    open_debt: Decimal
    overdue: Decimal
    credit: Decimal
    contracts: list[ContractBalance] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return self.open_debt - self.credit


def customer_balance(customer: Customer, as_of: date | None = None) -> Balance:
    """The customer's open debt, overdue part and credit, in total and per contract.

    Overdue is open debt whose due date is before ``as_of`` (a bill is on time on
    its due date). Documents without a contract (a late fee keeps its bill's) are
    listed under ``contract_id=None``.
    """
    as_of = as_of or today()
    overdue_expr = Sum(
        Case(When(due_date__lt=as_of, then=OPEN), default=Value(ZERO)),
        output_field=MONEY_FIELD,
    )
    rows = (
        Bill.objects.filter(LIVE, customer=customer)
        .values("contract_id", "site__ref")
        .annotate(open_debt=Sum(OPEN), overdue=overdue_expr)
        .order_by("site__ref", "contract_id")
    )
    contracts = [
        ContractBalance(
            contract_id=r["contract_id"],
            site_ref=r["site__ref"],
            open_debt=to_cents(r["open_debt"] or 0),
            overdue=to_cents(r["overdue"] or 0),
        )
        for r in rows
    ]
    credit = Payment.objects.filter(customer=customer).aggregate(
        c=Coalesce(Sum(F("amount") - F("allocated")), Value(ZERO), output_field=DecimalField())
    )["c"]
    return Balance(
        customer=customer,
        as_of=as_of,
        currency=get_utility().currency,
        open_debt=sum((c.open_debt for c in contracts), ZERO),
        overdue=sum((c.overdue for c in contracts if c.overdue > 0), ZERO),
        credit=to_cents(credit),
        contracts=contracts,
    )


@dataclass
class DebtToPay:
    """What "pay now" offers: the bills the money is for and the amount that clears them."""

    bills: list[Bill]
    amount: Decimal


def debt_to_pay(customer: Customer, bill: Bill | None = None) -> DebtToPay:
    """The open debt a customer can pay now: all of it, or one bill's open amount.

    The whole debt is every issued bill and late fee with money open, for the open
    debt less the customer's credit, never more than those bills' open amounts: an
    open credit note and unspent money are used first when the payment is
    allocated, so paying more would only leave credit. One bill: its open amount
    (nothing when it is paid, a credit note, or not issued).
    """
    if bill is not None:
        payable = (
            bill.customer_id == customer.pk
            and bill.status == BillStatus.ISSUED
            and bill.kind != BillKind.CREDIT_NOTE
            and bill.open_amount > 0
        )
        return DebtToPay([bill], to_cents(bill.open_amount)) if payable else DebtToPay([], ZERO)
    bills = list(
        Bill.objects.filter(customer=customer, status=BillStatus.ISSUED, total__gt=F("paid"))
        .exclude(kind=BillKind.CREDIT_NOTE)
        .order_by("due_date", "pk")
    )
    open_on_bills = sum((b.total - b.paid for b in bills), ZERO)
    amount = min(open_on_bills, customer_balance(customer).balance)
    return DebtToPay(bills, amount) if amount > 0 else DebtToPay([], ZERO)


# Allocation --------------------------------------------------------------------------


def debts_in_order(customer: Customer, first: list[int] | None = None):
    """The customer's documents with money still owed, in the order payments settle them.

    ``first``: bill ids settled before the rest (an online payment made for them).
    """
    # A credited bill stays in: its credit note offsets what is still open on it.
    qs = Bill.objects.filter(LIVE, customer=customer, total__gt=F("paid"))
    qs = qs.exclude(kind=BillKind.CREDIT_NOTE)
    order = [
        F("due_date").asc(nulls_last=True),
        F("issued_at").asc(nulls_last=True),
        F("number").asc(nulls_last=True),
        "pk",
    ]
    if first:
        order.insert(0, Case(When(pk__in=first, then=Value(0)), default=Value(1)))
    return qs.order_by(*order)


def _move(bill_id: int, amount: Decimal) -> None:
    Bill.objects.filter(pk=bill_id).update(paid=F("paid") + amount)


def _offset_credit_notes(customer: Customer, actor) -> list[dict]:
    """Spend each credit note's open (negative) amount on the bill it corrects, then oldest debt."""
    done = []
    notes = Bill.objects.filter(
        customer=customer,
        kind=BillKind.CREDIT_NOTE,
        status=BillStatus.ISSUED,
        total__lt=F("paid"),
    ).order_by("issued_at", "pk")
    for note in notes:
        left = note.paid - note.total  # positive: what the note can still give
        targets = list(
            debts_in_order(customer, first=[note.corrects_id] if note.corrects_id else [])
        )
        for bill in targets:
            if left <= 0:
                break
            take = min(left, bill.total - bill.paid)
            _move(bill.pk, take)
            # A credit note's "paid" goes negative as it is spent: total - paid tends to 0.
            _move(note.pk, -take)
            left -= take
            done.append({"credit_note": str(note), "bill": str(bill), "amount": str(take)})
            log_action(actor, "billing.credit_note_offset", note, done[-1])
    return done


def _fill_instalments(bill_amounts: dict[int, Decimal]) -> None:
    """Money reaching bills inside an active arrangement fills its instalments in order."""
    if not bill_amounts:
        return
    # No DISTINCT with FOR UPDATE (PostgreSQL refuses it): the ids come from a subquery.
    ids = PaymentArrangement.bills.through.objects.filter(bill_id__in=list(bill_amounts)).values(
        "paymentarrangement_id"
    )
    arrangements = PaymentArrangement.objects.filter(status=ArrangementStatus.ACTIVE, pk__in=ids)
    for arrangement in arrangements.select_for_update().order_by("pk"):
        amount = sum(
            (
                bill_amounts[b]
                for b in arrangement.bills.values_list("pk", flat=True)
                if b in bill_amounts
            ),
            ZERO,
        )
        for inst in arrangement.instalments.filter(paid__lt=F("amount")).order_by("number"):
            if amount <= 0:
                break
            take = min(amount, inst.amount - inst.paid)
            Instalment.objects.filter(pk=inst.pk).update(paid=F("paid") + take)
            amount -= take
        if not arrangement.instalments.filter(paid__lt=F("amount")).exists():
            arrangement.status = ArrangementStatus.COMPLETED
            arrangement.save(update_fields=["status"])
            log_action(None, "billing.arrangement_completed", arrangement)


def _allocate(customer: Customer, actor, first: list[int] | None = None) -> list[PaymentAllocation]:
    """Spend unallocated payments, oldest first, on open debt, oldest first (caller locks)."""
    _offset_credit_notes(customer, actor)
    payments = list(
        Payment.objects.filter(customer=customer, amount__gt=F("allocated"))
        .select_for_update()
        .order_by("received_at", "pk")
    )
    if not payments:
        return []
    debts = list(debts_in_order(customer, first=first).select_for_update())
    made: list[PaymentAllocation] = []
    reached: dict[int, Decimal] = {}
    for payment in payments:
        free = payment.amount - payment.allocated
        for bill in debts:
            if free <= 0:
                break
            owed = bill.total - bill.paid
            if owed <= 0:
                continue
            take = min(free, owed)
            allocation, created = PaymentAllocation.objects.get_or_create(
                payment=payment, bill=bill, defaults={"amount": take}
            )
            if not created:
                PaymentAllocation.objects.filter(pk=allocation.pk).update(amount=F("amount") + take)
            _move(bill.pk, take)
            Payment.objects.filter(pk=payment.pk).update(allocated=F("allocated") + take)
            bill.paid += take  # our copy, for the next payment in this loop
            free -= take
            payment.allocated += take
            reached[bill.pk] = reached.get(bill.pk, ZERO) + take
            made.append(PaymentAllocation(payment=payment, bill=bill, amount=take))
            log_action(
                actor,
                "billing.payment_allocated",
                payment,
                {"bill": str(bill), "amount": str(take)},
            )
    _fill_instalments(reached)
    return made


def _lock_customer(customer: Customer) -> Customer:
    # One lock per customer: every allocation of its money runs one at a time.
    return Customer.objects.select_for_update().get(pk=customer.pk)


def apply_credit(customer: Customer, *, user=None) -> list[PaymentAllocation]:
    """Spend the customer's credit (unallocated payments, open credit notes) on its open debt.

    Call after new bills are issued: a leftover of an earlier payment pays the next bill.
    """
    with transaction.atomic():
        customer = _lock_customer(customer)
        return _allocate(customer, user)


def apply_all_credit() -> int:
    """Beat job: apply credit for every customer that has both credit and open debt."""
    with_credit = Payment.objects.filter(amount__gt=F("allocated")).values("customer_id")
    with_notes = Bill.objects.filter(
        kind=BillKind.CREDIT_NOTE, status=BillStatus.ISSUED, total__lt=F("paid")
    ).values("customer_id")
    owing = (
        Bill.objects.filter(status=BillStatus.ISSUED, total__gt=F("paid"))
        .filter(Q(customer_id__in=with_credit) | Q(customer_id__in=with_notes))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    count = 0
    for customer in Customer.objects.filter(pk__in=list(owing)):
        if apply_credit(customer):
            count += 1
    return count


@dataclass
class PaymentResult:
    payment: Payment
    allocations: list[PaymentAllocation]

    @property
    def credit_left(self) -> Decimal:
        return self.payment.amount - sum(
            (a.amount for a in self.allocations if a.payment_id == self.payment.pk), ZERO
        )


def record_payment(
    customer: Customer,
    amount,
    method: str,
    received_at: datetime | None,
    reference: str = "",
    *,
    user,
    online_payment=None,
    first: list[int] | None = None,
) -> PaymentResult:
    """Record money received and allocate it, oldest debt first; what is left stays as credit.

    ``first``: bill ids to settle before the rest (those an online payment was for).
    """
    amount = parse_amount(amount)
    if method not in PaymentMethod.values:
        raise PaymentError(
            _("Choose a payment method: %(methods)s.")
            % {"methods": ", ".join(PaymentMethod.values)},
            "method",
        )
    received_at = received_at or timezone.now()
    if timezone.is_naive(received_at):
        raise PaymentError(
            _("Give the time the payment was received with its time zone."), "received_at"
        )
    if received_at > timezone.now() + timedelta(minutes=5):
        raise PaymentError(_("A payment cannot be received in the future."), "received_at")
    if len(reference) > 80:
        raise PaymentError(_("The reference can have at most 80 characters."), "reference")
    with transaction.atomic():
        customer = _lock_customer(customer)
        payment = Payment.objects.create(
            customer=customer,
            amount=amount,
            currency=get_utility().currency,
            method=method,
            received_at=received_at,
            reference=reference,
            online_payment=online_payment,
        )
        log_action(
            user,
            "billing.payment_recorded",
            payment,
            {"amount": str(amount), "method": method, "reference": reference},
        )
        allocations = _allocate(customer, user, first=first)
        payment.refresh_from_db()
    return PaymentResult(payment=payment, allocations=allocations)
