"""Service commitments: which policy times an order, when each clock is due, and the watch.

* Calendar clocks count minutes from their start.
* Working-day clocks count whole working days in the utility's holiday
  calendar (the ``holidays`` package: weekends of the country, public holidays
  and China's make-up working days): due at the end of the n-th working day
  after the day the clock started, i.e. at the next local midnight after it.
* A clock with ``after_clock`` starts when that clock is met (power back within
  3 hours of the crew's arrival); until then it has no due time.
* Which transitions meet which clock: ``accept`` meets *contact the customer*;
  ``start`` meets *crew on site*; ``resolve`` meets *power back*, *reply* and
  *complete*. A reopened order's resolve clocks are open again, due as before.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, log_action

from . import config
from .choices import Action, Clock, TimeBasis
from .models import Deadline, SlaPolicy, Transition, WorkOrder

MET_BY: dict[str, list[str]] = {
    Action.ACCEPT: [Clock.CONTACT],
    Action.START: [Clock.ARRIVE],
    Action.RESOLVE: [Clock.RESTORE, Clock.REPLY, Clock.COMPLETE],
}
REOPENED_CLOCKS = [Clock.RESTORE, Clock.REPLY, Clock.COMPLETE]

OK, WARNING, BREACHED = "ok", "warning", "breached"


@lru_cache(maxsize=8)
def _calendar(country: str):
    return holidays.country_holidays(country)


def working_days_after(day: date, n: int, country: str) -> date:
    """The n-th working day after ``day`` (n ≥ 1) in the country's calendar."""
    return _calendar(country).get_nth_working_day(day, n)


def due_time(policy: SlaPolicy, start: datetime) -> datetime:
    """When a clock of ``policy`` started at ``start`` is due (aware, UTC)."""
    if policy.basis == TimeBasis.CALENDAR:
        return start + timedelta(minutes=policy.minutes)
    desk = config.current()
    local_day = start.astimezone(desk.zone).date()
    last = working_days_after(local_day, policy.working_days, desk.holiday_country)
    # The end of the last working day: the next local midnight.
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=desk.zone)
    return end.astimezone(UTC)


def _customer_kind(order: WorkOrder) -> str:
    return order.customer.kind if order.customer_id else ""


def policies_for(order: WorkOrder) -> dict[str, SlaPolicy]:
    """The most specific active policy for each clock of the order."""
    area_kind = order.area.kind if order.area_id else ""
    voltage = order.site.voltage_level if order.site_id else ""
    kind = _customer_kind(order)
    best: dict[str, tuple[tuple, SlaPolicy]] = {}
    # The active policies are held per process (``config``): tens of rows, matched here.
    for policy in config.current().policies.get(order.order_type, ()):
        if (
            policy.subtype not in ("", order.subtype)
            or policy.area_kind not in ("", area_kind)
            or policy.customer_kind not in ("", kind)
            or policy.voltage_level not in ("", voltage)
            or (policy.members_only and not order.is_member)
        ):
            continue
        score = (
            policy.members_only,
            bool(policy.subtype),
            bool(policy.area_kind),
            bool(policy.customer_kind) + bool(policy.voltage_level),
            -policy.pk,
        )
        if policy.clock not in best or score > best[policy.clock][0]:
            best[policy.clock] = (score, policy)
    return {clock: policy for clock, (_score, policy) in best.items()}


def _deadline(order, policy, start) -> Deadline:
    due = due_time(policy, start) if start is not None else None
    warn = due - timedelta(minutes=policy.warn_before_minutes) if due else None
    return Deadline(work_order=order, clock=policy.clock, policy=policy, due_at=due, warn_at=warn)


def new_deadlines(order: WorkOrder, *, now: datetime | None = None) -> list[Deadline]:
    """The order's deadlines at intake, not yet written (clocks after another clock wait for it).

    Intake writes them with the order itself.
    """
    start = now or order.created_at
    return [
        _deadline(order, policy, None if policy.after_clock else start)
        for policy in policies_for(order).values()
    ]


def meet_clocks(order: WorkOrder, action: str, at: datetime) -> None:
    """Mark the clocks the action meets, and start the clocks that wait for them."""
    clocks = MET_BY.get(action, [])
    if not clocks:
        return
    met = list(
        Deadline.objects.filter(
            work_order=order, clock__in=clocks, met_at__isnull=True
        ).values_list("clock", flat=True)
    )
    Deadline.objects.filter(work_order=order, clock__in=met).update(met_at=at)
    for waiting in Deadline.objects.filter(
        work_order=order, policy__after_clock__in=met, due_at__isnull=True
    ).select_related("policy"):
        waiting.due_at = due_time(waiting.policy, at)
        waiting.warn_at = waiting.due_at - timedelta(minutes=waiting.policy.warn_before_minutes)
        waiting.save(update_fields=["due_at", "warn_at"])


def reopen_clocks(order: WorkOrder) -> None:
    Deadline.objects.filter(work_order=order, clock__in=REOPENED_CLOCKS).update(
        met_at=None, breached_at=None
    )


def sla_state(order: WorkOrder, now: datetime | None = None) -> str:
    """ok, warning (a clock is within its warning lead) or breached (a clock is past due)."""
    now = now or timezone.now()
    open_ = order.deadlines.filter(met_at__isnull=True, due_at__isnull=False).aggregate(
        due=Min("due_at"), warn=Min("warn_at")
    )
    return state_of(open_["due"], open_["warn"], now)


def state_of(next_due, next_warn, now) -> str:
    if next_due is not None and next_due <= now:
        return BREACHED
    if next_warn is not None and next_warn <= now:
        return WARNING
    return OK


def with_sla(qs):
    """Annotate a work-order queryset with ``next_due`` and ``next_warn`` of open clocks."""
    open_clock = Q(deadlines__met_at__isnull=True)
    return qs.annotate(
        next_due=Min("deadlines__due_at", filter=open_clock),
        next_warn=Min("deadlines__warn_at", filter=open_clock),
    )


def watch_sla(now: datetime | None = None) -> dict:
    """The SLA watch: escalate orders about to breach (once per clock); mark breaches.

    Set-based: two UPDATEs and one bulk insert of escalation transitions,
    whatever the number of open orders. Idempotent: a clock is warned once and
    marked breached once. Orders that are no longer open are left alone.
    """
    from .choices import OPEN_STATUSES

    now = now or timezone.now()
    with transaction.atomic():
        warn = Deadline.objects.select_for_update().filter(
            met_at__isnull=True,
            warned_at__isnull=True,
            warn_at__lte=now,
            work_order__status__in=OPEN_STATUSES,
        )
        warned = list(warn.values_list("pk", "work_order_id", "clock"))
        Deadline.objects.filter(pk__in=[pk for pk, _o, _c in warned]).update(warned_at=now)
        orders = sorted({order_id for _pk, order_id, _c in warned})
        WorkOrder.objects.filter(pk__in=orders).update(escalation_level=F("escalation_level") + 1)
        statuses = dict(WorkOrder.objects.filter(pk__in=orders).values_list("pk", "status"))
        labels = dict(Clock.choices)
        Transition.objects.bulk_create(
            Transition(
                work_order_id=order_id,
                action=Action.ESCALATE,
                from_status=statuses[order_id],
                to_status=statuses[order_id],
                note=_("SLA watch: %(clock)s is due soon") % {"clock": labels[clock]},
                at=now,
            )
            for _pk, order_id, clock in warned
        )
        breached = Deadline.objects.filter(
            met_at__isnull=True, breached_at__isnull=True, due_at__lte=now
        ).update(breached_at=now)
        if warned or breached:
            utility = get_utility()
            log_action(None, "workorders.sla_watch", utility, {"warned": len(warned)})
    return {"warned": len(warned), "escalated_orders": len(orders), "breached": breached}
