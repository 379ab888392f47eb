"""Set-based SQL of the billing run: one aggregate over all contracts' readings, bulk inserts.

The run hands in its time-of-use slots (UTC spans per tariff version, season and
period, computed once in Python) and gets back, per contract in force, the kWh
of each (version, season, period) it used, in one statement ordered by contract.
A reading that straddles a slot, the month's edge or the contract's start or end
counts in proportion to its overlap in time: register reads are prorated by time.
"""

from datetime import date, datetime, timedelta

from django.db import connection, transaction

from voltdesk.customers.models import Contract
from voltdesk.metering.models import Reading

from .models import Bill, BillLine

CONTRACT = Contract._meta.db_table
READING = Reading._meta.db_table
BILL = Bill._meta.db_table
LINE = BillLine._meta.db_table


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _instant(value: datetime):
    return value if _pg() else connection.ops.adapt_datetimefield_value(value)


def _share(lo: str, hi: str) -> str:
    """kWh of reading r inside [lo, hi): whole when it lies within, else by time."""
    if _pg():
        overlap = f"EXTRACT(EPOCH FROM ({hi} - {lo}))"
        length = 'EXTRACT(EPOCH FROM (r."end" - r.start))'
    else:
        overlap = f"(julianday({hi}) - julianday({lo}))"
        length = '(julianday(r."end") - julianday(r.start))'
    return (
        f'CASE WHEN r.start >= {lo} AND r."end" <= {hi} THEN r.kwh '
        f"ELSE r.kwh * {overlap} / {length} END"
    )


def _greatest(*terms: str) -> str:
    return f"GREATEST({', '.join(terms)})" if _pg() else f"MAX({', '.join(terms)})"


def _least(*terms: str) -> str:
    return f"LEAST({', '.join(terms)})" if _pg() else f"MIN({', '.join(terms)})"


IN_FORCE = '(c.start IS NULL OR c.start < %s) AND (c."end" IS NULL OR c."end" > %s)'


def count_in_force(start: datetime, end: datetime) -> tuple[int, int]:
    """Contracts in force at some instant of [start, end): all of them, and those with a tariff."""
    sql = f"SELECT COUNT(*), COUNT(c.tariff_id) FROM {CONTRACT} c WHERE {IN_FORCE}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [_instant(end), _instant(start)])
        total, with_tariff = cursor.fetchone()
    return total, with_tariff


def count_bills(period_start: date, period_end: date, status: str) -> int:
    sql = (
        f"SELECT COUNT(*) FROM {BILL} WHERE kind = 'bill' AND status = %s "  # noqa: S608
        "AND period_start >= %s AND period_start < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [status, period_start, period_end])
        return cursor.fetchone()[0]


def delete_drafts(period_start: date, period_end: date) -> int:
    """Delete the month's draft bills and their lines; returns how many bills."""
    drafts = (
        f"SELECT id FROM {BILL} WHERE kind = 'bill' AND status = 'draft' "  # noqa: S608
        "AND period_start >= %s AND period_start < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {LINE} WHERE bill_id IN ({drafts})",  # noqa: S608
            [period_start, period_end],
        )
        cursor.execute(
            f"DELETE FROM {BILL} WHERE id IN ({drafts})",  # noqa: S608
            [period_start, period_end],
        )
        return cursor.rowcount


def _slots_table(slot_rows: list[tuple]) -> tuple[str, list]:
    """``(tariff_id, version_id, season, period, ws, we)`` rows as a table ``s``."""
    columns = "tariff_id, version_id, season, period, ws, we"
    if _pg():
        arrays = [list(col) for col in zip(*slot_rows, strict=True)]
        sql = (
            "unnest(%s::int[], %s::int[], %s::text[], %s::text[], %s::timestamptz[], "
            f"%s::timestamptz[]) AS s({columns})"
        )
        return sql, arrays
    values, params = [], []
    for tariff_id, version_id, season, period, ws, we in slot_rows:
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [tariff_id, version_id, season, period, _instant(ws), _instant(we)]
    # SQLite names VALUES columns column1..6 and has no alias list.
    rows = ", ".join(values)
    columns_sql = (
        "column1 AS tariff_id, column2 AS version_id, column3 AS season, "
        "column4 AS period, column5 AS ws, column6 AS we"
    )
    sql = f"(SELECT {columns_sql} FROM (VALUES {rows})) AS s"  # noqa: S608
    return sql, params


def _year_to_date(
    annual_tariffs: list[int], year_start: datetime, start: datetime, end: datetime
) -> tuple[str, list]:
    """kWh per contract on an annual-tier tariff from the year's start to the month's."""
    lo = _greatest("r.start", "%s", "COALESCE(c.start, %s)")
    hi = _least('r."end"', "%s", 'COALESCE(c."end", %s)')
    share = _share(lo, hi)
    marks = ", ".join(["%s"] * len(annual_tariffs))
    sql = f"""
        SELECT c.id AS contract_id, SUM({share}) AS kwh
        FROM {CONTRACT} c
        JOIN {READING} r ON r.site_id = c.site_id
             AND r.start < %s AND r."end" > %s
             AND (c.start IS NULL OR r."end" > c.start)
             AND (c."end" IS NULL OR r.start < c."end")
        WHERE c.tariff_id IN ({marks}) AND {IN_FORCE}
        GROUP BY c.id
    """  # noqa: S608 - names come from the models, values are parameters
    ys, ms = _instant(year_start), _instant(start)
    # The share reads lo and hi in its test, then hi and lo in its proportion.
    share_params = [ys, ys, ms, ms, ms, ms, ys, ys]  # lo, hi, then hi - lo
    params = share_params + [ms, ys] + list(annual_tariffs) + [_instant(end), ms]
    return sql, params


def month_aggregates(
    slot_rows: list[tuple],
    start: datetime,
    end: datetime,
    period_start: date,
    period_end: date,
    *,
    annual_tariffs: list[int],
    year_start: datetime,
    chunk: int = 20_000,
):
    """Yield row chunks, ordered by contract, of every contract in force on a priced version.

    Each row: contract id, customer id, site id, contract start, end, contracted
    kVA, version id, season, period, kWh (None without readings), year-to-date
    kWh (None unless on an annual-tier tariff). Contracts with an issued bill
    for the month are left out: that bill stands.
    """
    slots_sql, slots_params = _slots_table(slot_rows)
    lo = _greatest("r.start", "s.ws", "COALESCE(c.start, s.ws)")
    hi = _least('r."end"', "s.we", 'COALESCE(c."end", s.we)')
    share = _share(lo, hi)
    ytd_join, ytd_select, ytd_params = "", "NULL", []
    if annual_tariffs:
        ytd_sql, ytd_params = _year_to_date(annual_tariffs, year_start, start, end)
        ytd_join = f"LEFT JOIN ({ytd_sql}) y ON y.contract_id = c.id"
        ytd_select = "MAX(y.kwh)"
    sql = f"""
        SELECT c.id, c.customer_id, c.site_id, c.start, c."end", c.contracted_kva,
               s.version_id, s.season, s.period, SUM({share}), {ytd_select}
        FROM {CONTRACT} c
        JOIN {slots_sql} ON s.tariff_id = c.tariff_id
             AND (c.start IS NULL OR s.we > c.start) AND (c."end" IS NULL OR s.ws < c."end")
        LEFT JOIN {READING} r ON r.site_id = c.site_id
             AND r.start < s.we AND r."end" > s.ws
             AND (c.start IS NULL OR r."end" > c.start)
             AND (c."end" IS NULL OR r.start < c."end")
             AND r.start < %s AND r."end" > %s
        {ytd_join}
        WHERE {IN_FORCE}
          AND NOT EXISTS (
              SELECT 1 FROM {BILL} b WHERE b.contract_id = c.id AND b.kind = 'bill'
              AND b.status = 'issued' AND b.period_start >= %s AND b.period_start < %s)
        GROUP BY c.id, c.customer_id, c.site_id, c.start, c."end", c.contracted_kva,
                 s.version_id, s.season, s.period
        ORDER BY c.id
    """  # noqa: S608 - names come from the models, values are parameters
    ms, me = _instant(start), _instant(end)
    params = slots_params + [me, ms] + ytd_params + [me, ms, period_start, period_end]
    if _pg():
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk):
                yield rows
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for i in range(0, len(rows), chunk):
            yield rows[i : i + chunk]


BILL_COLUMNS = [
    "id",
    "kind",
    "status",
    "customer_id",
    "contract_id",
    "site_id",
    "period_start",
    "period_end",
    "run_id",
    "energy_kwh",
    "net_amount",
    "vat_amount",
    "total",
    "paid",
    "currency",
    "created_at",
]
LINE_COLUMNS = [
    "bill_id",
    "position",
    "kind",
    "period",
    "season",
    "tier",
    "covers_from",
    "covers_to",
    "tariff_version_id",
    "quantity",
    "unit",
    "unit_price",
    "amount",
]


def reserve_bill_ids(count: int) -> list[int]:
    """PostgreSQL: take ``count`` ids from the bills' sequence, so lines can name their bill."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{BILL}', 'id')) "  # noqa: S608
            "FROM generate_series(1, %s)",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(table: str, columns: list[str], rows) -> None:
    """PostgreSQL: COPY rows (tuples in ``columns`` order) into ``table``."""
    names = ", ".join(f'"{c}"' for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


# The lounge's time-of-use breakdown: the run's slots laid over a site's interval readings.

# Interval readings only: a longer reading (a monthly register read) says nothing about
# which hours its energy was used in, and splitting it by time would show a guess.
TOU_INTERVAL_AT_MOST = timedelta(hours=1)


def _windows_table(windows: list[tuple]) -> tuple[str, list]:
    """``(site_id, month, period, ws, we)`` rows as a table ``w``, with ``reach``.

    ``reach`` is ``ws`` less the longest interval counted: a reading that meets the
    window starts after it, so the join is a range scan of the (site, start) index.
    """
    columns = "site_id, month, period, ws, we, reach"
    rows = [(*row, row[3] - TOU_INTERVAL_AT_MOST) for row in windows]
    if _pg():
        arrays = [list(col) for col in zip(*rows, strict=True)]
        sql = (
            "unnest(%s::bigint[], %s::date[], %s::text[], %s::timestamptz[], "
            f"%s::timestamptz[], %s::timestamptz[]) AS w({columns})"
        )
        return sql, arrays
    values, params = [], []
    for site_id, month, period, ws, we, reach in rows:
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [site_id, month.isoformat(), period, _instant(ws), _instant(we), _instant(reach)]
    names = ", ".join(f"column{i} AS {name}" for i, name in enumerate(columns.split(", "), 1))
    return f"(SELECT {names} FROM (VALUES {', '.join(values)})) AS w", params  # noqa: S608


def tou_kwh_by_month(windows: list[tuple]) -> list[tuple[int, date, str, object]]:
    """kWh of interval readings per (site, month, period) over time-of-use windows.

    ``windows`` are ``(site_id, month, period, ws, we)``: UTC spans that do not
    overlap, each inside its local ``month`` (``billing.tou.slots`` of the days the
    site was held). A reading that straddles a window's edge counts in proportion
    to its time inside, as in the billing run. Returns ``(site_id, month, period,
    kWh)`` rows (kWh as the database gives it), only where readings were found.
    """
    if not windows:
        return []
    table, params = _windows_table(windows)
    share = _share(_greatest("r.start", "w.ws"), _least('r."end"', "w.we"))
    if _pg():
        short = 'r."end" - r.start <= %s'
        longest = TOU_INTERVAL_AT_MOST
    else:
        short = '(julianday(r."end") - julianday(r.start)) * 86400.0 <= %s'
        longest = TOU_INTERVAL_AT_MOST.total_seconds() + 0.5  # julianday is a float
    # One scalar subquery per window: a range scan of the (site, start) index that sums
    # a few dozen readings. As a join, PostgreSQL's planner sorted every reading of the
    # table by site and merged (seconds instead of milliseconds, in EXPLAIN ANALYZE).
    sql = f"""
        SELECT site_id, month, period, SUM(kwh) FROM (
            SELECT w.site_id, w.month, w.period, (
                SELECT SUM({share}) FROM {READING} r
                WHERE r.site_id = w.site_id AND r.start < w.we AND r.start > w.reach
                  AND r."end" > w.ws AND {short}
            ) AS kwh
            FROM {table}
        ) t
        GROUP BY site_id, month, period
        ORDER BY site_id, month, period
    """  # noqa: S608 - names come from the models, values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        if _pg():
            # Compiling this small query takes longer than running it (about 20 ms).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [longest] + params)
        rows = cursor.fetchall()
    return [
        (site_id, month if isinstance(month, date) else date.fromisoformat(month), period, kwh)
        for site_id, month, period, kwh in rows
        if kwh is not None  # windows without readings
    ]
