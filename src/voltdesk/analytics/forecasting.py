"""Daily work-order volume forecasts with statsforecast, and their backtests.

How a series is forecast (``forecast_many``; ``forecast_series`` for one):

* **Holidays** (the ``holidays`` package, the utility's calendar) are taken out
  first: each past holiday is compared with the same weekday one and two weeks
  around it, the pooled ratio is the holiday factor, and the holiday is replaced
  by its baseline before fitting. Forecasts on future holidays are multiplied by
  the factor. China's make-up working days (a Saturday that is a working day)
  get their own factor. A zero on a day whose weekday is usually busy (a
  closure the calendar does not know) is treated the same way.
* **Level shifts.** A series that starts late (an area opened last year) is
  fitted from its first orders. A lasting jump or drop of the weekly totals in
  the last half year (compared with the same weeks a year before when there is
  a year of history, so the summer peak is not taken for a shift) brings the
  history before it to the new level; a shift from almost nothing, or by more
  than four times, cuts the history at the shift instead.
* **Candidates** (all statsforecast models), fitted for every series and
  every origin in a few ``StatsForecast.forecast`` calls over the whole panel,
  on all cores: on the last half year, the mean of the last four same weekdays
  and ETS with additive weekly seasonality on log counts (a weekly shape that
  scales with the level); on the last two years, MSTL (weekly) on log counts
  with an ARIMA(1,1,1) trend and one regressor, the yearly shape (four Fourier
  pairs, from 600 days of history) and the temperature (degrees above 24 °C
  and below 16 °C, when ``DailyTemperature`` covers the history and the
  horizon) combined by least squares; and the mean of the three.
* **Choice by the series' own recent past.** Forecasts from six earlier
  origins (whole weeks before the end) are scored per horizon bucket (days
  1–7, 8–28, 29–90, beyond); the candidate with the smallest mean absolute error
  is used, but only when it beats weekly seasonal naive there by a margin
  (``GUARD``): otherwise the bucket is seasonal naive, with its own intervals.
* **80 % intervals** are the 5th and 95th percentiles of the chosen
  candidate's validation errors per bucket, relative to the forecast (plus a
  floor, so low counts keep a width); forecasts and bounds are never negative.

Backtests (``backtest_workorders``) repeat the whole procedure at several
origins a week apart, each seeing only the history before it, and report MASE
(mean absolute error divided by the in-sample error of the weekly
seasonal-naive forecast) of the model and of seasonal naive per bucket, their
ratio and the interval coverage. Backtest and validation origins fall on the
same weekly grid, so each (series, origin) is fitted once.
"""

import math
import multiprocessing
import os
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
from django.utils.translation import gettext as _

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    from contextlib import nullcontext as threadpool_limits

WEEK = 7
YEAR = 365.25
LEVEL = 80
MIN_HISTORY = 14  # two weeks: below that there is no weekly shape to learn
MAX_HORIZON = 366
BUCKETS = ((1, 7), (8, 28), (29, 90))
BACKTEST_ORIGINS = 13  # a quarter of weekly origins: the first days need many to be judged
BACKTEST_STEP = 7
FOURIER_MIN_DAYS = 600  # yearly terms need more than one summer to be told from a trend
HARMONICS = 4  # yearly Fourier pairs: sharp enough for a summer that starts in June
LOW_Q, HIGH_Q = 0.05, 0.95
HOT, COLD = 24.0, 16.0  # °C: air conditioning above, heating below
RECENT_DAYS = 26 * WEEK  # the local models see the last half year: the level now
LONG_DAYS = 104 * WEEK  # the yearly model sees two years: two summers
# A candidate replaces seasonal naive in a bucket only when its validation error
# there is at most this share of naive's: a near tie is noise, and naive is safe.
GUARD = 0.95
SHIFT_WEEKS = 26  # a level shift is looked for in the last half year
SHIFT_MIN_WEEKS = 3  # on each side of it
SHIFT_MIN_JUMP = math.log(1.3)  # at least 30 % up or down
SHIFT_MIN_T = 5.0  # and clear of the week-to-week noise
PARALLEL_FROM = 8  # fits; below that a worker process costs more than it saves


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

    def kinds_for(self, first: int, days: int) -> np.ndarray:
        """Day kinds from index ``first`` on; days past the calendar count as normal."""
        out = np.zeros(days, dtype=np.int8)
        part = self.kinds[first : first + days]
        out[: len(part)] = part
        return out


# --- preparing a history: holidays and level shifts out -------------------------------


def _seasonal_naive(y: np.ndarray, h: int) -> np.ndarray:
    last = y[-WEEK:] if len(y) >= WEEK else np.resize(y, WEEK)
    return np.array([last[k % WEEK] for k in range(h)], dtype=float)


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


def level_shift(y: np.ndarray) -> tuple[int, float] | None:
    """(first day of the new level, new level / old level), or None when there is none.

    On weekly totals (which hide the weekday shape) of the last ``SHIFT_WEEKS``
    weeks, in logarithms; with a year of history before them, as the ratio to
    the same weeks a year earlier, so the summer peak does not look like a
    shift. The split with the largest t-statistic of the difference of means
    counts when the jump is at least ``SHIFT_MIN_JUMP`` and ``SHIFT_MIN_T``.
    """
    n = len(y)
    weeks = min(SHIFT_WEEKS, n // WEEK)
    if weeks < 2 * SHIFT_MIN_WEEKS:
        return None
    span = weeks * WEEK
    totals = y[n - span :].reshape(weeks, WEEK).sum(axis=1)
    series = np.log1p(totals)
    yearly = n - span - 52 * WEEK >= 0
    if yearly:
        before = y[n - span - 52 * WEEK : n - 52 * WEEK].reshape(weeks, WEEK).sum(axis=1)
        if (before > 0).all():
            series = series - np.log1p(before)
        else:
            yearly = False
    best = None
    for k in range(SHIFT_MIN_WEEKS, weeks - SHIFT_MIN_WEEKS + 1):
        left, right = series[:k], series[k:]
        jump = float(right.mean() - left.mean())
        spread = math.sqrt(
            (left.var(ddof=1) * (len(left) - 1) + right.var(ddof=1) * (len(right) - 1))
            / (weeks - 2)
        )
        t = abs(jump) / (max(spread, 0.02) * math.sqrt(1 / len(left) + 1 / len(right)))
        if abs(jump) >= SHIFT_MIN_JUMP and t >= SHIFT_MIN_T and (best is None or t > best[0]):
            best = (t, k, jump)
    if best is None:
        return None
    _t, k, _jump = best
    first = n - span + k * WEEK
    old, new = float(np.mean(y[first - k * WEEK : first])), float(np.mean(y[first:]))
    if yearly:
        # The jump is relative to last year; the scale is the ratio of the two ratios.
        old_ly = float(np.mean(y[first - k * WEEK - 52 * WEEK : first - 52 * WEEK]))
        new_ly = float(np.mean(y[first - 52 * WEEK : n - 52 * WEEK]))
        if min(old, old_ly, new_ly) <= 0:
            return first, math.inf
        return first, (new / new_ly) / (old / old_ly)
    return first, (new / old) if old > 0 else math.inf


@dataclass
class _Prepared:
    """A history ready to fit: ``y`` runs from day index ``start`` of the calendar."""

    y: np.ndarray
    start: int
    factors: dict[int, float]


def _prepare(y: np.ndarray, cal: Calendar) -> _Prepared:
    n = len(y)
    adjusted, factors = _adjust(y, cal.kinds_for(0, n))
    start = 0
    nonzero = np.flatnonzero(y > 0)
    # A series that starts late: from its first orders on (keeping two weeks at least).
    if len(nonzero) and nonzero[0] >= 4 * WEEK:
        start = min(int(nonzero[0]), n - MIN_HISTORY)
    shift = level_shift(adjusted[start:])
    if shift is not None:
        first, ratio = shift
        first += start
        if not 0.25 <= ratio <= 4.0 or n - first >= LONG_DAYS:
            start = max(start, min(first, n - MIN_HISTORY))  # a new series, in effect
        else:
            adjusted[start:first] *= ratio  # the old days at the new level
    return _Prepared(adjusted[start:], start, factors)


# --- candidates, fitted over the whole panel ----------------------------------------


def _regressors(first: int, n: int, h: int, cal: Calendar) -> dict[str, np.ndarray]:
    """Yearly Fourier terms and degree-days for days first .. first+n+h, by name."""
    cols = {}
    t = np.arange(first, first + n + h, dtype=float)
    if n >= FOURIER_MIN_DAYS:
        for k in range(1, HARMONICS + 1):
            cols[f"sin{k}"] = np.sin(2 * np.pi * k * t / YEAR)
            cols[f"cos{k}"] = np.cos(2 * np.pi * k * t / YEAR)
    if cal.celsius is not None:
        temp = cal.celsius[first : first + n + h]
        if len(temp) == n + h and not np.isnan(temp).any():
            hot, cold = np.maximum(temp - HOT, 0), np.maximum(COLD - temp, 0)
            # A regressor that never varies breaks the fit; keep only those that do.
            for name, col in (("hot", hot), ("cold", cold)):
                if col[:n].std() > 0:
                    cols[name] = col
    return cols


def _season_regressor(target: np.ndarray, first: int, h: int, cal: Calendar) -> dict:
    """The yearly shape and the temperature effect as one regressor, or none.

    Least squares of the (log) counts on weekday dummies, a straight line, the
    yearly Fourier terms and the degree-days; the regressor is the part of the fit that the
    Fourier terms and degree-days make, over the history and the horizon. One
    column, not six: statsforecast's ARIMA takes a full singular value
    decomposition of two or more regressors, which costs more than the fit.
    """
    n = len(target)
    cols = _regressors(first, n, h, cal)
    if not cols:
        return {}
    x = np.column_stack(list(cols.values()))
    weekday = (np.arange(first, first + n + h) % WEEK)[:, None] == np.arange(WEEK)[None, :]
    # A straight line too, so that growth is not read as part of the yearly shape
    # (the ARIMA's differencing carries the trend itself).
    trend = np.arange(n + h, dtype=float)[:, None] / YEAR
    design = np.hstack([weekday.astype(float), trend, x])
    coef, *_ = np.linalg.lstsq(design[:n], target, rcond=None)
    season = x @ coef[WEEK + 1 :]
    if not np.isfinite(season).all() or season[:n].std() < 1e-6:
        return {}
    return {"season": season}


def _local_models(n: int):
    """The models of the last half year. ETS runs on log counts: a weekly shape that
    scales with the level (the summer's weekdays rise more than its weekends)."""
    from statsforecast.models import AutoETS, SeasonalWindowAverage

    log = [AutoETS(season_length=WEEK, model="ANA", alias="ets_log")]
    raw = []
    if n >= 4 * WEEK:
        # The mean of the last four same weekdays: seasonal naive with less noise,
        # and quick to follow a level shift.
        raw.append(SeasonalWindowAverage(season_length=WEEK, window_size=4, alias="window4"))
    return raw, log


def _yearly_models():
    from statsforecast.models import ARIMA, MSTL

    trend = ARIMA(order=(1, 1, 1))
    return [], [MSTL(season_length=[WEEK], trend_forecaster=trend, alias="mstl_arima_log")]


def _jobs() -> int:
    """Worker processes for one fit: every core, unless this process may not have children."""
    if multiprocessing.current_process().daemon:
        return 1  # a Celery prefork worker's child, for one
    return max(1, min(os.cpu_count() or 1, 8))


def _panel_forecast(models, series: list[tuple[np.ndarray, int, dict]], h: int) -> list[dict]:
    """One ``StatsForecast.forecast`` over ``series`` [(y, first day index, regressors)].

    Returns, per series, each model's mean forecast (a model that failed or gave
    non-finite values is left out). All series of one call share the regressors'
    names; ``_fit`` groups them so.
    """
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    if not series:
        return []
    ids, ds, ys, fut_ids, fut_ds = [], [], [], [], []
    xcols = sorted(series[0][2])
    hist_x = {c: [] for c in xcols}
    fut_x = {c: [] for c in xcols}
    for k, (y, first, x) in enumerate(series):
        n = len(y)
        ids.append(np.full(n, k))
        ds.append(np.arange(first, first + n))
        ys.append(y)
        fut_ids.append(np.full(h, k))
        fut_ds.append(np.arange(first + n, first + n + h))
        for c in xcols:
            hist_x[c].append(x[c][:n])
            fut_x[c].append(x[c][n : n + h])
    df = pd.DataFrame(
        {"unique_id": np.concatenate(ids), "ds": np.concatenate(ds), "y": np.concatenate(ys)}
        | {c: np.concatenate(v) for c, v in hist_x.items()}
    )
    x_df = None
    if xcols:
        x_df = pd.DataFrame(
            {"unique_id": np.concatenate(fut_ids), "ds": np.concatenate(fut_ds)}
            | {c: np.concatenate(v) for c, v in fut_x.items()}
        )
    fits = len(series) * len(models)
    sf = StatsForecast(
        models=models,
        freq=1,
        n_jobs=_jobs() if fits >= PARALLEL_FROM else 1,
        fallback_model=SeasonalNaive(season_length=WEEK),
    )
    # One BLAS thread per process: the workers already use every core.
    with warnings.catch_warnings(), np.errstate(all="ignore"), threadpool_limits(1):
        warnings.simplefilter("ignore")
        result = sf.forecast(df=df, h=h, X_df=x_df)
    result = result.sort_values(["unique_id", "ds"])
    order = result["unique_id"].to_numpy()
    out: list[dict] = [{} for _ in series]
    for model in models:
        values = result[str(model)].to_numpy(dtype=float).reshape(-1, h)
        for row, k in enumerate(order[::h]):
            if np.isfinite(values[row]).all():
                out[int(k)][str(model)] = values[row]
    return out


def _fit(items: list[tuple[_Prepared, Calendar]], h: int) -> list[dict[str, np.ndarray]]:
    """Every candidate's mean forecast (on the prepared scale) for each prepared history.

    The histories are grouped by which models they can take (their length, and
    whether a yearly regressor exists); each group is one panel per scale (counts,
    log counts).
    """
    results: list[dict] = [{} for _ in items]
    groups: dict[tuple, list[tuple[int, np.ndarray, int, dict]]] = {}
    for index, (prep, cal) in enumerate(items):
        n = len(prep.y)
        keep = min(n, RECENT_DAYS)
        tier = min(n, 4 * WEEK) // WEEK  # 2, 3 or 4 weeks and more: which models fit
        groups.setdefault(("local", tier, False), []).append(
            (index, prep.y[-keep:], prep.start + n - keep, {})
        )
        if n >= 6 * WEEK:
            keep = min(n, LONG_DAYS)
            first = prep.start + n - keep
            target = np.log1p(np.maximum(prep.y[-keep:], 0))
            x = _season_regressor(target, first, h, cal)
            groups.setdefault(("yearly", 0, bool(x)), []).append((index, prep.y[-keep:], first, x))
    for (kind, tier, _has_x), members in groups.items():
        raw_models, log_models = _local_models(tier * WEEK) if kind == "local" else _yearly_models()
        batch = [(y, first, x) for _index, y, first, x in members]
        fitted = _panel_forecast(raw_models, batch, h) if raw_models else [{} for _ in batch]
        if log_models:
            logged = [(np.log1p(np.maximum(y, 0)), first, x) for y, first, x in batch]
            for k, means in enumerate(_panel_forecast(log_models, logged, h)):
                fitted[k].update(
                    {name: np.expm1(np.clip(m, None, 25)) for name, m in means.items()}
                )
        for (index, *_rest), means in zip(members, fitted, strict=True):
            results[index].update(means)
    return results


def _candidates_at(origins: list[tuple[np.ndarray, Calendar]], h: int) -> list[dict]:
    """For each (history, calendar): candidates' forecasts of the h days after it.

    Holidays put back, never negative, seasonal naive (on the raw history) and
    the mean of the fitted models included.
    """
    prepared = [(_prepare(y, cal), cal) for y, cal in origins]
    fitted = _fit(prepared, h)
    out = []
    for (y, cal), (prep, _cal), means in zip(origins, prepared, fitted, strict=True):
        future = cal.kinds_for(len(y), h)
        cands = {"naive": _seasonal_naive(y, h)}
        models = {
            name: np.maximum(_apply_factors(m, future, prep.factors), 0)
            for name, m in means.items()
        }
        if models:
            models["mean"] = np.mean(list(models.values()), axis=0)
        cands.update(models)
        out.append(cands)
    return out


# --- choosing, intervals ------------------------------------------------------------


def buckets_for(horizon: int) -> list[tuple[int, int]]:
    out = [(a, min(b, horizon)) for a, b in BUCKETS if a <= horizon]
    if horizon > BUCKETS[-1][1]:
        out.append((BUCKETS[-1][1] + 1, horizon))
    return out


def bucket_label(bucket: tuple[int, int]) -> str:
    return f"{bucket[0]}-{bucket[1]}"


def validation_offsets(horizon: int) -> list[int]:
    """How many days before the end each validation origin lies: whole weeks, so that
    backtest origins a week apart share their fits."""
    if horizon > 42:
        far = WEEK * math.ceil(horizon / WEEK)
        return [7, 14, 28, 42, far, far + 28]
    return [7, 14, 28, 42, 56, 70]


def _usable(origin: int) -> bool:
    return origin >= max(MIN_HISTORY, 4 * WEEK)


def _floor(y: np.ndarray) -> float:
    return max(1.0, 0.1 * float(np.mean(y[-28:])))


def _choose(
    y: np.ndarray, horizon: int, final: dict, validation: dict[int, dict]
) -> SeriesForecast:
    """The forecast of the days after ``y`` from its candidates (``final``) and the
    candidates of earlier origins (``validation``: days back -> candidates)."""
    n = len(y)
    buckets = buckets_for(horizon)
    errors: dict[str, list[list[float]]] = {}  # candidate -> per bucket, abs errors
    relative: dict[str, list[list[float]]] = {}  # candidate -> per bucket, scaled errors
    for back, fits in validation.items():
        origin = n - back
        h_val = min(horizon, back)
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
            # The guard: a model must beat seasonal naive clearly on the recent past.
            if "naive" in scored and scored[name] > GUARD * scored["naive"]:
                name = "naive"
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


# --- forecasting and backtesting many series at once ---------------------------------


class _Origins:
    """Candidates per (series, origin), each fitted once, all in one panel."""

    def __init__(self, items: list[tuple[np.ndarray, Calendar]], horizon: int):
        self.items = items
        self.horizon = horizon
        self.wanted: set[tuple[int, int]] = set()
        self.fits: dict[tuple[int, int], dict] = {}

    def want(self, series: int, origin: int) -> None:
        self.wanted.add((series, origin))

    def fit(self) -> None:
        keys = sorted(self.wanted - set(self.fits))
        found = _candidates_at(
            [(self.items[s][0][:origin], self.items[s][1]) for s, origin in keys], self.horizon
        )
        self.fits.update(zip(keys, found, strict=True))

    def want_forecast(self, series: int, origin: int) -> None:
        self.want(series, origin)
        for back in validation_offsets(self.horizon):
            if _usable(origin - back):
                self.want(series, origin - back)

    def forecast(self, series: int, origin: int) -> SeriesForecast:
        y = self.items[series][0][:origin]
        validation = {
            back: self.fits[(series, origin - back)]
            for back in validation_offsets(self.horizon)
            if _usable(origin - back)
        }
        return _choose(y, self.horizon, self.fits[(series, origin)], validation)


def _check_history(n: int) -> None:
    if n < MIN_HISTORY:
        raise ForecastError(
            _("%(days)s days of history; at least %(needed)s are needed")
            % {"days": n, "needed": MIN_HISTORY}
        )


def forecast_many(items: list[tuple[np.ndarray, Calendar]], horizon: int) -> list[SeriesForecast]:
    """The forecast of the ``horizon`` days after each series (daily counts from its
    calendar's start), all series fitted together."""
    items = [(np.asarray(y, dtype=float), cal) for y, cal in items]
    for y, _cal in items:
        _check_history(len(y))
    origins = _Origins(items, horizon)
    for s, (y, _cal) in enumerate(items):
        origins.want_forecast(s, len(y))
    origins.fit()
    return [origins.forecast(s, len(y)) for s, (y, _cal) in enumerate(items)]


def forecast_series(y: np.ndarray, horizon: int, cal: Calendar) -> SeriesForecast:
    """The forecast of the ``horizon`` days after ``y`` (daily counts from cal.start)."""
    return forecast_many([(y, cal)], horizon)[0]


def naive_scale(y: np.ndarray) -> float:
    """In-sample mean absolute error of the weekly seasonal-naive forecast."""
    if len(y) <= WEEK:
        return 1.0
    scale = float(np.mean(np.abs(y[WEEK:] - y[:-WEEK])))
    return scale if scale > 0 else 1.0


def backtest_many(
    items: list[tuple[np.ndarray, Calendar]],
    horizon: int,
    origins: int = BACKTEST_ORIGINS,
    step: int = BACKTEST_STEP,
) -> list[list[tuple[str, float, float, float, int]]]:
    """Per series, per bucket: (label, model MASE, naive MASE, coverage, days)."""
    items = [(np.asarray(y, dtype=float), cal) for y, cal in items]
    fits = _Origins(items, horizon)
    starts: list[list[int]] = []
    for s, (y, _cal) in enumerate(items):
        mine = [len(y) - horizon - k * step for k in range(origins)]
        mine = [o for o in mine if _usable(o)]
        if not mine:
            raise ForecastError(
                _(
                    "%(days)s days of history; a backtest of %(horizon)s days needs at "
                    "least %(needed)s"
                )
                % {"days": len(y), "horizon": horizon, "needed": horizon + 4 * WEEK}
            )
        starts.append(mine)
        for origin in mine:
            fits.want_forecast(s, origin)
    fits.fit()
    buckets = buckets_for(horizon)
    out = []
    for s, (y, _cal) in enumerate(items):
        sums = [[0.0, 0.0, 0, 0, 0] for _ in buckets]  # model, naive, inside, days, origins
        for origin in starts[s]:
            train = y[:origin]
            fc = fits.forecast(s, origin)
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
        out.append(
            [
                (bucket_label(bucket), v[0] / v[4], v[1] / v[4], v[2] / v[3], v[3])
                for bucket, v in zip(buckets, sums, strict=True)
            ]
        )
    return out


def backtest_series(
    y: np.ndarray,
    horizon: int,
    cal: Calendar,
    origins: int = BACKTEST_ORIGINS,
    step: int = BACKTEST_STEP,
) -> list[tuple[str, float, float, float, int]]:
    """Per bucket: (label, model MASE, naive MASE, coverage, days) over rolling origins."""
    return backtest_many([(y, cal)], horizon, origins, step)[0]


# --- from the database -----------------------------------------------------------------


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


def _calendars(history, horizon: int) -> dict[str, Calendar]:
    """Each series' calendar; the holidays are worked out once, temperatures per region."""
    from . import series as series_source

    days = len(history.days) + horizon
    kinds = day_kinds(history.days[0], days, history.holiday_country)
    out, by_region = {}, {}
    for name in history.series:
        region = history.regions.get(name)
        if region not in by_region:
            temps = series_source.temperatures(
                history.days[0], history.days[-1] + timedelta(days=horizon), region=region
            )
            # Temperature only when it covers the whole history and the horizon.
            if temps is not None and len(temps) < days:
                temps = None
            celsius = None
            if temps:
                start = history.days[0]
                celsius = np.array(
                    [temps.get(start + timedelta(days=i), math.nan) for i in range(days)],
                    dtype=float,
                )
            by_region[region] = Calendar(history.days[0], kinds, celsius)
        out[name] = by_region[region]
    return out


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
    _check_history(len(history.days))
    first = history.days[-1] + timedelta(days=1)
    names = list(history.series)
    calendars = _calendars(history, horizon)
    items = [(np.array(history.series[name], dtype=float), calendars[name]) for name in names]
    rows = []
    for name, fc in zip(names, forecast_many(items, horizon), strict=True):
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
    calendars = _calendars(history, 0)
    items = [(np.array(history.series[name], dtype=float), calendars[name]) for name in names]
    rows = []
    for name, result in zip(names, backtest_many(items, horizon, origins), strict=True):
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
