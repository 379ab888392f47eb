"""Work-order volume forecasts: the daily series, the forecast, its command and temperatures."""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from voltdesk.analytics.forecasting import (
    Calendar,
    ForecastError,
    backtest_workorders,
    forecast_series,
    forecast_workorders,
)
from voltdesk.analytics.models import DailyTemperature
from voltdesk.analytics.series import NO_AREA, daily_counts
from voltdesk.core.models import Area, Region
from voltdesk.workorders.models import WorkOrder

JERUSALEM = ZoneInfo("Asia/Jerusalem")


def put_orders(per_day: dict[date, int], *, order_type="fault", area=None, hour=12):
    """``n`` closed orders on each local day, at ``hour`` o'clock Jerusalem time."""
    WorkOrder.objects.bulk_create(
        [
            WorkOrder(
                order_type=order_type,
                area=area,
                status="closed",
                created_at=datetime.combine(day, time(hour), tzinfo=JERUSALEM),
                external_ref="test",
            )
            for day, n in per_day.items()
            for _ in range(n)
        ],
        batch_size=5000,
    )


def days(first: date, last: date):
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def weekly(first, last, weekday=20, weekend=10, seed=1):
    """Israeli week: Friday and Saturday quieter; Poisson noise, the same every run."""
    rng = np.random.default_rng(seed)
    return {
        d: int(rng.poisson(weekend if d.weekday() in (4, 5) else weekday))
        for d in days(first, last)
    }


# --- the series --------------------------------------------------------------------


def test_days_are_counted_in_the_utilitys_time_zone(utility):
    # 23:30 UTC on 10 March is 01:30 on 11 March in Jerusalem (UTC+2 before summer time).
    WorkOrder.objects.create(
        order_type="fault", created_at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    )
    WorkOrder.objects.create(
        order_type="fault", created_at=datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    )  # 23:30 local: still the 10th
    history = daily_counts(until=date(2026, 3, 11))
    assert history.days == [date(2026, 3, 10), date(2026, 3, 11)]
    assert history.series == {"all": [1, 1]}


def test_days_without_orders_count_as_zero(utility):
    put_orders({date(2026, 1, 5): 3, date(2026, 1, 8): 2})
    history = daily_counts(until=date(2026, 1, 10))
    assert history.series["all"] == [3, 0, 0, 2, 0, 0]


def test_series_by_type_area_and_region_are_named_in_the_utilitys_words(utility):
    north = Region.objects.create(name="North")
    haifa = Area.objects.create(region=north, name="Haifa", kind="urban")
    put_orders({date(2026, 1, 5): 2}, order_type="fault", area=haifa)
    put_orders({date(2026, 1, 6): 1}, order_type="complaint")
    by_type = daily_counts(by="type", until=date(2026, 1, 6)).series
    assert by_type == {"complaint": [0, 1], "fault": [2, 0]}
    by_area = daily_counts(by="area", until=date(2026, 1, 6)).series
    assert by_area == {NO_AREA: [0, 1], "Haifa": [2, 0]}
    by_region = daily_counts(by="region", until=date(2026, 1, 6)).series
    assert set(by_region) == {"North", "(no region)"}
    only_faults = daily_counts(until=date(2026, 1, 6), order_type="fault").series
    assert only_faults == {"all": [2, 0]}


# --- the forecast command ------------------------------------------------------------


@pytest.fixture
def history(utility):
    """Ten weeks of faults in Haifa and consultations without an area."""
    north = Region.objects.create(name="North")
    haifa = Area.objects.create(region=north, name="Haifa", kind="urban")
    put_orders(weekly(date(2026, 1, 1), date(2026, 3, 11)), area=haifa)
    put_orders(weekly(date(2026, 1, 1), date(2026, 3, 11), 6, 2, seed=2), order_type="consultation")
    return haifa


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_csv_has_one_row_per_day_and_series_after_until(history):
    header, rows = read_csv(
        run(
            "forecast_workorders",
            "--horizon",
            "10",
            "--by",
            "type",
            "--until",
            "2026-03-01",
            "--format",
            "csv",
        )
    )
    assert header == ["date", "series", "forecast", "lo80", "hi80"]
    assert len(rows) == 10 * 2
    assert rows[0][:2] == ["2026-03-02", "consultation"]
    assert rows[-1][:2] == ["2026-03-11", "fault"]
    for _day, _series, forecast, lo, hi in rows:
        assert 0 <= float(lo) <= float(forecast) <= float(hi)
        assert len(forecast.split(".")[1]) == 1  # one decimal
    faults = [float(r[2]) for r in rows if r[1] == "fault"]
    # About 20 a weekday and 10 on Friday and Saturday.
    assert (
        14
        < np.mean(
            [
                f
                for r, f in zip([r for r in rows if r[1] == "fault"], faults, strict=True)
                if date.fromisoformat(r[0]).weekday() not in (4, 5)
            ]
        )
        < 26
    )


def test_by_area_names_orders_without_an_area(history):
    _, rows = read_csv(
        run("forecast_workorders", "--horizon", "3", "--by", "area", "--format", "csv")
    )
    assert {r[1] for r in rows} == {"Haifa", NO_AREA}
    # Default until: the last day with orders (11 March), so the forecast starts on the 12th.
    assert rows[0][0] == "2026-03-12"


def test_without_by_one_series_named_all_and_a_readable_table(history):
    _, rows = read_csv(run("forecast_workorders", "--horizon", "2", "--format", "csv"))
    assert [r[1] for r in rows] == ["all", "all"]
    table = run("forecast_workorders", "--horizon", "2")
    lines = table.strip().splitlines()
    # The readable table speaks the utility's language (il: Hebrew); the CSV stays English.
    assert len(lines[0].split()) >= 5
    assert lines[1].split()[:2] == ["2026-03-12", "all"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--horizon", "0"], "--horizon"),
        (["--horizon", "ten"], "--horizon"),
        (["--horizon", "400"], "--horizon"),
        (["--horizon", "7", "--by", "feeder"], "--by"),
        (["--horizon", "7", "--until", "2026-02-30"], "--until"),
        (["--horizon", "7", "--format", "xml"], "--format"),
        (["--horizon", "7", "--type", "repair"], "--type"),
    ],
)
def test_bad_options_are_refused_naming_the_option(history, args, option):
    with pytest.raises(CommandError, match=option):
        run("forecast_workorders", *args)


def test_no_history_is_a_clear_error(utility):
    with pytest.raises(CommandError, match="no work-order history"):
        run("forecast_workorders", "--horizon", "7")
    with pytest.raises(ForecastError, match="no work-order history"):
        forecast_workorders(7, until=date(2020, 1, 1))


def test_too_short_a_history_is_a_clear_error(utility):
    put_orders(dict.fromkeys(days(date(2026, 1, 1), date(2026, 1, 10)), 5))
    with pytest.raises(CommandError, match="10 days of history; at least 14"):
        run("forecast_workorders", "--horizon", "7")


def test_a_few_weeks_of_history_still_forecast(utility):
    put_orders(weekly(date(2026, 1, 1), date(2026, 1, 21)))
    rows = forecast_workorders(14)
    assert len(rows) == 14
    assert all(r.forecast >= 0 and r.lo80 >= 0 for r in rows)


def test_backtest_command_prints_mase_ratio_and_coverage(history):
    header, rows = read_csv(
        run("backtest_forecast", "--horizon", "14", "--origins", "3", "--format", "csv")
    )
    assert header == ["series", "days", "model_mase", "naive_mase", "ratio", "coverage80"]
    assert [r[1] for r in rows] == ["1-7", "8-14"]
    for r in rows:
        assert float(r[4]) == pytest.approx(float(r[2]) / float(r[3]), abs=0.002)
        assert 0 <= float(r[5]) <= 1
    table = run("backtest_forecast", "--horizon", "14", "--origins", "2")
    assert "naive MASE" in table
    with pytest.raises(CommandError, match="--origins"):
        run("backtest_forecast", "--origins", "0")


def test_backtest_on_too_short_a_history_says_what_it_needs(history):
    with pytest.raises(ForecastError, match="needs at least 118"):
        backtest_workorders(90)


# --- what the forecast knows: holidays, weekdays, temperature -------------------------------


def test_holidays_lower_the_forecast(utility):
    # 15 months of history, holidays at 40 % of a normal day; the forecast covers
    # Rosh Hashanah (Sunday 13 September 2026) and Yom Kippur (Monday 21 September).
    import holidays

    calendar = holidays.country_holidays("IL", years=[2025, 2026])
    counts = weekly(date(2025, 6, 1), date(2026, 8, 31), 30, 15)
    for d in counts:
        if d in calendar:
            counts[d] = round(counts[d] * 0.4)
    put_orders(counts)
    rows = {r.day: r.forecast for r in forecast_workorders(30)}
    for holiday in (date(2026, 9, 13), date(2026, 9, 21)):
        week_before = rows[holiday - timedelta(days=7)]
        assert rows[holiday] < 0.6 * week_before, holiday


def test_a_weekday_only_series_forecasts_empty_weekends():
    # A bank-like desk open Monday to Friday, 120 a day: Saturdays and Sundays stay empty.
    start = date(2025, 1, 6)
    y = np.array(
        [0 if (start + timedelta(days=i)).weekday() >= 5 else 120 + (i % 3) for i in range(140)],
        dtype=float,
    )
    fc = forecast_series(y, 14, Calendar.build(start, 154, ""))
    for k in range(14):
        day = start + timedelta(days=140 + k)
        if day.weekday() >= 5:
            assert fc.mean[k] < 5 and fc.hi[k] < 20
        else:
            assert 100 < fc.mean[k] < 140
            assert fc.lo[k] <= fc.mean[k] <= fc.hi[k]


def test_a_temperature_that_covers_history_and_horizon_is_used(utility):
    # Faults rise with heat: 20 a day plus 3 per degree above 24 °C. The next days
    # alternate between 35 °C and 20 °C, so the hot ones must be forecast higher.
    rng = np.random.default_rng(5)
    first, last = date(2024, 1, 1), date(2025, 7, 15)  # ends in the hot season
    temps, counts = {}, {}
    for i, d in enumerate(days(first, last + timedelta(days=14))):
        celsius = 20 + 10 * np.sin(2 * np.pi * i / 365.25 - 1.5) + rng.normal(0, 4)
        if d > last:
            celsius = 35 if d.day % 2 else 20
        temps[d] = round(float(celsius), 1)
        if d <= last:
            counts[d] = int(rng.poisson(20 + 3 * max(celsius - 24, 0)))
    put_orders(counts)
    DailyTemperature.objects.bulk_create(
        DailyTemperature(day=d, celsius=str(c)) for d, c in temps.items()
    )
    rows = forecast_workorders(14, until=last)
    hot = np.mean([r.forecast for r in rows if r.day.day % 2])
    cool = np.mean([r.forecast for r in rows if not r.day.day % 2])
    # 11 degrees above 24 °C is about 33 more a day; at least half of it must show.
    assert hot - cool > 15


# --- temperatures import ---------------------------------------------------------------


def write(tmp_path, text, name="temps.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_temperatures_import_for_the_utility_and_a_region(utility, tmp_path):
    Region.objects.create(name="North")
    path = write(tmp_path, "day,celsius,region\n2026-07-01,31.5,\n2026-07-01,28.0,North\n")
    assert "2 new days" in run("import_temperatures", path)
    assert float(DailyTemperature.objects.get(region__isnull=True).celsius) == 31.5
    assert float(DailyTemperature.objects.get(region__name="North").celsius) == 28
    # The same day again overwrites: a corrected file is simply imported again.
    path = write(tmp_path, "day,celsius\n2026-07-01,30.9\n", "again.csv")
    assert "1 updated" in run("import_temperatures", path)
    assert float(DailyTemperature.objects.get(region__isnull=True).celsius) == 30.9


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026-07-01,30\n2026-07-32,31\n", "line 3: day '2026-07-32' is not a date"),
        ("2026-07-01,30\n2026-07-02,hot\n", "line 3: celsius 'hot' is not a number"),
        ("2026-07-01,30\n2026-07-02,75\n", "line 3: celsius 75 is outside -60 to 60"),
        ("2026-07-01,30.25\n", "line 2: celsius 30.25 has more than one decimal"),
        ("2026-07-01,30\n2026-07-01,31\n", "line 3: day 2026-07-01 is already on line 2"),
        ("2026-07-01,30,Atlantis\n", "line 2: region 'Atlantis' does not exist"),
    ],
)
def test_a_bad_temperature_file_is_refused_whole_with_its_line(utility, tmp_path, body, message):
    header = "day,celsius,region\n" if "Atlantis" in body else "day,celsius\n"
    path = write(tmp_path, header + body)
    with pytest.raises(CommandError, match=message):
        run("import_temperatures", path)
    assert not DailyTemperature.objects.exists()


def test_a_temperature_file_with_a_wrong_header_is_refused(utility, tmp_path):
    path = write(tmp_path, "date,temp\n2026-07-01,30\n")
    with pytest.raises(CommandError, match="line 1: missing column"):
        run("import_temperatures", path)


# --- robustness: the guard, level shifts, one panel for all series ----------------------


def test_a_week_that_repeats_exactly_is_forecast_as_last_week():
    # Seasonal naive is perfect here; no model beats it on the recent past, so the
    # guard keeps it in every bucket, and its validation errors (none) give the interval.
    week = [10, 20, 30, 40, 50, 5, 5]
    y = np.array(week * 20, dtype=float)
    fc = forecast_series(y, 28, Calendar.build(date(2025, 1, 6), 168, ""))
    assert set(fc.chosen.values()) == {"naive"}
    assert fc.mean.tolist() == week * 4
    assert fc.lo.tolist() == week * 4 and fc.hi.tolist() == week * 4


def test_a_level_shift_is_found_and_the_forecast_follows_the_new_level():
    # 20 a day for 20 weeks, then 40 a day for 6 weeks: the shift is on day 140,
    # twice the old level; the next week is forecast near 40, not near the 24.6 mean.
    from voltdesk.analytics.forecasting import level_shift

    rng = np.random.default_rng(4)
    y = np.concatenate([rng.poisson(20, 140), rng.poisson(40, 42)]).astype(float)
    first, ratio = level_shift(y)
    assert first == 140
    assert ratio == pytest.approx(2.0, abs=0.15)
    assert level_shift(rng.poisson(20, 182).astype(float)) is None  # no shift, none found
    fc = forecast_series(y, 7, Calendar.build(date(2025, 1, 6), 189, ""))
    assert 35 < float(np.mean(fc.mean)) < 45


def test_the_summer_peak_is_not_taken_for_a_level_shift():
    # Two years of a summer twice as busy as the winter, the same each year: compared
    # with the same weeks a year before, nothing has shifted.
    from voltdesk.analytics.forecasting import level_shift

    rng = np.random.default_rng(6)
    start = date(2024, 9, 1)
    lam = [40 if (start + timedelta(days=i)).month in (6, 7, 8) else 20 for i in range(730)]
    y = rng.poisson(lam).astype(float)  # ends on 31 August 2026, in the second summer
    assert level_shift(y) is None


def test_all_series_are_fitted_together_not_one_by_one(monkeypatch):
    # Twelve areas: a handful of StatsForecast calls over the whole panel, not 12 × 7 fits.
    from statsforecast import StatsForecast

    from voltdesk.analytics.forecasting import forecast_many

    calls = []
    original = StatsForecast.forecast

    def counted(self, *args, **kwargs):
        calls.append(kwargs["df"]["unique_id"].nunique())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StatsForecast, "forecast", counted)
    rng = np.random.default_rng(8)
    cal = Calendar.build(date(2025, 1, 6), 140 + 14, "")
    items = [(rng.poisson(5 + 3 * k, 140).astype(float), cal) for k in range(12)]
    forecasts = forecast_many(items, 14)
    assert len(forecasts) == 12 and all(len(f.mean) == 14 for f in forecasts)
    assert len(calls) <= 4  # local models (counts, logs), yearly model (logs)
    assert max(calls) == 12 * 7  # every series at the end and at its six validation origins
