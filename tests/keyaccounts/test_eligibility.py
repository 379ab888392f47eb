"""The club rule: bars, several sites, coverage flags, entry, exit and the exit buffer.

Every figure is computed by hand. The window of an evaluation as of 1 July 2026
is [1 July 2025, 1 July 2026) in Jerusalem time.
"""

from datetime import date
from decimal import Decimal

import pytest

from voltdesk.core.models import AuditEntry
from voltdesk.keyaccounts.choices import DecisionKind, DecisionReason, MembershipStatus
from voltdesk.keyaccounts.eligibility import EligibilityError, recompute_memberships
from voltdesk.keyaccounts.models import (
    EligibilityRun,
    Membership,
    MembershipDecision,
    MembershipPeriod,
)

from .conftest import local

AS_OF = date(2026, 7, 1)
NEXT_YEAR = date(2027, 7, 1)


def membership(customer):
    return Membership.objects.filter(customer=customer).first()


def is_member(customer) -> bool:
    m = membership(customer)
    return m is not None and m.status == MembershipStatus.MEMBER


# --- the bars -------------------------------------------------------------------------


def test_single_site_exactly_at_the_bar_joins(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    add_monthly_reads(customer.sites.get(), "1000000")

    result = recompute_memberships(AS_OF)

    assert result.created and (result.joined, result.left, result.stayed) == (1, 0, 0)
    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER and m.since == AS_OF
    assert m.annual_kwh == Decimal("1000000.000000") and m.site_count == 1
    decision = m.decisions.get()
    assert decision.kind == DecisionKind.JOINED
    assert decision.reason == DecisionReason.SINGLE_SITE_AT_BAR
    assert decision.threshold_kwh == Decimal("1000000")
    assert decision.flagged_sites == []
    period = m.periods.get()
    assert (period.joined_on, period.left_on, period.joined_by) == (AS_OF, None, decision)
    assert result.run.window_start == local(2025, 7, 1)
    assert result.run.window_end == local(2026, 7, 1)
    assert AuditEntry.objects.filter(action="club.joined", object_id=str(m.pk)).exists()


@pytest.mark.parametrize("total", ["999999.999999", "999999.99"], ids=["1 µWh", "one cent"])
def test_single_site_just_below_the_bar_stays_out(make_customer, add_monthly_reads, total):
    customer = make_customer(sites=1)
    add_monthly_reads(customer.sites.get(), total)

    result = recompute_memberships(AS_OF)

    assert result.joined == 0 and membership(customer) is None
    assert result.customers == 1


def test_several_sites_exactly_at_the_group_bar_join(make_customer, add_monthly_reads):
    customer = make_customer(sites=2)
    first, second = customer.sites.order_by("ref")
    add_monthly_reads(first, "2500000")
    add_monthly_reads(second, "2500000")

    recompute_memberships(AS_OF)

    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER
    assert (m.annual_kwh, m.site_count, m.largest_site_kwh) == (
        Decimal("5000000"),
        2,
        Decimal("2500000"),
    )
    assert m.decisions.get().reason == DecisionReason.GROUP_AT_BAR
    assert m.decisions.get().threshold_kwh == Decimal("5000000")


@pytest.mark.parametrize("second_kwh", ["2499999.999999", "2499999.99"], ids=["1 µWh", "cent"])
def test_several_sites_just_below_the_group_bar_stay_out(
    make_customer, add_monthly_reads, second_kwh
):
    customer = make_customer(sites=2)
    first, second = customer.sites.order_by("ref")
    add_monthly_reads(first, "2500000")
    add_monthly_reads(second, second_kwh)

    assert recompute_memberships(AS_OF).joined == 0
    assert membership(customer) is None


def test_one_big_site_of_several_literal_rule_is_not_a_member(make_customer, add_monthly_reads):
    # 1,200,000 + 100,000 = 1,300,000: the big site passes the single-site bar,
    # the group misses 5,000,000. The literal rule looks at the group only.
    customer = make_customer(sites=2)
    big, small = customer.sites.order_by("ref")
    add_monthly_reads(big, "1200000")
    add_monthly_reads(small, "100000")

    assert recompute_memberships(AS_OF).joined == 0
    assert membership(customer) is None


def test_one_big_site_of_several_any_site_rule_is_a_member(
    make_customer, add_monthly_reads, club_profile
):
    club_profile(vip_rule="any_site")
    customer = make_customer(sites=2)
    big, small = customer.sites.order_by("ref")
    add_monthly_reads(big, "1200000")
    add_monthly_reads(small, "100000")

    recompute_memberships(AS_OF)

    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER
    assert (m.annual_kwh, m.largest_site_kwh) == (Decimal("1300000"), Decimal("1200000"))
    decision = m.decisions.get()
    assert decision.reason == DecisionReason.ONE_SITE_AT_BAR
    assert decision.threshold_kwh == Decimal("1000000")


def test_a_site_one_microwatt_hour_below_does_not_qualify_under_any_site_either(
    make_customer, add_monthly_reads, club_profile
):
    club_profile(vip_rule="any_site")
    customer = make_customer(sites=2)
    big, small = customer.sites.order_by("ref")
    add_monthly_reads(big, "999999.999999")
    add_monthly_reads(small, "100000")

    assert recompute_memberships(AS_OF).joined == 0


# --- coverage flags --------------------------------------------------------------------


def test_site_without_reads_counts_as_zero_and_is_flagged(make_customer, add_monthly_reads):
    customer = make_customer(sites=2)
    first, silent = customer.sites.order_by("ref")
    add_monthly_reads(first, "5000000")

    recompute_memberships(AS_OF)

    decision = membership(customer).decisions.get()
    assert decision.annual_kwh == Decimal("5000000") and decision.site_count == 2
    assert decision.flagged_sites == [silent.ref]


def test_site_with_reads_for_half_the_window_is_flagged(make_customer, add_monthly_reads):
    # Six months of reads: coverage about 0.5 < 0.9. It still joins (1,000,000 kWh).
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000", first=(2026, 1), until=(2026, 7))

    recompute_memberships(AS_OF)

    assert membership(customer).decisions.get().flagged_sites == [site.ref]


def test_customer_without_any_reads_is_evaluated_as_zero_and_flagged(
    make_customer, add_monthly_reads
):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)

    # Nothing read in the next year: it is evaluated as 0, leaves, and the site is flagged.
    result = recompute_memberships(NEXT_YEAR)

    assert (result.joined, result.left, result.stayed) == (0, 1, 0)
    decision = MembershipDecision.objects.get(run=result.run)
    assert decision.kind == DecisionKind.LEFT and decision.reason == DecisionReason.BELOW_BAR
    assert decision.annual_kwh == 0 and decision.flagged_sites == [site.ref]


def test_customer_without_reads_who_never_was_a_member_leaves_no_trace(make_customer):
    make_customer(sites=3)
    result = recompute_memberships(AS_OF)
    assert result.customers == 1 and result.joined == 0
    assert not Membership.objects.exists() and not MembershipDecision.objects.exists()


# --- entry and exit --------------------------------------------------------------------


def test_member_below_the_bar_leaves_at_once_by_default(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)
    add_monthly_reads(site, "999999.999999", first=(2026, 7), until=(2027, 7))

    result = recompute_memberships(NEXT_YEAR)

    assert (result.joined, result.left, result.stayed) == (0, 1, 0)
    m = membership(customer)
    assert m.status == MembershipStatus.FORMER and m.since == AS_OF
    assert m.annual_kwh == Decimal("999999.999999")
    leave = m.decisions.get(kind=DecisionKind.LEFT)
    assert leave.reason == DecisionReason.BELOW_BAR and leave.run == result.run
    period = m.periods.get()
    assert (period.joined_on, period.left_on, period.left_by) == (AS_OF, NEXT_YEAR, leave)


def test_member_at_the_bar_stays_and_its_figures_are_refreshed(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)
    add_monthly_reads(site, "1234567.5", first=(2026, 7), until=(2027, 7))

    result = recompute_memberships(NEXT_YEAR)

    assert (result.joined, result.left, result.stayed) == (0, 0, 1)
    m = membership(customer)
    assert m.annual_kwh == Decimal("1234567.5") and m.last_run == result.run
    assert m.decisions.count() == 1 and m.since == AS_OF


def test_exit_buffer_of_two_stays_after_one_evaluation_below_and_leaves_after_the_second(
    make_customer, add_monthly_reads, club_profile
):
    club_profile(vip_exit_after=2)
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)
    add_monthly_reads(site, "900000", first=(2026, 7), until=(2028, 7))

    first_below = recompute_memberships(NEXT_YEAR)
    assert (first_below.left, first_below.stayed) == (0, 1)
    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER and m.runs_below_bar == 1

    second_below = recompute_memberships(date(2028, 7, 1))
    assert (second_below.left, second_below.stayed) == (1, 0)
    m = membership(customer)
    assert m.status == MembershipStatus.FORMER
    assert m.decisions.get(kind=DecisionKind.LEFT).run == second_below.run


def test_exit_buffer_count_resets_when_back_at_the_bar(
    make_customer, add_monthly_reads, club_profile
):
    club_profile(vip_exit_after=2)
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)
    add_monthly_reads(site, "900000", first=(2026, 7), until=(2027, 7))
    add_monthly_reads(site, "1000000", first=(2027, 7), until=(2028, 7))
    add_monthly_reads(site, "900000", first=(2028, 7), until=(2029, 7))

    recompute_memberships(NEXT_YEAR)  # below: 1
    recompute_memberships(date(2028, 7, 1))  # at the bar: back to 0
    recompute_memberships(date(2029, 7, 1))  # below: 1, stays

    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER and m.runs_below_bar == 1


def test_former_member_rejoins_with_a_new_period(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    add_monthly_reads(site, "10", first=(2026, 7), until=(2027, 7))
    add_monthly_reads(site, "1000001", first=(2027, 7), until=(2028, 7))
    recompute_memberships(AS_OF)
    recompute_memberships(NEXT_YEAR)

    result = recompute_memberships(date(2028, 7, 1))

    assert result.joined == 1
    m = membership(customer)
    assert m.status == MembershipStatus.MEMBER and m.since == date(2028, 7, 1)
    periods = list(m.periods.values_list("joined_on", "left_on"))
    assert periods == [(AS_OF, NEXT_YEAR), (date(2028, 7, 1), None)]


def test_member_that_no_longer_holds_a_site_leaves(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    site = customer.sites.get()
    add_monthly_reads(site, "1000000")
    recompute_memberships(AS_OF)
    site.contracts.update(end=local(2026, 7, 1))

    result = recompute_memberships(NEXT_YEAR)

    assert result.left == 1
    decision = MembershipDecision.objects.get(run=result.run)
    assert decision.reason == DecisionReason.NO_SITES and decision.site_count == 0


# --- one run per date ------------------------------------------------------------------


def test_running_the_same_date_again_changes_nothing(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    add_monthly_reads(customer.sites.get(), "1000000")
    first = recompute_memberships(AS_OF)

    again = recompute_memberships(AS_OF)

    assert not again.created and again.run == first.run and again.joined == 1
    assert EligibilityRun.objects.count() == 1
    assert MembershipDecision.objects.count() == 1 and MembershipPeriod.objects.count() == 1


def test_a_date_before_the_latest_run_is_refused(make_customer, add_monthly_reads):
    customer = make_customer(sites=1)
    add_monthly_reads(customer.sites.get(), "1000000")
    recompute_memberships(AS_OF)

    with pytest.raises(EligibilityError):
        recompute_memberships(date(2026, 6, 1))
    assert EligibilityRun.objects.count() == 1


def test_membership_changes_are_handed_to_the_portfolios(
    make_customer, add_monthly_reads, monkeypatch
):
    seen = []
    monkeypatch.setattr(
        "voltdesk.keyaccounts.eligibility.apply_membership_changes",
        lambda run, *, actor=None: seen.append((run.as_of, run.joined, actor)),
    )
    customer = make_customer(sites=1)
    add_monthly_reads(customer.sites.get(), "1000000")

    recompute_memberships(AS_OF, actor=None)

    assert seen == [(AS_OF, 1, None)]
