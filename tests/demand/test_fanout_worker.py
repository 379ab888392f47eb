"""The warnings fan-out on a real Redis broker and real Celery workers: one killed halfway.

1,200 customers on one feeder, each with a phone, in three languages; ranges of
10 customer ids (the worker's settings), so 120 range tasks. The first worker is
killed with SIGKILL once some customers are warned and others are not; a second
worker and the fan-out sweep (the beat job) finish the batch. Every customer
gets exactly one SMS: none lost, none twice.
"""

import datetime as dt
import os
import signal
import time

import pytest
from django.db import transaction
from django.utils import timezone

from tests.notifications.test_outbox_worker import wait_until, world  # noqa: F401 - fixture
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Customer, Site
from voltdesk.demand import services
from voltdesk.demand.models import EventWarning
from voltdesk.demand.tasks import sweep_fanouts
from voltdesk.notifications import services as outbox
from voltdesk.notifications.models import Message

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 1200
LANGUAGES = ["en", "he", "zh-hans"]


def _customers(feeder) -> None:
    with transaction.atomic():
        Customer.objects.bulk_create(
            Customer(
                ref=f"F{i:05d}",
                name=f"Customer {i}",
                kind="residential",
                phone=f"+97253{i:07d}",
                language=LANGUAGES[i % 3],
            )
            for i in range(CUSTOMERS)
        )
        Site.objects.bulk_create(
            Site(ref=f"FS{c.ref}", customer=c, feeder=feeder, area=feeder.area)
            for c in Customer.objects.filter(ref__startswith="F")
        )


def warned() -> int:
    return EventWarning.objects.values("customer").distinct().count()


def test_a_worker_killed_mid_fanout_loses_no_warning_and_sends_none_twice(
    utility,
    world,  # noqa: F811 - the fixture imported above
    settings,
):
    workers, smtp, simulator = world
    settings.DEMAND_FANOUT_RANGE = 10  # as the workers' settings
    region = Region.objects.create(name="Centre")
    area = Area.objects.create(region=region, name="Tel Aviv", kind="urban")
    feeder = Feeder.objects.create(area=area, name="TA-1")
    _customers(feeder)
    first = workers.start("w1")

    start = timezone.now() + dt.timedelta(days=2)
    event = services.declare_event(
        services.EventRequest(
            title="Heat wave", starts_at=start, ends_at=start + dt.timedelta(hours=4), areas=(area,)
        )
    )
    wait_until(
        lambda: warned() >= 100, timeout=120, what="the first warnings", on_timeout=workers.logs
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert warned() < CUSTOMERS, "the worker finished before it could be killed"

    workers.start("w2")
    # The dead worker's reserved range waits in Redis until its visibility timeout;
    # the beat's sweep re-runs every unfinished range, the outbox's sweep every
    # message left "sending".
    last = -1
    while warned() != last:
        last = warned()
        time.sleep(2)
    sweep_fanouts.delay()
    wait_until(
        lambda: warned() == CUSTOMERS,
        timeout=120,
        what="every customer warned",
        on_timeout=workers.logs,
    )
    outbox.dispatch_due(lease=dt.timedelta(seconds=1), grace=dt.timedelta(seconds=0))
    wait_until(
        lambda: Message.objects.filter(status__in=["sent", "delivered"]).count() == CUSTOMERS,
        timeout=180,
        what="every SMS sent",
        on_timeout=workers.logs,
    )
    assert Message.objects.filter(channel="sms").count() == CUSTOMERS
    assert len(simulator.sent) == CUSTOMERS
    assert len({sms.to for sms in simulator.sent}) == CUSTOMERS
    hebrew = next(sms for sms in simulator.sent if sms.to == "+972530000001")
    assert "TA-1" not in hebrew.text and "FSF00001" in hebrew.text
    assert EventWarning.objects.filter(event=event).count() == CUSTOMERS
