"""Fixtures of the business club: readings in local time, contracts, evaluations."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import Reading

JERUSALEM = ZoneInfo("Asia/Jerusalem")


def local(year, month, day, hour=0, minute=0) -> datetime:
    """A wall-clock time in Jerusalem as an aware datetime (stored in UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=JERUSALEM).astimezone(UTC)


def utc(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def add_reading(db):
    """Store one reading [start, end) of ``kwh`` (a string or Decimal, exact) for a site."""

    def add(site, start, end, kwh):
        return Reading.objects.create(
            site=site, start=start, end=end, kwh=Decimal(str(kwh)), source="meter"
        )

    return add


@pytest.fixture
def add_monthly_reads(add_reading):
    """Monthly reads on local month boundaries [first, until) summing to exactly ``total``."""

    def add(site, total, first=(2025, 7), until=(2026, 7)):
        months = []
        year, month = first
        while (year, month) < until:
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        total = Decimal(str(total))
        each = (total / len(months)).quantize(Decimal("0.000001"), rounding="ROUND_DOWN")
        for i, (y, m) in enumerate(months):
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            kwh = each if i < len(months) - 1 else total - each * (len(months) - 1)
            add_reading(site, local(y, m, 1), local(ny, nm, 1), kwh)

    return add


@pytest.fixture
def make_holding(utility):
    """A contract of ``customer`` for ``site`` over [start, end) (None: open-ended)."""

    def make(customer: Customer, site: Site, start=None, end=None, supplier=None):
        return Contract.objects.create(
            customer=customer, site=site, start=start, end=end, supplier=supplier
        )

    return make


@pytest.fixture
def club_profile(utility):
    """Change the club settings of the utility's profile for one test."""

    def change(**fields):
        for name, value in fields.items():
            setattr(utility, name, value)
        utility.save()
        return utility

    return change


# Portfolios, meetings and surveys: managers and club members made directly (no evaluation).


@pytest.fixture
def make_area(db):
    """An area (and its region, created if new) for sites."""
    from voltdesk.core.models import Area, Region

    def make(region_name: str, area_name: str | None = None):
        region, _ = Region.objects.get_or_create(name=region_name)
        return Area.objects.create(
            region=region,
            name=area_name or f"{region_name} area {Area.objects.count() + 1}",
            kind="urban",
        )

    return make


@pytest.fixture
def make_manager(make_user):
    """An account manager (a desk user in the account-manager role) with a region."""
    from voltdesk.core import roles
    from voltdesk.keyaccounts.models import AccountManager

    def make(name="Dana Levi", region=None, email="", phone="+972501234567", active=True):
        user = make_user(roles.ACCOUNT_MANAGER)
        first, _, last = name.partition(" ")
        user.first_name, user.last_name = first, last
        user.save()
        return AccountManager.objects.create(
            user=user, region=region, email=email, phone=phone, active=active
        )

    return make


def _club_run(as_of):
    from datetime import date as _date

    from voltdesk.keyaccounts.models import EligibilityRun

    as_of = as_of or _date(2026, 7, 1)
    run, _ = EligibilityRun.objects.get_or_create(
        as_of=as_of,
        defaults={
            "window_start": local(as_of.year - 1, as_of.month, as_of.day),
            "window_end": local(as_of.year, as_of.month, as_of.day),
            "rule": "literal",
            "single_site_kwh": Decimal("1000000"),
            "multi_site_kwh": Decimal("5000000"),
            "exit_after": 1,
        },
    )
    return run


@pytest.fixture
def join_club(utility):
    """Make ``customer`` a member as of a date, as an evaluation would; returns the decision."""
    from voltdesk.keyaccounts.models import Membership, MembershipDecision, MembershipPeriod

    def join(customer, *, as_of=None, annual_kwh="1500000"):
        run = _club_run(as_of)
        kwh = Decimal(str(annual_kwh))
        sites = customer.sites.count()
        membership, _ = Membership.objects.update_or_create(
            customer=customer,
            defaults={
                "status": "member",
                "since": run.as_of,
                "annual_kwh": kwh,
                "site_count": sites,
                "last_run": run,
            },
        )
        decision = MembershipDecision.objects.create(
            membership=membership,
            run=run,
            kind="joined",
            reason="single_site_at_bar" if sites == 1 else "group_at_bar",
            annual_kwh=kwh,
            site_count=sites,
            threshold_kwh=run.single_site_kwh if sites == 1 else run.multi_site_kwh,
        )
        MembershipPeriod.objects.create(
            membership=membership, joined_on=run.as_of, joined_by=decision
        )
        return decision

    return join


@pytest.fixture
def leave_club(utility):
    """Make a member leave as of a date, as an evaluation would; returns the decision."""
    from voltdesk.keyaccounts.models import Membership, MembershipDecision, MembershipPeriod

    def leave(customer, *, as_of, annual_kwh="999999.99"):
        run = _club_run(as_of)
        kwh = Decimal(str(annual_kwh))
        membership = Membership.objects.get(customer=customer)
        membership.status, membership.annual_kwh, membership.last_run = "former", kwh, run
        membership.save()
        sites = customer.sites.count()
        decision = MembershipDecision.objects.create(
            membership=membership,
            run=run,
            kind="left",
            reason="below_bar",
            annual_kwh=kwh,
            site_count=sites,
            threshold_kwh=run.single_site_kwh if sites == 1 else run.multi_site_kwh,
        )
        MembershipPeriod.objects.filter(membership=membership, left_on__isnull=True).update(
            left_on=run.as_of, left_by=decision
        )
        return decision

    return leave
