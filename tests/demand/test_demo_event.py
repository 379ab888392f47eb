"""The demo's excess-demand day (issue 8's "done when"), on a small seeded demo utility.

A heat wave in the forecast for the next two days proposes an event for each;
the demand manager declared tomorrow's with load shedding for the areas where
the demo portal users "factory" (a club member, account manager "manager")
and "home" have their sites. So the member is on its manager's call list, the
other customers there have their SMS in the outbox in their own languages, and
both portal users see the banner. The day after tomorrow is still proposed.
"""

from datetime import date, timedelta
from types import SimpleNamespace

from django.urls import reverse
from django.utils import timezone

from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Customer, CustomerUser, Site
from voltdesk.demand.choices import ProposalStatus, Severity
from voltdesk.demand.models import CallListEntry, DemandEvent, DemandProposal
from voltdesk.demand.services import affected_customer_ids
from voltdesk.demo.services import DEMO_PASSWORD, seed_demo
from voltdesk.keyaccounts.models import Membership
from voltdesk.notifications.models import Message

AS_OF = date(2026, 7, 15)


def seed(django_capture_on_commit_callbacks):
    """``seed_demo`` ends with ``seed_demand_demo``; its warnings go out on commit."""
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo("il", 120, 7, as_of=AS_OF)
    demo = SimpleNamespace(
        event=DemandEvent.objects.get(declared_by__username="demand"),
        proposal=DemandProposal.objects.get(status=ProposalStatus.PROPOSED),
    )
    demo.now = now
    demo.factory = CustomerUser.objects.get(user__username="factory").customer
    demo.home = CustomerUser.objects.get(user__username="home").customer
    return demo


# One seeded demo for the whole walk: seeding takes most of a minute.
def test_the_demo_declares_an_event_that_reaches_the_club_the_outbox_and_the_portal(
    db, client, django_capture_on_commit_callbacks
):
    demo = seed(django_capture_on_commit_callbacks)

    # A hot forecast proposed two days; tomorrow's is declared, for the demo users' areas.
    tomorrow = demo.now.astimezone(utility_zone()).date() + timedelta(days=1)
    declared = DemandProposal.objects.get(event=demo.event)
    assert declared.day == tomorrow and declared.status == ProposalStatus.DECLARED
    assert declared.forecast == 37  # 2 °C over the il hot-day margin of 35 °C
    assert demo.proposal.day == tomorrow + timedelta(days=1)
    assert demo.proposal.status == ProposalStatus.PROPOSED
    event = demo.event
    assert event.severity == Severity.SHEDDING and event.declared_by.username == "demand"
    areas = set(
        Site.objects.filter(customer__in=[demo.factory, demo.home]).values_list(
            "area_id", flat=True
        )
    )
    assert set(event.areas.values_list("pk", flat=True)) == areas
    assert not event.regions.exists()

    # The factory, a club member, is on its account manager's call list.
    assert Membership.objects.get(customer=demo.factory).status == "member"
    entry = CallListEntry.objects.get(event=event, customer=demo.factory)
    assert entry.manager.user.username == "manager"
    client.login(username="manager", password=DEMO_PASSWORD)
    assert demo.factory.name in client.get(reverse("desk:demand:calls")).content.decode()
    members = set(CallListEntry.objects.filter(event=event).values_list("customer", flat=True))
    # Members hear it from their manager first: no SMS for them yet.
    assert not Message.objects.filter(customer__in=members, channel="sms").exists()

    # Every other affected customer with a phone has its SMS, in its own language.
    affected = set(affected_customer_ids(event).values_list("customer_id", flat=True))
    reachable = set(
        Customer.objects.filter(pk__in=affected - members)
        .exclude(phone="")
        .values_list("pk", flat=True)
    )
    sms = list(
        Message.objects.filter(
            channel="sms", dedupe_key__startswith=f"demand:{event.pk}:"
        ).select_related("customer")
    )
    assert {m.customer_id for m in sms} == reachable and len(sms) == len(reachable) > 5
    assert demo.home.pk in reachable
    assert all(m.language == m.customer.language for m in sms)
    assert len({m.language for m in sms}) >= 2

    # The portal shows the banner to "home" and "factory".
    for username in ("home", "factory"):
        client.login(username=username, password=DEMO_PASSWORD)
        page = client.get(reverse("portal:home")).content.decode()
        assert f'data-demand-event="{event.pk}"' in page, username

    # The demand manager finds the day after tomorrow still proposed, tomorrow decided.
    client.login(username="demand", password=DEMO_PASSWORD)
    page = client.get(reverse("desk:demand:proposals")).content.decode()
    assert f'data-proposal="{demo.proposal.pk}"' in page
    assert f'data-decided="{declared.pk}"' in page
