"""The demo's excess-demand days: a hot-day forecast, its proposals, one declared event.

``seed_demand_demo`` runs after the rest of the demo (customers, users, the
club and the temperature series exist). It writes a heat wave into the
forecast for the next two days, so the system proposes an event for each, and
the demand manager ("demand") declares tomorrow's with load shedding for the
areas where the demo portal users "factory" (a club member, so it lands on
its account manager's call list) and "home" have their sites. The other
customers there get their SMS and e-mail through the outbox in their own
languages, and both portal users see the banner. The day after tomorrow stays
proposed for the demand manager to declare or dismiss.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from voltdesk.analytics.models import DailyTemperature
from voltdesk.core.models import Utility
from voltdesk.customers.models import CustomerUser, Site

from .choices import ProposalReason, Severity
from .models import DemandEvent, DemandProposal
from .proposals import declare_proposal, propose_events

DEMO_PORTAL_USERS = ("factory", "home")
HEAT_ABOVE_MARGIN = Decimal("2")  # the demo's heat wave: 2 °C over the hot-day margin


@dataclass
class DemandDemo:
    event: DemandEvent
    proposal: DemandProposal  # the one left for the demand manager to decide


def seed_demand_demo(utility: Utility, now: datetime) -> DemandDemo:
    today = now.astimezone(ZoneInfo(utility.time_zone)).date()
    hot = utility.demand_hot_day_celsius + HEAT_ABOVE_MARGIN
    days = [today + timedelta(days=1), today + timedelta(days=2)]
    for day in days:
        DailyTemperature.objects.update_or_create(region=None, day=day, defaults={"celsius": hot})
    propose_events(utility, today)
    tomorrow, after = (
        DemandProposal.objects.get(day=day, reason=ProposalReason.HOT_DAY, region__isnull=True)
        for day in days
    )
    customers = CustomerUser.objects.filter(user__username__in=DEMO_PORTAL_USERS).values(
        "customer_id"
    )
    areas = tuple(
        Site.objects.filter(customer__in=customers, area__isnull=False)
        .values_list("area_id", flat=True)
        .distinct()
    )
    event = declare_proposal(
        tomorrow,
        User.objects.get(username="demand"),
        severity=Severity.SHEDDING,
        areas=areas,
        now=now,
    )
    return DemandDemo(event=event, proposal=after)
