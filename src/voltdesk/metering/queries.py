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


def insert_daily_pg(site_ids: list[int], days: list, bounds: list) -> int:
    """kWh per site and local day of the readings lying within one of ``days``.

    ``bounds`` holds the UTC instant of each day's local midnight and one more for
    the end of the last day; a reading lies within day i when its start and its
    last instant both fall in [bounds[i], bounds[i + 1]).
    """
    sql = f"""
        INSERT INTO {DailyRollup._meta.db_table} (site_id, day, kwh)
        SELECT site_id, (%s::date[])[b], SUM(kwh) FROM (
            SELECT site_id, kwh, width_bucket(start, %s::timestamptz[]) AS b,
                   width_bucket("end" - {MICROSECOND}, %s::timestamptz[]) AS e
            FROM {Reading._meta.db_table}
            WHERE site_id = ANY(%s) AND start >= %s AND "end" <= %s
        ) r
        WHERE b = e
        GROUP BY site_id, b
    """  # noqa: S608 - names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [days, bounds, bounds, site_ids, bounds[0], bounds[-1]])
        return cursor.rowcount


def insert_monthly_pg(site_ids: list[int], windows: list[Window]) -> int:
    """kWh per site and local month: whole readings, plus shares of straddling ones.

    ``windows`` are consecutive whole local months. Readings within one month are
    summed in one scan; the few that hold a month boundary are split in proportion
    to their time in each month.
    """
    months = [w.month for w in windows]
    bounds = [w.start for w in windows] + [windows[-1].end]
    reading = Reading._meta.db_table
    sql = f"""
        INSERT INTO {MonthlyRollup._meta.db_table} (site_id, month, kwh)
        SELECT site_id, month, SUM(kwh) FROM (
            SELECT site_id, (%s::date[])[b] AS month, SUM(kwh) AS kwh FROM (
                SELECT site_id, kwh, width_bucket(start, %s::timestamptz[]) AS b,
                       width_bucket("end" - {MICROSECOND}, %s::timestamptz[]) AS e
                FROM {reading}
                WHERE site_id = ANY(%s) AND start >= %s AND "end" <= %s
            ) r
            WHERE b = e
            GROUP BY site_id, b
            UNION ALL
            SELECT r.site_id, w.month,
                   r.kwh * EXTRACT(EPOCH FROM (LEAST(r."end", w.we) - GREATEST(r.start, w.ws)))
                   / EXTRACT(EPOCH FROM (r."end" - r.start))
            FROM {reading} r
            JOIN unnest(%s::date[], %s::timestamptz[], %s::timestamptz[]) AS w(month, ws, we)
              ON r.start < w.we AND r."end" > w.ws
            WHERE r.site_id = ANY(%s)
              AND EXISTS (SELECT 1 FROM unnest(%s::timestamptz[]) AS x(edge)
                          WHERE r.start < x.edge AND r."end" > x.edge)
              AND r.start < %s AND r."end" > %s
        ) u
        GROUP BY site_id, month
    """  # noqa: S608 - names come from the models, values are parameters
    params = [months, bounds, bounds, site_ids, bounds[0], bounds[-1]]
    params += [months, bounds[:-1], bounds[1:], site_ids, bounds, bounds[-1], bounds[0]]
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
