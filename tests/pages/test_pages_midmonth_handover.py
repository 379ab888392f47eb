"""A site that changed hands in the middle of a month: each holder's pages count
exactly its own days of that month, from readings, and nothing of the other's."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from voltdesk.core import roles
from voltdesk.core.access import visible_contracts
from voltdesk.customers.models import Contract, Site
from voltdesk.metering.models import Reading
from voltdesk.metering.services import refresh_rollups
from voltdesk.portal.consumption import monthly_series


def test_each_holder_sees_only_its_days_of_the_handover_month(utility, make_customer, make_user):
    zone = ZoneInfo(utility.time_zone)
    old = make_customer(name="Old Owner Ltd", sites=0)
    new = make_customer(name="New Owner Ltd", sites=0)
    site = Site.objects.create(ref="S-MID", customer=new)
    handover = dt.datetime(2025, 3, 11, tzinfo=zone)  # local midnight, 11 March
    Contract.objects.create(customer=old, site=site, end=handover)
    Contract.objects.create(customer=new, site=site, start=handover)
    # Daily reads: 10 kWh a day while Old Owner held the site, 20 kWh after.
    Reading.objects.bulk_create(
        Reading(
            site=site,
            start=dt.datetime(2025, 2, 20, tzinfo=zone) + dt.timedelta(days=n),
            end=dt.datetime(2025, 2, 21, tzinfo=zone) + dt.timedelta(days=n),
            kwh=Decimal("10") if n < 19 else Decimal("20"),
            source="csv",
        )
        for n in range(40)  # 20 Feb .. 31 Mar
    )
    refresh_rollups([site.pk])
    months = [dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 4, 1)]
    old_user = make_user(roles.CUSTOMER, customer=old)
    new_user = make_user(roles.CUSTOMER, customer=new)

    old_points = monthly_series(old_user, list(visible_contracts(old_user)), months)
    new_points = monthly_series(new_user, list(visible_contracts(new_user)), months)

    # Old: 9 days of February (20..28) + 10 days of March (1..10), 10 kWh each.
    assert [p.kwh for p in old_points] == [Decimal("90"), Decimal("100"), None]
    # New: 21 days of March (11..31) at 20 kWh; nothing of February.
    assert [p.kwh for p in new_points] == [None, Decimal("420"), None]
