"""The club's commands, its monthly task and schedule, and decisions in plain words."""

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from voltdesk.keyaccounts.beat import BEAT_SCHEDULE
from voltdesk.keyaccounts.models import EligibilityRun, MembershipDecision
from voltdesk.keyaccounts.services import evaluate_club, explain_decision
from voltdesk.keyaccounts.tasks import evaluate_club_monthly


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def club(make_customer, add_monthly_reads):
    """A member (one site, 1,000,000 kWh), a former member and a group of two sites."""
    single = make_customer(name="Single", sites=1)
    add_monthly_reads(single.sites.get(), "1000000")
    fading = make_customer(name="Fading", sites=1)
    add_monthly_reads(fading.sites.get(), "1500000.25")
    add_monthly_reads(fading.sites.get(), "10", first=(2026, 7), until=(2026, 8))
    group = make_customer(name="Group", sites=2)
    first, second = group.sites.order_by("ref")
    add_monthly_reads(first, "2525000")
    add_monthly_reads(second, "2525000")
    return single, fading, group


def test_recompute_vip_prints_joined_left_and_stayed(club):
    out = run("recompute_vip", "--as-of", "2026-07-01")
    assert "Club as of 2026-07-01: 3 joined, 0 left, 0 stayed (3 customers evaluated)." in out

    # 1 August: the window [1 Aug 2025, 1 Aug 2026) lost July 2025 of everyone's reads.
    out = run("recompute_vip", "--as-of", "2026-08-01")
    assert "0 joined, 2 left, 1 stayed" in out


def test_recompute_vip_for_a_date_already_evaluated_changes_nothing(club):
    run("recompute_vip", "--as-of", "2026-07-01")
    out = run("recompute_vip", "--as-of", "2026-07-01")
    assert "already evaluated as of 2026-07-01; nothing changed" in out
    assert "3 joined" in out
    assert EligibilityRun.objects.count() == 1 and MembershipDecision.objects.count() == 3


def test_recompute_vip_refuses_a_bad_or_earlier_date(club):
    with pytest.raises(CommandError, match="not a date"):
        run("recompute_vip", "--as-of", "1 July")
    run("recompute_vip", "--as-of", "2026-07-01")
    with pytest.raises(CommandError, match="already evaluated as of 2026-07-01"):
        run("recompute_vip", "--as-of", "2026-06-01")


def test_recompute_vip_defaults_to_today_in_the_utility_time_zone(utility):
    today = datetime.now(ZoneInfo("Asia/Jerusalem")).date()
    out = run("recompute_vip")
    assert f"Club as of {today.isoformat()}" in out
    assert EligibilityRun.objects.get().as_of == today


def test_export_vip_csv(club):
    single, fading, group = club
    evaluate_club(date(2026, 7, 1))
    evaluate_club(date(2026, 8, 1))

    rows = list(csv.reader(io.StringIO(run("export_vip", "--format", "csv"))))

    assert rows[0] == ["customer_ref", "status", "annual_kwh", "sites", "since"]
    assert rows[1:] == [
        [single.ref, "former", "916666.666667", "1", "2026-07-01"],
        [fading.ref, "member", "1375010.229167", "1", "2026-07-01"],
        [group.ref, "former", "4629166.666668", "2", "2026-07-01"],
    ]


def test_export_vip_json(club):
    single, _fading, _group = club
    evaluate_club(date(2026, 7, 1))

    data = json.loads(run("export_vip", "--format", "json"))

    assert [set(row) for row in data] == [
        {"customer_ref", "status", "annual_kwh", "sites", "since"}
    ] * 3
    assert data[0] == {
        "customer_ref": single.ref,
        "status": "member",
        "annual_kwh": "1000000.000000",
        "sites": 1,
        "since": "2026-07-01",
    }


def test_export_vip_with_no_members_prints_the_header_only(utility):
    assert run("export_vip", "--format", "csv") == "customer_ref,status,annual_kwh,sites,since\n"
    assert json.loads(run("export_vip", "--format", "json")) == []


def test_monthly_task_evaluates_today_and_is_safe_to_repeat(club):
    first = evaluate_club_monthly.delay().get()
    again = evaluate_club_monthly.delay().get()
    assert first["created"] and not again["created"] and again["run"] == first["run"]
    assert EligibilityRun.objects.count() == 1


def test_beat_runs_the_evaluation_on_the_first_of_each_month():
    entry = BEAT_SCHEDULE["keyaccounts-evaluate-club-monthly"]
    assert entry["task"] == "voltdesk.keyaccounts.tasks.evaluate_club_monthly"
    assert entry["schedule"].day_of_month == {1}
    assert max(entry["schedule"].hour) < 6


# --- plain words ------------------------------------------------------------------------


def decision_of(customer):
    return MembershipDecision.objects.filter(membership__customer=customer).latest("pk")


def test_explain_a_group_joining(club):
    evaluate_club(date(2026, 7, 1))
    with translation.override("en"):
        text = explain_decision(decision_of(club[2]))
    assert text == (
        "Your sites together used 5,050,000 kWh in the 12 months before July 1, 2026; "
        "the bar for several sites is 5,000,000 kWh, so you joined the club."
    )


def test_explain_a_single_site_leaving_rounds_down_to_whole_kwh(club):
    evaluate_club(date(2026, 7, 1))
    evaluate_club(date(2026, 8, 1))
    with translation.override("en"):
        text = explain_decision(decision_of(club[0]))
    assert text == (
        "Your site used 916,666 kWh in the 12 months before Aug. 1, 2026; the bar for "
        "a single site is 1,000,000 kWh, so you left the club."
    )


def test_explain_mentions_flagged_sites(make_customer, add_monthly_reads):
    customer = make_customer(sites=2)
    first, silent = customer.sites.order_by("ref")
    add_monthly_reads(first, "5000000")
    evaluate_club(date(2026, 7, 1))
    decision = decision_of(customer)
    with translation.override("en"):
        assert f"too few meter readings in that period ({silent.ref})" in explain_decision(decision)
