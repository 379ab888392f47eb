"""Satisfaction surveys: the link, validation, recovery of low scores, results by hand."""

from datetime import date

import pytest

from tests.keyaccounts.conftest import local
from voltdesk.customers.models import Site
from voltdesk.keyaccounts import surveys as survey_service
from voltdesk.keyaccounts.models import SurveyResponse, Task
from voltdesk.keyaccounts.portfolio import assign_manager
from voltdesk.keyaccounts.surveys import SurveyError, answer_survey, send_survey, survey_results
from voltdesk.notifications.models import Message


@pytest.fixture
def member(make_customer, make_manager, join_club):
    manager = make_manager("Dana Levi")
    customer = make_customer("Ofek Ltd", email="ceo@ofek.example", language="zh-hans")
    join_club(customer, as_of=date(2026, 1, 1))
    assign_manager(customer, manager=manager)
    return customer


def test_a_survey_is_sent_with_its_link_once_per_work_order(member):
    survey = send_survey(member, context="work_order", work_order_ref="WO-17")

    assert len(survey.token) >= 32
    message = Message.objects.get(template="survey_invitation")
    assert f"/portal/survey/{survey.token}/" in message.body
    assert message.language == "zh-hans" and "WO-17" in message.body
    assert survey.manager.user.first_name == "Dana"
    assert send_survey(member, context="work_order", work_order_ref="WO-17") == survey
    assert SurveyResponse.objects.count() == 1


def test_a_survey_by_sms_when_asked(member):
    member.phone = "+972521234567"
    member.save()
    survey = send_survey(member, context="work_order", work_order_ref="WO-1", channel="sms")
    message = Message.objects.get(template="survey_invitation")
    assert message.channel == "sms" and survey.token in message.body


def test_a_channel_the_customer_cannot_be_reached_on_is_refused(member):
    with pytest.raises(SurveyError) as error:
        send_survey(member, context="work_order", work_order_ref="WO-2", channel="sms")
    assert error.value.field == "channel"
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("csat", "nps", "field"),
    [
        (0, 5, "csat"),
        (6, 5, "csat"),
        ("good", 5, "csat"),
        (True, 5, "csat"),
        (None, 5, "csat"),
        (3, -1, "nps"),
        (3, 11, "nps"),
        (3, 7.5, "nps"),
    ],
)
def test_scores_out_of_range_are_refused_naming_the_field(member, csat, nps, field):
    survey = send_survey(member, context="work_order", work_order_ref="WO-3")
    with pytest.raises(SurveyError) as error:
        answer_survey(survey.token, csat=csat, nps=nps)
    assert error.value.field == field
    assert str(error.value)  # a sentence for the form
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.csat is None


def test_the_edges_of_the_scales_are_accepted(member):
    survey = send_survey(member, context="work_order", work_order_ref="WO-4")
    answer_survey(survey.token, csat="5", nps="0", comment="  fine ")
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.comment) == (5, 0, "fine")


def test_a_survey_is_answered_once_and_a_bad_link_is_refused(member):
    survey = send_survey(member, context="work_order", work_order_ref="WO-5")
    answer_survey(survey.token, csat=4, nps=9)
    with pytest.raises(SurveyError) as error:
        answer_survey(survey.token, csat=1, nps=0)
    assert error.value.field == "token"
    survey.refresh_from_db()
    assert (survey.csat, survey.nps) == (4, 9)
    with pytest.raises(SurveyError):
        answer_survey("no-such-token", csat=4, nps=9)


@pytest.mark.parametrize(
    ("csat", "nps", "recovery"),
    [(2, 10, True), (5, 6, True), (3, 7, False), (5, 10, False)],
)
def test_a_low_score_opens_a_recovery_task_due_in_two_working_days(
    member, monkeypatch, csat, nps, recovery
):
    # Thursday 4 June 2026 in Israel: Friday and Saturday are the weekend,
    # so the 2nd working day after it is Monday 8 June.
    monkeypatch.setattr(survey_service, "local_today", lambda: date(2026, 6, 4))
    survey = send_survey(member, context="work_order", work_order_ref="WO-6")

    answer_survey(survey.token, csat=csat, nps=nps, comment="Slow")

    tasks = Task.objects.filter(kind="recovery", customer=member)
    assert tasks.exists() == recovery
    if recovery:
        task = tasks.get()
        assert task.manager == survey.manager
        assert task.due_on == date(2026, 6, 8)
        assert "Ofek Ltd" in task.title


def _answered(customer, *, nps, csat=4, sent_at=None, manager=None):
    survey = send_survey(customer, context="work_order", work_order_ref=f"WO-{_answered.n}")
    _answered.n += 1
    if nps is not None:
        answer_survey(survey.token, csat=csat, nps=nps)
    if sent_at is not None:
        SurveyResponse.objects.filter(pk=survey.pk).update(sent_at=sent_at)
    return survey


_answered.n = 100


def test_nps_and_csat_by_manager_worked_by_hand(member, make_customer, make_manager, join_club):
    # Dana: promoters 9, 10, 10; passive 8; detractor 3; one not answered.
    # NPS = 60% - 20% = 40; CSAT (5+5+4+3+1)/5 = 3.6.
    for nps, csat in [(9, 5), (10, 5), (10, 4), (8, 3), (3, 1)]:
        _answered(member, nps=nps, csat=csat)
    _answered(member, nps=None)
    # Another manager: one detractor only: NPS -100.
    other_manager = make_manager("Avi Cohen")
    other = make_customer("Other Ltd", email="o@example.com")
    join_club(other, as_of=date(2026, 1, 1))
    assign_manager(other, manager=other_manager)
    _answered(other, nps=0, csat=2)

    rows = {row["label"]: row for row in survey_results(group_by="manager")}

    dana = rows["Dana Levi"]
    assert (dana["sent"], dana["answered"]) == (6, 5)
    assert (dana["promoters"], dana["passives"], dana["detractors"]) == (3, 1, 1)
    assert dana["nps"] == 40.0
    assert dana["csat_avg"] == 3.6
    assert rows["Avi Cohen"]["nps"] == -100.0
    assert list(rows) == ["Avi Cohen", "Dana Levi"]


def test_results_by_month_follow_the_utility_time_zone(member):
    # 31 January 23:30 in Jerusalem is still January; 1 February 00:30 there is
    # 31 January 22:30 UTC, but February for the utility.
    _answered(member, nps=10, sent_at=local(2026, 1, 31, 23, 30))
    _answered(member, nps=10, sent_at=local(2026, 2, 1, 0, 30))
    _answered(member, nps=2, sent_at=local(2026, 2, 15, 12, 0))
    _answered(member, nps=10, sent_at=local(2026, 4, 1, 12, 0))  # outside the period

    rows = survey_results(group_by="month", date_from=date(2026, 1, 1), date_to=date(2026, 3, 31))

    assert [(r["key"], r["sent"], r["nps"]) for r in rows] == [
        (date(2026, 1, 1), 1, 100.0),
        (date(2026, 2, 1), 2, 0.0),
    ]
    assert rows[0]["label"] == "January 2026"


def test_results_by_region_of_the_customers_sites(member, make_area, make_customer):
    Site.objects.filter(customer=member).update(area=make_area("Haifa"))
    no_region = make_customer("Nowhere Ltd", email="n@example.com")
    _answered(member, nps=9)
    _answered(no_region, nps=1)

    rows = survey_results(group_by="region")

    assert [(r["label"], r["nps"]) for r in rows] == [("Haifa", 100.0), ("No region", -100.0)]


def test_an_unknown_grouping_is_refused(utility):
    with pytest.raises(ValueError):
        survey_results(group_by="weather")
