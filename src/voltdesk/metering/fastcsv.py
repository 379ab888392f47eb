"""The PostgreSQL fast path for readings CSV files: the file's bytes go to COPY.

Python does not handle rows one by one. The file (after its header line,
checked here) is streamed in 1 MiB chunks into a temporary table with
``COPY`` (PostgreSQL parses the times and kWh), each chunk's
lines checked against the accepted form by one bytes regular expression while
PostgreSQL parses the previous one; one aggregate yields each site's count and
span; one ``INSERT ... SELECT`` orders by (site, start) and writes the readings,
with the last row-level rules (no overlap within the file, end after start)
enforced by the statement itself.

This path only *proves a file good*. It accepts a deliberately narrow form
(``YYYY-MM-DDTHH:MM:SS`` or with a space for the T, then ``+HH:MM``, ``+HHMM``,
the same with ``-``, or ``Z``; kWh as plain
digits with at most 6 decimals; no quoting; no blank lines; no stored reading
met). Anything else, and any error PostgreSQL raises on the way, raises
``NotProven``: the caller rolls back to its savepoint and runs the exact path
(``csvfile`` + ``loading``), which accepts every form it always accepted and
names the first bad line and its reason. The rules therefore live in one
place, and a bad file costs what it cost before.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import connection

from voltdesk.core.importing import progress
from voltdesk.customers.models import Site

from . import loading
from .csvfile import REQUIRED
from .models import Reading

STAGE = "metering_reading_csv"
CHUNK = 1 << 20

# The one form the fast path vouches for, checked on the bytes by one regular
# expression per chunk of whole lines (while PostgreSQL parses the previous
# chunk): ISO 8601 times with seconds and an offset, T or a space between date and
# time, the offset with or without its colon (no hour 24, no leap second,
# no year 0: PostgreSQL would take them, Python's fromisoformat would not), kWh as
# 1 to 12 digits with at most 6 decimals, no quotes, no backslash, no blank line.
_FIELDS = {
    "site_ref": rb'[^,"\\\r\n]+',
    "start": rb"(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    rb"(?:[+-][0-9]{2}:?[0-9]{2}|Z)",
    "kwh": rb"[0-9]{1,12}(?:\.[0-9]{1,6})?",
}
_FIELDS["end"] = _FIELDS["start"]


def _lines_pattern(columns: list[str]):
    line = b",".join(_FIELDS[c] for c in columns)
    return re.compile(b"(?:" + line + rb"\r?\n)*(?:" + line + rb"\r?\n?)?")


class NotProven(Exception):
    """The fast path cannot vouch for the file; the exact path decides."""


@dataclass
class FastLoaded:
    rows: int
    inserted: int
    site_ids: list[int]
    start: datetime
    end: datetime


def _header(fh, site_ref: str | None) -> list[str]:
    """The staging columns in the file's order, or NotProven (the exact path explains)."""
    line = fh.readline()
    if not line.endswith(b"\n") or b'"' in line:
        raise NotProven
    try:
        text = line.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        raise NotProven from None
    header = [h.strip().lower() for h in text.rstrip("\r\n").split(",")]
    required = REQUIRED if site_ref is None else REQUIRED[1:]
    if sorted(header) != sorted(required):
        raise NotProven
    return header


def _copy(cursor, path: Path, fh, columns: list[str]) -> None:
    """Stream the bytes after the header into the staging table, checking their form."""
    names = ", ".join(f'"{c}"' for c in columns)
    whole = _lines_pattern(columns).fullmatch
    total = math.ceil(max(path.stat().st_size, 1) / CHUNK)
    tail = b""
    # COPY's text format, split at commas: for the form proven here (no quotes, no
    # backslash, no empty field) it reads exactly what the CSV format would, and
    # parses about a tenth faster.
    copy_sql = f"COPY {STAGE} ({names}) FROM STDIN (FORMAT text, DELIMITER ',')"
    with cursor.cursor.copy(copy_sql) as copy:
        chunks = iter(lambda: fh.read(CHUNK), b"")
        # The bar counts mebibytes; "MiB" is a unit symbol, the same in every language.
        for chunk in progress(chunks, total=total, desc=path.name, unit="MiB"):
            chunk = tail + chunk
            cut = chunk.rfind(b"\n") + 1
            body, tail = chunk[:cut], chunk[cut:]
            if body:
                copy.write(body)
                if whole(body) is None:
                    raise NotProven
        if tail:
            if whole(tail) is None:
                raise NotProven
            copy.write(tail)


def import_csv(path, *, site_ref: str | None, source: str, batch) -> FastLoaded:
    """Load a readings CSV that meets the fast path's form, or raise ``NotProven``.

    Run inside a savepoint: on ``NotProven`` or a database error the caller
    rolls back to it and takes the exact path.
    """
    path = Path(path)
    reading, site = Reading._meta.db_table, Site._meta.db_table
    with open(path, "rb") as fh, connection.cursor() as cursor:
        columns = _header(fh, site_ref)
        # Sorting a whole file in memory (and hashing its sites) is what this
        # transaction does; the default work_mem would spill both to disk.
        cursor.execute("SET LOCAL work_mem = '1GB'")
        # Typed columns: COPY parses the times and kWh once, as the INSERT would
        # (a value it cannot take, such as a 30 February, fails the COPY).
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (site_ref text, start timestamptz, "
            '"end" timestamptz, kwh numeric(18, 6)) ON COMMIT DROP'
        )
        _copy(cursor, path, fh, columns)
        ref_sql = "s.site_ref" if site_ref is None else "%s"
        ref_params = [] if site_ref is None else [site_ref]
        # One pass: per site its count and span.
        cursor.execute(
            f"""
            SELECT g.ref, c.id, g.rows, g.first_start, g.last_end
            FROM (
                SELECT {ref_sql} AS ref, count(*) AS rows,
                       min(s.start) AS first_start, max(s."end") AS last_end
                FROM {STAGE} s
                GROUP BY 1
            ) g
            LEFT JOIN {site} c ON c.ref = g.ref AND g.ref = btrim(g.ref)
            """,  # noqa: S608 - names come from the models, values are parameters
            ref_params,
        )
        groups = cursor.fetchall()
        if not groups or any(g[1] is None for g in groups):
            raise NotProven
        staged = loading.Staged(
            rows=sum(g[2] for g in groups),
            spans={g[0]: loading.SiteSpan(0, g[3], g[4], g[4]) for g in groups},
        )
        site_ids = {g[0]: g[1] for g in groups}
        # Stored readings in a site's span: exact repeats to skip, or a refusal to
        # explain. Both belong to the exact path.
        if loading._sites_touching_stored(cursor, staged, site_ids):
            raise NotProven
        ids = sorted(site_ids.values())
        # Readings must not lose their site before commit (see Reading.site).
        if not loading.lock_sites(cursor, ids):
            raise NotProven
        site_join = (
            f"JOIN {site} c ON c.ref = s.site_ref"
            if site_ref is None
            else f"JOIN {site} c ON c.id = %s"
        )
        join_params = [] if site_ref is None else [site_ids[site_ref]]
        # Overlap within the file, or end not after start, makes a NOT NULL or
        # CHECK constraint fail: the statement aborts and the exact path explains.
        cursor.execute(
            f"""
            INSERT INTO {reading}
                (site_id, meter_id, start, "end", kwh, source, quality, batch_id)
            SELECT site_id, NULL,
                   CASE WHEN prev_end > start THEN NULL ELSE start END,
                   "end", kwh, %s, %s, %s
            FROM (
                SELECT c.id AS site_id, s.start, s."end", s.kwh,
                       lag(s."end") OVER (PARTITION BY c.id ORDER BY s.start, s."end") AS prev_end
                FROM {STAGE} s {site_join}
            ) x
            ORDER BY x.site_id, x.start, x."end"
            """,  # noqa: S608
            [source, Reading._meta.get_field("quality").default, batch.pk, *join_params],
        )
        inserted = cursor.rowcount
        if inserted != staged.rows:
            raise NotProven
        cursor.execute(f"DROP TABLE {STAGE}")
    return FastLoaded(staged.rows, inserted, ids, staged.start, staged.end)
