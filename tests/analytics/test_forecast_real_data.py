"""The forecast on real data: a bank call centre's 164 weekdays of 2003 (fpp3 ``bank_calls``).

The calls come in five-minute counts (their 'Z' suffix is local clock time).
One work order per 100 calls, spread over the day as the calls were, makes an
``import_workorders`` file of about 53,000 rows; the forecast must beat the
weekly seasonal-naive forecast in a rolling-origin backtest on it.
"""

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from voltdesk.analytics.forecasting import backtest_workorders
from voltdesk.workorders.models import WorkOrder

DATA = Path("/work/shared/data/tickets/bank_calls_5min_2003.csv")
CALLS_PER_ORDER = 100
UNTIL = "2003-10-10"  # two weeks before the data ends

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared real data not available")


def write_history(path: Path, zone: ZoneInfo) -> dict[date, int]:
    """The import file, and the orders it holds per local day (for the checks)."""
    per_day: dict[date, int] = {}
    calls = 0
    with (
        open(DATA, newline="", encoding="utf-8") as src,
        open(path, "w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(
            [
                "created_at",
                "closed_at",
                "channel",
                "type",
                "subtype",
                "description",
                "area",
                "customer_ref",
                "site_ref",
            ]
        )
        for row in csv.DictReader(src):
            # Local clock time despite the 'Z': read it as the utility's own clock.
            local = datetime.fromisoformat(row["DateTime"].rstrip("Z")).replace(tzinfo=zone)
            before = calls // CALLS_PER_ORDER
            calls += int(row["Calls"])
            for k in range(calls // CALLS_PER_ORDER - before):
                created = local + timedelta(seconds=20 * k)
                writer.writerow(
                    [
                        created.isoformat(),
                        (created + timedelta(minutes=6)).isoformat(),
                        "hotline",
                        "consultation",
                        "service_query",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
                per_day[local.date()] = per_day.get(local.date(), 0) + 1
    return per_day


@pytest.fixture
def bank_history(utility, tmp_path):
    path = tmp_path / "bank_calls_orders.csv"
    per_day = write_history(path, ZoneInfo(utility.time_zone))
    call_command("import_workorders", str(path), stdout=io.StringIO())
    return per_day


def test_real_call_centre_history_imports_and_forecasts_beat_seasonal_naive(bank_history):
    # 5,323,661 calls / 100 = 53,236 orders on 164 weekdays.
    assert WorkOrder.objects.count() == sum(bank_history.values()) == 53_236
    assert len(bank_history) == 164

    out = io.StringIO()
    call_command(
        "forecast_workorders", "--horizon", "14", "--until", UNTIL, "--format", "csv", stdout=out
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["date", "series", "forecast", "lo80", "hi80"]
    assert len(rows) == 1 + 14
    assert rows[1][:2] == ["2003-10-11", "all"]  # the day after --until
    errors = []
    for day, series, forecast, lo, hi in rows[1:]:
        d = date.fromisoformat(day)
        assert series == "all"
        assert 0 <= float(lo) <= float(forecast) <= float(hi)
        if d.weekday() >= 5:
            assert float(forecast) < 20  # the bank is closed at weekends
        elif d in bank_history:  # a few weekdays are missing from the data
            errors.append(abs(float(forecast) - bank_history[d]) / bank_history[d])
    # Weekdays run 277 to 429 orders; the two weeks ahead within 10 % on average.
    assert sum(errors) / len(errors) < 0.10

    report = {r.bucket: r for r in backtest_workorders(28, until=date.fromisoformat(UNTIL))}
    assert set(report) == {"1-7", "8-28"}
    assert report["1-7"].ratio < 0.85, report
    assert report["8-28"].ratio <= 1.0, report
    for r in report.values():
        assert 0.5 <= r.coverage <= 1.0, r

    table = io.StringIO()
    call_command("backtest_forecast", "--horizon", "28", "--until", UNTIL, stdout=table)
    assert "1-7" in table.getvalue() and "8-28" in table.getvalue()
