"""Who is in the business club: evaluating every customer as of a date.

The rule (the utility's profile sets the bars, the window and the variant):

* The window is [as_of - window_months, as_of), from local midnight to local
  midnight in the utility's time zone.
* A customer's consumption is the sum, over the sites it held in the window,
  of the readings in the window, counted only for the part of the window in
  which its contract of that site was in force. A reading straddling a window
  edge or a change of holder counts in proportion to its overlap. Who supplies
  the electricity does not matter: a supplier change is a new contract of the
  same customer and the site counts once.
* "Several sites" means the customer held contracts for more than one site at
  some time in the window (a site sold in March still counted until March).
* Literal rule: one site qualifies at or above the single-site bar; several
  sites qualify together at or above the group bar. ``any_site`` adds: or any
  one of them at or above the single-site bar.
* Sites whose reads cover less than ``vip_min_coverage`` of the time the
  customer held them in the window are flagged on the decision (by site
  number); a site without reads counts as 0 and is flagged.
* Entry is immediate. A member below the bar leaves after ``vip_exit_after``
  evaluations below in a row (1 = at once, the rule exactly); an evaluation
  at or above the bar resets the count. A member holding no site leaves too.
* A date is evaluated once: asking again for the same date returns that run
  unchanged, and a date before the latest run is refused (periods must follow
  one another in time).
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.models import AuditEntry, Utility
from voltdesk.core.services import get_utility, log_action, utility_held
from voltdesk.metering.periods import local_midnight

from . import queries
from .choices import DecisionKind, DecisionReason, EligibilityRule, MembershipStatus
from .models import EligibilityRun, Membership, MembershipDecision, MembershipPeriod
from .portfolio import apply_membership_changes

ZERO = Decimal("0.000000")
BATCH = 1000


class EligibilityError(ValueError):
    """An evaluation that cannot be run as asked (the message is translated)."""


@dataclass(frozen=True)
class RunResult:
    """What an evaluation did; ``created`` is False when the date had been evaluated."""

    run: EligibilityRun
    created: bool = True

    @property
    def joined(self) -> int:
        return self.run.joined

    @property
    def left(self) -> int:
        return self.run.left

    @property
    def stayed(self) -> int:
        return self.run.stayed

    @property
    def customers(self) -> int:
        return self.run.customers


@dataclass
class CustomerFigures:
    """A customer's consumption in the window, as the decision records it."""

    annual_kwh: Decimal = ZERO
    site_count: int = 0
    largest_site_kwh: Decimal = ZERO
    flagged_sites: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    qualifies: bool
    reason: str
    threshold_kwh: Decimal


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clipped to the month's last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_for(as_of: date, utility: Utility):
    """The window [start, end) as UTC instants of local midnights."""
    tz = ZoneInfo(utility.time_zone)
    start = months_before(as_of, utility.vip_window_months)
    return local_midnight(start, tz), local_midnight(as_of, tz)


def judge(figures: CustomerFigures, run: EligibilityRun) -> Verdict:
    """Apply the rule to one customer's figures, exactly (Decimal against Decimal)."""
    single, multi = run.single_site_kwh, run.multi_site_kwh
    if figures.site_count == 0:
        return Verdict(False, DecisionReason.NO_SITES, single)
    if figures.site_count == 1:
        if figures.annual_kwh >= single:
            return Verdict(True, DecisionReason.SINGLE_SITE_AT_BAR, single)
        return Verdict(False, DecisionReason.BELOW_BAR, single)
    if figures.annual_kwh >= multi:
        return Verdict(True, DecisionReason.GROUP_AT_BAR, multi)
    if run.rule == EligibilityRule.ANY_SITE and figures.largest_site_kwh >= single:
        return Verdict(True, DecisionReason.ONE_SITE_AT_BAR, single)
    return Verdict(False, DecisionReason.BELOW_BAR, multi)


def _figures_by_customer(scan: queries.ClubScan, min_coverage: Decimal) -> dict:
    figures: dict[int, CustomerFigures] = defaultdict(CustomerFigures)
    for s in scan.sites:
        f = figures[s.customer_id]
        f.annual_kwh += s.kwh
        f.site_count += 1
        f.largest_site_kwh = max(f.largest_site_kwh, s.kwh)
        if s.covered_seconds < min_coverage * s.held_seconds:
            f.flagged_sites.append(s.site_ref)
    for f in figures.values():
        f.flagged_sites.sort()
    return figures


def recompute_memberships(as_of: date, *, actor=None) -> RunResult:
    """Evaluate every customer as of ``as_of``: new qualifiers join, members below the bar leave.

    One aggregate pass over the readings (``queries.scan_club``), then bulk
    writes of the changes and of the members' refreshed figures, all in one
    transaction with the audit rows; then the portfolios follow
    (``apply_membership_changes``) in the same transaction.
    """
    with transaction.atomic():
        # Serialises evaluations: two at once would both decide the same changes.
        utility = Utility.objects.select_for_update().get(pk=get_utility().pk)
        existing = EligibilityRun.objects.filter(as_of=as_of).first()
        if existing is not None:
            return RunResult(existing, created=False)
        latest = EligibilityRun.objects.order_by("-as_of").values_list("as_of", flat=True).first()
        if latest is not None and latest > as_of:
            raise EligibilityError(
                _("The club was already evaluated as of %(latest)s; %(date)s is earlier.")
                % {"latest": latest.isoformat(), "date": as_of.isoformat()}
            )
        window_start, window_end = window_for(as_of, utility)
        run = EligibilityRun.objects.create(
            as_of=as_of,
            window_start=window_start,
            window_end=window_end,
            rule=utility.vip_rule,
            single_site_kwh=utility.vip_single_site_kwh,
            multi_site_kwh=utility.vip_multi_site_kwh,
            exit_after=max(1, utility.vip_exit_after),
            actor=actor if getattr(actor, "pk", None) else None,
        )
        scan = queries.scan_club(
            window_start,
            window_end,
            single_site_kwh=run.single_site_kwh,
            multi_site_kwh=run.multi_site_kwh,
            any_site=run.rule == EligibilityRule.ANY_SITE,
        )
        figures = _figures_by_customer(scan, utility.vip_min_coverage)
        _apply(run, figures)
        run.customers = scan.customers
        run.finished_at = timezone.now()
        run.save(update_fields=["customers", "joined", "left", "stayed", "finished_at"])
        log_action(
            actor,
            "club.evaluated",
            run,
            {"as_of": as_of.isoformat(), "joined": run.joined, "left": run.left},
        )
        # The utility row is locked above: it cannot change while the letters are written.
        with utility_held(utility):
            apply_membership_changes(run, actor=actor)
    return RunResult(run, created=True)


def _apply(run: EligibilityRun, figures: dict) -> None:
    """Decide each candidate (qualifiers and members only) and write the changes in bulk."""
    as_of = run.as_of
    memberships = {
        m.customer_id: m
        for m in Membership.objects.filter(
            Q(status=MembershipStatus.MEMBER) | Q(customer_id__in=list(figures))
        )
    }
    created, updated, decisions, leavers = [], [], [], []
    for customer_id in sorted(set(figures) | set(memberships)):
        fig = figures.get(customer_id) or CustomerFigures()
        verdict = judge(fig, run)
        membership = memberships.get(customer_id)
        is_member = membership is not None and membership.status == MembershipStatus.MEMBER
        if not is_member and not verdict.qualifies:
            continue  # a former member still below the bar: nothing to record
        if membership is None:
            membership = Membership(customer_id=customer_id, status=MembershipStatus.MEMBER)
            created.append(membership)
        else:
            updated.append(membership)
        membership.annual_kwh = fig.annual_kwh
        membership.site_count = fig.site_count
        membership.largest_site_kwh = fig.largest_site_kwh
        membership.last_run = run
        kind = None
        if verdict.qualifies:
            membership.runs_below_bar = 0
            if not is_member:
                kind = DecisionKind.JOINED
                membership.status = MembershipStatus.MEMBER
                membership.since = as_of
                run.joined += 1
            else:
                run.stayed += 1
        else:
            membership.runs_below_bar += 1
            if membership.runs_below_bar >= run.exit_after or fig.site_count == 0:
                kind = DecisionKind.LEFT
                membership.status = MembershipStatus.FORMER
                membership.runs_below_bar = 0
                leavers.append(membership)
                run.left += 1
            else:
                run.stayed += 1
        if kind is not None:
            decisions.append(
                MembershipDecision(
                    membership=membership,
                    run=run,
                    kind=kind,
                    reason=verdict.reason,
                    annual_kwh=fig.annual_kwh,
                    site_count=fig.site_count,
                    largest_site_kwh=fig.largest_site_kwh,
                    threshold_kwh=verdict.threshold_kwh,
                    flagged_sites=fig.flagged_sites,
                )
            )
    Membership.objects.bulk_create(created, batch_size=BATCH)
    Membership.objects.bulk_update(
        updated,
        [
            "status",
            "since",
            "annual_kwh",
            "site_count",
            "largest_site_kwh",
            "runs_below_bar",
            "last_run",
        ],
        batch_size=BATCH,
    )
    for decision in decisions:
        decision.membership_id = decision.membership.pk
    MembershipDecision.objects.bulk_create(decisions, batch_size=BATCH)
    MembershipPeriod.objects.bulk_create(
        [
            MembershipPeriod(membership_id=d.membership_id, joined_on=as_of, joined_by=d)
            for d in decisions
            if d.kind == DecisionKind.JOINED
        ],
        batch_size=BATCH,
    )
    leaving = {d.membership_id: d for d in decisions if d.kind == DecisionKind.LEFT}
    closing = list(
        MembershipPeriod.objects.filter(
            membership_id__in=list(leaving), left_on__isnull=True
        ).select_for_update()
    )
    for period in closing:
        period.left_on = as_of
        period.left_by = leaving[period.membership_id]
    MembershipPeriod.objects.bulk_update(closing, ["left_on", "left_by"], batch_size=BATCH)
    # The audit trail, one row per change, in this transaction (as log_action writes them).
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=run.actor,
                action=f"club.{d.kind}",
                object_type=Membership._meta.label_lower,
                object_id=str(d.membership_id),
                data={
                    "run": run.pk,
                    "decision": d.pk,
                    "reason": d.reason,
                    "annual_kwh": str(d.annual_kwh),
                    "threshold_kwh": str(d.threshold_kwh),
                    "flagged_sites": d.flagged_sites,
                },
            )
            for d in decisions
        ],
        batch_size=BATCH,
    )
