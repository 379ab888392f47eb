"""Reading a readings CSV (site_ref,start,end,kwh) row by row.

The file is streamed, never held whole in memory: a meter data export can hold
hundreds of millions of rows. Each row is checked on its own here (times with an
offset, end after start, kWh a plain non-negative decimal); checks that need the
whole file or the database (unknown sites, overlaps) are set-based in
``loading``.
"""

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem

REQUIRED = ["site_ref", "start", "end", "kwh"]

# Plain decimal notation within the column (18 digits, 6 after the point): exact,
# no exponent, no sign. Anything else is diagnosed by ``_kwh_problem``.
KWH_RE = re.compile(r"\d{1,12}(?:\.\d{1,6})?")

# (line, site_ref, start, end, kwh as validated text, start text, end text): the
# texts go to PostgreSQL's COPY as they are, which is cheaper than formatting times.
Row = tuple[int, str, datetime, datetime, str, str, str]


def _kwh_problem(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return _("kWh %(value)r is not a number") % {"value": text}
    if not value.is_finite():
        return _("kWh %(value)r is not a number") % {"value": text}
    if value < 0:
        return _("kWh %(value)s is negative; consumption cannot be below zero") % {"value": text}
    if value.as_tuple().exponent < -6:
        return _("kWh %(value)s has more than 6 decimal places") % {"value": text}
    if abs(value) >= 10**12:
        return _("kWh %(value)s is too large (at most 12 digits before the point)") % {
            "value": text
        }
    return _("kWh %(value)r must be written as a plain decimal number such as 12.5") % {
        "value": text
    }


def _time(path, line: int, column: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ImportProblem(
            path,
            _("%(column)s %(value)r is not an ISO 8601 time") % {"column": column, "value": text},
            line=line,
        ) from None
    if value.tzinfo is None:
        raise ImportProblem(
            path,
            _(
                "%(column)s %(value)r has no UTC offset; write it like "
                "2024-01-31T23:45:00+02:00 so that the moment is unambiguous"
            )
            % {"column": column, "value": text},
            line=line,
        )
    return value


def read_csv(path: str | Path, *, site_ref: str | None = None) -> Iterator[Row]:
    """Yield checked rows of a readings CSV, refusing the file at its first bad line.

    With ``site_ref`` the file may leave out the site_ref column: every reading is
    for that site. A file that names sites itself and is also given one is
    refused, because one of the two would silently be ignored.
    """
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ImportProblem(
            path, _("cannot read the file (%(reason)s)") % {"reason": exc.strerror}
        ) from exc
    with fh:
        reader = csv.reader(fh)
        try:
            try:
                header = next(reader)
            except StopIteration:
                raise ImportProblem(
                    path, _("the file is empty; expected a header line"), line=1
                ) from None
            header = [h.strip().lower() for h in header]
            required = REQUIRED if site_ref is None else REQUIRED[1:]
            if site_ref is not None and "site_ref" in header:
                raise ImportProblem(
                    path,
                    _(
                        "the file has a site_ref column and a site was also given; "
                        "give the site in one place only"
                    ),
                    line=1,
                )
            missing = [c for c in required if c not in header]
            unknown = [c for c in header if c not in required]
            if missing or unknown or len(header) != len(required):
                raise ImportProblem(
                    path,
                    _("wrong columns %(found)s; expected %(expected)s")
                    % {"found": ",".join(header), "expected": ",".join(required)},
                    line=1,
                )
            width = len(header)
            i_site = header.index("site_ref") if site_ref is None else None
            i_start, i_end, i_kwh = header.index("start"), header.index("end"), header.index("kwh")
            fromiso = datetime.fromisoformat
            kwh_ok = KWH_RE.fullmatch
            for row in reader:
                # The hot loop of a multi-million-row import: the common case stays
                # cheap and every problem is diagnosed on the slow path.
                if len(row) != width:
                    if not row or all(not v.strip() for v in row):
                        continue
                    raise ImportProblem(
                        path,
                        _("expected %(expected)d fields, found %(found)d")
                        % {"expected": width, "found": len(row)},
                        line=reader.line_num,
                    )
                ref = row[i_site].strip() if i_site is not None else site_ref
                start_text, end_text, kwh = row[i_start], row[i_end], row[i_kwh].strip()
                line = reader.line_num
                try:
                    start, end = fromiso(start_text), fromiso(end_text)
                    naive = start.tzinfo is None or end.tzinfo is None
                except ValueError:
                    naive = True
                if naive:
                    start = _time(path, line, "start", start_text.strip())
                    end = _time(path, line, "end", end_text.strip())
                if not ref:
                    raise ImportProblem(path, _("site_ref is empty"), line=line)
                if end <= start:
                    raise ImportProblem(
                        path,
                        _("end %(end)s is not after start %(start)s")
                        % {"end": end_text.strip(), "start": start_text.strip()},
                        line=line,
                    )
                if not kwh_ok(kwh):
                    raise ImportProblem(path, _kwh_problem(kwh), line=line)
                yield line, ref, start, end, kwh, start_text.strip(), end_text.strip()
        except UnicodeDecodeError:
            raise ImportProblem(
                path, _("the file is not UTF-8 text"), line=reader.line_num + 1
            ) from None
        except csv.Error as exc:
            raise ImportProblem(
                path,
                _("the line is not valid CSV (%(reason)s)") % {"reason": str(exc)},
                line=reader.line_num,
            ) from None
