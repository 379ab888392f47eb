"""A small network and customers for the work-order desk."""

import pytest

from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Site


@pytest.fixture
def network(utility):
    """Region North with an urban area (two feeders) and a rural one; region South, urban."""
    north = Region.objects.create(name="North")
    south = Region.objects.create(name="South")
    city = Area.objects.create(region=north, name="Haifa", kind="urban")
    village = Area.objects.create(region=north, name="Galilee", kind="rural")
    port = Area.objects.create(region=south, name="Eilat", kind="urban")
    return {
        "north": north,
        "south": south,
        "city": city,
        "village": village,
        "port": port,
        "f1": Feeder.objects.create(area=city, name="HF-1"),
        "f2": Feeder.objects.create(area=city, name="HF-2"),
        "fv": Feeder.objects.create(area=village, name="GL-1"),
        "fp": Feeder.objects.create(area=port, name="EL-1"),
    }


@pytest.fixture
def place(network):
    """Put a customer's sites on a feeder: place(customer, "f1")."""

    def put(customer, feeder="f1", **fields):
        feeder = network[feeder]
        Site.objects.filter(customer=customer).update(feeder=feeder, area=feeder.area, **fields)
        return customer.sites.first()

    return put


@pytest.fixture
def member(utility):
    """Make a customer a current club member."""
    from voltdesk.keyaccounts.models import EligibilityRun, Membership

    def join(customer):
        from datetime import date

        run, _ = EligibilityRun.objects.get_or_create(
            as_of=date(2026, 7, 1),
            defaults={
                "window_start": "2025-06-30T21:00:00Z",
                "window_end": "2026-06-30T21:00:00Z",
                "rule": "literal",
                "single_site_kwh": 1_000_000,
                "multi_site_kwh": 5_000_000,
                "exit_after": 1,
            },
        )
        return Membership.objects.create(
            customer=customer,
            status="member",
            since=run.as_of,
            annual_kwh=1_500_000,
            site_count=1,
            last_run=run,
        )

    return join
