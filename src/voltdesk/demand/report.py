"""What an event did: who was warned, when and how, who acknowledged, what was consumed.

Consumption is compared with a baseline where interval data exists: the
affected sites' kWh inside the event's window against the average of the same
clock window on the 5 days before (a "5-day average" baseline, the simplest of
the demand-response baselines; weekends are not told apart). Every figure is an
aggregate query over the event's rows.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from voltdesk.metering.models import Reading
from voltdesk.notifications.choices import MessageStatus

from .choices import WarningChannel
from .models import CallListEntry, DemandEvent, EventWarning
from .services import affected_sites

BASELINE_DAYS = 5


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    customers: int
    first: object
    last: object
    delivered: int
    failed: int


@dataclass(frozen=True)
class EventReport:
    event: DemandEvent
    channels: list[ChannelFigures]
    calls_total: int
    calls_acknowledged: int
    calls_overdue: int
    sites_with_intervals: int
    event_kwh: Decimal | None
    baseline_kwh: Decimal | None

    @property
    def reduction_share(self) -> float | None:
        if not self.baseline_kwh or self.event_kwh is None:
            return None
        return float((self.baseline_kwh - self.event_kwh) / self.baseline_kwh)


def _window_kwh(site_ids, starts_at, ends_at) -> Decimal | None:
    total = Reading.objects.filter(
        site__in=site_ids, start__gte=starts_at, end__lte=ends_at
    ).aggregate(kwh=Sum("kwh"))["kwh"]
    return total


def consumption(event: DemandEvent) -> tuple[int, Decimal | None, Decimal | None]:
    """(sites with interval data in the window, event kWh, baseline kWh)."""
    sites = affected_sites(event).values("pk")
    in_window = Reading.objects.filter(
        site__in=sites, start__gte=event.starts_at, end__lte=event.ends_at
    )
    counted = in_window.values("site_id").distinct().count()
    if not counted:
        return 0, None, None
    site_ids = in_window.values("site_id").distinct()
    event_kwh = _window_kwh(site_ids, event.starts_at, event.ends_at)
    days = []
    for back in range(1, BASELINE_DAYS + 1):
        shift = timedelta(days=back)
        kwh = _window_kwh(site_ids, event.starts_at - shift, event.ends_at - shift)
        if kwh is not None:
            days.append(kwh)
    baseline = (sum(days) / len(days)).quantize(Decimal("0.001")) if days else None
    return counted, event_kwh, baseline


def event_report(event: DemandEvent, now=None) -> EventReport:
    now = now or timezone.now()
    sent = Q(message__status__in=[MessageStatus.SENT, MessageStatus.DELIVERED])
    rows = (
        EventWarning.objects.filter(event=event)
        .values("channel")
        .annotate(
            customers=Count("customer", distinct=True),
            first=Min("created_at"),
            last=Max("created_at"),
            sent=Count("pk", filter=sent),
            failed=Count("pk", filter=Q(message__status=MessageStatus.FAILED)),
        )
        .order_by("channel")
    )
    channels = [
        ChannelFigures(
            channel=row["channel"],
            customers=row["customers"],
            first=row["first"],
            last=row["last"],
            # A call has no outbox message: the acknowledgement is its delivery.
            # A call and an OpenADR event have no outbox message: each warning row is one.
            delivered=row["customers"]
            if row["channel"] in (WarningChannel.CALL, WarningChannel.OPENADR)
            else row["sent"],
            failed=row["failed"],
        )
        for row in rows
    ]
    calls = CallListEntry.objects.filter(event=event).aggregate(
        total=Count("pk"),
        acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
        overdue=Count("pk", filter=Q(acknowledged_at__isnull=True, due_at__lt=now)),
    )
    sites, event_kwh, baseline = consumption(event)
    return EventReport(
        event=event,
        channels=channels,
        calls_total=calls["total"],
        calls_acknowledged=calls["acknowledged"],
        calls_overdue=calls["overdue"],
        sites_with_intervals=sites,
        event_kwh=event_kwh,
        baseline_kwh=baseline,
    )
