"""Set-based SQL of the club: every customer's consumption in one aggregate pass.

One statement reads the readings table once and returns only what the
evaluation needs in Python: the per-site figures of the customers that may
change or are members (a few thousand), and how many customers were evaluated.

How a customer's consumption is counted (see ``eligibility`` for the rule):

* A contract in force during part of the window is a *segment* [cs, ce): the
  contract clipped to the window. A reading counts for a segment in proportion
  to its overlap with it, so a reading straddling a window edge or a change of
  holder is split by time.
* Nearly every site has one contract covering the whole window. Its readings
  are summed per site in the one pass over the readings table (the same scan as
  a bare ``GROUP BY site_id``), then joined to its holder.
* The few segments covering only part of the window (a site that changed hands
  or supplier) are summed from their own readings through the (site, start,
  end) index, one index range per segment.
* A straddling reading's share is rounded to the µWh (6 decimals), the unit of
  the data, so sums are exact on both databases: PostgreSQL sums ``numeric``;
  SQLite, which has no decimal type, sums integer µWh.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

from voltdesk.customers.models import Contract, Site
from voltdesk.metering.models import Reading

from .choices import MembershipStatus
from .models import Membership

MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class SiteFigures:
    """One site's consumption for one holder over the part of the window it held it."""

    customer_id: int
    site_id: int
    site_ref: str
    kwh: Decimal
    covered_seconds: Decimal  # time covered by its reads within the held part
    held_seconds: Decimal  # time the customer held the site within the window


@dataclass(frozen=True)
class ClubScan:
    customers: int  # customers that held at least one site in the window
    sites: list[SiteFigures]  # every site of the candidates (qualifiers and members)


class _Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def ts(self, name: str) -> str:
        return f"CAST(%({name})s AS timestamptz)" if self.pg else f"%({name})s"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def span(self, hi: str, lo: str) -> str:
        """hi - lo: an interval on PostgreSQL (summed cheaply), whole seconds on SQLite."""
        if self.pg:
            return f"({hi} - {lo})"
        return f"(CAST(strftime('%%s', {hi}) AS INTEGER) - CAST(strftime('%%s', {lo}) AS INTEGER))"

    def seconds_value(self, value):
        """Seconds from a span fetched (a timedelta on PostgreSQL, a number on SQLite)."""
        if value is None:
            return 0
        return value.total_seconds() if hasattr(value, "total_seconds") else value

    def seconds(self, span: str) -> str:
        return f"EXTRACT(EPOCH FROM {span})" if self.pg else span

    @property
    def zero_span(self) -> str:
        return "interval '0'" if self.pg else "0"

    def whole(self) -> str:
        """A reading's kWh in the unit summed: numeric kWh, or integer µWh on SQLite."""
        return "r.kwh" if self.pg else "CAST(ROUND(r.kwh * 1000000.0) AS INTEGER)"

    def share(self, lo: str, hi: str) -> str:
        """The part of a reading inside [lo, hi), by time, rounded to the µWh."""
        overlap = self.span(self.least('r."end"', hi), self.greatest("r.start", lo))
        length = self.span('r."end"', "r.start")
        if self.pg:
            return f"ROUND(r.kwh * {self.seconds(overlap)} / {self.seconds(length)}, 6)"
        return f"CAST(ROUND(r.kwh * 1000000.0 * {overlap} / {length}) AS INTEGER)"

    def kwh_param(self, value: Decimal):
        return value if self.pg else int((value / MICRO).to_integral_value())

    def kwh_value(self, value) -> Decimal:
        if value is None:
            return Decimal(0).quantize(MICRO)
        if self.pg:
            return Decimal(value).quantize(MICRO)
        return (Decimal(int(value)) * MICRO).quantize(MICRO)

    def ts_param(self, value: datetime):
        return value if self.pg else connection.ops.adapt_datetimefield_value(value)


def scan_club(
    window_start: datetime,
    window_end: datetime,
    *,
    single_site_kwh: Decimal,
    multi_site_kwh: Decimal,
    any_site: bool,
) -> ClubScan:
    """Per-site figures of every customer that reaches a bar or is a member now.

    The bars only preselect: the evaluation applies the rule again, exactly, in
    Python to the rows returned. Customers that neither qualify nor are members
    are counted but not returned. A single-site customer not in the club whose
    site stays below the single-site bar cannot qualify, so its site total is
    dropped right after the scan (HAVING); the sites of customers with several
    sites, of members and of partial holders are always kept.
    """
    d = _Dialect(connection.vendor)
    reading = Reading._meta.db_table
    contract = Contract._meta.db_table
    site = Site._meta.db_table
    membership = Membership._meta.db_table
    ws, we = d.ts("ws"), d.ts("we")
    site_share = _share(d, ws, we)
    seg_share = _share(d, "s.cs", "s.ce")
    if d.pg:
        # LATERAL: one index range scan per partial segment, never a second full scan.
        partial = f"""
            SELECT s.customer_id, s.site_id, x.kwh
            FROM seg s CROSS JOIN LATERAL (
                SELECT COALESCE(SUM({seg_share}), 0) AS kwh
                FROM {reading} r
                WHERE r.site_id = s.site_id AND r.start < s.ce AND r."end" > s.cs
            ) x
            WHERE NOT s.whole
        """  # noqa: S608 - names come from the models, values are parameters
    else:
        partial = f"""
            SELECT s.customer_id, s.site_id, COALESCE(SUM({seg_share}), 0) AS kwh
            FROM seg s LEFT JOIN {reading} r
              ON r.site_id = s.site_id AND r.start < s.ce AND r."end" > s.cs
            WHERE NOT s.whole
            GROUP BY s.contract_id, s.customer_id, s.site_id
        """  # noqa: S608
    materialized = "MATERIALIZED" if d.pg else ""
    # PostgreSQL: OFFSET 0 keeps the filter out of the scan's aggregate, so the scan
    # stays the parallel GROUP BY of a bare sum (a filter naming a CTE would make it serial).
    fence = "OFFSET 0" if d.pg else ""
    sql = f"""
        WITH seg AS {materialized} (
            SELECT c.id AS contract_id, c.customer_id, c.site_id,
                   {d.greatest(f"COALESCE(c.start, {ws})", ws)} AS cs,
                   {d.least(f'COALESCE(c."end", {we})', we)} AS ce,
                   (COALESCE(c.start, {ws}) <= {ws} AND COALESCE(c."end", {we}) >= {we}) AS whole
            FROM {contract} c
            WHERE (c.start IS NULL OR c.start < {we}) AND (c."end" IS NULL OR c."end" > {ws})
        ),
        holders AS {materialized} (
            SELECT customer_id, COUNT(DISTINCT site_id) AS sites FROM seg GROUP BY customer_id
        ),
        watched AS (
            SELECT customer_id FROM holders WHERE sites > 1
            UNION
            SELECT customer_id FROM {membership} WHERE status = %(member)s
        ),
        site_sum AS (
            SELECT a.site_id, a.kwh FROM (
                SELECT r.site_id, SUM({site_share}) AS kwh
                FROM {reading} r
                WHERE r.start < {we} AND r."end" > {ws}
                GROUP BY r.site_id
                {fence}
            ) a
            WHERE a.kwh >= %(single)s
               OR a.site_id IN (
                   SELECT site_id FROM seg WHERE customer_id IN (SELECT customer_id FROM watched)
               )
        ),
        per_site AS (
            SELECT s.customer_id, s.site_id, COALESCE(t.kwh, 0) AS kwh
            FROM seg s LEFT JOIN site_sum t ON t.site_id = s.site_id
            WHERE s.whole
              AND (t.site_id IS NOT NULL
                   OR s.customer_id IN (SELECT customer_id FROM watched))
            UNION ALL
            SELECT customer_id, site_id, SUM(kwh)
            FROM ({partial}) p
            GROUP BY customer_id, site_id
        ),
        cust AS (
            SELECT customer_id, SUM(kwh) AS total, COUNT(*) AS sites, MAX(kwh) AS largest
            FROM per_site GROUP BY customer_id
        ),
        cand AS (
            SELECT customer_id FROM cust
            WHERE (sites = 1 AND total >= %(single)s)
               OR (sites > 1 AND total >= %(multi)s)
               OR (%(any_site)s = 1 AND largest >= %(single)s)
            UNION
            SELECT customer_id FROM {membership} WHERE status = %(member)s
        )
        SELECT p.customer_id, p.site_id, st.ref, p.kwh
        FROM per_site p
        JOIN cand ON cand.customer_id = p.customer_id
        JOIN {site} st ON st.id = p.site_id
        UNION ALL
        SELECT NULL, COUNT(*), NULL, NULL FROM holders
    """  # noqa: S608 - names come from the models, values are parameters
    params = {
        "ws": d.ts_param(window_start),
        "we": d.ts_param(window_end),
        "single": d.kwh_param(single_site_kwh),
        "multi": d.kwh_param(multi_site_kwh),
        "any_site": 1 if any_site else 0,
        "member": MembershipStatus.MEMBER.value,
    }
    customers, rows = 0, []
    with connection.cursor() as cursor:
        if d.pg and not connection.get_autocommit():
            # The CTEs' row estimates are far off (hundreds of millions), which makes
            # PostgreSQL spend seconds compiling the query (JIT) to save nothing.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        for customer_id, site_id, ref, kwh in cursor.fetchall():
            if customer_id is None:
                customers = int(site_id)
            else:
                rows.append((customer_id, site_id, ref, d.kwh_value(kwh)))
    coverage = _coverage(d, window_start, window_end, {r[0] for r in rows})
    sites = [
        SiteFigures(
            customer_id=customer_id,
            site_id=site_id,
            site_ref=ref,
            kwh=kwh,
            covered_seconds=coverage.get((customer_id, site_id), (0, 0))[0],
            held_seconds=coverage.get((customer_id, site_id), (0, 0))[1],
        )
        for customer_id, site_id, ref, kwh in rows
    ]
    return ClubScan(customers=customers, sites=sites)


def _share(d: _Dialect, lo: str, hi: str) -> str:
    """A reading's kWh inside [lo, hi): whole when inside, else in proportion to its time."""
    return f"""CASE WHEN r.start >= {lo} AND r."end" <= {hi} THEN {d.whole()}
               ELSE {d.share(lo, hi)} END"""


def _coverage(d: _Dialect, window_start, window_end, customer_ids: set) -> dict:
    """(customer, site) -> (seconds covered by reads, seconds held) in the window.

    Only for the few customers returned: each of their contract segments reads
    its own readings through the (site, start, end) index.
    """
    if not customer_ids:
        return {}
    reading = Reading._meta.db_table
    contract = Contract._meta.db_table
    ws, we = d.ts("ws"), d.ts("we")
    cs = d.greatest(f"COALESCE(c.start, {ws})", ws)
    ce = d.least(f'COALESCE(c."end", {we})', we)
    # LEAST and GREATEST skip NULLs on PostgreSQL: a segment without reads must sum to 0.
    covered = d.span(d.least('r."end"', "s.ce"), d.greatest("r.start", "s.cs"))
    if d.pg:
        chosen, ids = "c.customer_id = ANY(%(ids)s)", sorted(customer_ids)
    else:
        chosen = "c.customer_id IN (SELECT value FROM json_each(%(ids)s))"
        ids = json.dumps(sorted(customer_ids))
    # PostgreSQL: LATERAL forces one index range per segment; a plain join may be planned
    # as a hash join, a second full scan of the readings for a few thousand sites.
    on = 'r.site_id = s.site_id AND r.start < s.ce AND r."end" > s.cs'
    if d.pg:
        join = f"LEFT JOIN LATERAL (SELECT * FROM {reading} r WHERE {on}) r ON true"  # noqa: S608
    else:
        join = f"LEFT JOIN {reading} r ON {on}"
    sql = f"""
        SELECT customer_id, site_id, SUM(covered), SUM(held) FROM (
            SELECT s.customer_id, s.site_id,
                   COALESCE(SUM(CASE WHEN r.site_id IS NOT NULL THEN {covered} END), {d.zero_span})
                       AS covered,
                   MAX({d.span("s.ce", "s.cs")}) AS held
            FROM (
                SELECT c.id, c.customer_id, c.site_id, {cs} AS cs, {ce} AS ce
                FROM {contract} c
                WHERE {chosen}
                  AND (c.start IS NULL OR c.start < {we}) AND (c."end" IS NULL OR c."end" > {ws})
            ) s
            {join}
            GROUP BY s.id, s.customer_id, s.site_id
        ) g
        GROUP BY customer_id, site_id
    """  # noqa: S608 - names come from the models, values are parameters
    params = {"ws": d.ts_param(window_start), "we": d.ts_param(window_end), "ids": ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (customer_id, site_id): (
                Decimal(str(d.seconds_value(covered))),
                Decimal(str(d.seconds_value(held))),
            )
            for customer_id, site_id, covered, held in cursor.fetchall()
        }
