"""Writing checked readings in bulk: staging table, set-based checks, one INSERT.

Rows go first into a temporary staging table (PostgreSQL: ``COPY``; SQLite:
batched ``executemany``), then the checks that need the whole file or the
database run as a few queries over it, and one ``INSERT ... SELECT ... ON
CONFLICT DO NOTHING`` writes the readings. The same SQL serves both databases.

Rules enforced here (the caller holds the file's transaction):

* every site named must exist;
* readings of one site in one file must not overlap (a repeated interval too);
* a reading for exactly the interval of a stored reading with the same kWh is
  already there and is skipped, so overlapping exports can be loaded again;
* a reading that overlaps a stored reading of the same site with a different
  interval, or repeats its interval with a different kWh, refuses the file:
  keeping both would count the energy twice, and silently replacing stored
  data would hide a correction nobody approved.

Stored readings of a site never overlap each other (this module keeps it so),
which lets the overlap check probe only the stored reading just before each new
one and those starting inside it, instead of a site's whole history.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem
from voltdesk.customers.models import Site

from .models import Reading

STAGE = "metering_reading_stage"
SQLITE_BATCH = 5000


@dataclass
class SiteSpan:
    """What one pass over the rows learns about a site: enough to skip most checks."""

    first_line: int
    start: datetime
    end: datetime
    last_end: datetime
    ordered: bool = True


@dataclass
class Staged:
    rows: int = 0
    spans: dict[str, SiteSpan] = field(default_factory=dict)
    ordered: bool = True

    @property
    def start(self):
        return min(s.start for s in self.spans.values()) if self.spans else None

    @property
    def end(self):
        return max(s.end for s in self.spans.values()) if self.spans else None


@dataclass
class Loaded:
    inserted: int
    already_present: int
    site_ids: list[int]


def _tables():
    return {
        "reading": Reading._meta.db_table,
        "site": Site._meta.db_table,
        "stage": STAGE,
    }


def _create_stage(cursor):
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if connection.vendor == "postgresql":
        # Temporary tables skip the WAL; dropped with the transaction that made them.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (line bigint, site_ref text, "
            'start timestamptz, "end" timestamptz, kwh numeric) ON COMMIT DROP'
        )
    else:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (line integer, site_ref text, "
            'start text, "end" text, kwh decimal)'
        )


def _track(rows: Iterable, staged: Staged) -> Iterator:
    """Pass rows through, noting per site its span and whether it came in time order."""
    spans = staged.spans
    n = 0
    for row in rows:
        n += 1
        line, ref, start, end = row[0], row[1], row[2], row[3]
        span = spans.get(ref)
        if span is None:
            spans[ref] = SiteSpan(line, start, end, end)
        else:
            if start < span.last_end:
                # Out of order or overlapping: the set-based check decides which.
                span.ordered = False
                staged.ordered = False
                if start < span.start:
                    span.start = start
            else:
                span.last_end = end
            if end > span.end:
                span.end = end
        yield row
    staged.rows = n


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def stage(rows: Iterable) -> Staged:
    """Fill the staging table from checked rows (line, site_ref, start, end, kwh)."""
    staged = Staged()
    tracked = _track(rows, staged)
    with connection.cursor() as cursor:
        _create_stage(cursor)
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg 3: COPY streams rows in while we parse
            with raw.copy(f'COPY {STAGE} (line, site_ref, start, "end", kwh) FROM STDIN') as copy:
                # COPY text lines built here are several times cheaper than write_row;
                # PostgreSQL parses the ISO times itself.
                buf = []
                for row in tracked:
                    line, ref, kwh = row[0], row[1], row[4]
                    # Readers may hand over the times' text as they read it (CSV).
                    start, end = (row[5], row[6]) if len(row) > 5 else (row[2], row[3])
                    if isinstance(start, datetime):
                        start, end = start.isoformat(), end.isoformat()
                    if "\\" in ref or "\t" in ref or "\n" in ref or "\r" in ref:
                        ref = _copy_escape(ref)
                    buf.append(f"{line}\t{ref}\t{start}\t{end}\t{kwh}\n")
                    if len(buf) >= 10000:
                        copy.write("".join(buf))
                        buf.clear()
                if buf:
                    copy.write("".join(buf))
        else:
            adapt = connection.ops.adapt_datetimefield_value
            sql = f'INSERT INTO {STAGE} (line, site_ref, start, "end", kwh) VALUES (?, ?, ?, ?, ?)'  # noqa: S608
            raw = cursor.cursor
            batch = []
            for row in tracked:
                line, ref, start, end, kwh = row[:5]
                batch.append((line, ref, adapt(start), adapt(end), str(kwh)))
                if len(batch) >= SQLITE_BATCH:
                    raw.executemany(sql, batch)
                    batch.clear()
            if batch:
                raw.executemany(sql, batch)
    return staged


def _resolve_sites(path, staged: Staged, element: str | None) -> dict[str, int]:
    refs = sorted(staged.spans)
    found: dict[str, int] = {}
    for i in range(0, len(refs), 5000):
        chunk = refs[i : i + 5000]
        found.update(Site.objects.filter(ref__in=chunk).values_list("ref", "id"))
    unknown = [r for r in refs if r not in found]
    if unknown:
        first = min(unknown, key=lambda r: staged.spans[r].first_line)
        raise ImportProblem(
            path,
            _("unknown site %(site)s") % {"site": first},
            line=staged.spans[first].first_line,
            element=element,
        )
    return found


def _fmt(value) -> str:
    if isinstance(value, str):  # SQLite hands back its stored text
        value = datetime.fromisoformat(value)
    return value.isoformat()


def _check_overlaps_within_file(path, cursor, element):
    t = _tables()
    cursor.execute(
        f"""
        SELECT line, prev_line FROM (
            SELECT line, start,
                   LAG("end") OVER w AS prev_end,
                   LAG(line) OVER w AS prev_line
            FROM {t["stage"]}
            WINDOW w AS (PARTITION BY site_ref ORDER BY start, "end", line)
        ) x
        WHERE start < prev_end
        ORDER BY line LIMIT 1
        """  # noqa: S608 - table names come from the models, values are parameters
    )
    hit = cursor.fetchone()
    if hit:
        raise ImportProblem(
            path,
            _("the reading overlaps the one at line %(other)d for the same site")
            % {"other": min(hit[0], hit[1])},
            line=max(hit[0], hit[1]),
            element=element,
        )


def _sites_touching_stored(cursor, staged: Staged, site_ids: dict[str, int]) -> list[str]:
    """Sites of the file whose span meets stored readings: only they need a row-level check."""
    t = _tables()
    touching = []
    refs = list(staged.spans)
    adapt = connection.ops.adapt_datetimefield_value
    for i in range(0, len(refs), 500):
        chunk = refs[i : i + 500]
        # One query per chunk of sites; each probe is two index range scans.
        parts, params = [], []
        for ref in chunk:
            span = staged.spans[ref]
            parts.append(
                f"""SELECT %s WHERE EXISTS (
                        SELECT 1 FROM {t["reading"]} r
                        WHERE r.site_id = %s AND r.start >= %s AND r.start < %s)
                    OR EXISTS (
                        SELECT 1 FROM (
                            SELECT r."end" FROM {t["reading"]} r
                            WHERE r.site_id = %s AND r.start < %s
                            ORDER BY r.start DESC LIMIT 1) p
                        WHERE p."end" > %s)"""  # noqa: S608
            )
            sid, s, e = site_ids[ref], adapt(span.start), adapt(span.end)
            params += [ref, sid, s, e, sid, s, s]
        cursor.execute(" UNION ALL ".join(parts), params)
        touching += [r[0] for r in cursor.fetchall()]
    return touching


def _check_against_stored(path, cursor, refs: list[str], element):
    t = _tables()
    for i in range(0, len(refs), 500):
        chunk = refs[i : i + 500]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(
            f"""
            SELECT s.line, r.start, r."end", r.kwh, s.kwh,
                   r.start = s.start AND r."end" = s."end"
            FROM {t["stage"]} s
            JOIN {t["site"]} c ON c.ref = s.site_ref
            JOIN {t["reading"]} r ON r.site_id = c.id
                 AND r.start >= s.start AND r.start < s."end"
            WHERE s.site_ref IN ({marks})
              AND NOT (r.start = s.start AND r."end" = s."end" AND r.kwh = s.kwh)
            UNION ALL
            SELECT s.line, r.start, r."end", r.kwh, s.kwh,
                   r.start = s.start AND r."end" = s."end"
            FROM {t["stage"]} s
            JOIN {t["site"]} c ON c.ref = s.site_ref
            JOIN {t["reading"]} r ON (r.site_id, r.start, r."end") = (
                SELECT r2.site_id, r2.start, r2."end" FROM {t["reading"]} r2
                WHERE r2.site_id = c.id AND r2.start < s.start
                ORDER BY r2.start DESC LIMIT 1)
            WHERE s.site_ref IN ({marks}) AND r."end" > s.start
            ORDER BY 1 LIMIT 1
            """,  # noqa: S608
            chunk + chunk,
        )
        hit = cursor.fetchone()
        if hit:
            line, r_start, r_end, r_kwh, s_kwh, same_interval = hit
            values = {"start": _fmt(r_start), "end": _fmt(r_end), "kwh": r_kwh, "new": s_kwh}
            if same_interval:
                reason = _(
                    "the stored reading %(start)s to %(end)s of the same site has "
                    "%(kwh)s kWh, the file says %(new)s; a file may add readings or "
                    "repeat stored ones exactly, never change them"
                )
            else:
                reason = _(
                    "the reading overlaps the stored reading %(start)s to %(end)s "
                    "(%(kwh)s kWh) of the same site; counting both would count the "
                    "energy twice"
                )
            raise ImportProblem(path, reason % values, line=line, element=element)


def lock_sites(cursor, ids: list[int]) -> bool:
    """Keep the sites being loaded from being deleted before commit; False if one is gone.

    ``Reading.site`` has no database constraint (its per-row check cost more than
    the rest of a bulk load); this is that check, once per site: the importers
    resolve site_refs against the sites table, and these locks keep them valid.
    SQLite runs one writer at a time and needs none.
    """
    if connection.vendor != "postgresql":
        return True
    cursor.execute(
        f"SELECT id FROM {Site._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
        [ids],
    )
    return len(cursor.fetchall()) == len(set(ids))


def check_and_insert(path, staged: Staged, *, source, batch, element=None) -> Loaded:
    """Run the whole-file checks over the staging table, then write the readings."""
    site_ids = _resolve_sites(path, staged, element)
    t = _tables()
    with connection.cursor() as cursor:
        if not lock_sites(cursor, list(site_ids.values())):
            # Deleted since _resolve_sites looked: report it as unknown.
            site_ids = _resolve_sites(path, staged, element)
        if not staged.ordered:
            _check_overlaps_within_file(path, cursor, element)
        touching = _sites_touching_stored(cursor, staged, site_ids)
        if touching:
            _check_against_stored(path, cursor, touching, element)
        # Without stored readings in the file's spans nothing can conflict, and a plain
        # INSERT skips the speculative insertion that ON CONFLICT costs per row.
        on_conflict = 'ON CONFLICT (site_id, start, "end") DO NOTHING' if touching else ""
        cursor.execute(
            f"""
            INSERT INTO {t["reading"]}
                (site_id, meter_id, start, "end", kwh, source, quality, batch_id)
            SELECT c.id, NULL, s.start, s."end", s.kwh, %s, %s, %s
            FROM {t["stage"]} s JOIN {t["site"]} c ON c.ref = s.site_ref
            WHERE 1 = 1
            {on_conflict}
            """,  # noqa: S608
            [source, Reading._meta.get_field("quality").default, batch.pk if batch else None],
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return Loaded(
        inserted=inserted,
        already_present=staged.rows - inserted,
        site_ids=sorted(site_ids.values()),
    )
