"""Account managers' portfolios: balanced assignment, overrides with history, leavers, letters."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.customers.models import Site
from voltdesk.keyaccounts.models import (
    EligibilityRun,
    Meeting,
    PortfolioAssignment,
    Task,
)
from voltdesk.keyaccounts.portfolio import (
    PortfolioError,
    apply_membership_changes,
    assign_manager,
    current_manager,
    portfolio_of,
    portfolio_sizes,
)
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import render_message

JOIN = date(2026, 7, 1)


@pytest.fixture
def regions(make_area):
    return {"north": make_area("North"), "south": make_area("South"), "east": make_area("East")}


def place(customer, area):
    Site.objects.filter(customer=customer).update(area=area)
    return customer


def test_new_members_go_to_the_least_loaded_manager_of_their_region(
    regions, make_customer, make_manager, join_club
):
    # Given three managers: two in the North (one already holding a member), one in the South.
    north_busy = make_manager("Noa North", region=regions["north"].region)
    north_free = make_manager("Nir North", region=regions["north"].region)
    south = make_manager("Sara South", region=regions["south"].region)
    old = place(make_customer("Old member"), regions["north"])
    join_club(old, as_of=date(2026, 6, 1))
    assign_manager(old, manager=north_busy)
    # When four customers join in one run
    first = place(make_customer("First"), regions["north"])
    second = place(make_customer("Second"), regions["north"])
    eastern = place(make_customer("Eastern"), regions["east"])  # no manager in the East
    nowhere = make_customer("No area")  # sites without an area: no region
    for customer in (first, second, eastern, nowhere):
        join_club(customer, as_of=JOIN)
    apply_membership_changes(EligibilityRun.objects.get(as_of=JOIN))

    # Then: the free North manager first; then a tie (1 each) goes to the one registered
    # first; the East has no manager, so the least loaded overall (South, 0); the customer
    # without a region too: North-free and South have 1 each, the tie goes to North-free.
    assert current_manager(first) == north_free
    assert current_manager(second) == north_busy
    assert current_manager(eastern) == south
    assert current_manager(nowhere) == north_free
    assert portfolio_sizes() == {north_busy.pk: 2, north_free.pk: 2, south.pk: 1}


def test_inactive_managers_take_no_new_members(make_customer, make_manager, join_club):
    make_manager("Away", active=False)
    active = make_manager("Here")
    customer = make_customer()
    join_club(customer, as_of=JOIN)
    apply_membership_changes(EligibilityRun.objects.get(as_of=JOIN))
    assert current_manager(customer) == active


def test_a_joiner_is_welcomed_in_its_language_and_the_manager_is_told(
    make_customer, make_manager, join_club
):
    manager = make_manager("Dana Levi", email="dana@utility.example", phone="+972501112233")
    customer = make_customer("Ofek Ltd", email="ceo@ofek.example", language="he")
    decision = join_club(customer, as_of=JOIN, annual_kwh="1234567.5")

    apply_membership_changes(decision.run)

    letter = Message.objects.get(template="club_welcome")
    assert (letter.customer, letter.address, letter.language) == (
        customer,
        "ceo@ofek.example",
        "he",
    )
    assert "Dana Levi" in letter.body
    assert "+972501112233" in letter.body
    assert "dana@utility.example" in letter.body
    assert "1,234,567.50" in letter.body
    assert "1 ביולי 2026" in letter.body  # the as-of date, in Hebrew
    note = Message.objects.get(template="club_manager_new_member")
    assert note.address == "dana@utility.example"
    assert note.customer is None  # a staff note is not part of the customer's mail
    assert "Ofek Ltd" in note.subject
    welcome_call = Task.objects.get(customer=customer, kind="welcome")
    assert welcome_call.manager == manager and welcome_call.done_at is None
    meeting = Meeting.objects.get(customer=customer)
    assert meeting.manager == manager and meeting.status == "to_schedule"


def test_running_the_same_changes_again_sends_nothing_twice(
    make_customer, make_manager, join_club, leave_club
):
    make_manager("Dana Levi", email="dana@utility.example")
    joiner = make_customer("Joiner", email="j@example.com")
    leaver = make_customer("Leaver", email="l@example.com")
    join_club(leaver, as_of=date(2026, 6, 1))
    assign_manager(leaver)
    join_club(joiner, as_of=JOIN)
    leave_club(leaver, as_of=JOIN)
    run = EligibilityRun.objects.get(as_of=JOIN)

    apply_membership_changes(run)
    counts = (
        Message.objects.count(),
        PortfolioAssignment.objects.count(),
        Task.objects.count(),
        Meeting.objects.count(),
        AuditEntry.objects.count(),
    )
    apply_membership_changes(run)

    assert counts == (
        Message.objects.count(),
        PortfolioAssignment.objects.count(),
        Task.objects.count(),
        Meeting.objects.count(),
        AuditEntry.objects.count(),
    )
    assert Message.objects.filter(template="club_welcome").count() == 1
    assert Message.objects.filter(template="club_exit").count() == 1


def test_a_supervisor_override_keeps_the_history(make_customer, make_manager, make_user, join_club):
    first = make_manager("First Manager")
    second = make_manager("Second Manager", email="second@utility.example")
    supervisor = make_user(roles.SUPERVISOR)
    customer = make_customer("Moved Ltd", email="moved@example.com")
    join_club(customer, as_of=JOIN)
    apply_membership_changes(EligibilityRun.objects.get(as_of=JOIN))
    assert current_manager(customer) == first

    assign_manager(customer, manager=second, actor=supervisor, reason="Speaks Chinese")

    history = list(PortfolioAssignment.objects.filter(customer=customer).order_by("start", "pk"))
    assert [(a.manager, a.end is None) for a in history] == [(first, False), (second, True)]
    assert history[1].reason == "Speaks Chinese" and history[1].assigned_by == supervisor
    assert current_manager(customer) == second
    assert list(portfolio_of(first)) == []
    assert [m.customer for m in portfolio_of(second)] == [customer]
    # Open work follows the member.
    assert set(Task.objects.filter(customer=customer).values_list("manager", flat=True)) == {
        second.pk
    }
    assert Meeting.objects.get(customer=customer).manager == second
    assert Message.objects.filter(template="club_manager_changed", customer=customer).exists()
    entry = AuditEntry.objects.get(action="club.manager_reassigned")
    assert entry.actor == supervisor and entry.data["previous_manager"] == first.pk
    # Naming the current manager again changes nothing.
    assert assign_manager(customer, manager=second, actor=supervisor) == history[1]
    assert PortfolioAssignment.objects.filter(customer=customer).count() == 2


def test_only_members_get_managers_and_only_active_managers_take_them(
    make_customer, make_manager, join_club
):
    away = make_manager("Away", active=False)
    make_manager("Here")
    outsider = make_customer()
    with pytest.raises(PortfolioError):
        assign_manager(outsider)
    member = make_customer()
    join_club(member, as_of=JOIN)
    with pytest.raises(PortfolioError):
        assign_manager(member, manager=away)
    assert not PortfolioAssignment.objects.filter(customer__in=[outsider, member]).exists()


@pytest.mark.parametrize(
    ("language", "as_of_text"),
    [("en", "Jan. 1, 2027"), ("he", "1 בינואר 2027"), ("zh-hans", "2027年1月1日")],
)
def test_a_leaver_drops_out_and_gets_the_exit_letter_with_the_figures(
    make_customer, make_manager, join_club, leave_club, language, as_of_text
):
    manager = make_manager("Dana Levi")
    customer = make_customer("Shrinking Ltd", email="s@example.com", language=language)
    join_club(customer, as_of=JOIN)
    apply_membership_changes(EligibilityRun.objects.get(as_of=JOIN))
    assert [m.customer for m in portfolio_of(manager)] == [customer]

    decision = leave_club(customer, as_of=date(2027, 1, 1), annual_kwh="999999.99")
    apply_membership_changes(decision.run)

    assert list(portfolio_of(manager)) == []
    assert current_manager(customer) is None
    assignment = PortfolioAssignment.objects.get(customer=customer)
    assert assignment.end is not None  # the history stays
    assert not Task.objects.filter(customer=customer, done_at__isnull=True).exists()
    assert not Meeting.objects.filter(customer=customer).exclude(status="cancelled").exists()
    letter = Message.objects.get(template="club_exit")
    assert letter.language == language and letter.customer == customer
    assert "999,999.99" in letter.body  # the customer's consumption
    assert "1,000,000" in letter.body  # the bar
    assert as_of_text in letter.body  # the as-of date in the customer's language
    assert portfolio_sizes() == {manager.pk: 0}


def test_a_member_without_any_address_does_not_stop_the_run(make_customer, make_manager, join_club):
    make_manager()
    customer = make_customer("Silent Ltd")  # no e-mail, no phone
    decision = join_club(customer, as_of=JOIN)
    apply_membership_changes(decision.run)
    assert current_manager(customer) is not None
    assert AuditEntry.objects.filter(action="club.letter_undeliverable").count() == 1


_PAYLOADS = {
    "club_welcome": {
        "name": "Ofek",
        "annual_kwh": Decimal("1500000"),
        "as_of": JOIN,
        "manager_name": "Dana",
        "manager_phone": "+972501112233",
        "manager_email": "d@example.com",
    },
    "club_exit": {
        "name": "Ofek",
        "annual_kwh": Decimal("900000"),
        "threshold_kwh": Decimal("1000000"),
        "as_of": JOIN,
        "months": 12,
        "site_count": 1,
    },
    "club_manager_changed": {"name": "Ofek", "manager_name": "Dana", "manager_phone": "1"},
    "meeting_invitation": {
        "name": "Ofek",
        "when": datetime(2027, 3, 10, 8, tzinfo=UTC),
        "tz": "Asia/Jerusalem",
        "location": "HQ",
        "rescheduled": False,
        "ics_url": "/x.ics",
        "manager_name": "Dana",
    },
    "meeting_cancelled": {
        "name": "Ofek",
        "when": datetime(2027, 3, 10, 8, tzinfo=UTC),
        "tz": "Asia/Jerusalem",
        "ics_url": "/x.ics",
        "manager_name": "Dana",
    },
    "survey_invitation": {"name": "Ofek", "context": "meeting", "survey_url": "/portal/survey/t/"},
}


@pytest.mark.parametrize("language", ["en", "he", "zh-hans"])
@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("template", sorted(_PAYLOADS))
def test_every_club_letter_renders_in_every_language(utility, template, channel, language):
    rendered = render_message(
        channel=channel, template=template, language=language, context=_PAYLOADS[template]
    )
    assert rendered.body.strip()
    assert "{" not in rendered.body and "&amp;" not in rendered.body
    if channel == "email":
        assert rendered.subject and "\n" not in rendered.subject
    if template.startswith("meeting"):
        assert "10:00" in rendered.body  # 08:00 UTC in Jerusalem's time
