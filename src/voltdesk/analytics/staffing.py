"""Staffing: agents per half hour and repair crews per region, from the forecast.

* ``erlang_b`` / ``erlang_c`` / ``erlang_c_service_level`` / ``erlang_c_asa``:
  the classic M/M/n queue. P(wait) comes from the Erlang B recursion
  B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)), never from factorials, so
  hundreds of agents and Erlangs stay exact in floating point.
* ``erlang_a``: Palm's M/M/n+M queue (callers hang up after an exponential
  patience), in the formulation of Garnett, Mandelbaum and Reiman, "Designing
  a call center with impatient customers", Manufacturing & Service Operations
  Management 4(3), 2002. The number of callers in the system is a birth-death
  chain (arrivals λ; departures kμ up to n agents, nμ + (k-n)θ above); its
  steady state is built from Erlang B below n and a product of ratios above.
  A caller who finds q others waiting is answered when q+1 places ahead of it
  clear, each at rate nμ + jθ, unless its own patience (rate θ) runs out
  first; that time is a sum of exponentials whose distribution is a
  regularized incomplete beta function (see ``_answered_in_time``).
* ``agents_needed``: the fewest agents whose service level reaches the target
  (and whose average speed of answer is within the ASA target, when given).
* ``intraday_profile``: the share of each weekday's work orders per half hour,
  from the last weeks of history in one GROUP BY on the local weekday and half
  hour (the utility's time zone); a 24-hour hotline shape without history.
* ``plan_week``: per day × half hour, calls = daily forecast × calls per order
  × the half hour's share; agents by Erlang C (Erlang A when a patience is
  set); scheduled agents = agents / (1 - shrinkage), rounded up. Crews per
  region and day = ceil(fault forecast / orders one crew handles a day), and
  the same at the forecast's upper 80 % bound (the "peak day" crews).

Half hours are local clock times (00:00 to 23:30); a day that changes to or
from summer time is planned with the same 48 half hours.
"""

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Max, Min, Value, When
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, ExtractMinute
from django.utils.translation import gettext as _
from scipy.special import gammaln

from voltdesk.core.services import get_utility, utility_zone
from voltdesk.workorders.choices import OrderType
from voltdesk.workorders.models import WorkOrder

from .forecasting import ForecastError, forecast_workorders
from .models import DailyTemperature, StaffingAssumptions

SLOT_SECONDS = 1800
SLOTS_PER_DAY = 48
PROFILE_WEEKS = 8
OUTLOOK_DAYS = 90
FORECAST_CACHE_SECONDS = 3600
# How far ahead of the last day of history a week may be planned: the forecast
# reaches 366 days, and the outlook needs 90 of them after the week's start.
MAX_DAYS_AHEAD = 270
# Night half hours (before 08:00 and from 20:00) carry a quarter of a day half
# hour's calls in the default shape: the fault line answers around the clock.
_DAY_WEIGHT, _NIGHT_WEIGHT = 4.0, 1.0


class StaffingError(ValueError):
    """A plan that cannot be made, with a message for the supervisor."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NoHistory(StaffingError):
    """Nothing to plan from yet: no work orders at all (not a mistake of the request)."""


def assumptions() -> StaffingAssumptions:
    """The single row of staffing assumptions, made with the defaults on first use."""
    with transaction.atomic():
        row = StaffingAssumptions.objects.order_by("pk").first()
        if row is None:
            row = StaffingAssumptions.objects.create()
    return row


# --- Erlang C -----------------------------------------------------------------


def erlang_b(agents: int, traffic: float) -> float:
    """Erlang B blocking probability by its recursion (stable for any size)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _erlang_c_from_b(agents: int, traffic: float, b: float) -> float:
    if agents <= traffic:
        return 1.0
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller waits, with ``traffic`` Erlangs on ``agents`` agents."""
    if traffic <= 0:
        return 0.0
    return _erlang_c_from_b(agents, traffic, erlang_b(agents, traffic))


def erlang_c_service_level(
    agents: int, traffic: float, handling_seconds: float, within_seconds: float
) -> float:
    """Share answered within ``within_seconds``: 1 - C·exp(-(n-A)·t/AHT)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    c = erlang_c(agents, traffic)
    return 1.0 - c * math.exp(-(agents - traffic) * within_seconds / handling_seconds)


def erlang_c_asa(agents: int, traffic: float, handling_seconds: float) -> float:
    """Average speed of answer in seconds: C·AHT / (n - A); infinite when n ≤ A."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * handling_seconds / (agents - traffic)


# --- Erlang A -----------------------------------------------------------------


@dataclass(frozen=True)
class Queueing:
    """What callers get from ``agents`` agents in one interval."""

    agents: int
    service_level: float  # share of all callers answered within the target time
    asa_seconds: float  # average wait in the queue
    waiting_share: float  # share of callers who wait at all
    abandon_share: float = 0.0  # share who hang up before an agent answers (Erlang A)
    occupancy: float = 0.0  # share of the agents' time spent on calls


def erlang_a(
    agents: int,
    calls_per_second: float,
    handling_seconds: float,
    patience_seconds: float,
    within_seconds: float,
) -> Queueing:
    """Erlang A (M/M/n+M) figures for ``agents`` agents; see the module docstring.

    The service level counts a caller who hangs up as not answered in time;
    ``asa_seconds`` is the mean time in the queue over all callers (Little's
    law: mean queue length / arrival rate), and the abandonment share is
    θ · mean queue length / λ.
    """
    lam, mu, theta, n = calls_per_second, 1.0 / handling_seconds, 1.0 / patience_seconds, agents
    if lam <= 0:
        return Queueing(n, 1.0, 0.0, 0.0)
    if n == 0:
        # Nobody answers: everyone waits until they hang up.
        return Queueing(0, 0.0, patience_seconds, 1.0, 1.0, 0.0)
    traffic = lam / mu
    b = erlang_b(n, traffic)
    # Steady state relative to π_n: below n the terms sum to 1/B(n, A); above n
    # the j-th is the product of λ / (nμ + iθ) for i = 1..j, which falls past
    # the mode j* = (λ - nμ)/θ roughly like a normal curve of variance λ/θ.
    # Logarithms keep an overloaded queue's huge products finite.
    mode = max(0.0, (lam - n * mu) / theta)
    places = int(mode + 12.0 * math.sqrt(lam / theta) + 40)
    j = np.arange(1, places + 1)
    log_above = np.cumsum(math.log(lam) - np.log(n * mu + j * theta))
    log_below = -math.log(b)
    top = max(log_below, float(log_above.max()))
    log_total = top + math.log(math.exp(log_below - top) + float(np.exp(log_above - top).sum()))
    pi_n = math.exp(-log_total)
    above = np.exp(log_above - log_total)  # π_{n+j}
    pi_queue = np.concatenate(([pi_n], above))  # π_{n+q}, q = 0, 1, ...
    waiting = float(pi_queue.sum())
    mean_queue = float((j * above).sum())
    abandon = theta * mean_queue / lam
    served_rate = lam * (1.0 - abandon)
    answered_within = (1.0 - waiting) + float(
        (pi_queue * _answered_in_time(n * mu, theta, pi_queue.size, within_seconds)).sum()
    )
    return Queueing(
        agents=n,
        service_level=min(1.0, max(0.0, answered_within)),
        asa_seconds=mean_queue / lam,
        waiting_share=min(1.0, waiting),
        abandon_share=abandon,
        occupancy=min(1.0, served_rate / (n * mu)),
    )


def _answered_in_time(service_rate: float, theta: float, places: int, t: float) -> np.ndarray:
    """P(answered within t | q waiting ahead), for q = 0 .. places-1.

    With q ahead there are q+1 stages, stage j (j = 1..q+1) left at rate
    nμ + jθ; the caller survives them all with probability nμ / (nμ + (q+1)θ)
    (the product telescopes), independently of how long they take. The time
    S through m stages has the Laplace transform Π (x+j)/(x+j+s/θ), x = nμ/θ,
    which is that of -ln(U)/θ with U ~ Beta(x+1, m); so
    P(S ≤ t) = P(U ≥ e^(-θt)) = 1 - I(e^(-θt); x+1, m), the regularized
    incomplete beta function, summed by its recurrence in m.
    """
    if t <= 0:
        return np.zeros(places)  # whoever waits at all waits longer than no time
    m = np.arange(1, places + 1)
    survive = service_rate / (service_rate + m * theta)
    # I(x; a, m) for m = 1, 2, ... by I(x; a, 1) = x^a and the recurrence
    # I(x; a, b+1) = I(x; a, b) + Γ(a+b) / (Γ(a) Γ(b+1)) · x^a (1-x)^b, in logarithms.
    a = service_rate / theta + 1.0
    log_x, log_1mx = -theta * t, math.log(-math.expm1(-theta * t))
    b = m[:-1]
    steps = np.exp(gammaln(a + b) - gammaln(a) - gammaln(b + 1.0) + a * log_x + b * log_1mx)
    incomplete = math.exp(a * log_x) + np.concatenate(([0.0], np.cumsum(steps)))
    return survive * np.clip(1.0 - incomplete, 0.0, 1.0)


# --- agents needed ------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Service-level target and the figures queueing is computed with."""

    handling_seconds: float
    service_level: float
    within_seconds: float
    asa_seconds: float | None = None
    patience_seconds: float | None = None
    interval_seconds: float = SLOT_SECONDS

    @classmethod
    def from_assumptions(cls, row: StaffingAssumptions, asa_seconds=None) -> "Targets":
        return cls(
            handling_seconds=float(row.handling_seconds),
            service_level=float(row.service_level),
            within_seconds=float(row.answer_within_seconds),
            asa_seconds=asa_seconds,
            patience_seconds=float(row.patience_seconds) if row.patience_seconds else None,
        )


def _erlang_c_figures(agents: int, traffic: float, b: float, targets: Targets) -> Queueing:
    """Erlang C figures from B(agents, traffic), already known from the recursion."""
    c = _erlang_c_from_b(agents, traffic, b)
    spare = agents - traffic
    within = targets.within_seconds / targets.handling_seconds
    return Queueing(
        agents=agents,
        service_level=1.0 - c * math.exp(-spare * within),
        asa_seconds=c * targets.handling_seconds / spare,
        waiting_share=c,
        occupancy=traffic / agents,
    )


def _meets(q: Queueing, targets: Targets) -> bool:
    if q.service_level + 1e-12 < targets.service_level:
        return False
    return targets.asa_seconds is None or q.asa_seconds <= targets.asa_seconds + 1e-9


def agents_needed(calls: float, targets: Targets) -> Queueing:
    """The fewest agents that answer ``calls`` calls of one interval within target.

    Erlang C when the targets carry no patience; Erlang A otherwise, searched
    downward from the Erlang C answer (abandonment shortens the queue, so it
    rarely needs more) and upward if that is not enough.
    """
    if calls <= 0:
        return Queueing(0, 1.0, 0.0, 0.0)
    return _agents_needed(round(calls, 3), targets)


@lru_cache(maxsize=20_000)
def _agents_needed(calls: float, targets: Targets) -> Queueing:
    traffic = calls * targets.handling_seconds / targets.interval_seconds
    n = max(1, math.floor(traffic) + 1)
    b = erlang_b(n, traffic)
    while True:
        figures = _erlang_c_figures(n, traffic, b, targets)
        if _meets(figures, targets):
            break
        n += 1
        b = traffic * b / (n + traffic * b)
    if targets.patience_seconds is None:
        return figures
    lam = calls / targets.interval_seconds

    def a(agents):
        return erlang_a(
            agents, lam, targets.handling_seconds, targets.patience_seconds, targets.within_seconds
        )

    best = a(n)
    while not _meets(best, targets):
        n += 1
        best = a(n)
    # More agents never answer fewer callers in time: gallop down from n until
    # a count fails, then bisect between the failing and the meeting count.
    step, failing = 1, 0
    while n - step > 0:
        trial = a(n - step)
        if not _meets(trial, targets):
            failing = n - step
            break
        n, best = n - step, trial
        step *= 2
    while n - failing > 1:
        mid = (n + failing) // 2
        trial = a(mid)
        if _meets(trial, targets):
            n, best = mid, trial
        else:
            failing = mid
    return best


# --- intraday profile ---------------------------------------------------------


def default_profile() -> list[float]:
    """A 24-hour hotline's shape: day half hours (08:00-20:00) four times the night ones."""
    weights = [_DAY_WEIGHT if 16 <= s < 40 else _NIGHT_WEIGHT for s in range(SLOTS_PER_DAY)]
    total = sum(weights)
    return [w / total for w in weights]


@dataclass(frozen=True)
class Profile:
    """Share of a weekday's orders per half hour (ISO weekday 1 = Monday → 48 shares)."""

    shares: dict[int, list[float]]
    orders: int  # orders it was learnt from
    weeks: int
    from_history: frozenset[int] = field(default_factory=frozenset)  # weekdays with history


def intraday_profile(weeks: int = PROFILE_WEEKS, *, until: date | None = None) -> Profile:
    """Shares per weekday and half hour from the ``weeks`` weeks up to ``until`` (local day).

    One GROUP BY over the work orders on the local weekday, hour and half of the
    hour; a weekday without orders in the window gets ``default_profile``.
    """
    zone = utility_zone()
    if until is None:
        until = timezone_today()
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=zone)
    start = datetime.combine(until + timedelta(days=1 - 7 * weeks), time(), tzinfo=zone)
    rows = (
        WorkOrder.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            hour=ExtractHour("created_at", tzinfo=zone),
            minute=ExtractMinute("created_at", tzinfo=zone),
        )
        .annotate(
            half=Case(
                When(minute__gte=30, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .values("weekday", "hour", "half")
        .annotate(orders=Count("pk"))
        .order_by()
    )
    counts = {wd: [0] * SLOTS_PER_DAY for wd in range(1, 8)}
    for row in rows:
        counts[int(row["weekday"])][int(row["hour"]) * 2 + int(row["half"])] += row["orders"]
    shares, learnt, total = {}, set(), 0
    for weekday, slots in counts.items():
        day_total = sum(slots)
        total += day_total
        if day_total:
            shares[weekday] = [n / day_total for n in slots]
            learnt.add(weekday)
        else:
            shares[weekday] = default_profile()
    return Profile(shares=shares, orders=total, weeks=weeks, from_history=frozenset(learnt))


def timezone_today() -> date:
    from django.utils import timezone

    return timezone.now().astimezone(utility_zone()).date()


# --- the plan -----------------------------------------------------------------


@dataclass(frozen=True)
class SlotPlan:
    start: time
    calls: float
    agents: int  # on the phones
    scheduled: int  # on the rota, after shrinkage
    service_level: float
    asa_seconds: float
    abandon_share: float


@dataclass(frozen=True)
class DayPlan:
    day: date
    orders: float  # forecast work orders of the day
    calls: float
    slots: list[SlotPlan]

    @property
    def agent_hours(self) -> float:
        return sum(s.agents for s in self.slots) * SLOT_SECONDS / 3600

    @property
    def scheduled_hours(self) -> float:
        return sum(s.scheduled for s in self.slots) * SLOT_SECONDS / 3600

    @property
    def peak_scheduled(self) -> int:
        return max((s.scheduled for s in self.slots), default=0)


@dataclass(frozen=True)
class CrewDay:
    region: str
    day: date
    faults: float  # forecast fault orders
    faults_hi80: float
    crews: int
    peak_crews: int  # at the upper 80 % bound


@dataclass(frozen=True)
class OutlookDay:
    day: date
    orders: float  # forecast work orders
    scheduled_hours: float
    crews: int
    peak_crews: int


@dataclass(frozen=True)
class WeekPlan:
    start: date
    history_until: date
    assumptions: StaffingAssumptions
    profile: Profile
    days: list[DayPlan]
    crews: list[CrewDay]
    outlook: list[OutlookDay]

    @property
    def regions(self) -> list[str]:
        return sorted({c.region for c in self.crews})

    def crews_by_region(self) -> list[tuple[str, list[CrewDay]]]:
        """Each region with its seven days, in day order."""
        by = {}
        for c in self.crews:
            by.setdefault(c.region, []).append(c)
        return [(region, sorted(by[region], key=lambda c: c.day)) for region in sorted(by)]

    @property
    def calls(self) -> float:
        return sum(d.calls for d in self.days)

    @property
    def service_level(self) -> float:
        """Call-weighted share answered in time over the week."""
        return self._weighted("service_level", 1.0)

    @property
    def asa_seconds(self) -> float:
        return self._weighted("asa_seconds", 0.0)

    @property
    def abandon_share(self) -> float:
        return self._weighted("abandon_share", 0.0)

    def _weighted(self, name: str, empty: float) -> float:
        calls = self.calls
        if calls <= 0:
            return empty
        return sum(s.calls * getattr(s, name) for d in self.days for s in d.slots) / calls

    @property
    def agent_hours(self) -> float:
        return sum(d.agent_hours for d in self.days)

    @property
    def scheduled_hours(self) -> float:
        return sum(d.scheduled_hours for d in self.days)


def week_start(day: date) -> date:
    """The first day of ``day``'s week: Sunday where the weekend is Friday-Saturday (il)."""
    first = 6 if get_utility().profile == "il" else 0
    return day - timedelta(days=(day.weekday() - first) % 7)


def default_week() -> date:
    """Next week (the week after today's, in the utility's zone)."""
    return week_start(timezone_today()) + timedelta(days=7)


def _history_bounds() -> tuple[date | None, date | None]:
    zone = utility_zone()
    span = WorkOrder.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["last"] is None:
        return None, None
    return span["first"].astimezone(zone).date(), span["last"].astimezone(zone).date()


def _plan_day(day, orders, share, targets, row) -> DayPlan:
    calls_per_order = float(row.calls_per_order)
    keep = 1.0 - float(row.shrinkage)
    slots = []
    for s in range(SLOTS_PER_DAY):
        calls = orders * calls_per_order * share[s]
        q = agents_needed(calls, targets)
        slots.append(
            SlotPlan(
                start=time(s // 2, 30 * (s % 2)),
                calls=calls,
                agents=q.agents,
                scheduled=math.ceil(q.agents / keep - 1e-9) if keep > 0 else q.agents,
                service_level=q.service_level,
                asa_seconds=q.asa_seconds,
                abandon_share=q.abandon_share,
            )
        )
    return DayPlan(day=day, orders=orders, calls=sum(s.calls for s in slots), slots=slots)


def _fingerprint(until: date) -> list:
    """What identifies the history up to ``until``: how many orders, the first and newest
    ids and times, and the temperatures (one aggregate query each)."""
    zone = utility_zone()
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=zone)
    seen = WorkOrder.objects.filter(created_at__lt=end).aggregate(
        n=Count("pk"),
        low=Min("pk"),
        high=Max("pk"),
        first=Min("created_at"),
        last=Max("created_at"),
    )
    temperatures = DailyTemperature.objects.aggregate(n=Count("pk"), last=Max("day"))
    return [until, *seen.values(), *temperatures.values()]


def _forecast_key(
    horizon: int, until: date, by=None, order_type=None, *, fingerprint: list | None = None
) -> str:
    """The cache key of a forecast: its options and the history's fingerprint, so an
    import of past orders or temperatures makes a new forecast."""
    if fingerprint is None:
        fingerprint = _fingerprint(until)
    parts = [until, horizon, by, order_type, *fingerprint]
    digest = hashlib.sha256("|".join(str(v) for v in parts).encode()).hexdigest()
    return f"staffing:forecast:{digest}"


def _forecast(horizon: int, *, until: date, **options):
    """Daily forecast rows from ``analytics.forecasting``, kept for an hour.

    Fitting takes seconds, and the history up to ``until`` rarely changes; the key
    (``_forecast_key``) changes with it.
    """
    key = _forecast_key(horizon, until, options.get("by"), options.get("order_type"))
    rows = cache.get(key)
    if rows is None:
        rows = forecast_workorders(horizon, until=until, **options)
        cache.set(key, rows, FORECAST_CACHE_SECONDS)
    return rows


def crews_needed(orders: float, orders_per_crew_day: float) -> int:
    """Crews for a day's fault orders: ceil(orders / what one crew handles a day)."""
    if orders <= 0:
        return 0
    # A forecast of 16.0000001 for 8 a crew is two crews, not three.
    return math.ceil(round(orders / orders_per_crew_day, 6))


@dataclass(frozen=True)
class PlanSpan:
    """The days a week's plan covers, and the history its forecast learns from."""

    start: date  # the week's first day
    until: date  # the last day of history used
    end: date  # the day after the outlook

    @property
    def horizon(self) -> int:
        return (self.end - self.until).days - 1


def plan_span(start: date | None = None) -> PlanSpan:
    """The span of the week holding ``start`` (default next week); StaffingError when the
    week cannot be planned, NoHistory when there are no work orders at all."""
    start = week_start(start) if start else default_week()
    first, last = _history_bounds()
    if last is None:
        raise NoHistory(_("There is no work-order history to plan from yet."))
    today = timezone_today()
    until = min(last, today - timedelta(days=1), start - timedelta(days=1))
    if until < first:
        raise StaffingError(
            _("The week starts before the work-order history does (%(first)s).")
            % {"first": first.isoformat()},
            "week",
        )
    if (start - until).days > MAX_DAYS_AHEAD:
        raise StaffingError(
            _("The week is more than %(days)s days after the last day of history (%(last)s).")
            % {"days": MAX_DAYS_AHEAD, "last": until.isoformat()},
            "week",
        )
    return PlanSpan(start=start, until=until, end=start + timedelta(days=OUTLOOK_DAYS))


# --- the forecasts of a plan, prepared in the background ---------------------------------

PREPARE_STEPS = 2  # all work orders; faults per region
PREPARE_STALE_SECONDS = 15 * 60  # a job queued or running longer than this is lost: again


def _forecast_options(span: PlanSpan) -> list[dict]:
    return [
        {"horizon": span.horizon, "until": span.until},
        {
            "horizon": span.horizon,
            "until": span.until,
            "by": "region",
            "order_type": OrderType.FAULT,
        },
    ]


def _keys(span: PlanSpan) -> tuple[list[str], str]:
    """The cache keys of the week's forecasts, and of their progress (one fingerprint)."""
    fingerprint = _fingerprint(span.until)
    keys = [_forecast_key(**o, fingerprint=fingerprint) for o in _forecast_options(span)]
    return keys, "staffing:progress:" + hashlib.sha256("|".join(keys).encode()).hexdigest()


@dataclass(frozen=True)
class Preparation:
    """Where the forecasts of a week's plan are: ready, queued, running or failed."""

    state: str  # "ready", "queued", "running", "failed"
    step: int = 0  # forecasts done
    steps: int = PREPARE_STEPS
    message: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def percent(self) -> int:
        return round(100 * self.step / self.steps) if self.steps else 100


def _set_progress(key: str, state: str, step: int = 0, message: str = "") -> None:
    from django.utils import timezone

    cache.set(
        key,
        {"state": state, "step": step, "message": message, "at": timezone.now().timestamp()},
        FORECAST_CACHE_SECONDS,
    )


def preparation(span: PlanSpan, keys: tuple[list[str], str] | None = None) -> Preparation:
    """The state of the week's forecasts, from the cache (no fitting)."""
    forecast_keys, progress_key = keys or _keys(span)
    if all(cache.get(key) is not None for key in forecast_keys):
        return Preparation("ready", PREPARE_STEPS)
    found = cache.get(progress_key)
    if not found:
        return Preparation("missing")
    state = "ready" if found["state"] == "done" else found["state"]
    return Preparation(state, found["step"], PREPARE_STEPS, found.get("message", ""))


def prepare_forecasts(span: PlanSpan) -> Preparation:
    """Fit the week's two forecasts into the cache, noting the progress as it goes.

    What the background task runs; safe to run twice (the second finds the cache).
    A forecast that cannot be made (no fault orders, say) is not an error: the plan
    then has no crews.
    """
    _forecast_keys, key = _keys(span)
    for step, options in enumerate(_forecast_options(span)):
        _set_progress(key, "running", step)
        options = dict(options)
        try:
            _forecast(options.pop("horizon"), **options)
        except ForecastError:
            if step == 0:
                _set_progress(key, "done", PREPARE_STEPS)
                return Preparation("ready", PREPARE_STEPS)
        except Exception as exc:
            _set_progress(key, "failed", step, str(exc))
            raise
    _set_progress(key, "done", PREPARE_STEPS)
    return Preparation("ready", PREPARE_STEPS)


def request_forecasts(span: PlanSpan) -> Preparation:
    """Ready forecasts, or a background job that prepares them (queued once).

    With Celery running tasks in-process (the demo and the tests) the job runs
    at once and the answer is "ready".
    """
    from django.utils import timezone

    from .tasks import prepare_staffing_forecasts

    keys = _keys(span)
    state = preparation(span, keys)
    if state.ready:
        return state
    key = keys[1]
    found = cache.get(key) or {}
    fresh = timezone.now().timestamp() - found.get("at", 0) < PREPARE_STALE_SECONDS
    if state.state in ("queued", "running") and fresh:
        return state
    _set_progress(key, "queued")
    try:
        prepare_staffing_forecasts.delay(span.start.isoformat())
    except Exception as exc:  # noqa: BLE001 - the page says so and asks again later
        _set_progress(key, "failed", 0, str(exc))
    return preparation(span, keys)


def plan_week(start: date | None = None, *, asa_seconds: float | None = None) -> WeekPlan:
    """The staffing plan of the week beginning ``start`` (default next week) and its outlook.

    The forecast uses the history up to the day before the week (or the last
    complete day of history, if that is earlier), so a past week is planned as
    it would have been then. The outlook covers ``OUTLOOK_DAYS`` days from the
    week's start. The forecasts come from the cache when ``prepare_forecasts``
    has made them, else they are fitted here.
    """
    span = plan_span(start)
    start, until, end, horizon = span.start, span.until, span.end, span.horizon
    row = assumptions()
    targets = Targets.from_assumptions(row, asa_seconds)
    profile = intraday_profile(until=until)
    try:
        volume = {
            r.day: max(0.0, r.forecast)
            for r in _forecast(horizon, until=until)
            if start <= r.day < end
        }
    except ForecastError as exc:
        raise NoHistory(_("There is no work-order history to plan from yet.")) from exc
    try:
        faults = _forecast(horizon, by="region", until=until, order_type=OrderType.FAULT)
    except ForecastError:
        faults = []  # no fault orders in the history: no crews to plan
    per_crew = float(row.orders_per_crew_day)
    crews = [
        CrewDay(
            region=r.series,
            day=r.day,
            faults=max(0.0, r.forecast),
            faults_hi80=max(0.0, r.hi80),
            crews=crews_needed(r.forecast, per_crew),
            peak_crews=crews_needed(max(r.forecast, r.hi80), per_crew),
        )
        for r in faults
        if start <= r.day < end
    ]
    outlook_days = [
        _plan_day(day, orders, profile.shares[day.isoweekday()], targets, row)
        for day, orders in sorted(volume.items())
    ]
    crews_per_day, peak_per_day = {}, {}
    for c in crews:
        crews_per_day[c.day] = crews_per_day.get(c.day, 0) + c.crews
        peak_per_day[c.day] = peak_per_day.get(c.day, 0) + c.peak_crews
    week_end = start + timedelta(days=7)
    return WeekPlan(
        start=start,
        history_until=until,
        assumptions=row,
        profile=profile,
        days=[d for d in outlook_days if d.day < week_end],
        crews=[c for c in crews if c.day < week_end],
        outlook=[
            OutlookDay(
                day=d.day,
                orders=d.orders,
                scheduled_hours=d.scheduled_hours,
                crews=crews_per_day.get(d.day, 0),
                peak_crews=peak_per_day.get(d.day, 0),
            )
            for d in outlook_days
        ],
    )


CSV_HEADER = [
    "date",
    "half_hour",
    "calls",
    "agents",
    "scheduled_agents",
    "service_level",
    "asa_seconds",
    "abandoned_share",
]
CREW_CSV_HEADER = ["date", "region", "fault_orders", "fault_orders_hi80", "crews", "peak_crews"]


def plan_rows(plan: WeekPlan) -> list[list]:
    """The week's half hours as CSV rows (``CSV_HEADER``)."""
    return [
        [
            d.day.isoformat(),
            s.start.strftime("%H:%M"),
            f"{s.calls:.2f}",
            s.agents,
            s.scheduled,
            f"{s.service_level:.3f}",
            f"{s.asa_seconds:.1f}" if math.isfinite(s.asa_seconds) else "",
            f"{s.abandon_share:.3f}",
        ]
        for d in plan.days
        for s in d.slots
    ]


def crew_rows(plan: WeekPlan) -> list[list]:
    """The week's crews per region and day as CSV rows (``CREW_CSV_HEADER``)."""
    return [
        [
            c.day.isoformat(),
            c.region,
            f"{c.faults:.2f}",
            f"{c.faults_hi80:.2f}",
            c.crews,
            c.peak_crews,
        ]
        for c in sorted(plan.crews, key=lambda c: (c.day, c.region))
    ]
