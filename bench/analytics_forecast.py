"""Work-order forecasts over three years of daily history: time, MASE and coverage.

In a database of its own (created and dropped here): the il utility, 6 regions,
50 areas of very different sizes and N work orders from December 2023 to
November 2026. Daily volume per area and type follows the Israeli week
(Friday and Saturday quieter), the year (June–September well above the rest,
faults most of all), public holidays (lower), a slow growth and Poisson noise;
the plan of orders per day, area and type is drawn here with numpy, and the
orders themselves go in with one ``INSERT ... SELECT generate_series``.

Timed: the daily-count query (``series.daily_counts``) by type and by area;
``forecast_workorders(90)`` for all orders (1 series), by type (5) and by area
(50); the rolling-origin backtest (13 weekly origins, horizon 90) of all and
by type, and by area with 4 origins. Each is timed on the wall clock and in
CPU seconds (this process and the fitting workers: on a shared machine the wall
clock also counts other work). Recorded: the median and worst MASE ratio
against seasonal naive and the mean 80 % coverage per horizon bucket. Then the
staffing page on a cold cache: the request (it only queues the forecasts), the
background job that fits them, and the page once they are ready.
"""

import io
import os
import statistics
import time
from datetime import date, datetime, timedelta

from django.core.management import call_command
from django.db import connection, connections

from .registry import scenario

ORDERS = {"small": 300_000, "medium": 2_000_000, "large": 5_000_000}
AREAS = 50
FIRST, LAST = date(2023, 12, 1), date(2026, 11, 30)
DATABASE = "voltdesk_bench_forecast"
TYPES = [("fault", 0.40), ("consultation", 0.30), ("business", 0.15), ("complaint", 0.08),
         ("suggestion", 0.07)]  # fmt: skip
MONTH = [0.85, 0.8, 0.85, 0.9, 1.0, 1.3, 1.6, 1.65, 1.35, 1.0, 0.85, 0.95]


def _plan(orders: int):
    """Orders per (day, area, type): rows for COPY."""
    import holidays
    import numpy as np

    rng = np.random.default_rng(11)
    days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    cal = holidays.country_holidays("IL", years=range(FIRST.year, LAST.year + 1))
    shape = np.array(
        [
            MONTH[d.month - 1]
            * (0.55 if d.weekday() in (4, 5) else 1.0)
            * (0.5 if d in cal else 1.0)
            * (1 + 0.1 * i / len(days))
            for i, d in enumerate(days)
        ]
    )
    summer = np.array([d.month in (6, 7, 8, 9) for d in days])
    sizes = rng.lognormal(0, 0.8, AREAS)
    sizes /= sizes.sum()
    weights = []
    for _code, share in TYPES:
        weights.append(share * shape * np.where(summer, 1.5, 1.0) if _code == "fault" else
                       share * shape)  # fmt: skip
    total = sum(w.sum() for w in weights)
    for a in range(AREAS):
        for (code, _share), w in zip(TYPES, weights, strict=True):
            counts = rng.poisson(orders * sizes[a] * w / total)
            for d, n in zip(days, counts, strict=True):
                if n:
                    yield (d.isoformat(), a + 1, code, int(n))


def _populate(orders: int) -> dict:
    from voltdesk.core.services import init_utility

    init_utility("il")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_region (name) SELECT 'Region ' || g FROM generate_series(1, 6) g"
        )
        cursor.execute(
            """
            INSERT INTO core_area (region_id, name, kind)
            SELECT r.id, 'Area ' || lpad(g::text, 2, '0'), 'urban'
            FROM generate_series(1, %s) g JOIN core_region r ON r.name = 'Region ' || (1 + g %% 6)
            """,
            [AREAS],
        )
        cursor.execute("CREATE TEMP TABLE plan (day date, area int, kind text, n int)")
        with cursor.cursor.copy("COPY plan FROM STDIN") as copy:
            for row in _plan(orders):
                copy.write_row(row)
        # Each planned order at a random minute of its local day (Asia/Jerusalem).
        cursor.execute(
            """
            INSERT INTO workorders_workorder
                (channel, order_type, subtype, status, priority, caller_name, caller_phone,
                 caller_email, description, area_id, is_member, escalation_level, created_at,
                 updated_at, external_ref)
            SELECT 'hotline', p.kind, '', 'closed', 2, '', '', '', '', a.id, false, 0,
                   (p.day::timestamp + random() * interval '1 day') AT TIME ZONE 'Asia/Jerusalem',
                   now(), 'bench'
            FROM plan p
            JOIN core_area a ON a.name = 'Area ' || lpad(p.area::text, 2, '0')
            CROSS JOIN LATERAL generate_series(1, p.n) g
            """
        )
        cursor.execute("SELECT count(*) FROM workorders_workorder")
        count = cursor.fetchone()[0]
        cursor.execute("ANALYZE workorders_workorder")
    return {"orders": count, "insert_s": round(time.perf_counter() - began, 1)}


CPU_SECONDS: dict[str, float] = {}


def _timed(fn, name: str | None = None):
    """(result, wall seconds); the CPU seconds (this process and its workers) go to
    ``CPU_SECONDS[name]``: on a shared machine the wall clock also counts others' work."""
    began, cpu = time.perf_counter(), os.times()
    result = fn()
    now = os.times()
    if name:
        used = sum(getattr(now, f) - getattr(cpu, f) for f in
                   ("user", "system", "children_user", "children_system"))  # fmt: skip
        CPU_SECONDS[name] = round(used, 2)
    return result, round(time.perf_counter() - began, 2)


def _summary(rows) -> dict:
    out = {}
    for bucket in dict.fromkeys(r.bucket for r in rows):
        mine = [r for r in rows if r.bucket == bucket]
        out[bucket] = {
            "median_ratio": round(statistics.median(r.ratio for r in mine), 3),
            "worst_ratio": round(max(r.ratio for r in mine), 3),
            "coverage": round(statistics.mean(r.coverage for r in mine), 3),
        }
    return out


def _measure(orders: int) -> dict:
    from voltdesk.analytics import series
    from voltdesk.analytics.forecasting import backtest_workorders, forecast_workorders

    figures = _populate(orders)
    until = LAST
    _, figures["counts_by_type_s"] = _timed(lambda: series.daily_counts(by="type", until=until))
    _, figures["counts_by_area_s"] = _timed(lambda: series.daily_counts(by="area", until=until))
    rows, figures["forecast_all_s"] = _timed(lambda: forecast_workorders(90, until=until), "all")
    rows, figures["forecast_by_type_s"] = _timed(
        lambda: forecast_workorders(90, by="type", until=until), "by_type"
    )
    figures["forecast_rows_by_type"] = len(rows)
    rows, figures["forecast_by_area_s"] = _timed(
        lambda: forecast_workorders(90, by="area", until=until), "by_area"
    )
    figures["forecast_series_by_area"] = len({r.series for r in rows})
    rows, figures["backtest_all_s"] = _timed(
        lambda: backtest_workorders(90, until=until), "backtest_all"
    )
    figures["backtest_all"] = _summary(rows)
    rows, figures["backtest_by_type_s"] = _timed(
        lambda: backtest_workorders(90, by="type", until=until), "backtest_by_type"
    )
    figures["backtest_by_type"] = _summary(rows)
    rows, figures["backtest_by_area_4_origins_s"] = _timed(
        lambda: backtest_workorders(90, by="area", until=until, origins=4), "backtest_by_area"
    )
    figures["backtest_by_area"] = _summary(rows)
    out = io.StringIO()
    began = time.perf_counter()
    call_command(
        "forecast_workorders", "--horizon", "90", "--until", until.isoformat(), "--format",
        "csv", stdout=out,
    )  # fmt: skip
    figures["command_all_csv_s"] = round(time.perf_counter() - began, 2)
    figures.update(_staffing())
    figures["cpu_s"] = dict(CPU_SECONDS)
    figures["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    figures["at"] = datetime.now().isoformat(timespec="seconds")
    return figures


def _staffing() -> dict:
    """The staffing page on a cold cache: what the request does (queue the job), what the
    worker does (the two forecasts), and the page once they are ready."""
    from unittest import mock

    from voltdesk.analytics import staffing, tasks

    span = staffing.plan_span()
    out = {}
    with mock.patch.object(tasks.prepare_staffing_forecasts, "delay"):  # a broker: not run here
        state, out["staffing_cold_request_s"] = _timed(lambda: staffing.request_forecasts(span))
    out["staffing_cold_request_state"] = state.state
    _, out["staffing_worker_forecasts_s"] = _timed(
        lambda: staffing.prepare_forecasts(span), "staffing_worker"
    )
    _, out["staffing_warm_plan_s"] = _timed(lambda: staffing.plan_week(span.start))
    return out


@scenario("analytics_forecast")
def analytics_forecast(scale, workdir) -> dict:
    default = connections["default"]
    original = default.settings_dict["NAME"]
    default.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    default.close()
    default.settings_dict["NAME"] = DATABASE
    try:
        call_command("migrate", interactive=False, verbosity=0)
        return _measure(ORDERS[scale.name])
    finally:
        default.close()
        default.settings_dict["NAME"] = original
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
