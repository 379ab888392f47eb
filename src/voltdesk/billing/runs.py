"""The billing run, issuing bills, and credit notes.

``billing_run(period)`` drafts a bill for every contract in force during a month
from its readings: one aggregate query gives each contract's kWh per tariff
version, season and period; rating prices them in Python, in chunks; bills and
lines go in by bulk inserts (COPY on PostgreSQL). A re-run replaces the month's
drafts and leaves issued bills alone. ``issue_bills`` numbers the drafts and
sets their due dates; ``credit_bill`` cancels an issued bill by a credit note,
after which the next run drafts that month again.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from voltdesk.core.models import AuditEntry, Utility
from voltdesk.core.services import get_utility, log_action, utility_held

from . import queries
from .choices import BillKind, BillStatus, TariffKind, TierBasis, TouPeriod
from .models import Bill, BillingRun, BillLine, TariffVersion
from .rating import VersionPart, kwh, priced_version, rate_month
from .tou import DayCalendar, local_midnight, plan_of, slots

CHUNK = 20_000


class BillingError(Exception):
    """A billing action refused, with a message for the person who asked."""


@dataclass
class _Version:
    priced: object  # PricedVersion
    tariff_id: int
    covers_from: date  # clipped to the month
    covers_to: date


def month_of(period: date) -> tuple[date, date]:
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def _aware(value) -> datetime | None:
    """A contract instant as the database hands it back (SQLite: naive UTC or text)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC)


def _floor_day(moment: datetime, tz) -> date:
    return moment.astimezone(tz).date()


def _ceil_day(moment: datetime, tz) -> date:
    local = moment.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.date() if local == midnight else local.date() + timedelta(days=1)


def _priced_versions(first: date, following: date, tz, calendar) -> tuple[list, list, list[str]]:
    """Versions valid in the month that price every hour they cover, and their slots.

    A time-of-use version whose seasons miss a month, or that has no price for a
    period its windows use, cannot bill: its contracts are skipped, with a note.
    """
    versions = (
        TariffVersion.objects.filter(valid_from__lt=following)
        .exclude(valid_to__lte=first)
        .select_related("tariff")
        .prefetch_related("rates", "seasons__windows")
        .order_by("tariff_id", "valid_from")
    )
    usable, slot_rows, notes = [], [], []
    for version in versions:
        priced = priced_version(version)
        lo = max(version.valid_from, first)
        hi = min(version.valid_to or following, following)
        version_slots = slots(plan_of(version), lo, hi, tz, calendar)
        if priced.kind == TariffKind.TIERED:
            missing = [] if priced.tiers else [("", TouPeriod.ALL)]
        else:
            missing = sorted({(s.season, s.period) for s in version_slots} - set(priced.prices))
        if missing:
            notes.append(
                _("%(version)s has no price for %(what)s; its contracts are skipped.")
                % {
                    "version": version,
                    "what": ", ".join(f"{s or '-'}/{p}" for s, p in missing),
                }
            )
            continue
        usable.append(_Version(priced, version.tariff_id, lo, hi))
        slot_rows += [
            (version.tariff_id, version.pk, s.season, s.period, s.start, s.end)
            for s in version_slots
        ]
    return usable, slot_rows, notes


def billing_run(period: date, *, progress=None, user=None) -> BillingRun:
    """Draft this month's bill of every contract in force on a priced tariff version.

    Contracts without a tariff or without a version valid in the month are
    skipped and counted. Issued bills of the month stand; drafts are replaced.
    ``progress(done, total)`` is called after each chunk of contracts.
    """
    first, following = month_of(period)
    run = BillingRun.objects.create(period=first, started_by=user if user else None)
    try:
        with transaction.atomic():
            # One run or issue at a time: both lock the utility row.
            utility = Utility.objects.select_for_update().get(pk=get_utility().pk)
            with utility_held(utility):
                figures = _bill_month(run, utility, first, following, progress)
            run.status = BillingRun.Status.DONE
            run.figures = figures
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "figures", "finished_at"])
            log_action(user, "billing_run.done", run, figures)
    except Exception as exc:
        run.status = BillingRun.Status.FAILED
        run.finished_at = timezone.now()
        run.figures = {"error": str(exc)[:500]}
        run.save(update_fields=["status", "figures", "finished_at"])
        log_action(user, "billing_run.failed", run, run.figures)
        raise
    return run


def _bill_month(run, utility, first: date, following: date, progress) -> dict:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(utility.time_zone)
    calendar = DayCalendar(utility.holiday_country)
    start, end = local_midnight(first, tz), local_midnight(following, tz)
    year_start = local_midnight(date(first.year, 1, 1), tz)
    days_in_month = monthrange(first.year, first.month)[1]

    versions, slot_rows, notes = _priced_versions(first, following, tz, calendar)
    by_id = {v.priced.id: v for v in versions}
    annual = sorted(
        {v.tariff_id for v in versions if v.priced.tier_basis == TierBasis.ANNUAL}
        & {v.tariff_id for v in versions if v.priced.kind == TariffKind.TIERED}
    )
    in_force, with_tariff = queries.count_in_force(start, end)
    kept = queries.count_bills(first, following, BillStatus.ISSUED)
    replaced = queries.delete_drafts(first, following)
    total = max(in_force - kept, 0)

    billed = 0
    energy = Decimal(0)
    amount = Decimal(0)
    pending: list = []  # rows of a contract whose last rows may be in the next chunk
    done_contracts = 0

    def flush(contract_rows: list[list]) -> None:
        nonlocal billed, energy, amount
        bills, lines = [], []
        for rows in contract_rows:
            bill, bill_lines = _rate_contract(
                rows, by_id, tz, first, following, days_in_month, utility, run
            )
            bills.append(bill)
            lines.append(bill_lines)
            energy += bill["energy_kwh"]
            amount += bill["total"]
        _insert(bills, lines)
        billed += len(bills)

    if slot_rows:
        for chunk in queries.month_aggregates(
            slot_rows,
            start,
            end,
            first,
            following,
            annual_tariffs=annual,
            year_start=year_start,
            chunk=CHUNK * 3,
        ):
            rows = pending + list(chunk)
            last_id = rows[-1][0]
            cut = len(rows)
            while cut and rows[cut - 1][0] == last_id:
                cut -= 1
            complete, pending = rows[:cut], rows[cut:]
            grouped = _group(complete)
            flush(grouped)
            done_contracts += len(grouped)
            if progress:
                progress(done_contracts, total)
        if pending:
            flush(_group(pending))
            done_contracts += 1
    if progress:
        progress(total, total)
    return {
        "contracts": in_force,
        "billed": billed,
        "skipped": in_force - kept - billed,
        "skipped_without_tariff": in_force - with_tariff,
        "drafts_replaced": replaced,
        "kept": kept,
        "energy_kwh": str(energy),
        "total": str(amount),
        "notes": [str(n) for n in notes],
    }


def _group(rows: list) -> list[list]:
    grouped: list[list] = []
    current = None
    for row in rows:
        if row[0] != current:
            grouped.append([])
            current = row[0]
        grouped[-1].append(row)
    return grouped


def _rate_contract(rows, by_id, tz, first, following, days_in_month, utility, run):
    """One contract's rows of the aggregate -> a bill's columns and its lines."""
    contract_id, customer_id, site_id, c_start, c_end, kva = rows[0][:6]
    c_start, c_end = _aware(c_start), _aware(c_end)
    if kva is not None and not isinstance(kva, Decimal):
        kva = Decimal(str(kva))
    # Dates the bill covers (a part day counts) and days it is charged for (a day
    # belongs to whoever held the site when it began).
    cover_from = first if c_start is None else max(first, _floor_day(c_start, tz))
    cover_to = following if c_end is None else min(following, _ceil_day(c_end, tz))
    charge_from = first if c_start is None else max(first, _ceil_day(c_start, tz))
    charge_to = cover_to
    kwh_by_version: dict[int, dict] = {}
    ytd = Decimal(0)
    for row in rows:
        figures = kwh_by_version.setdefault(row[6], {})
        figures[(row[7], row[8])] = figures.get((row[7], row[8]), Decimal(0)) + kwh(row[9])
        if row[10] is not None:
            ytd = kwh(row[10])
    parts = []
    for version_id in sorted(kwh_by_version, key=lambda v: by_id[v].covers_from):
        v = by_id[version_id]
        lo, hi = max(cover_from, v.covers_from), min(cover_to, v.covers_to)
        charged = max((min(charge_to, v.covers_to) - max(charge_from, v.covers_from)).days, 0)
        parts.append(VersionPart(v.priced, lo, max(hi, lo), charged, kwh_by_version[version_id]))
    rating = rate_month(
        parts,
        days_in_month=days_in_month,
        contracted_kva=kva,
        default_vat_rate=utility.vat_rate,
        year_to_date_kwh=ytd,
    )
    bill = {
        "kind": BillKind.BILL.value,
        "status": BillStatus.DRAFT.value,
        "customer_id": customer_id,
        "contract_id": contract_id,
        "site_id": site_id,
        "period_start": cover_from,
        "period_end": max(cover_to, cover_from + timedelta(days=1)),
        "run_id": run.pk,
        "energy_kwh": rating.energy_kwh,
        "net_amount": rating.net,
        "vat_amount": rating.vat,
        "total": rating.total,
        "paid": Decimal(0),
        "currency": utility.currency,
    }
    return bill, rating.lines


def _line_values(line, position: int) -> dict:
    return {
        "position": position,
        "kind": line.kind,
        "period": line.period,
        "season": line.season,
        "tier": line.tier,
        "covers_from": line.covers_from,
        "covers_to": line.covers_to,
        "tariff_version_id": line.version_id,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "amount": line.amount,
    }


def _insert(bills: list[dict], lines: list[list]) -> None:
    if not bills:
        return
    if connection.vendor == "postgresql":
        now = timezone.now()
        ids = queries.reserve_bill_ids(len(bills))
        bill_rows = []
        line_rows = []
        for bill_id, bill, bill_lines in zip(ids, bills, lines, strict=True):
            bill["id"], bill["created_at"] = bill_id, now
            bill_rows.append(tuple(bill[c] for c in queries.BILL_COLUMNS))
            for position, line in enumerate(bill_lines, start=1):
                values = _line_values(line, position)
                values["bill_id"] = bill_id
                line_rows.append(tuple(values[c] for c in queries.LINE_COLUMNS))
        queries.copy_rows(queries.BILL, queries.BILL_COLUMNS, bill_rows)
        queries.copy_rows(queries.LINE, queries.LINE_COLUMNS, line_rows)
        return
    made = Bill.objects.bulk_create([Bill(**bill) for bill in bills], batch_size=5_000)
    BillLine.objects.bulk_create(
        [
            BillLine(bill_id=bill.pk, **_line_values(line, position))
            for bill, bill_lines in zip(made, lines, strict=True)
            for position, line in enumerate(bill_lines, start=1)
        ],
        batch_size=5_000,
    )


def _next_numbers(prefix: str, count: int) -> list[str]:
    """``count`` consecutive numbers after the last one issued with ``prefix``."""
    issued = Bill.objects.filter(number__startswith=prefix).count()
    return [f"{prefix}{n:06d}" for n in range(issued + 1, issued + count + 1)]


def issue_bills(period: date, *, user=None) -> int:
    """Issue the month's drafts with consecutive numbers and due dates; returns how many.

    Numbers read "B2026-11-000001" (the billing month, then a count); due date = issue date + the
    utility's payment terms.
    """
    first, following = month_of(period)
    with transaction.atomic():
        utility = Utility.objects.select_for_update().get(pk=get_utility().pk)
        now = timezone.now()
        today = timezone.localdate(now, timezone=_zone(utility))
        due = today + timedelta(days=utility.payment_terms_days)
        drafts = Bill.objects.filter(
            kind=BillKind.BILL,
            status=BillStatus.DRAFT,
            period_start__gte=first,
            period_start__lt=following,
        )
        ids = list(drafts.order_by("pk").values_list("pk", flat=True))
        if not ids:
            return 0
        prefix = f"B{first:%Y-%m}-"
        offset = Bill.objects.filter(number__startswith=prefix).count()
        _number_bills(ids, prefix, offset, now, due)
        # One audit row per bill, written set-based like the change itself.
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=user if getattr(user, "pk", None) else None,
                    action="bill.issued",
                    object_type=Bill._meta.label_lower,
                    object_id=str(pk),
                    data={"number": f"{prefix}{offset + i:06d}", "due_date": due.isoformat()},
                )
                for i, pk in enumerate(ids, start=1)
            ],
            batch_size=10_000,
        )
    return len(ids)


def _zone(utility):
    from zoneinfo import ZoneInfo

    return ZoneInfo(utility.time_zone)


def _number_bills(ids: list[int], prefix: str, offset: int, now, due) -> None:
    """Give bills ``ids`` (in order) consecutive numbers after ``offset`` in one statement."""
    table = Bill._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                UPDATE {table} b SET status = 'issued', issued_at = %s, due_date = %s,
                       number = %s || lpad((x.n + %s)::text, greatest(6, length((x.n + %s)::text)), '0')
                FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
                      FROM unnest(%s::bigint[]) AS t(id)) x
                WHERE b.id = x.id
                """,  # noqa: S608, E501
                [now, due, prefix, offset, offset, ids],
            )
        else:
            adapt = connection.ops.adapt_datetimefield_value
            for i in range(0, len(ids), 10_000):
                batch = ids[i : i + 10_000]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"""
                    UPDATE {table} SET status = 'issued', issued_at = %s, due_date = %s,
                           number = %s || printf('%%06d', x.n + %s)
                    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
                          FROM {table} WHERE id IN ({marks})) AS x
                    WHERE {table}.id = x.id
                    """,  # noqa: S608
                    [adapt(now), due, prefix, offset + i, *batch],
                )


def credit_bill(bill: Bill, *, reason: str, user=None) -> Bill:
    """Cancel an issued bill with a credit note of the same lines, negative; returns the note.

    The bill becomes ``credited``; the next billing run drafts that month anew.
    """
    if not reason or not reason.strip():
        raise BillingError(_("Give a reason for the credit note."))
    with transaction.atomic():
        Utility.objects.select_for_update().get(pk=get_utility().pk)
        locked = Bill.objects.select_for_update().get(pk=bill.pk)
        if locked.kind != BillKind.BILL or locked.status != BillStatus.ISSUED:
            raise BillingError(
                _("Only an issued bill can be credited; %(bill)s is %(status)s.")
                % {"bill": locked, "status": locked.get_status_display()}
            )
        now = timezone.now()
        note = Bill.objects.create(
            number=_next_numbers(f"CN{now:%Y-%m}-", 1)[0],
            kind=BillKind.CREDIT_NOTE,
            status=BillStatus.ISSUED,
            customer_id=locked.customer_id,
            contract_id=locked.contract_id,
            site_id=locked.site_id,
            period_start=locked.period_start,
            period_end=locked.period_end,
            corrects=locked,
            energy_kwh=-locked.energy_kwh,
            net_amount=-locked.net_amount,
            vat_amount=-locked.vat_amount,
            total=-locked.total,
            currency=locked.currency,
            issued_at=now,
        )
        BillLine.objects.bulk_create(
            [
                BillLine(
                    bill=note,
                    position=line.position,
                    kind=line.kind,
                    period=line.period,
                    season=line.season,
                    tier=line.tier,
                    covers_from=line.covers_from,
                    covers_to=line.covers_to,
                    tariff_version_id=line.tariff_version_id,
                    quantity=-line.quantity,
                    unit=line.unit,
                    unit_price=line.unit_price,
                    amount=-line.amount,
                )
                for line in locked.lines.all()
            ]
        )
        locked.status = BillStatus.CREDITED
        locked.save(update_fields=["status"])
        log_action(user, "bill.credited", locked, {"credit_note": note.number, "reason": reason})
        log_action(user, "credit_note.issued", note, {"bill": locked.number, "reason": reason})
    bill.refresh_from_db()
    return note
