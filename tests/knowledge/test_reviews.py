"""Answer-quality review: sampling, verdicts, correction tasks, error rates and the pages.

The sampled period is November 2026 in the utility's time zone (Asia/Jerusalem).
"""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.template import engines
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from tests.knowledge.quality_helpers import answer_texts, at, handled_order, publish
from voltdesk.core import roles
from voltdesk.core.models import UserProfile
from voltdesk.core.services import utility_held
from voltdesk.keyaccounts.models import SurveyResponse
from voltdesk.keyaccounts.tasks_service import add_working_days, local_today
from voltdesk.knowledge import reviews, services
from voltdesk.knowledge.models import AnswerReview, CorrectionTask
from voltdesk.notifications.models import Message

NOV_1, NOV_30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


@pytest.fixture
def client_for():
    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def team(make_user):
    agent1 = make_user(roles.AGENT, username="agent-dana")
    agent2 = make_user(roles.AGENT, username="agent-omer")
    supervisor = make_user(roles.SUPERVISOR, username="supervisor-rina")
    editor = make_user(roles.KNOWLEDGE_EDITOR, username="editor-yael")
    editor.email = "yael@example.com"
    editor.save()
    UserProfile.objects.create(user=editor, language="he")
    approver = make_user(roles.KNOWLEDGE_EDITOR, username="editor-avi")
    return SimpleNamespace(
        agent1=agent1, agent2=agent2, supervisor=supervisor, editor=editor, approver=approver
    )


@pytest.fixture
def november(team, make_customer):
    """Orders handled around November: which ones a sample may and may not take."""
    c = make_customer(name="Complaining Co")
    s = make_customer(name="Survey Co")
    o = {}
    o["plain1"] = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    # No assignee: whoever resolved it handled it.
    o["plain2"] = handled_order(resolved_at=at(2026, 11, 10), resolver=team.agent2)
    for n in range(3, 7):
        o[f"plain{n}"] = handled_order(resolved_at=at(2026, 11, n + 10), assignee=team.agent1)
    o["complaint"] = handled_order(
        order_type="complaint", closed_at=at(2026, 11, 12), assignee=team.agent2
    )
    # Answered on the 3rd; the same customer complained on the 6th (within 7 days).
    o["complained_about"] = handled_order(
        resolved_at=at(2026, 11, 3, 12),
        created_at=at(2026, 11, 3, 9),
        customer=c,
        assignee=team.agent1,
    )
    o["the_complaint"] = handled_order(
        order_type="complaint",
        created_at=at(2026, 11, 6),
        customer=c,
        status="accepted",
        resolved_at=None,
    )
    o["reopened"] = handled_order(
        created_at=at(2026, 11, 2, 8),
        reopened_at=at(2026, 11, 4),
        resolved_at=at(2026, 11, 8),
        assignee=team.agent2,
    )
    o["unhappy"] = handled_order(resolved_at=at(2026, 11, 20), satisfaction=1, assignee=team.agent1)
    o["unhappy_survey"] = handled_order(
        resolved_at=at(2026, 11, 21), customer=s, assignee=team.agent1
    )
    SurveyResponse.objects.create(
        customer=s,
        context="work_order",
        work_order_ref=o["unhappy_survey"].number,
        token="t-unhappy",
        csat=2,
    )
    # A happy survey does not target its order.
    o["happy_survey"] = handled_order(resolved_at=at(2026, 11, 22), customer=s)
    SurveyResponse.objects.create(
        customer=s,
        context="work_order",
        work_order_ref=o["happy_survey"].number,
        token="t-happy",
        csat=5,
    )
    # Outside: resolved 31 October 23:30 local, still open, cancelled, reviewed already.
    o["october"] = handled_order(resolved_at=at(2026, 10, 31, 23, 30), satisfaction=1)
    o["open"] = handled_order(created_at=at(2026, 11, 9), status="accepted", order_type="complaint")
    o["cancelled"] = handled_order(
        resolved_at=at(2026, 11, 9), status="cancelled", order_type="complaint"
    )
    o["reviewed"] = handled_order(resolved_at=at(2026, 11, 9), satisfaction=1)
    AnswerReview.objects.create(work_order=o["reviewed"], sample_reason="random")
    return o


def _sampled(orders):
    by_pk = {order.pk: name for name, order in orders.items()}
    return {
        by_pk[r.work_order_id]: r
        for r in AnswerReview.objects.exclude(work_order=orders["reviewed"])
    }


# Sampling


def test_sample_takes_every_targeted_order_and_random_ones_of_the_rest(team, november):
    result = reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 3, reviews.SAMPLE_REASONS)

    sampled = _sampled(november)
    reasons = {name: r.sample_reason for name, r in sampled.items()}
    assert {k: v for k, v in reasons.items() if v != "random"} == {
        "complaint": "complaint",
        "complained_about": "complaint",
        "reopened": "reopened",
        "unhappy": "low_satisfaction",
        "unhappy_survey": "low_satisfaction",
    }
    randoms = {name for name, reason in reasons.items() if reason == "random"}
    assert len(randoms) == 3
    assert randoms <= {"plain1", "plain2", "plain3", "plain4", "plain5", "plain6", "happy_survey"}
    assert result.by_reason == {"random": 3, "complaint": 2, "reopened": 1, "low_satisfaction": 2}
    assert result.total == 8
    for outside in ("october", "open", "cancelled", "the_complaint"):
        assert outside not in sampled
    # Who handled it: the assignee, else who resolved it; when: the last resolve.
    if "plain2" in sampled:
        assert sampled["plain2"].agent == team.agent2
    assert sampled["reopened"].agent == team.agent2
    assert sampled["reopened"].handled_at == at(2026, 11, 8)
    assert all(r.verdict == "" and r.sampled_by == team.supervisor for r in sampled.values())


def test_a_second_sample_never_takes_an_order_again(team, november):
    reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 3, reviews.SAMPLE_REASONS)

    # 7 plain-looking orders, 3 taken: 4 left, however many are asked for.
    again = reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 50, reviews.SAMPLE_REASONS)

    assert again.by_reason == {"random": 4, "complaint": 0, "reopened": 0, "low_satisfaction": 0}
    assert AnswerReview.objects.filter(work_order=november["reviewed"]).count() == 1
    assert AnswerReview.objects.count() == 1 + 8 + 4  # each order once


def test_sample_of_targeted_reasons_only_takes_no_random_orders(team, november):
    result = reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 0, ["reopened"])

    assert result.by_reason == {"reopened": 1}
    assert set(_sampled(november)) == {"reopened"}


def test_sampling_is_a_fixed_number_of_statements_whatever_the_orders(team, november):
    def statements(period_start, period_end):
        with CaptureQueriesContext(connection) as ctx:
            reviews.draw_sample(
                team.supervisor, period_start, period_end, 5, reviews.SAMPLE_REASONS
            )
        return len(ctx.captured_queries)

    small = statements(NOV_1, NOV_30)  # 17 orders in the period
    for n in range(40):
        handled_order(
            resolved_at=at(2026, 9, 1 + n % 28, 9), assignee=team.agent1, satisfaction=n % 5 + 1
        )

    assert statements(dt.date(2026, 9, 1), dt.date(2026, 9, 30)) == small


def test_sample_refuses_bad_input_naming_the_field(team):
    with pytest.raises(reviews.ReviewError) as err:
        reviews.draw_sample(team.supervisor, NOV_30, NOV_1, 5, ["random"])
    assert err.value.field == "period_end"
    with pytest.raises(reviews.ReviewError) as err:
        reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 0, ["random"])
    assert err.value.field == "size"
    with pytest.raises(reviews.ReviewError) as err:
        reviews.draw_sample(team.supervisor, NOV_1, NOV_30, 5, ["gossip"])
    assert err.value.field == "reasons"


# Verdicts and corrections


@pytest.fixture
def article(team):
    return publish(team.editor, team.approver, key="il-bill-estimated-reading")


def test_wrong_answer_opens_a_correction_task_for_the_owner_and_mails_them(team, article):
    order = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)

    review = reviews.record_review(
        team.supervisor,
        order,
        article,
        "wrong",
        "An estimated reading is corrected on the next actual reading.",
        "Agent said to pay twice.",
    )

    assert review.sample_reason == "chosen" and review.agent == team.agent1
    assert review.topic == "billing_payments"
    task = CorrectionTask.objects.get()
    assert task.review == review and task.article == article and task.owner == team.editor
    assert task.status == "open"
    assert task.due_date == add_working_days(local_today(), 5)
    mail = Message.objects.get(template="knowledge_correction_task")
    assert mail.address == "yael@example.com" and mail.channel == "email"
    assert mail.language == "he"  # the owner's own language
    assert "il-bill-estimated-reading" in mail.subject
    assert "An estimated reading is corrected" in mail.body


def test_partly_right_opens_a_task_correct_and_articleless_ones_do_not(team, article):
    partly = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    right = handled_order(resolved_at=at(2026, 11, 6), assignee=team.agent1)
    no_article = handled_order(resolved_at=at(2026, 11, 7), assignee=team.agent1)

    reviews.record_review(team.supervisor, partly, article, "partly", "Also mention the fee.", "")
    reviews.record_review(team.supervisor, right, article, "correct", "", "")
    reviews.record_review(team.supervisor, no_article, None, "wrong", "Call 103 for faults.", "")

    assert CorrectionTask.objects.count() == 1
    assert CorrectionTask.objects.get().review.work_order == partly


def test_review_refusals_name_the_field(team, article):
    order = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    open_order = handled_order(created_at=at(2026, 11, 5), status="accepted")

    with pytest.raises(reviews.ReviewError) as err:
        reviews.record_review(team.supervisor, order, article, "wrong", "  ", "")
    assert err.value.field == "correct_answer"
    with pytest.raises(reviews.ReviewError) as err:
        reviews.record_review(team.supervisor, order, article, "maybe", "", "")
    assert err.value.field == "verdict"
    with pytest.raises(reviews.ReviewError) as err:
        reviews.record_review(team.supervisor, open_order, article, "correct", "", "")
    assert err.value.field == "work_order"
    with pytest.raises(reviews.ReviewError) as err:  # nobody reviews their own work
        reviews.record_review(team.agent1, order, article, "correct", "", "")
    assert err.value.field == "work_order"

    reviews.record_review(team.supervisor, order, article, "correct", "", "")
    with pytest.raises(reviews.ReviewError) as err:
        reviews.record_review(team.supervisor, order, article, "wrong", "x", "")
    assert err.value.field == "work_order"
    assert AnswerReview.objects.count() == 1


def _review_links_html(article, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string('{% include "knowledge/review_links.html" %}')
    return template.render({"article": article}, request)


def test_publishing_the_correction_links_the_review_to_the_version(team, article):
    order = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    review = reviews.record_review(
        team.supervisor, order, article, "wrong", "Corrected on the next actual reading.", ""
    )
    task = CorrectionTask.objects.get()
    # Before the correction: the task shows as "not yet corrected".
    assert "not yet corrected" in _review_links_html(article, team.editor)

    version = services.edit_article(
        team.editor, article, answer_texts("corrected"), "Per review", correction_task_id=task.pk
    )
    services.submit_for_review(team.editor, version)
    services.approve_and_publish(team.approver, version)
    reviews.complete_corrections_of(team.approver, version)  # idempotent if publishing did it

    task.refresh_from_db()
    assert task.status == "done" and task.resolved_version == version and task.done_at
    rows = reviews.reviews_by_version(article)
    assert [(row["version"].number, [t.review for t in row["tasks"]]) for row in rows] == [
        (2, [review])
    ]
    html = _review_links_html(article, team.editor)
    assert f'data-version="2" data-work-order="{order.number}"' in html
    assert "Corrected on the next actual reading." in html
    # Supervisors go from there to the review itself.
    assert reverse("desk:knowledge:review", args=[order.pk]) in _review_links_html(
        article, team.supervisor
    )
    assert reverse("desk:knowledge:review", args=[order.pk]) not in html  # editors read it here
    # Agents do not read colleagues' reviews, not even on the article page.
    assert order.number not in _review_links_html(article, team.agent2)


def test_owner_marks_done_with_the_published_version_or_dismisses(team, article, client_for):
    first = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    second = handled_order(resolved_at=at(2026, 11, 6), assignee=team.agent1)
    reviews.record_review(team.supervisor, first, article, "wrong", "Right answer one.", "")
    reviews.record_review(team.supervisor, second, article, "partly", "Right answer two.", "")
    one, two = CorrectionTask.objects.order_by("pk")
    editor = client_for(team.editor)
    url = reverse("desk:knowledge:corrections")

    page = editor.get(url)
    assert page.status_code == 200
    assert "Right answer one." in page.content.decode()
    # Nothing published since the task was opened: refused, with the reason.
    refused = editor.post(url, {"task": one.pk, "action": "done"})
    assert refused.status_code == 400
    with translation.override("he"):  # the editor reads the desk in Hebrew
        reason = gettext(
            "Publish a corrected version of the article first, then mark the task done."
        )
    assert escape(reason) in refused.content.decode()
    assert editor.post(url, {"task": two.pk, "action": "dismiss", "note": ""}).status_code == 400

    version = services.edit_article(team.editor, article, answer_texts("fixed"), "From review")
    services.submit_for_review(team.editor, version)
    services.approve_and_publish(team.approver, version)
    assert editor.post(url, {"task": one.pk, "action": "done"}).status_code == 302
    assert (
        editor.post(
            url, {"task": two.pk, "action": "dismiss", "note": "The article says it; misread."}
        ).status_code
        == 302
    )

    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.status, one.resolved_version) == ("done", version)
    version.refresh_from_db()
    assert version.correction_task_id == one.pk  # the version now names the task it closed
    assert (two.status, two.resolution_note) == ("dismissed", "The article says it; misread.")


def test_an_editor_cannot_close_another_owners_task(team, article, make_user, client_for):
    order = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    reviews.record_review(team.supervisor, order, article, "wrong", "Right.", "")
    task = CorrectionTask.objects.get()
    other = make_user(roles.KNOWLEDGE_EDITOR)

    response = client_for(other).post(
        reverse("desk:knowledge:corrections"), {"task": task.pk, "action": "dismiss", "note": "x"}
    )

    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == "open"
    assert (
        "Right."
        not in client_for(other).get(reverse("desk:knowledge:corrections")).content.decode()
    )


# Error rates


@pytest.fixture
def reviewed(team):
    """Reviews of September–November 2026 (and two just outside), by topic, agent and month."""
    rows = [
        # handled at, topic, agent, verdict
        (at(2026, 9, 10), "billing_payments", team.agent1, "correct"),
        (at(2026, 9, 20), "billing_payments", team.agent1, "wrong"),
        (at(2026, 10, 5), "billing_payments", team.agent2, "partly"),
        (at(2026, 10, 6), "meters", team.agent2, "correct"),
        (at(2026, 10, 7), "meters", team.agent1, "correct"),
        (at(2026, 11, 2), "meters", team.agent2, "wrong"),
        (at(2026, 11, 30, 23), "", team.agent1, "correct"),  # last evening: in
        (at(2026, 12, 1, 0, 30), "meters", team.agent1, "wrong"),  # out
        (at(2026, 8, 31, 23, 59), "meters", team.agent2, "wrong"),  # out
        (at(2026, 10, 8), "meters", team.agent2, ""),  # not reviewed yet: out
    ]
    for handled_at, topic, agent, verdict in rows:
        AnswerReview.objects.create(
            work_order=handled_order(resolved_at=handled_at),
            handled_at=handled_at,
            topic=topic,
            agent=agent,
            verdict=verdict,
            reviewed_at=at(2026, 12, 2) if verdict else None,
            sample_reason="random",
        )


def _table(rows):
    return {row.key: (row.reviewed, row.wrong, row.partly, str(row.error_rate)) for row in rows}


def test_error_rates_by_topic(reviewed):
    # billing: 3 reviewed, 1 wrong + 1 partly = 2/3 = 66.7 %; meters: 1/3 = 33.3 %; none: 0/1.
    rows = reviews.error_rates(dt.date(2026, 9, 1), NOV_30, by="topic")

    assert _table(rows) == {
        "billing_payments": (3, 1, 1, "66.7"),
        "meters": (3, 1, 0, "33.3"),
        "": (1, 0, 0, "0.0"),
    }
    assert {row.key: row.label for row in rows}[""] == "No article"


def test_error_rates_by_agent(team, reviewed):
    # Dana: Sep 10, Sep 20 (wrong), Oct 7, Nov 30 = 1/4 = 25.0 %;
    # Omer: Oct 5 (partly), Oct 6, Nov 2 (wrong) = 2/3 = 66.7 %.
    rows = reviews.error_rates(dt.date(2026, 9, 1), NOV_30, by="agent")

    assert _table(rows) == {team.agent1.pk: (4, 1, 0, "25.0"), team.agent2.pk: (3, 1, 1, "66.7")}


def test_error_rates_by_month_in_the_utilitys_calendar(reviewed):
    # Sep: 1 wrong of 2 = 50.0 %; Oct: 1 partly of 3 = 33.3 %; Nov: 1 wrong of 2 = 50.0 %.
    rows = reviews.error_rates(dt.date(2026, 9, 1), NOV_30, by="month")

    assert _table(rows) == {
        dt.date(2026, 9, 1): (2, 1, 0, "50.0"),
        dt.date(2026, 10, 1): (3, 0, 1, "33.3"),
        dt.date(2026, 11, 1): (2, 1, 0, "50.0"),
    }


def test_error_rates_are_one_query(reviewed):
    for by in reviews.BY:
        with utility_held(), CaptureQueriesContext(connection) as ctx:
            reviews.error_rates(dt.date(2026, 9, 1), NOV_30, by=by)
        assert len(ctx.captured_queries) == 1, by


# Pages


def test_supervisor_draws_a_sample_and_reviews_from_the_queue(team, november, article, client_for):
    supervisor = client_for(team.supervisor)
    url = reverse("desk:knowledge:reviews")

    drawn = supervisor.post(
        url,
        {
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
            "size": "2",
            "reasons": ["random", "complaint", "reopened", "low_satisfaction"],
        },
    )
    assert drawn.status_code == 302
    page = supervisor.get(url).content.decode()
    assert "7 work orders added to the review queue" in page  # 5 targeted + 2 random
    assert november["reopened"].number in page

    target = reverse("desk:knowledge:review", args=[november["reopened"].pk])
    detail = supervisor.get(target)
    assert detail.status_code == 200
    assert "il-bill-estimated-reading" in detail.content.decode()  # offered in the datalist
    bad = supervisor.post(target, {"article": "no-such-key", "verdict": "wrong"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "No article has the key no-such-key." in html
    done = supervisor.post(
        target,
        {"article": article.key, "verdict": "wrong", "correct_answer": "Call 103.", "note": ""},
    )
    assert done.status_code == 302
    review = AnswerReview.objects.get(work_order=november["reopened"])
    assert (review.verdict, review.article, review.reviewer) == ("wrong", article, team.supervisor)
    assert CorrectionTask.objects.filter(review=review, owner=team.editor).exists()
    assert 'data-verdict="wrong"' in supervisor.get(target).content.decode()


def test_reviews_page_shows_the_error_rates_and_refuses_bad_dates(team, reviewed, client_for):
    supervisor = client_for(team.supervisor)
    url = reverse("desk:knowledge:reviews")

    page = supervisor.get(url, {"date_from": "2026-09-01", "date_to": "2026-11-30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-rates="topic"' in html and "66.7%" in html and "25.0%" in html
    assert '"values": [50.0, 33.3, 50.0]' in html  # the chart's figures, by month

    bad = supervisor.get(url, {"date_from": "2026-11-30", "date_to": "2026-09-01"})
    assert bad.status_code == 400
    assert "The end of the period is before its start." in bad.content.decode()
    assert supervisor.get(url, {"date_from": "yesterday", "date_to": ""}).status_code == 400
    refused = supervisor.post(url, {"period_start": "2026-11-01", "period_end": "2026-11-30"})
    assert refused.status_code == 400
    assert AnswerReview.objects.filter(verdict="").count() == 1  # nothing sampled


@pytest.mark.parametrize(
    "name, args",
    [
        ("desk:knowledge:reviews", []),
        ("desk:knowledge:review", ["order"]),
        ("desk:knowledge:corrections", []),
    ],
)
def test_agents_and_customers_cannot_open_reviews(
    name, args, team, make_user, make_customer, client_for
):
    order = handled_order(resolved_at=at(2026, 11, 5), assignee=team.agent1)
    reviews.record_review(team.supervisor, order, None, "wrong", "Secret verdict.", "")
    url = reverse(name, args=[order.pk] if args else [])
    customer = make_user(roles.CUSTOMER, customer=make_customer())

    for user in (team.agent1, team.agent2, customer):
        response = client_for(user).get(url)
        assert response.status_code == 403
        assert "Secret verdict." not in response.content.decode()
        assert client_for(user).post(url, {"verdict": "correct"}).status_code == 403
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert AnswerReview.objects.get().verdict == "wrong"


def test_review_page_of_an_unknown_order_is_not_found(team, client_for):
    assert (
        client_for(team.supervisor).get(reverse("desk:knowledge:review", args=[987654])).status_code
        == 404
    )
