"""Time in the club rule: the local window, daylight saving, straddling reads, holders.

Readings are stored in UTC; the window is counted in Jerusalem time (UTC+2 in
winter, UTC+3 in summer). Israel's clocks move forward on Friday 27 March 2026
(a 23-hour day) and back on Sunday 25 October 2026 (a 25-hour day).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from voltdesk.customers.models import Customer, Site, Supplier
from voltdesk.keyaccounts.choices import DecisionReason, MembershipStatus
from voltdesk.keyaccounts.eligibility import recompute_memberships
from voltdesk.keyaccounts.models import Membership

from .conftest import local, utc

AS_OF = date(2026, 7, 1)


def annual_kwh(customer):
    return Membership.objects.filter(customer=customer).values_list("annual_kwh", flat=True).first()


def status(customer):
    return Membership.objects.filter(customer=customer).values_list("status", flat=True).first()


# --- readings given in UTC at the window's edges ----------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        # 30 June 2026 20:00-21:00 UTC is 23:00-24:00 local: the window's last hour.
        (utc(2026, 6, 30, 20), utc(2026, 6, 30, 21), True),
        # 21:00-22:00 UTC is 00:00-01:00 on 1 July local: after the window.
        (utc(2026, 6, 30, 21), utc(2026, 6, 30, 22), False),
        # 21:30 UTC on the window's last day is already 00:30 on 1 July local.
        (utc(2026, 6, 30, 21, 30), utc(2026, 6, 30, 21, 45), False),
    ],
    ids=["last local hour", "first hour after", "21:30 UTC"],
)
def test_utc_readings_count_by_local_time_at_the_end(
    make_customer, add_monthly_reads, add_reading, start, end, inside
):
    # 999,999 kWh up to 30 June 23:00 local, then 1 kWh in the reading under test.
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "900000", first=(2025, 7), until=(2026, 6))
    add_reading(site, local(2026, 6, 1), local(2026, 6, 30, 23), "99999")
    add_reading(site, start, end, "1")

    recompute_memberships(AS_OF)

    assert (status(customer) == MembershipStatus.MEMBER) is inside


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        # 30 June 2025 20:00-21:00 UTC is 23:00-24:00 local on 30 June: before the window.
        (utc(2025, 6, 30, 20), utc(2025, 6, 30, 21), False),
        # 21:00-22:00 UTC is 00:00-01:00 local on 1 July 2025: the window's first hour.
        (utc(2025, 6, 30, 21), utc(2025, 6, 30, 22), True),
    ],
    ids=["hour before", "first local hour"],
)
def test_utc_readings_count_by_local_time_at_the_start(
    make_customer, add_monthly_reads, add_reading, start, end, inside
):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_reading(site, local(2025, 7, 1, 1), local(2025, 8, 1), "99999")
    add_monthly_reads(site, "900000", first=(2025, 8), until=(2026, 7))
    add_reading(site, start, end, "1")

    recompute_memberships(AS_OF)

    assert (status(customer) == MembershipStatus.MEMBER) is inside


# --- daylight saving -------------------------------------------------------------------


def intervals(day: date, minutes: int):
    """The UTC intervals of one local day, in steps of ``minutes``."""
    start = local(day.year, day.month, day.day)
    following = day + timedelta(days=1)
    end = local(following.year, following.month, following.day)
    step = timedelta(minutes=minutes)
    while start < end:
        yield start, start + step
        start += step


def test_hourly_and_quarter_hour_data_across_daylight_saving_sum_right(make_customer, add_reading):
    # Window [1 Nov 2025, 1 Nov 2026) holds both changes of 2026.
    spring, autumn = date(2026, 3, 27), date(2026, 10, 25)
    hours = list(intervals(spring, 60))
    quarters = list(intervals(autumn, 15))
    assert (len(hours), len(quarters)) == (23, 100)

    customer = make_customer(sites=1)
    site = customer.sites.get()
    for start, end in hours:
        add_reading(site, start, end, "1")  # 23 kWh
    for start, end in quarters:
        add_reading(site, start, end, "0.25")  # 25 kWh
    # The rest of the window, 999,952 kWh, in three reads around those two days.
    add_reading(site, local(2025, 11, 1), local(2026, 3, 27), "400000")
    add_reading(site, local(2026, 3, 28), local(2026, 10, 25), "500000")
    add_reading(site, local(2026, 10, 26), local(2026, 11, 1), "99952")

    result = recompute_memberships(date(2026, 11, 1))

    assert result.joined == 1
    assert annual_kwh(customer) == Decimal("1000000.000000")
    decision = result.run.decisions.get()
    assert decision.flagged_sites == []  # 23- and 25-hour days leave no gap


def test_one_quarter_hour_missing_on_the_long_day_falls_below(make_customer, add_reading):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    for start, end in list(intervals(date(2026, 10, 25), 15))[:-1]:
        add_reading(site, start, end, "0.25")  # 99 x 0.25 = 24.75 kWh
    add_reading(site, local(2025, 11, 1), local(2026, 10, 25), "999952")
    add_reading(site, local(2026, 10, 26), local(2026, 11, 1), "23")

    assert recompute_memberships(date(2026, 11, 1)).joined == 0


# --- readings straddling the window's edges ----------------------------------------------


@pytest.mark.parametrize(("middle", "member"), [("955000", True), ("954999.999999", False)])
def test_reading_straddling_each_edge_counts_in_proportion(
    make_customer, add_reading, middle, member
):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    # 16 June - 16 July 2025: 30 days, 15 inside the window: 15,000 of 30,000 kWh.
    add_reading(site, local(2025, 6, 16), local(2025, 7, 16), "30000")
    add_reading(site, local(2025, 7, 16), local(2026, 6, 16), middle)
    # 16 June - 16 July 2026: 30 days, 15 inside: 30,000 of 60,000 kWh.
    add_reading(site, local(2026, 6, 16), local(2026, 7, 16), "60000")

    recompute_memberships(AS_OF)

    assert (status(customer) == MembershipStatus.MEMBER) is member
    if member:
        assert annual_kwh(customer) == Decimal("1000000")


def test_straddling_share_is_rounded_to_the_microwatt_hour(
    make_customer, add_monthly_reads, add_reading
):
    # 1 kWh over three hours, one of them inside the window: 0.333333 kWh.
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    add_reading(site, local(2026, 6, 30, 23), local(2026, 7, 1, 2), "1")

    recompute_memberships(AS_OF)

    assert annual_kwh(customer) == Decimal("1000000.333333")


# --- suppliers and holders ----------------------------------------------------------------


def test_supplier_change_mid_window_keeps_one_site_and_all_its_consumption(
    make_customer, add_monthly_reads, add_reading
):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    change = local(2026, 1, 1)
    green = Supplier.objects.create(name="Green Power")
    site.contracts.update(end=change)
    site.contracts.create(customer=customer, start=change, supplier=green)
    add_monthly_reads(site, "985000", first=(2025, 7), until=(2025, 12))
    # 16 Dec - 15 Jan straddles the change of supplier: all of it is the customer's.
    add_reading(site, local(2025, 12, 1), local(2025, 12, 16), "5000")
    add_reading(site, local(2025, 12, 16), local(2026, 1, 15), "10000")

    result = recompute_memberships(AS_OF)

    assert result.joined == 1
    decision = result.run.decisions.get()
    assert (decision.annual_kwh, decision.site_count) == (Decimal("1000000"), 1)
    assert decision.reason == DecisionReason.SINGLE_SITE_AT_BAR
    # Half a year without reads after 15 January: the site is flagged.
    assert decision.flagged_sites == [site.ref]


def test_site_moved_between_customers_counts_for_each_holder_in_its_own_period(
    utility, make_holding, add_monthly_reads, add_reading
):
    seller = Customer.objects.create(ref="SELLER", name="Seller", kind="business")
    buyer = Customer.objects.create(ref="BUYER", name="Buyer", kind="business")
    site = Site.objects.create(ref="MOVED-1", customer=buyer)
    moved_at = local(2026, 1, 1)
    make_holding(seller, site, end=moved_at)
    make_holding(buyer, site, start=moved_at)
    # Seller: 1 Jul - 16 Dec 984,000, then 16 of the 30 days of a 30,000 kWh read.
    add_reading(site, local(2025, 7, 1), local(2025, 12, 16), "984000")
    add_reading(site, local(2025, 12, 16), local(2026, 1, 15), "30000")
    # Buyer: the other 14 days (14,000), then 985,999.999999: 1 µWh below the bar.
    add_reading(site, local(2026, 1, 15), local(2026, 7, 1), "985999.999999")

    result = recompute_memberships(AS_OF)

    assert result.customers == 2 and result.joined == 1
    assert status(seller) == MembershipStatus.MEMBER
    assert annual_kwh(seller) == Decimal("1000000")
    # The seller held the site for half the window and its reads cover all of that.
    assert result.run.decisions.get().flagged_sites == []
    assert status(buyer) is None


def test_site_moved_twice_counts_once_for_the_customer_who_held_it_twice(
    utility, make_holding, add_monthly_reads
):
    owner = Customer.objects.create(ref="OWNER", name="Owner", kind="business")
    tenant = Customer.objects.create(ref="TENANT", name="Tenant", kind="business")
    site = Site.objects.create(ref="LEASED-1", customer=owner)
    make_holding(owner, site, end=local(2025, 10, 1))
    make_holding(tenant, site, start=local(2025, 10, 1), end=local(2026, 1, 1))
    make_holding(owner, site, start=local(2026, 1, 1))
    add_monthly_reads(site, "300000", first=(2025, 7), until=(2025, 10))
    add_monthly_reads(site, "50000", first=(2025, 10), until=(2026, 1))
    add_monthly_reads(site, "700000", first=(2026, 1), until=(2026, 7))

    result = recompute_memberships(AS_OF)

    decision = result.run.decisions.get()
    assert decision.membership.customer == owner
    # 300,000 + 700,000 over two periods of one site: one site at the single-site bar.
    assert (decision.annual_kwh, decision.site_count) == (Decimal("1000000"), 1)
    assert decision.reason == DecisionReason.SINGLE_SITE_AT_BAR
    assert status(tenant) is None
