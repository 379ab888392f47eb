"""The monthly run of prepaid packages: credit each package's month and settle the bill from it.

``settle_month(month)`` runs after the month's bills are issued, in one
transaction (a failure leaves nothing half-written), and may be run again: a
package is credited once per month (``one_credit_per_package_month``), and a
shortfall is told once.

1. **Credit**: every active package whose year covers the month gets a credit
   row (the package amount and its bonus) and a ``prepaid`` payment of both on
   the customer's account (``queries.insert_credits``,
   ``insert_credit_payments``).
2. **Settle**: the customer's unallocated money is spent on its open debt in
   the order of ``billing.payments`` (oldest first), in one join
   (``queries.allocate``). Customers with an open credit note or an active
   arrangement go through ``payments.apply_credit`` instead.
3. **Shortfall**: a month's bill still open after that is the shortfall. The
   customer may pay it until the settlement day + ``shortfall_days`` (15) with
   no late fee (``late_fee_held_until``, which ``billing.debts`` asks). An SMS in
   the customer's language says how much and until when; with a bound card the
   shortfall is asked of the bank (``bank.py``), which answers later.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from voltdesk.billing.models import Payment
from voltdesk.billing.payments import apply_credit, today
from voltdesk.core.choices import Language
from voltdesk.core.models import AuditEntry
from voltdesk.core.services import get_utility, utility_held
from voltdesk.customers.models import Customer
from voltdesk.metering.periods import first_of_month
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.services import prepare_message, render_message

from . import queries
from .models import AutoDebit, PackageMonth, PrepaidSettings

CHUNK = 5000
BIG = 10_000  # rows inserted past which the planner's statistics are refreshed


def settle_month(month: date, *, as_of: date | None = None, user=None) -> dict:
    """Credit and settle every package's ``month``; returns the run's figures."""
    month = first_of_month(month)
    settled_on = as_of or today()
    terms = PrepaidSettings.current()
    pay_by = settled_on + timedelta(days=terms.shortfall_days)
    now = timezone.now()
    currency = get_utility().currency
    # The utility is read once: every SMS renders its name, a query each otherwise.
    with utility_held(), transaction.atomic():
        credited = queries.insert_credits(month, settled_on)
        if credited > BIG:
            queries.analyze(PackageMonth._meta.db_table)
        queries.insert_credit_payments(month, now, currency)
        if credited > BIG:
            queries.analyze(PackageMonth._meta.db_table, Payment._meta.db_table)
        queries.lock_customers(month)
        fallback = queries.fallback_customers(month)
        allocations = queries.allocate(month, now)
        queries.record_deductions(month)
        for customer in Customer.objects.filter(pk__in=fallback):
            _settle_one(customer, month)
        shortfalls = queries.record_shortfalls(month, pay_by)
        if shortfalls > BIG:
            # The SMS join reads the shortfalls just written: plan it with their count.
            queries.analyze(PackageMonth._meta.db_table)
        debit_ids = _create_auto_debits(month)
        sms = _tell_shortfalls(month, now)
        completed = queries.complete_packages(month)
        figures = {
            "month": f"{month:%Y-%m}",
            "packages_credited": credited,
            "allocations": allocations,
            "settled_one_by_one": len(fallback),
            "shortfalls": shortfalls,
            "auto_debits": len(debit_ids),
            "sms": sms,
            "packages_completed": completed,
        }
        AuditEntry.objects.create(
            actor=user if getattr(user, "pk", None) else None,
            action="prepaid.month_settled",
            object_type="prepaid.month",
            object_id=f"{month:%Y-%m}",
            data=figures,
        )
    if debit_ids:
        from .tasks import request_auto_debit

        transaction.on_commit(lambda: [request_auto_debit.delay(pk) for pk in debit_ids])
    return figures


def _settle_one(customer: Customer, month: date) -> None:
    """The general path of billing.payments for a customer the join leaves out."""
    rows = list(PackageMonth.objects.filter(customer=customer, month=month, bill__isnull=False))
    before = {r.pk: r.bill.paid for r in rows}
    apply_credit(customer)
    for row in rows:
        row.bill.refresh_from_db(fields=["paid"])
        paid = row.bill.paid - before[row.pk]
        if paid:
            PackageMonth.objects.filter(pk=row.pk).update(deducted=row.deducted + paid)


def _create_auto_debits(month: date) -> list[int]:
    """A pending auto-debit of the shortfall for each customer with a bound card."""
    from . import bank

    holders = queries.mandate_holders(month)
    if not holders:
        return []
    shortfalls = dict(
        PackageMonth.objects.filter(pk__in=[m for m, _d in holders]).values_list("pk", "shortfall")
    )
    debits = [
        AutoDebit(
            package_month_id=month_id,
            mandate_id=mandate_id,
            amount=shortfalls[month_id],
            bank_ref=bank.new_reference(),
        )
        for month_id, mandate_id in holders
    ]
    AutoDebit.objects.bulk_create(debits, batch_size=CHUNK, ignore_conflicts=True)
    return list(
        AutoDebit.objects.filter(
            package_month_id__in=[m for m, _d in holders], answered_at__isnull=True
        ).values_list("pk", flat=True)
    )


def shortfall_message(row: PackageMonth, template: str, **extra):
    """The SMS about a month's shortfall, rendered in the customer's language."""
    return prepare_message(
        channel=Channel.SMS,
        template=template,
        payload={
            "package": row.package.number,
            "month": f"{row.month:%Y-%m}",
            "shortfall": str(row.shortfall),
            "currency": row.package.currency,
            "pay_by": row.pay_by.isoformat(),
            **extra,
        },
        dedupe_key=f"prepaid-{template}-{row.pk}",
        customer=row.customer,
    )


def _tell_shortfalls(month: date, now) -> int:
    """One SMS per shortfall not yet told, in the customer's language, written by one INSERT.

    Each template is rendered once per language with markers the database fills
    in (``queries.token``), so 400,000 SMS cost one statement, not 400,000
    renders; delivery starts after commit, as ``queue_messages`` does.
    """
    from voltdesk.notifications import services as outbox

    context = {name: queries.token(name) for name in queries.TOKENS}
    bodies = {}
    for language in Language.values:
        for with_card, template in [
            (False, "prepaid_shortfall"),
            (True, "prepaid_shortfall_debit"),
        ]:
            bodies[(language, with_card)] = render_message(
                channel=Channel.SMS, template=template, language=language, context=context
            ).body
    ids = queries.insert_shortfall_messages(month, now, bodies, get_utility().default_language)
    if ids:
        transaction.on_commit(lambda: [outbox._enqueue(pk) for pk in ids])
    return len(ids)


def late_fee_held_until(bill_ids) -> dict[int, date]:
    """Bills with a package shortfall: no late fee accrues before their ``pay_by`` day."""
    held: dict[int, date] = {}
    rows = PackageMonth.objects.filter(bill_id__in=list(bill_ids), pay_by__isnull=False)
    for bill_id, pay_by in rows.values_list("bill_id", "pay_by"):
        held[bill_id] = max(held.get(bill_id, pay_by), pay_by)
    return held


__all__ = ["late_fee_held_until", "settle_month"]
