"""Daily work-order volume forecasts with statsforecast, and their backtests.

How one series is forecast (``forecast_series``):

* **Holidays** (the ``holidays`` package, the utility's calendar) are taken out
  first: each past holiday is compared with the same weekday one and two weeks
  around it, the pooled ratio is the holiday factor, and the holiday is replaced
  by its baseline before fitting. Forecasts on future holidays are multiplied by
  the factor. China's make-up working days (a Saturday that is a working day)
  get their own factor. A zero on a day whose weekday is usually busy (a
  closure the calendar does not know) is treated the same way.
* **Candidates** (all statsforecast models): seasonal naive (weekly), ETS with
  additive weekly seasonality, MSTL (weekly) with an ETS trend, MSTL (weekly)
  with an ARIMA(1,1,1) trend whose regressors are yearly Fourier terms (two
  years of history and more) and the temperature (degrees above 24 °C and
  below 16 °C, when ``DailyTemperature`` covers the history and the horizon),
  the same on log counts (a weekly shape that grows with the summer peak), and
  the mean of the models.
* **Choice by the series' own history**: rolling-origin validation on the
  last weeks picks, per horizon bucket (days 1–7, 8–28, 29–90, beyond), the
  candidate with the smallest absolute error, so a series with too little
  history, only weekdays, many zeros or a level shift falls back to whatever
  predicted it best, seasonal naive included.
* **80 % intervals** are the 10th and 90th percentiles of the chosen
  candidates' validation errors per bucket, relative to the forecast (plus a
  floor, so low counts keep a width); forecasts and bounds are never negative.

Backtests (``backtest_workorders``) repeat the whole procedure at several
origins, each seeing only the history before it, and report MASE (mean
absolute error divided by the in-sample error of the weekly seasonal-naive
forecast) of the model and of seasonal naive per bucket, their ratio and the
interval coverage.
"""

import math
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
from django.utils.translation import gettext as _

WEEK = 7
YEAR = 365.25
LEVEL = 80
MIN_HISTORY = 14  # two weeks: below that there is no weekly shape to learn
MAX_HORIZON = 366
BUCKETS = ((1, 7), (8, 28), (29, 90))
BACKTEST_ORIGINS = 13  # a quarter of weekly origins: the first days need many to be judged
BACKTEST_STEP = 7
FOURIER_MIN_DAYS = 600  # yearly terms need more than one summer to be told from a trend
LOW_Q, HIGH_Q = 0.05, 0.95
HOT, COLD = 24.0, 16.0  # °C: air conditioning above, heating below


class ForecastError(Exception):
    """A forecast that cannot be made: no history, a bad horizon or grouping."""


@dataclass(frozen=True)
class ForecastRow:
    day: date
    series: str
    forecast: float
    lo80: float
    hi80: float


@dataclass(frozen=True)
class BacktestRow:
    series: str
    bucket: str  # "1-7", "8-28", ...
    model_mase: float
    naive_mase: float
    ratio: float  # model / seasonal naive: below 1 is better
    coverage: float  # share of actual days inside the 80 % interval
    days: int  # forecast days compared, over all origins


@dataclass
class SeriesForecast:
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    chosen: dict[str, str] = field(default_factory=dict)  # bucket label -> candidate


# --- calendar: holidays, make-up working days, temperature -------------------------

NORMAL, HOLIDAY, MAKEUP = 0, 1, 2


@lru_cache(maxsize=32)
def _calendar(country: str, years: tuple[int, ...]):
    return holidays.country_holidays(country, years=years)


def day_kinds(start: date, days: int, country: str) -> np.ndarray:
    """Per day: a normal day, a public holiday, or a weekend day worked (China)."""
    if not country:
        return np.zeros(days, dtype=np.int8)
    end = start + timedelta(days=days - 1)
    cal = _calendar(country, tuple(range(start.year, end.year + 1)))
    kinds = np.zeros(days, dtype=np.int8)
    weekend = getattr(cal, "weekend", set())
    for i in range(days):
        d = start + timedelta(days=i)
        if d in cal:
            kinds[i] = HOLIDAY
        elif d.weekday() in weekend and cal.is_working_day(d):
            kinds[i] = MAKEUP
    return kinds


@dataclass(frozen=True)
class Calendar:
    """What the forecast knows about every day from ``start`` on (history and horizon)."""

    start: date
    kinds: np.ndarray
    celsius: np.ndarray | None = None  # NaN where no temperature is known

    @classmethod
    def build(cls, start: date, days: int, country: str, temperatures: dict | None = None):
        celsius = None
        if temperatures:
            celsius = np.array(
                [float(temperatures.get(start + timedelta(days=i), math.nan)) for i in range(days)]
            )
        return cls(start, day_kinds(start, days, country), celsius)


# --- candidates -----------------------------------------------------------------


def _seasonal_naive(y: np.ndarray, h: int) -> np.ndarray:
    last = y[-WEEK:] if len(y) >= WEEK else np.resize(y, WEEK)
    return np.array([last[k % WEEK] for k in range(h)], dtype=float)


def _regressors(n: int, h: int, cal: Calendar, offset: int) -> np.ndarray | None:
    """Yearly Fourier terms and degree-days for history + horizon, or None."""
    cols = []
    t = np.arange(offset, offset + n + h, dtype=float)
    if n >= FOURIER_MIN_DAYS:
        for k in (1, 2):
            cols.append(np.sin(2 * np.pi * k * t / YEAR))
            cols.append(np.cos(2 * np.pi * k * t / YEAR))
    if cal.celsius is not None:
        temp = cal.celsius[offset : offset + n + h]
        if len(temp) == n + h and not np.isnan(temp).any():
            hot, cold = np.maximum(temp - HOT, 0), np.maximum(COLD - temp, 0)
            # A regressor that never varies breaks the fit; keep only those that do.
            cols.extend(c for c in (hot, cold) if c.std() > 0)
    return np.column_stack(cols) if cols else None


def _models(n: int, has_x: bool):
    from statsforecast.models import ARIMA, MSTL, AutoETS, SeasonalWindowAverage

    models = {}
    if n >= 4 * WEEK:
        # The mean of the last four same weekdays: seasonal naive with less noise,
        # and quick to follow a level shift.
        models["window4"] = (SeasonalWindowAverage(season_length=WEEK, window_size=4), False, False)
    if n >= 2 * WEEK:
        models["ets"] = (AutoETS(season_length=WEEK, model="ANA"), False, False)
    if n >= 3 * WEEK:
        models["mstl_ets"] = (
            MSTL(season_length=[WEEK], trend_forecaster=AutoETS(model="ZZN")),
            False,
            False,
        )
    if n >= 6 * WEEK:
        for name, log in (("mstl_arima", False), ("mstl_arima_log", True)):
            models[name] = (
                MSTL(season_length=[WEEK], trend_forecaster=ARIMA(order=(1, 1, 1))),
                has_x,
                log,
            )
    return models


def _candidates(y: np.ndarray, h: int, cal: Calendar, offset: int) -> dict[str, np.ndarray]:
    """Each candidate's mean forecast for the h days after y (y already holiday-adjusted)."""
    n = len(y)
    x = _regressors(n, h, cal, offset)
    out = {}
    for name, (model, uses_x, log) in _models(n, x is not None).items():
        target = np.log1p(np.maximum(y, 0)) if log else y
        kwargs = {"X": x[:n], "X_future": x[n:]} if uses_x and x is not None else {}
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                mean = np.asarray(model.forecast(y=target, h=h, **kwargs)["mean"], dtype=float)
        # A candidate that cannot fit this series drops out; the others remain.
        except Exception:  # noqa: BLE001, S112
            continue
        if log:
            mean = np.expm1(np.clip(mean, None, 25))
        if np.isfinite(mean).all():
            out[name] = mean
    if out:
        out["mean"] = np.mean(list(out.values()), axis=0)
    return out


# --- holidays in and out ------------------------------------------------------------


def _baseline(y: np.ndarray, kinds: np.ndarray, i: int) -> float | None:
    """The same weekday one and two weeks around day i, on normal days."""
    near = [
        y[j]
        for j in (i - 14, i - 7, i + 7, i + 14)
        if 0 <= j < len(y) and kinds[j] == NORMAL and y[j] > 0
    ]
    return float(np.median(near)) if len(near) >= 2 else None


def _adjust(y: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, dict[int, float]]:
    """History with holidays (and unexplained closures) replaced by their baseline."""
    adjusted = y.astype(float).copy()
    factors = {}
    for kind, cap in ((HOLIDAY, 3.0), (MAKEUP, 10.0)):
        seen, expected = 0.0, 0.0
        for i in np.flatnonzero(kinds == kind):
            base = _baseline(y, kinds, i)
            if base is None:
                continue
            seen += y[i]
            expected += base
            adjusted[i] = base
        # Pooled, so low-count series get a stable ratio; too little evidence: no effect.
        factors[kind] = min(seen / expected, cap) if expected >= 3 else 1.0
    for i in np.flatnonzero((y == 0) & (kinds == NORMAL)):
        base = _baseline(y, kinds, i)
        if base is not None and base >= 10:
            adjusted[i] = base
    return adjusted, factors


def _apply_factors(mean: np.ndarray, kinds: np.ndarray, factors: dict[int, float]) -> np.ndarray:
    out = mean.copy()
    for kind, factor in factors.items():
        out[kinds == kind] *= factor
    return out


def _forecast_candidates(y, h, cal, offset) -> dict[str, np.ndarray]:
    """Every candidate on the holiday-adjusted series, holidays put back, never negative."""
    n = len(y)
    kinds = cal.kinds[offset : offset + n + h]
    adjusted, factors = _adjust(y, kinds[:n])
    future = kinds[n:]
    out = {"naive": _seasonal_naive(y, h)}
    for name, mean in _candidates(adjusted, h, cal, offset).items():
        out[name] = np.maximum(_apply_factors(mean, future, factors), 0)
    return out


# --- choosing, intervals, forecasting ------------------------------------------------


def buckets_for(horizon: int) -> list[tuple[int, int]]:
    out = [(a, min(b, horizon)) for a, b in BUCKETS if a <= horizon]
    if horizon > BUCKETS[-1][1]:
        out.append((BUCKETS[-1][1] + 1, horizon))
    return out


def bucket_label(bucket: tuple[int, int]) -> str:
    return f"{bucket[0]}-{bucket[1]}"


def validation_offsets(horizon: int) -> list[int]:
    """How many days before the end each validation origin lies."""
    far = [horizon, horizon + 28] if horizon > 42 else [56, 70]
    return [7, 14, 28, 42, *far]


def _floor(y: np.ndarray) -> float:
    return max(1.0, 0.1 * float(np.mean(y[-28:])))


def forecast_series(y: np.ndarray, horizon: int, cal: Calendar, offset: int = 0) -> SeriesForecast:
    """The forecast of the ``horizon`` days after ``y`` (daily counts from cal.start + offset)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < MIN_HISTORY:
        raise ForecastError(
            _("%(days)s days of history; at least %(needed)s are needed")
            % {"days": n, "needed": MIN_HISTORY}
        )
    buckets = buckets_for(horizon)
    # Validation: origins near the end for the first days, further back for the far
    # buckets; each forecast is scored on the days it reaches before the end.
    errors: dict[str, list[list[float]]] = {}  # candidate -> per bucket, abs errors
    relative: dict[str, list[list[float]]] = {}  # candidate -> per bucket, scaled errors
    for back in validation_offsets(horizon):
        origin = n - back
        if origin < max(MIN_HISTORY, 4 * WEEK):
            continue
        h_val = min(horizon, back)
        fits = _forecast_candidates(y[:origin], h_val, cal, offset)
        actual = y[origin : origin + h_val]
        floor = _floor(y[:origin])
        for name, mean in fits.items():
            per = errors.setdefault(name, [[] for _ in buckets])
            rel = relative.setdefault(name, [[] for _ in buckets])
            for b, (first, last) in enumerate(buckets):
                if first > h_val:
                    continue
                sl = slice(first - 1, min(last, h_val))
                per[b].extend(np.abs(actual[sl] - mean[sl]))
                rel[b].extend((actual[sl] - mean[sl]) / (mean[sl] + floor))
    final = _forecast_candidates(y, horizon, cal, offset)
    chosen, lo_q, hi_q = {}, [], []
    previous = None
    for b, bucket in enumerate(buckets):
        scored = {
            name: float(np.mean(errs[b]))
            for name, errs in errors.items()
            if name in final and errs[b]
        }
        if scored:
            name = min(scored, key=lambda k: (scored[k], k != "mean"))
        elif previous is not None:
            name = previous  # beyond what validation could reach: keep the last choice
        else:
            name = "mean" if "mean" in final else "naive"
        previous = name
        chosen[bucket_label(bucket)] = name
        rel = relative.get(name, [[]] * len(buckets))
        pool = next((rel[k] for k in range(b, -1, -1) if rel[k]), None)
        if pool is None or len(pool) < 5:
            # No evidence yet: the spread of week-on-week changes.
            diffs = (y[WEEK:] - y[:-WEEK]) / (y[:-WEEK] + _floor(y)) if n > WEEK else [0.0]
            pool = list(diffs)
        # A slightly wider quantile than 10/90: few windows under-cover otherwise.
        lo_q.append(float(np.quantile(pool, LOW_Q)))
        hi_q.append(float(np.quantile(pool, HIGH_Q)))
    mean, lo, hi = np.zeros(horizon), np.zeros(horizon), np.zeros(horizon)
    floor = _floor(y)
    for b, (first, last) in enumerate(buckets):
        sl = slice(first - 1, last)
        m = final[chosen[bucket_label((first, last))]][sl]
        mean[sl] = m
        lo[sl] = m + lo_q[b] * (m + floor)
        hi[sl] = m + hi_q[b] * (m + floor)
    mean = np.maximum(mean, 0)
    return SeriesForecast(
        mean=mean, lo=np.clip(lo, 0, mean), hi=np.maximum(hi, mean), chosen=chosen
    )


def naive_scale(y: np.ndarray) -> float:
    """In-sample mean absolute error of the weekly seasonal-naive forecast."""
    if len(y) <= WEEK:
        return 1.0
    scale = float(np.mean(np.abs(y[WEEK:] - y[:-WEEK])))
    return scale if scale > 0 else 1.0


def backtest_series(
    y: np.ndarray,
    horizon: int,
    cal: Calendar,
    origins: int = BACKTEST_ORIGINS,
    step: int = BACKTEST_STEP,
) -> list[tuple[str, float, float, float, int]]:
    """Per bucket: (label, model MASE, naive MASE, coverage, days) over rolling origins."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    buckets = buckets_for(horizon)
    sums = [[0.0, 0.0, 0, 0, 0] for _ in buckets]  # model, naive, inside, days, origins
    done = 0
    for k in range(origins):
        origin = n - horizon - k * step
        if origin < max(MIN_HISTORY, 4 * WEEK):
            break
        done += 1
        train = y[:origin]
        fc = forecast_series(train, horizon, cal)
        naive = _seasonal_naive(train, horizon)
        actual = y[origin : origin + horizon]
        scale = naive_scale(train)
        for b, (first, last) in enumerate(buckets):
            sl = slice(first - 1, last)
            sums[b][0] += float(np.mean(np.abs(actual[sl] - fc.mean[sl]))) / scale
            sums[b][1] += float(np.mean(np.abs(actual[sl] - naive[sl]))) / scale
            sums[b][2] += int(np.sum((actual[sl] >= fc.lo[sl]) & (actual[sl] <= fc.hi[sl])))
            sums[b][3] += last - first + 1
            sums[b][4] += 1
    if not done:
        raise ForecastError(
            _("%(days)s days of history; a backtest of %(horizon)s days needs at least %(needed)s")
            % {"days": n, "horizon": horizon, "needed": horizon + 4 * WEEK}
        )
    return [
        (bucket_label(bucket), s[0] / s[4], s[1] / s[4], s[2] / s[3], s[3])
        for bucket, s in zip(buckets, sums, strict=True)
    ]


# --- from the database -----------------------------------------------------------------

PARALLEL_FROM = 4  # series; below that a worker costs more than it saves


def _forecast_job(args):
    y, horizon, cal = args
    return forecast_series(y, horizon, cal)


def _backtest_job(args):
    y, horizon, cal, origins = args
    return backtest_series(y, horizon, cal, origins=origins)


def _run(job, tasks: list) -> list:
    """The series one after another, or on every core when there are many.

    Workers are spawned, not forked, so they share no database connection; they
    only import this module, numpy and statsforecast.
    """
    workers = min(os.cpu_count() or 1, len(tasks), 8)
    if len(tasks) < PARALLEL_FROM or workers < 2:
        return [job(t) for t in tasks]
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(job, tasks))


def _check(horizon: int, by: str | None) -> None:
    from . import series as series_source

    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise ForecastError(
            _("horizon must be a whole number of days from 1 to %(max)s") % {"max": MAX_HORIZON}
        )
    if by not in series_source.GROUPINGS:
        raise ForecastError(
            _("by must be one of: %(choices)s")
            % {"choices": ", ".join(g for g in series_source.GROUPINGS if g)}
        )


def _history(by, until, order_type):
    from . import series as series_source

    history = series_source.daily_counts(by=by, until=until, order_type=order_type)
    if not history.days:
        raise ForecastError(_("there is no work-order history to forecast from"))
    return history


def _calendar_for(history, horizon: int, name: str) -> Calendar:
    from . import series as series_source

    days = len(history.days) + horizon
    temps = series_source.temperatures(
        history.days[0],
        history.days[-1] + timedelta(days=horizon),
        region=history.regions.get(name),
    )
    # Temperature only when it covers the whole history and the horizon.
    if temps is not None and len(temps) < days:
        temps = None
    return Calendar.build(history.days[0], days, history.holiday_country, temps)


def forecast_workorders(
    horizon: int,
    *,
    by: str | None = None,
    until: date | None = None,
    order_type: str | None = None,
) -> list[ForecastRow]:
    """Daily work orders for the ``horizon`` days after ``until``, per series.

    ``by``: None (one series "all"), "type", "area" or "region". ``until``: the
    last local day of history used; by default the last day with work orders,
    but never today (a day still running would pull the level down).
    """
    _check(horizon, by)
    history = _history(by, until, order_type)
    if len(history.days) < MIN_HISTORY:
        raise ForecastError(
            _("%(days)s days of history; at least %(needed)s are needed")
            % {"days": len(history.days), "needed": MIN_HISTORY}
        )
    first = history.days[-1] + timedelta(days=1)
    names = list(history.series)
    tasks = [
        (
            np.array(history.series[name], dtype=float),
            horizon,
            _calendar_for(history, horizon, name),
        )
        for name in names
    ]
    rows = []
    for name, fc in zip(names, _run(_forecast_job, tasks), strict=True):
        for k in range(horizon):
            rows.append(
                ForecastRow(
                    day=first + timedelta(days=k),
                    series=name,
                    forecast=float(fc.mean[k]),
                    lo80=float(fc.lo[k]),
                    hi80=float(fc.hi[k]),
                )
            )
    rows.sort(key=lambda r: (r.day, r.series))
    return rows


def backtest_workorders(
    horizon: int = 90,
    *,
    by: str | None = None,
    until: date | None = None,
    order_type: str | None = None,
    origins: int = BACKTEST_ORIGINS,
) -> list[BacktestRow]:
    """Rolling-origin backtest per series and bucket (see the module docstring)."""
    _check(horizon, by)
    history = _history(by, until, order_type)
    if len(history.days) < horizon + 4 * WEEK:
        raise ForecastError(
            _("%(days)s days of history; a backtest of %(horizon)s days needs at least %(needed)s")
            % {"days": len(history.days), "horizon": horizon, "needed": horizon + 4 * WEEK}
        )
    names = list(history.series)
    tasks = [
        (
            np.array(history.series[name], dtype=float),
            horizon,
            _calendar_for(history, 0, name),
            origins,
        )
        for name in names
    ]
    rows = []
    for name, result in zip(names, _run(_backtest_job, tasks), strict=True):
        for label, model, naive, coverage, days in result:
            rows.append(
                BacktestRow(
                    series=name,
                    bucket=label,
                    model_mase=model,
                    naive_mase=naive,
                    ratio=model / naive if naive > 0 else math.inf,
                    coverage=coverage,
                    days=days,
                )
            )
    return rows
