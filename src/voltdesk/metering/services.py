"""Metering rules: importing readings, rolling them up, and consumption over a period.

* ``import_readings``: one file (CSV or Green Button, told apart by content) in
  one transaction; refused whole at its first problem; the same file twice
  changes nothing. See ``loading`` for how overlaps with stored readings are
  treated (refused, except an exact repeat, which is skipped).
* ``refresh_rollups``: daily and monthly kWh per site in the utility's time zone.
* ``site_consumption``: a site's kWh between two local dates, by month.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.db.models import Max, Min, Q, Sum
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, file_sha256, progress
from voltdesk.core.services import log_action, utility_zone
from voltdesk.customers.models import Site

from . import fastcsv, loading, queries
from .choices import ReadingSource
from .csvfile import read_csv
from .greenbutton import read_feed
from .models import DailyRollup, ImportBatch, MonthlyRollup, Reading
from .periods import (
    first_of_month,
    last_local_date,
    local_date,
    local_midnight,
    month_windows,
    next_month,
)

KWH_PLACES = Decimal("0.000001")
SITE_CHUNK = 2000


class ConsumptionError(ValueError):
    """A consumption question that cannot be answered as asked (message is translated)."""


@dataclass
class ImportResult:
    """What importing one file did, for the command (and later the desk) to report."""

    file: str
    file_format: str
    batch: ImportBatch
    already_imported: bool = False
    readings_in_file: int = 0
    inserted: int = 0
    already_present: int = 0
    site_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def detect_format(path: str | Path) -> str:
    """Green Button XML or CSV, by the file's first characters, whatever its name."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportProblem(
            path, _("cannot read the file (%(reason)s)") % {"reason": exc.strerror}
        ) from exc
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return ReadingSource.GREEN_BUTTON if head.startswith(b"<") else ReadingSource.CSV


def _greenbutton_rows(path, site_ref, site_map, notes) -> Iterator:
    feed = read_feed(path)
    notes.extend(feed.notes)
    electric = [up for up in feed.usage_points if up.readings]
    if not electric:
        raise ImportProblem(
            path,
            _("the file holds no electricity consumption readings")
            + ("; " + "; ".join(feed.notes) if feed.notes else ""),
            element="feed",
        )
    listing = ", ".join(up.entry.describe() for up in electric)
    if site_map:
        known = {up.entry.id: up for up in electric} | {up.entry.self_href: up for up in electric}
        for point in site_map:
            if point not in known:
                raise ImportProblem(
                    path,
                    _(
                        "usage point %(point)s has no electricity readings in the file; "
                        "usage points with readings: %(points)s"
                    )
                    % {"point": point, "points": listing},
                    element="UsagePoint",
                )
        chosen = {id(known[p]): ref for p, ref in site_map.items()}
        unmapped = [up.entry.describe() for up in electric if id(up) not in chosen]
        if unmapped:
            raise ImportProblem(
                path,
                _("no site given for usage point(s) %(points)s; add --site USAGE_POINT=SITE_REF")
                % {"points": ", ".join(unmapped)},
                element="UsagePoint",
            )
    elif site_ref and len(electric) == 1:
        chosen = {id(electric[0]): site_ref}
    else:
        reason = (
            _(
                "the file has %(count)d usage points with electricity readings (%(points)s); "
                "say which goes to which site with --site USAGE_POINT=SITE_REF for each"
            )
            if len(electric) > 1
            else _(
                "Green Button files do not name our sites; say which site usage point "
                "%(points)s is with --site SITE_REF"
            )
        )
        raise ImportProblem(
            path, reason % {"count": len(electric), "points": listing}, element="UsagePoint"
        )
    for up in electric:
        ref = chosen[id(up)]
        for line, start, end, kwh in up.readings:
            yield line, ref, start, end, kwh


def import_readings(
    path: str | Path,
    *,
    site_ref: str | None = None,
    site_map: dict[str, str] | None = None,
    actor=None,
) -> ImportResult:
    """Import one readings file whole, or refuse it whole with an ``ImportProblem``.

    ``site_ref`` names the site of a CSV without a site_ref column, or of the one
    electricity usage point of a Green Button file; ``site_map`` maps Green Button
    usage point ids (or self links) to site refs when a file has several.
    Afterwards the rollups of the sites it touched are refreshed for its period.
    """
    path = Path(path)
    file_format = detect_format(path)
    sha = file_sha256(path)
    existing = ImportBatch.objects.filter(sha256=sha).first()
    if existing is not None:
        return ImportResult(str(path), file_format, existing, already_imported=True)
    if file_format == ReadingSource.CSV and site_map:
        raise ImportProblem(
            path,
            _("USAGE_POINT=SITE_REF applies to Green Button files; this is a CSV file"),
        )
    notes: list[str] = []
    element = None
    with transaction.atomic():
        try:
            with transaction.atomic():
                batch = ImportBatch.objects.create(
                    file_name=path.name[:300], sha256=sha, file_format=file_format
                )
        except IntegrityError:
            # Another process imported the same file a moment ago.
            existing = ImportBatch.objects.get(sha256=sha)
            return ImportResult(str(path), file_format, existing, already_imported=True)
        fast = None
        if file_format == ReadingSource.CSV and connection.vendor == "postgresql":
            fast = _try_fast_csv(path, site_ref, batch)
        if fast is not None:
            rows_in_file, start, end = fast.rows, fast.start, fast.end
            loaded = loading.Loaded(fast.inserted, fast.rows - fast.inserted, fast.site_ids)
        else:
            if file_format == ReadingSource.CSV:
                rows = read_csv(path, site_ref=site_ref)
            else:
                rows = _greenbutton_rows(path, site_ref, site_map, notes)
                element = "IntervalReading"
            staged = loading.stage(progress(rows, desc=path.name, unit=_("readings")))
            if not staged.rows:
                raise ImportProblem(path, _("the file holds no readings"))
            loaded = loading.check_and_insert(
                path, staged, source=file_format, batch=batch, element=element
            )
            rows_in_file, start, end = staged.rows, staged.start, staged.end
        batch.readings = loaded.inserted
        batch.save(update_fields=["readings"])
        if loaded.inserted:
            try:
                with transaction.atomic():
                    refresh_rollups(loaded.site_ids, start=start, end=end)
            except DataError:
                # Each reading fits, but a day's or a month's sum does not (PostgreSQL
                # checks the column's 12 digits before the point; SQLite does not).
                raise ImportProblem(
                    path,
                    _(
                        "a site's total for a day or a month would exceed 12 digits "
                        "before the point; no reading of the file was stored"
                    ),
                ) from None
        log_action(
            actor,
            "metering.readings_imported",
            batch,
            {"inserted": loaded.inserted, "already_present": loaded.already_present},
        )
    return ImportResult(
        str(path),
        file_format,
        batch,
        readings_in_file=rows_in_file,
        inserted=loaded.inserted,
        already_present=loaded.already_present,
        site_ids=loaded.site_ids,
        notes=notes,
    )


def _try_fast_csv(path: Path, site_ref: str | None, batch):
    """PostgreSQL: load the CSV by COPY if the fast path can prove it good, else None.

    The fast path runs in a savepoint; whatever it cannot vouch for (an unusual
    but valid form, a bad line, stored readings in the way) is rolled back and
    left to the exact path, which accepts or explains it as it always has.
    """
    from psycopg import Error as PsycopgError  # the raw COPY raises psycopg's own errors

    try:
        with transaction.atomic():
            return fastcsv.import_csv(
                path, site_ref=site_ref, source=ReadingSource.CSV, batch=batch
            )
    except (fastcsv.NotProven, DatabaseError, PsycopgError, OSError):
        return None


def _chunks(ids: list[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    for i in range(0, len(ids), SITE_CHUNK):
        yield ids[i : i + SITE_CHUNK]


@transaction.atomic
def refresh_rollups(
    site_ids: Iterable[int] | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> None:
    """Recompute daily and monthly rollups of the given sites (all sites if None).

    With ``start``/``end`` only the local days and months touching [start, end)
    are recomputed (what an import of that period can change); without them,
    everything of those sites.

    * Daily: kWh per site per local day (utility time zone) from the readings
      that lie within one local day, i.e. interval data. A monthly register read
      has no daily profile and is not spread over days.
    * Monthly: kWh per site per local calendar month from all readings; a
      reading that straddles a month boundary (monthly register reads rarely
      align with calendar months) is split in proportion to the time it spends
      in each month.
    """
    tz = utility_zone()
    ids = None if site_ids is None else sorted(set(site_ids))
    if ids == []:
        return
    whole = start is None or end is None
    if whole:
        scope = Reading.objects.all() if ids is None else Reading.objects.filter(site_id__in=ids)
        bounds = scope.aggregate(start=Min("start"), end=Max("end"))
        start, end = bounds["start"], bounds["end"]
    if ids is None and connection.vendor == "postgresql":
        # The PostgreSQL statements take site ids: every site, in chunks. (The generic
        # path's IN (straddling readings) subquery can be planned as a rescan per row.)
        ids = sorted(Site.objects.values_list("pk", flat=True))
    for chunk in _chunks(ids):
        daily = DailyRollup.objects.all()
        monthly = MonthlyRollup.objects.all()
        readings = Reading.objects.all()
        if chunk is not None:
            daily, monthly = daily.filter(site_id__in=chunk), monthly.filter(site_id__in=chunk)
            readings = readings.filter(site_id__in=chunk)
        if start is None:  # no readings at all for these sites
            daily.delete()
            monthly.delete()
            continue
        first_day, last_day = local_date(start, tz), last_local_date(end, tz)
        first_month, after_month = first_of_month(first_day), next_month(last_day)
        if whole:
            daily.delete()
            monthly.delete()
        else:
            daily.filter(day__gte=first_day, day__lte=last_day).delete()
            monthly.filter(month__gte=first_month, month__lt=after_month).delete()
        if connection.vendor == "postgresql" and chunk is not None:
            days = [
                date.fromordinal(d) for d in range(first_day.toordinal(), last_day.toordinal() + 1)
            ]
            bounds = [local_midnight(d, tz) for d in days] + [
                local_midnight(next_day(last_day), tz)
            ]
            queries.insert_rollups_pg(
                chunk, days, bounds, month_windows(first_month, after_month, tz)
            )
            continue
        day_lo, day_hi = local_midnight(first_day, tz), local_midnight(next_day(last_day), tz)
        queries.insert_daily(readings.filter(start__gte=day_lo, end__lte=day_hi), tz)
        month_lo, month_hi = local_midnight(first_month, tz), local_midnight(after_month, tz)
        queries.insert_monthly(
            readings.filter(start__lt=month_hi, end__gt=month_lo),
            tz,
            month_windows(first_month, after_month, tz),
        )


def next_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


@dataclass(frozen=True)
class Consumption:
    """A site's kWh over [date_from, date_to) in local dates, with its monthly breakdown."""

    site: Site
    date_from: date
    date_to: date
    total: Decimal
    months: list[tuple[date, Decimal]]


def site_consumption(site: Site, date_from: date, date_to: date) -> Consumption:
    """kWh of a site between two local dates (``date_to`` exclusive), by local month.

    A reading that straddles an edge (of the period or of a month) counts in
    proportion to its overlap. Readings wholly inside a month are summed in the
    database; only the few that straddle an edge are split, exactly, here.
    Months are rounded to 0.000001 kWh and the total is their sum, so the
    breakdown always adds up.
    """
    if date_from >= date_to:
        raise ConsumptionError(
            _("the start date %(from)s must be before the end date %(to)s")
            % {"from": date_from.isoformat(), "to": date_to.isoformat()}
        )
    tz = utility_zone()
    windows = month_windows(date_from, date_to, tz)
    lo, hi = windows[0].start, windows[-1].end
    readings = Reading.objects.filter(site=site, start__lt=hi, end__gt=lo)
    sums = readings.aggregate(
        **{
            f"m{i}": Sum("kwh", filter=Q(start__gte=w.start, end__lte=w.end))
            for i, w in enumerate(windows)
        }
    )
    parts = [Decimal(sums[f"m{i}"] or 0) for i in range(len(windows))]
    edges = sorted({w.start for w in windows} | {w.end for w in windows})
    straddling = Q()
    for edge in edges:
        straddling |= Q(start__lt=edge, end__gt=edge)
    for r_start, r_end, kwh in readings.filter(straddling).values_list("start", "end", "kwh"):
        length = _microseconds(r_end - r_start)
        for i, w in enumerate(windows):
            overlap = _microseconds(min(r_end, w.end) - max(r_start, w.start))
            if overlap > 0:
                parts[i] += Decimal(kwh) * overlap / length
    months = [(w.month, p.quantize(KWH_PLACES)) for w, p in zip(windows, parts, strict=True)]
    return Consumption(site, date_from, date_to, sum((m[1] for m in months), Decimal(0)), months)


def _microseconds(delta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def spans_consumption(spans: list[tuple[int, date, date]]) -> list[Decimal]:
    """kWh of each ``(site id, date_from, date_to)`` span of local dates, as ``site_consumption``.

    For many sites at once (the months a contract held only in part, on a page
    of hundreds of sites): two statements in all, never a query per site. A
    reading that straddles a span's edge counts in proportion to its overlap;
    each span is rounded to 0.000001 kWh.
    """
    if not spans:
        return []
    tz = utility_zone()
    instants = [
        (site_id, local_midnight(date_from, tz), local_midnight(date_to, tz))
        for site_id, date_from, date_to in spans
    ]
    within, straddlers = queries.kwh_in_spans(instants)
    parts = [Decimal(0) if total is None else _decimal(total) for total in within]
    for n, r_start, r_end, kwh in straddlers:
        r_start, r_end = _aware(r_start), _aware(r_end)
        _site_id, lo, hi = instants[n]
        overlap = _microseconds(min(r_end, hi) - max(r_start, lo))
        parts[n] += _decimal(kwh) * overlap / _microseconds(r_end - r_start)
    return [p.quantize(KWH_PLACES) for p in parts]


def _decimal(value) -> Decimal:
    """A kWh figure as the database hands it back (Decimal on PostgreSQL, maybe float on SQLite)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def _aware(value) -> datetime:
    """An instant as a raw cursor hands it back (SQLite: text or naive UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
