"""Debts: late fees on overdue bills, and payment arrangements (instalments).

Late fees (``charge_late_fees``). A bill still open after its due date plus the
profile's grace days is charged ``open amount x daily rate x days`` (the rate of
households or of businesses, by ``Customer.kind``), counted from the due date.
Each charge is its own late-fee document (kind ``late_fee``, ``corrects`` = the
bill) covering the days [from, to): ``from`` is where the previous late fee of
that bill ended (or the due date), ``to`` is the day of the run. So running twice
on one day charges once (nothing is left to cover), and a later day charges the
days since, on what is open then. An amount under one cent is not charged and its
days are not used up: they are charged with the next run's. Late fees are charged
on bills only, never on late fees or credit notes, and carry no VAT (interest).

Arrangements (``agree_arrangement``). Chosen bills' open debt is split into
equal monthly instalments, the remainder cents on the last. No late fee runs on
those bills while the arrangement is active. Money reaching the bills fills the
instalments in order; when all are paid the arrangement is completed. An
instalment still unpaid ``BREAK_AFTER_DAYS`` days after its due date breaks the
arrangement (``check_arrangements``): late fees restart from that day, not for
the time the arrangement was kept.

Holds (``register_late_fee_hold``). Another app may say a bill accrues no late fee
before a day: a prepaid package's month whose bill exceeded the credit may be paid
within 15 days; late fees then count from that day on, not for the 15 days.
"""

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.models import AuditEntry
from voltdesk.core.services import get_utility, log_action
from voltdesk.customers.choices import CustomerKind

from .choices import ArrangementStatus, BillKind, BillStatus, LineKind
from .models import Bill, BillLine, Instalment, PaymentArrangement
from .payments import CENT, ZERO, PaymentError, to_cents, today

BREAK_AFTER_DAYS = 15  # an instalment unpaid this long after its due date breaks the arrangement
MAX_INSTALMENTS = 60

# Other apps' reasons a bill accrues no late fee before a day (prepaid packages: a
# month's shortfall may be paid within 15 days). Each is ``fn(bill_ids) -> {bill_id:
# day}``; registered by the app (its AppConfig.ready), so billing imports none of them.
LATE_FEE_HOLDS: list = []


def register_late_fee_hold(fn) -> None:
    """Add ``fn(bill_ids) -> {bill_id: date}``: no late fee accrues on a bill before its date."""
    if fn not in LATE_FEE_HOLDS:
        LATE_FEE_HOLDS.append(fn)


def _held_until(bill_ids) -> dict[int, date]:
    held: dict[int, date] = {}
    for fn in LATE_FEE_HOLDS:
        for bill_id, day in fn(bill_ids).items():
            held[bill_id] = max(held.get(bill_id, day), day)
    return held


def late_fee_number(bill_id: int, to: date) -> str:
    """One late fee per bill per day: the number itself makes a second run a no-op."""
    return f"LF-{bill_id}-{to:%Y%m%d}"


def _in_active_arrangement():
    return Exists(
        PaymentArrangement.bills.through.objects.filter(
            bill_id=OuterRef("pk"), paymentarrangement__status=ArrangementStatus.ACTIVE
        )
    )


def _break_days(bill_ids) -> dict[int, date]:
    """For bills of broken arrangements: the day each broke (late fees restart there)."""
    through = PaymentArrangement.bills.through
    links = through.objects.filter(
        bill_id__in=bill_ids, paymentarrangement__status=ArrangementStatus.BROKEN
    ).values_list("bill_id", "paymentarrangement_id")
    links = list(links)
    if not links:
        return {}
    # The day a broken arrangement broke: its first unpaid instalment's due date + the
    # tolerance. Instalments are no longer filled once it is broken, so this stays put.
    firsts = {}
    for inst in Instalment.objects.filter(
        arrangement_id__in={a for _b, a in links}, paid__lt=F("amount")
    ).order_by("arrangement_id", "number"):
        firsts.setdefault(inst.arrangement_id, inst.due_date)
    days: dict[int, date] = {}
    for bill_id, arrangement_id in links:
        if arrangement_id in firsts:
            broke = firsts[arrangement_id] + timedelta(days=BREAK_AFTER_DAYS)
            days[bill_id] = max(days.get(bill_id, broke), broke)
    return days


def charge_late_fees(as_of: date, *, user=None) -> dict:
    """Charge late fees on every bill overdue beyond the grace days as of ``as_of``.

    Set-based: one query finds the bills with the day their last late fee ended,
    the amounts are computed exactly in Python (Decimal, cents half up), and the
    documents, their lines and audit rows are inserted in bulk. Returns figures.
    """
    utility = get_utility()
    grace = utility.late_fee_grace_days
    rates = {
        CustomerKind.RESIDENTIAL: utility.late_fee_daily_rate_residential,
    }
    business_rate = utility.late_fee_daily_rate_business
    overdue = (
        Bill.objects.filter(
            kind=BillKind.BILL,
            status=BillStatus.ISSUED,
            due_date__lt=as_of - timedelta(days=grace),
            total__gt=F("paid"),
        )
        .exclude(_in_active_arrangement())
        .annotate(
            last_fee_end=Max("corrections__period_end", filter=_late_fee_q("corrections__")),
        )
        .values(
            "pk",
            "customer_id",
            "customer__kind",
            "contract_id",
            "site_id",
            "currency",
            "due_date",
            "total",
            "paid",
            "last_fee_end",
        )
    )
    rows = list(overdue)
    broke = _break_days([r["pk"] for r in rows])
    held = _held_until([r["pk"] for r in rows]) if rows else {}
    now = timezone.now()
    due = as_of + timedelta(days=utility.payment_terms_days)
    docs, plans = [], []
    for r in rows:
        # A hold (a prepaid shortfall's 15 days) is a free period: days count from its end.
        marks = (r["due_date"], r["last_fee_end"], broke.get(r["pk"]), held.get(r["pk"]))
        start = max(d for d in marks if d)
        days = (as_of - start).days
        if days <= 0:
            continue
        open_amount = r["total"] - r["paid"]
        rate = rates.get(r["customer__kind"], business_rate)
        base = open_amount * days  # "amount x days", the line's quantity
        fee = to_cents(base * rate)
        if fee < CENT:
            continue  # under a cent: the days wait for the next run
        number = late_fee_number(r["pk"], as_of)
        docs.append(
            Bill(
                number=number,
                kind=BillKind.LATE_FEE,
                status=BillStatus.ISSUED,
                customer_id=r["customer_id"],
                contract_id=r["contract_id"],
                site_id=r["site_id"],
                period_start=start,
                period_end=as_of,
                corrects_id=r["pk"],
                net_amount=fee,
                vat_amount=ZERO,
                total=fee,
                currency=r["currency"],
                issued_at=now,
                due_date=due,
            )
        )
        plans.append((number, start, base, rate, fee))
    if not docs:
        return {"bills_overdue": len(rows), "late_fees": 0, "amount": ZERO}
    with transaction.atomic():
        # A concurrent run of the same day made the same numbers: theirs stand, ours are skipped.
        Bill.objects.bulk_create(docs, ignore_conflicts=True)
        ids = dict(
            Bill.objects.filter(number__in=[p[0] for p in plans], lines__isnull=True).values_list(
                "number", "pk"
            )
        )
        lines = [
            BillLine(
                bill_id=ids[number],
                position=1,
                kind=LineKind.LATE_FEE,
                covers_from=start,
                covers_to=as_of,
                quantity=base,
                unit=_("day"),
                unit_price=rate,
                amount=fee,
            )
            for number, start, base, rate, fee in plans
            if number in ids
        ]
        BillLine.objects.bulk_create(lines, ignore_conflicts=True)
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=user if getattr(user, "pk", None) else None,
                action="billing.late_fee_charged",
                object_type="billing.bill",
                object_id=str(ids[number]),
                data={"amount": str(fee), "from": start.isoformat(), "to": as_of.isoformat()},
            )
            for number, start, _base, _rate, fee in plans
            if number in ids
        )
    charged = [p for p in plans if p[0] in ids]
    return {
        "bills_overdue": len(rows),
        "late_fees": len(charged),
        "amount": sum((p[4] for p in charged), ZERO),
    }


def _late_fee_q(prefix: str):
    return Q(**{f"{prefix}kind": BillKind.LATE_FEE}) & ~Q(**{f"{prefix}status": BillStatus.DRAFT})


# Arrangements ------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_instalments(total: Decimal, count: int) -> list[Decimal]:
    """Equal instalments rounded down to the cent; the remainder cents go on the last."""
    each = (total / count).quantize(CENT, rounding="ROUND_DOWN")
    return [each] * (count - 1) + [total - each * (count - 1)]


def agree_arrangement(customer, bills, instalments: int, first_due: date, *, user, note=""):
    """Split the open debt of ``bills`` into monthly ``instalments``, the first on ``first_due``."""
    if not isinstance(instalments, int) or not 2 <= instalments <= MAX_INSTALMENTS:
        raise PaymentError(
            _("The number of instalments must be between 2 and %(max)s.")
            % {"max": MAX_INSTALMENTS},
            "instalments",
        )
    if first_due < today():
        raise PaymentError(_("The first instalment cannot be due in the past."), "first_due")
    bill_ids = {b.pk for b in bills}
    if not bill_ids:
        raise PaymentError(_("Choose at least one bill."), "bills")
    with transaction.atomic():
        locked = list(Bill.objects.select_for_update().filter(pk__in=bill_ids).order_by("pk"))
        for bill in locked:
            if bill.customer_id != customer.pk:
                raise PaymentError(
                    _("Bill %(bill)s is not this customer's.") % {"bill": bill}, "bills"
                )
            if bill.status != BillStatus.ISSUED or bill.kind == BillKind.CREDIT_NOTE:
                raise PaymentError(
                    _("Bill %(bill)s is not an issued bill.") % {"bill": bill}, "bills"
                )
            if bill.total - bill.paid <= 0:
                raise PaymentError(_("Bill %(bill)s is already paid.") % {"bill": bill}, "bills")
        if len(locked) != len(bill_ids):
            raise PaymentError(_("A chosen bill does not exist."), "bills")
        taken = Bill.objects.filter(pk__in=bill_ids).filter(_in_active_arrangement())
        if taken.exists():
            raise PaymentError(
                _("Bill %(bill)s is already in an active arrangement.") % {"bill": taken.first()},
                "bills",
            )
        total = sum((b.total - b.paid for b in locked), ZERO)
        if total < CENT * instalments:
            raise PaymentError(_("The debt is too small for that many instalments."), "instalments")
        arrangement = PaymentArrangement.objects.create(
            customer=customer, total=total, created_by=user, note=note
        )
        arrangement.bills.set(locked)
        Instalment.objects.bulk_create(
            Instalment(
                arrangement=arrangement,
                number=i + 1,
                due_date=add_months(first_due, i),
                amount=amount,
            )
            for i, amount in enumerate(split_instalments(total, instalments))
        )
        log_action(
            user,
            "billing.arrangement_agreed",
            arrangement,
            {
                "bills": [str(b) for b in locked],
                "total": str(total),
                "instalments": instalments,
                "first_due": first_due.isoformat(),
            },
        )
    return arrangement


def check_arrangements(as_of: date, *, user=None) -> int:
    """Break each active arrangement with an instalment unpaid BREAK_AFTER_DAYS after due."""
    late = Instalment.objects.filter(
        arrangement=OuterRef("pk"),
        paid__lt=F("amount"),
        due_date__lte=as_of - timedelta(days=BREAK_AFTER_DAYS),
    )
    with transaction.atomic():
        breaking = list(
            PaymentArrangement.objects.select_for_update()
            .filter(status=ArrangementStatus.ACTIVE)
            .filter(Exists(late))
            .values_list("pk", flat=True)
        )
        if not breaking:
            return 0
        PaymentArrangement.objects.filter(pk__in=breaking).update(status=ArrangementStatus.BROKEN)
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=user if getattr(user, "pk", None) else None,
                action="billing.arrangement_broken",
                object_type="billing.paymentarrangement",
                object_id=str(pk),
                data={"as_of": as_of.isoformat()},
            )
            for pk in breaking
        )
    return len(breaking)


__all__ = [
    "BREAK_AFTER_DAYS",
    "agree_arrangement",
    "charge_late_fees",
    "check_arrangements",
    "register_late_fee_hold",
    "split_instalments",
]
