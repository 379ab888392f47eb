"""Proposed excess-demand events: a forecast crossed the utility's margin.

* ``propose_events`` reads the forecasts of the next ``demand_forecast_days``
  days (tomorrow onwards): the daily temperature series
  (``analytics.DailyTemperature``) against the hot-day and cold-day margins,
  and the regions' load forecasts (``LoadForecast``) against their capacity
  less the reserve margin. It writes one proposal per day, reason and scope.
  Running it again changes nothing that was decided: an open proposal gets the
  newest forecast, a declared or dismissed one is never proposed again, and an
  open proposal whose forecast no longer crosses the margin is withdrawn.
* ``declare_proposal`` turns a proposal into an event through
  ``services.declare_event`` (scope, schedule, call lists, warnings), in the
  demand manager's name; ``dismiss_proposal`` sets it aside.

The margins come from the utility (``demand_hot_day_celsius``,
``demand_cold_day_celsius``, ``demand_reserve_margin_pct``) and the region
(``capacity_mw``). A temperature proposal suggests an advisory in the day's
peak hours (afternoon on a hot day, evening on a cold one); a load proposal
suggests load shedding when the peak is above the capacity itself, an advisory
when it only eats into the reserve.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from voltdesk.analytics.models import DailyTemperature
from voltdesk.core.models import Area, Region, Utility
from voltdesk.core.services import log_action

from . import services
from .choices import ProposalReason, ProposalStatus, Severity
from .models import DemandEvent, DemandProposal, LoadForecast
from .services import DemandError

# Suggested windows, local hours [from, until): the afternoon air-conditioning
# peak of a hot day, the evening heating peak of a cold one. The demand manager
# changes them when declaring.
HOT_DAY_HOURS = (13, 18)
COLD_DAY_HOURS = (17, 21)
# A load proposal covers the forecast peak hour and this many hours either side.
LOAD_PEAK_SPAN_HOURS = 2
ALL = "all"


@dataclass
class ProposalRun:
    """What one run of ``propose_events`` did."""

    created: list = field(default_factory=list)
    updated: int = 0
    withdrawn: int = 0
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class _Candidate:
    day: date
    reason: str
    region_id: int | None
    forecast: Decimal
    margin: Decimal
    severity: str
    hours: tuple[int, int]

    @property
    def scope_key(self) -> str:
        return ALL if self.region_id is None else f"region:{self.region_id}"


def _window(day: date, hours: tuple[int, int], zone) -> tuple[datetime, datetime]:
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    return midnight + timedelta(hours=hours[0]), midnight + timedelta(hours=hours[1])


def _temperature_candidates(utility: Utility, first: date, last: date) -> list[_Candidate]:
    """Hot and cold days; a region's own figure wins over the utility-wide one.

    A day with no regional figure is proposed for the whole network from the
    utility-wide figure; a day with regional figures is proposed per region
    (regions without their own figure use the utility-wide one).
    """
    hot, cold = utility.demand_hot_day_celsius, utility.demand_cold_day_celsius
    rows = DailyTemperature.objects.filter(day__gte=first, day__lte=last).values_list(
        "day", "region_id", "celsius"
    )
    by_day: dict[date, dict] = {}
    for day, region_id, celsius in rows:
        by_day.setdefault(day, {})[region_id] = celsius
    region_ids = None
    candidates = []
    for day, figures in sorted(by_day.items()):
        if set(figures) == {None}:
            scoped = {None: figures[None]}
        else:
            if region_ids is None:
                region_ids = list(Region.objects.order_by("pk").values_list("pk", flat=True))
            scoped = {
                pk: figures.get(pk, figures.get(None))
                for pk in region_ids
                if figures.get(pk, figures.get(None)) is not None
            }
        for region_id, celsius in scoped.items():
            if celsius >= hot:
                reason, margin, hours = ProposalReason.HOT_DAY, hot, HOT_DAY_HOURS
            elif celsius <= cold:
                reason, margin, hours = ProposalReason.COLD_DAY, cold, COLD_DAY_HOURS
            else:
                continue
            candidates.append(
                _Candidate(day, reason, region_id, celsius, margin, Severity.ADVISORY, hours)
            )
    return candidates


def _load_candidates(utility: Utility, first: date, last: date) -> list[_Candidate]:
    """Regions whose forecast peak is above their capacity less the reserve margin."""
    share = 1 - utility.demand_reserve_margin_pct / Decimal(100)
    rows = LoadForecast.objects.filter(
        day__gte=first, day__lte=last, region__capacity_mw__isnull=False
    ).values_list("day", "region_id", "peak_mw", "peak_hour", "region__capacity_mw")
    candidates = []
    for day, region_id, peak, hour, capacity in rows:
        margin = (capacity * share).quantize(Decimal("0.1"))
        if peak <= margin:
            continue
        severity = Severity.SHEDDING if peak > capacity else Severity.ADVISORY
        span = LOAD_PEAK_SPAN_HOURS
        hours = (max(0, hour - span), min(24, hour + span + 1))
        candidates.append(
            _Candidate(day, ProposalReason.LOAD, region_id, peak, margin, severity, hours)
        )
    return candidates


def propose_events(utility: Utility, today: date) -> ProposalRun:
    """Propose events for the days after ``today`` whose forecast crosses a margin."""
    first = today + timedelta(days=1)
    last = today + timedelta(days=max(1, utility.demand_forecast_days))
    run = ProposalRun(first_day=first, last_day=last)
    zone = ZoneInfo(utility.time_zone)
    candidates = _temperature_candidates(utility, first, last) + _load_candidates(
        utility, first, last
    )
    with transaction.atomic():
        existing = {
            (p.day, p.reason, p.scope_key): p
            for p in DemandProposal.objects.select_for_update().filter(
                day__gte=first, day__lte=last
            )
        }
        new, changed, seen = [], [], set()
        for c in candidates:
            key = (c.day, c.reason, c.scope_key)
            seen.add(key)
            starts_at, ends_at = _window(c.day, c.hours, zone)
            values = {
                "forecast": c.forecast,
                "margin": c.margin,
                "severity": c.severity,
                "starts_at": starts_at,
                "ends_at": ends_at,
            }
            known = existing.get(key)
            if known is None:
                new.append(
                    DemandProposal(
                        day=c.day,
                        reason=c.reason,
                        region_id=c.region_id,
                        scope_key=c.scope_key,
                        **values,
                    )
                )
            elif known.status == ProposalStatus.PROPOSED and any(
                getattr(known, k) != v for k, v in values.items()
            ):
                for k, v in values.items():
                    setattr(known, k, v)
                known.updated_at = timezone.now()  # bulk_update does not apply auto_now
                changed.append(known)
        # Concurrent runs: the unique (day, reason, scope) keeps one of each.
        DemandProposal.objects.bulk_create(new, ignore_conflicts=True)
        DemandProposal.objects.bulk_update(
            changed, ["forecast", "margin", "severity", "starts_at", "ends_at", "updated_at"]
        )
        stale = [
            p.pk
            for key, p in existing.items()
            if key not in seen and p.status == ProposalStatus.PROPOSED
        ]
        DemandProposal.objects.filter(pk__in=stale).delete()
        run.updated, run.withdrawn = len(changed), len(stale)
        run.created = list(
            DemandProposal.objects.filter(day__gte=first, day__lte=last)
            .exclude(pk__in=[p.pk for p in existing.values()])
            .order_by("day", "reason", "scope_key")
        )
        if new or changed or stale:
            log_action(
                None,
                "demand.events_proposed",
                utility,
                {
                    "from": first.isoformat(),
                    "until": last.isoformat(),
                    "created": len(run.created),
                    "updated": run.updated,
                    "withdrawn": run.withdrawn,
                },
            )
    return run


def open_proposals(today: date):
    """Proposals still to decide, for days from ``today`` on."""
    return DemandProposal.objects.filter(status=ProposalStatus.PROPOSED, day__gte=today)


def scope_label(proposal: DemandProposal) -> str:
    return proposal.region.name if proposal.region_id else _("the whole network")


def explain(proposal: DemandProposal) -> str:
    """Why the system proposed it, in the active language."""
    values = {
        "day": formats.date_format(proposal.day, "SHORT_DATE_FORMAT"),
        "forecast": formats.number_format(proposal.forecast, 1),
        "margin": formats.number_format(proposal.margin, 1),
        "scope": scope_label(proposal),
    }
    if proposal.reason == ProposalReason.HOT_DAY:
        text = _(
            "%(scope)s: %(forecast)s °C forecast for %(day)s, "
            "at or above the hot-day margin of %(margin)s °C."
        )
    elif proposal.reason == ProposalReason.COLD_DAY:
        text = _(
            "%(scope)s: %(forecast)s °C forecast for %(day)s, "
            "at or below the cold-day margin of %(margin)s °C."
        )
    else:
        text = _(
            "%(scope)s: a %(forecast)s MW peak forecast for %(day)s, above %(margin)s MW "
            "(the capacity less the reserve margin)."
        )
    return text % values


def _title(proposal: DemandProposal, scope: str) -> str:
    if proposal.reason == ProposalReason.HOT_DAY:
        text = _("Heat wave, %(scope)s")
    elif proposal.reason == ProposalReason.COLD_DAY:
        text = _("Cold spell, %(scope)s")
    else:
        text = _("Peak demand, %(scope)s")
    return text % {"scope": scope}


def _locked(proposal: DemandProposal) -> DemandProposal:
    locked = (
        DemandProposal.objects.select_for_update(of=("self",))
        .select_related("region")
        .get(pk=proposal.pk)
    )
    if locked.status != ProposalStatus.PROPOSED:
        raise DemandError(
            _("status: this proposal is already %(status)s.")
            % {"status": locked.get_status_display().lower()}
        )
    return locked


def declare_proposal(
    proposal: DemandProposal,
    actor,
    *,
    severity: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    areas: tuple = (),
    now: datetime | None = None,
) -> DemandEvent:
    """Declare the proposed event as suggested, or with the demand manager's changes.

    ``areas`` narrows the scope from the proposal's region (or the whole
    network) to those areas. The event's title and reason are written in the
    utility's default language: they go out to customers.
    """
    from voltdesk.core.services import get_utility

    utility = get_utility()
    with transaction.atomic():
        proposal = _locked(proposal)
        area_pks = services._pks(areas, Area, "areas")
        if area_pks:
            names = list(
                Area.objects.filter(pk__in=area_pks).order_by("name").values_list("name", flat=True)
            )
            regions = ()
        else:
            names = []
            regions = (
                (proposal.region_id,)
                if proposal.region_id
                else tuple(Region.objects.values_list("pk", flat=True))
            )
        with translation.override(utility.default_language):
            scope = ", ".join(names) if names else scope_label(proposal)
            title = _title(proposal, scope)
            reason = explain(proposal)
        event = services.declare_event(
            services.EventRequest(
                title=title[:200],
                starts_at=starts_at or proposal.starts_at,
                ends_at=ends_at or proposal.ends_at,
                severity=severity or proposal.severity,
                regions=regions,
                areas=tuple(area_pks),
                reason=reason,
                proposed_from=reason[:300],
            ),
            actor=actor,
            now=now,
        )
        proposal.status = ProposalStatus.DECLARED
        proposal.event = event
        proposal.decided_by = actor if getattr(actor, "pk", None) else None
        proposal.decided_at = now or timezone.now()
        proposal.save(update_fields=["status", "event", "decided_by", "decided_at", "updated_at"])
        log_action(actor, "demand.proposal_declared", proposal, {"event": event.pk})
    return event


def dismiss_proposal(proposal: DemandProposal, actor, *, note: str = "") -> DemandProposal:
    """The demand manager sets the proposal aside; it is not proposed again for that day."""
    with transaction.atomic():
        proposal = _locked(proposal)
        proposal.status = ProposalStatus.DISMISSED
        proposal.note = note.strip()[:2000]
        proposal.decided_by = actor if getattr(actor, "pk", None) else None
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "note", "decided_by", "decided_at", "updated_at"])
        log_action(actor, "demand.proposal_dismissed", proposal, {"note": proposal.note})
    return proposal
