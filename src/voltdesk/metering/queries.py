"""Set-based SQL of the rollups: whole tables at a time, never a loop per site.

The ORM builds what it can express on both databases (local dates of the
utility's time zone); the proportional split of readings that straddle months
needs interval arithmetic, written here once per database.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth

from .models import DailyRollup, MonthlyRollup, Reading
from .periods import Window

EPSILON = Value(timedelta(microseconds=1))


def _last_instant():
    return ExpressionWrapper(F("end") - EPSILON, output_field=DateTimeField())


def _local_dates(qs: QuerySet, tz) -> QuerySet:
    return qs.annotate(
        first_day=TruncDate("start", tzinfo=tz), last_day=TruncDate(_last_instant(), tzinfo=tz)
    )


def _local_months(qs: QuerySet, tz) -> QuerySet:
    return _local_dates(qs, tz).annotate(
        first_month=TruncMonth("first_day"), last_month=TruncMonth("last_day")
    )


def insert_daily(readings: QuerySet, tz) -> int:
    """Insert kWh per site and local day from the readings that lie within one local day."""
    qs = (
        _local_dates(readings, tz)
        .filter(first_day=F("last_day"))
        .values("site_id", "first_day")
        .annotate(total=Sum("kwh"))
        .values_list("site_id", "first_day", "total")
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DailyRollup._meta.db_table} (site_id, day, kwh) {sql}", params
        )
        return cursor.rowcount


def _straddling_sql(readings: QuerySet, tz, windows: list[Window]) -> tuple[str, list]:
    """Each month's share of the readings that run over a month boundary."""
    # A reading straddles months only if it holds a month boundary strictly inside:
    # a few range conditions, instead of converting every reading to local time.
    holds_boundary = Q()
    for boundary in sorted({w.start for w in windows[1:]}):
        holds_boundary |= Q(start__lt=boundary, end__gt=boundary)
    if not holds_boundary:
        return "", []
    straddling = readings.filter(holds_boundary).values("site_id", "start", "end").order_by()
    sub_sql, sub_params = straddling.query.sql_with_params()
    pg = connection.vendor == "postgresql"
    adapt = connection.ops.adapt_datetimefield_value
    rows, params = [], []
    for w in windows:
        if pg:
            rows.append("(CAST(%s AS date), CAST(%s AS timestamptz), CAST(%s AS timestamptz))")
            params += [w.month, w.start, w.end]
        else:
            rows.append("(%s, %s, %s)")
            params += [w.month.isoformat(), adapt(w.start), adapt(w.end)]
    if pg:
        overlap = 'EXTRACT(EPOCH FROM (LEAST(r."end", w.we) - GREATEST(r.start, w.ws)))'
        length = 'EXTRACT(EPOCH FROM (r."end" - r.start))'
    else:
        overlap = '(julianday(MIN(r."end", w.we)) - julianday(MAX(r.start, w.ws)))'
        length = '(julianday(r."end") - julianday(r.start))'
    sql = f"""
        SELECT r.site_id AS site_id, w.month AS month, r.kwh * {overlap} / {length} AS kwh
        FROM {Reading._meta.db_table} r
        JOIN (VALUES {", ".join(rows)}) AS w(month, ws, we)
          ON r.start < w.we AND r."end" > w.ws
        WHERE (r.site_id, r.start, r."end") IN ({sub_sql})
    """  # noqa: S608 - names come from the models, values are parameters
    return sql, params + list(sub_params)


def _sqlite_values_alias(sql: str) -> str:
    # SQLite names VALUES columns column1..3 and has no alias list: wrap it.
    return sql.replace(
        "JOIN (VALUES ",
        "JOIN (SELECT column1 AS month, column2 AS ws, column3 AS we FROM (VALUES ",
    ).replace(") AS w(month, ws, we)", ")) AS w")


def insert_monthly(readings: QuerySet, tz, windows: list[Window]) -> int:
    """Insert kWh per site and local month: whole readings, plus shares of straddling ones."""
    within = (
        _local_months(readings, tz)
        .filter(first_month=F("last_month"))
        .values("site_id", "first_month")
        .annotate(total=Sum("kwh"))
        .values_list("site_id", "first_month", "total")
        .order_by()
    )
    within_sql, within_params = within.query.sql_with_params()
    straddle_sql, straddle_params = _straddling_sql(readings, tz, windows)
    if not straddle_sql:
        straddle_sql = "SELECT NULL, NULL, NULL WHERE 1 = 0"
    elif connection.vendor != "postgresql":
        straddle_sql = _sqlite_values_alias(straddle_sql)
    sql = f"""
        INSERT INTO {MonthlyRollup._meta.db_table} (site_id, month, kwh)
        SELECT site_id, month, SUM(kwh) FROM (
            SELECT a.site_id, a.first_month AS month, a.total AS kwh FROM ({within_sql}) a
            UNION ALL
            {straddle_sql}
        ) u
        GROUP BY site_id, month
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(within_params) + straddle_params)
        return cursor.rowcount


# PostgreSQL: local days and months as arrays of UTC instants, computed once in
# Python (zoneinfo) per refresh; each reading finds its day or month by a binary
# search (width_bucket) instead of a time-zone conversion per row.

MICROSECOND = "interval '1 microsecond'"


def insert_rollups_pg(site_ids: list[int], days: list, day_bounds: list, windows: list) -> int:
    """Daily and monthly rollups of the sites, in one statement and one scan.

    Daily: kWh per site of the readings lying within one of ``days``; ``day_bounds``
    holds the UTC instant of each day's local midnight and one more for the end of
    the last day, and a reading lies within day i when its start and its last
    instant both fall in [day_bounds[i], day_bounds[i + 1]). Monthly: ``windows``
    are consecutive whole local months; readings within one month are summed, the
    few that hold a month boundary are gathered and split in proportion to their
    time in each month.

    One aggregation with two grouping sets does both sums over one scan (two
    statements scanned the readings three times); the daily rows are written by a
    data-modifying CTE.
    """
    months = [w.month for w in windows]
    month_bounds = [w.start for w in windows] + [windows[-1].end]
    reading = Reading._meta.db_table
    sql = f"""
        WITH g AS MATERIALIZED (
            SELECT site_id, day_b, month_b, GROUPING(day_b, month_b) AS gs, SUM(kwh) AS kwh,
                   array_agg(start) FILTER (WHERE month_b IS NULL) AS s_start,
                   array_agg("end") FILTER (WHERE month_b IS NULL) AS s_end,
                   array_agg(kwh) FILTER (WHERE month_b IS NULL) AS s_kwh
            FROM (
                SELECT site_id, start, "end", kwh,
                       CASE WHEN b = e AND b BETWEEN 1 AND %(ndays)s THEN b END AS day_b,
                       CASE WHEN mb = me THEN mb END AS month_b
                FROM (
                    SELECT site_id, start, "end", kwh,
                           width_bucket(start, %(day_bounds)s::timestamptz[]) AS b,
                           width_bucket("end" - {MICROSECOND}, %(day_bounds)s::timestamptz[]) AS e,
                           width_bucket(start, %(month_bounds)s::timestamptz[]) AS mb,
                           width_bucket("end" - {MICROSECOND}, %(month_bounds)s::timestamptz[])
                               AS me
                    FROM {reading}
                    WHERE site_id = ANY(%(ids)s) AND start < %(hi)s AND "end" > %(lo)s
                ) r
            ) x
            GROUP BY GROUPING SETS ((site_id, day_b), (site_id, month_b))
        ),
        daily AS (
            INSERT INTO {DailyRollup._meta.db_table} (site_id, day, kwh)
            SELECT site_id, (%(days)s::date[])[day_b], kwh FROM g
            WHERE gs = 1 AND day_b IS NOT NULL
        )
        INSERT INTO {MonthlyRollup._meta.db_table} (site_id, month, kwh)
        SELECT site_id, month, SUM(kwh) FROM (
            SELECT site_id, (%(months)s::date[])[month_b] AS month, kwh FROM g
            WHERE gs = 2 AND month_b IS NOT NULL
            UNION ALL
            SELECT s.site_id, w.month,
                   s.kwh * EXTRACT(EPOCH FROM (LEAST(s."end", w.we) - GREATEST(s.start, w.ws)))
                   / EXTRACT(EPOCH FROM (s."end" - s.start))
            FROM (
                SELECT g.site_id, u.start, u."end", u.kwh
                FROM g, unnest(g.s_start, g.s_end, g.s_kwh) AS u(start, "end", kwh)
                WHERE g.gs = 2 AND g.month_b IS NULL
            ) s
            JOIN unnest(%(months)s::date[], %(ws)s::timestamptz[], %(we)s::timestamptz[])
                AS w(month, ws, we)
              ON s.start < w.we AND s."end" > w.ws
        ) u
        GROUP BY site_id, month
    """  # noqa: S608 - names come from the models, values are parameters
    params = {
        "ndays": len(days),
        "day_bounds": day_bounds,
        "month_bounds": month_bounds,
        "ids": site_ids,
        "hi": month_bounds[-1],
        "lo": month_bounds[0],
        "days": days,
        "months": months,
        "ws": month_bounds[:-1],
        "we": month_bounds[1:],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Consumption of many (site, span) pairs at once: the months a contract held in part.


def _spans_table(spans: list[tuple]) -> tuple[str, list]:
    """``(site_id, lo, hi)`` rows as a table ``w`` with their position ``n``."""
    if connection.vendor == "postgresql":
        columns = [list(range(len(spans)))] + [list(c) for c in zip(*spans, strict=True)]
        sql = (
            "unnest(%s::int[], %s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
            "AS w(n, site_id, lo, hi)"
        )
        return sql, columns
    adapt = connection.ops.adapt_datetimefield_value
    values, params = [], []
    for n, (site_id, lo, hi) in enumerate(spans):
        values.append("(%s, %s, %s, %s)")
        params += [n, site_id, adapt(lo), adapt(hi)]
    names = "column1 AS n, column2 AS site_id, column3 AS lo, column4 AS hi"
    return f"(SELECT {names} FROM (VALUES {', '.join(values)})) AS w", params  # noqa: S608


def kwh_in_spans(spans: list[tuple]) -> tuple[list, list[tuple]]:
    """Readings of each ``(site_id, lo, hi)`` span of UTC instants, in two statements for all.

    Returns the kWh sum of the readings lying within each span (None if none), and
    ``(n, start, end, kWh)`` of the readings that straddle span n's edge, for the
    caller to split exactly. Each span is a scalar subquery or a LATERAL one: a
    range scan of the (site, start) index, never a join that sorts the table.
    """
    if not spans:
        return [], []
    table, params = _spans_table(spans)
    reading = Reading._meta.db_table
    within_sql = f"""
        SELECT w.n, (SELECT SUM(r.kwh) FROM {reading} r
                     WHERE r.site_id = w.site_id AND r.start >= w.lo AND r.start < w.hi
                       AND r."end" <= w.hi)
        FROM {table}
    """  # noqa: S608 - names come from the models, values are parameters
    # Over the span's start, or from inside it over its end: two conditions the index
    # answers by itself (an OR of them sent every reading of the span to the heap).
    edges = [
        'r.site_id = w.site_id AND r.start < w.lo AND r."end" > w.lo',
        'r.site_id = w.site_id AND r.start >= w.lo AND r.start < w.hi AND r."end" > w.hi',
    ]
    if connection.vendor == "postgresql":
        straddling_sql = " UNION ALL ".join(
            f"""SELECT w.n, r.start, r."end", r.kwh FROM {table}
                CROSS JOIN LATERAL (SELECT r.start, r."end", r.kwh FROM {reading} r
                                    WHERE {edge} OFFSET 0) r"""  # noqa: S608
            for edge in edges
        )
    else:
        straddling_sql = " UNION ALL ".join(
            f'SELECT w.n, r.start, r."end", r.kwh FROM {table} JOIN {reading} r ON {edge}'  # noqa: S608
            for edge in edges
        )
    within = [None] * len(spans)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these small queries takes longer than running them.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(within_sql, params)
        for n, total in cursor.fetchall():
            within[n] = total
        cursor.execute(straddling_sql, params + params)
        straddlers = cursor.fetchall()
    return within, straddlers
