"""The editors' desk pages: list, article with its history, new version, new article, actions.

Editors see everything and act; agents read published, valid articles only;
customer users get 403; anonymous visitors log in.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.knowledge.articles import draft, published, texts
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.knowledge import services
from voltdesk.knowledge.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    """A test client signed in as the given user (anonymous for None)."""

    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def desk(make_user, make_customer):
    class Desk:
        editor = make_user(roles.KNOWLEDGE_EDITOR, username="dana")
        reviewer = make_user(roles.KNOWLEDGE_EDITOR, username="yossi")
        agent = make_user(roles.AGENT, username="agent-7")
        customer = make_user(roles.CUSTOMER, username="acme", customer=make_customer())

    Desk.live = published(Desk.editor, Desk.reviewer, key="il-bill-estimated")
    Desk.draft = draft(
        Desk.editor,
        key="il-solar-meter",
        topic="generation",
        texts=texts(" solar", languages=("en", "he")),
    )
    return Desk


def page(client, name, **kwargs):
    return client.get(reverse(f"desk:knowledge:{name}", kwargs=kwargs))


def post(client, name, data, **kwargs):
    return client.post(reverse(f"desk:knowledge:{name}", kwargs=kwargs), data)


def keys_listed(html: str) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', html)


def text_form_data(tag="", note="why", **extra):
    data = {"change_note": note, **extra}
    for code, text in texts(tag).items():
        data[f"{code}-question"] = text["question"]
        data[f"{code}-answer"] = text["answer"]
        data[f"{code}-keywords"] = "\n".join(text["keywords"])
    return data


# The list


def test_editors_list_every_article_with_its_languages(desk, client_for):
    html = page(client_for(desk.editor), "articles").content.decode()

    assert keys_listed(html) == ["il-bill-estimated", "il-solar-meter"]
    assert 'data-language="zh-hans" data-present="0"' in html  # the solar draft lacks Chinese
    assert 'href="/desk/knowledge/new/"' in html
    assert ">Knowledge</a>" in html  # the desk's navigation


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"topic": "generation"}, ["il-solar-meter"]),
        ({"status": "published"}, ["il-bill-estimated"]),
        ({"status": "draft"}, ["il-solar-meter"]),
        ({"kind": "notice"}, []),
        ({"missing": "zh-hans"}, ["il-solar-meter"]),
        ({"missing": "he"}, []),
        ({"q": "solar-"}, ["il-solar-meter"]),  # the key
        ({"q": "ESTIMATED? SOLAR"}, ["il-solar-meter"]),  # a question, any case
        ({"q": "למה החשבון"}, ["il-bill-estimated", "il-solar-meter"]),  # in Hebrew
    ],
)
def test_the_list_filters(desk, client_for, query, expected):
    html = client_for(desk.editor).get(reverse("desk:knowledge:articles"), query).content.decode()

    assert keys_listed(html) == expected


def test_articles_awaiting_review(desk, client_for):
    version = services.edit_article(desk.editor, desk.live, texts(" v2"), "shorter")
    services.submit_for_review(desk.editor, version)

    response = client_for(desk.editor).get(
        reverse("desk:knowledge:articles"), {"status": "awaiting_review"}
    )

    assert keys_listed(response.content.decode()) == ["il-bill-estimated"]


def test_a_wrong_filter_is_named_and_left_out(desk, client_for):
    response = client_for(desk.editor).get(
        reverse("desk:knowledge:articles"), {"topic": "weather", "kind": "answer"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-topic-error"' in html and "Topic: Select a valid choice." in html
    assert keys_listed(html) == ["il-bill-estimated", "il-solar-meter"]


def test_agents_list_only_what_they_may_use(desk, client_for):
    published(desk.editor, desk.reviewer, key="il-next-year", valid_from=dt.date(2099, 1, 1))

    html = page(client_for(desk.agent), "articles").content.decode()

    assert keys_listed(html) == ["il-bill-estimated"]
    assert "/desk/knowledge/new/" not in html
    assert ">Knowledge</a>" in html


# An article


def test_the_article_shows_published_texts_side_by_side(desk, client_for):
    html = page(client_for(desk.agent), "article", pk=desk.live.pk).content.decode()

    assert "Published texts (version 1)" in html
    assert "Why is my bill estimated?" in html
    assert '<div lang="he" dir="rtl">' in html and "למה החשבון שלי לפי הערכה?" in html
    assert '<div lang="zh-hans" dir="ltr">' in html and "为什么我的电费是估算的？" in html
    assert "estimeted reading" in html  # how callers say it
    assert 'id="for-agents"' in html


def test_editors_see_the_history_who_changed_what_and_why(desk, client_for):
    v2 = services.edit_article(desk.editor, desk.live, texts(" v2"), "7 days, not 14")
    services.submit_for_review(desk.editor, v2)
    services.send_back(desk.reviewer, v2, "the deadline is 10 days")
    v3 = services.edit_article(desk.editor, desk.live, texts(" v3"), "10 days")
    services.submit_for_review(desk.editor, v3)
    services.approve_and_publish(desk.reviewer, v3)

    html = page(client_for(desk.editor), "article", pk=desk.live.pk).content.decode()

    rows = re.findall(r'<tr data-version="(\d)" data-status="(\w+)">(.*?)</tr>', html, re.S)
    assert [(n, s) for n, s, _ in rows] == [
        ("3", "published"),
        ("2", "rejected"),
        ("1", "superseded"),
    ]
    v3_row, v2_row, _v1 = (body for _n, _s, body in rows)
    assert (
        '"vd-author">dana<' in v3_row and "10 days" in v3_row and '"vd-reviewer">yossi<' in v3_row
    )
    assert "7 days, not 14" in v2_row and "Sent back:" in v2_row
    assert "the deadline is 10 days" in v2_row
    assert "Published texts (version 3)" in html


def test_agents_read_the_published_version_only(desk, client_for):
    v2 = services.edit_article(desk.editor, desk.live, texts(" NEXT"), "work in progress")

    agent = client_for(desk.agent)
    html = page(agent, "article", pk=desk.live.pk).content.decode()

    assert "NEXT" not in html and "work in progress" not in html
    assert 'data-version="2"' not in html  # the draft is not in the history either
    assert 'id="actions-title"' not in html
    assert "/edit/" not in html
    # ?version= is the editors' way to open an old version
    html = agent.get(reverse("desk:knowledge:article", args=[desk.live.pk]), {"version": v2.number})
    assert "NEXT" not in html.content.decode()
    # An article agents may not use today is not found.
    assert page(agent, "article", pk=desk.draft.pk).status_code == 404
    services.retire_article(desk.editor, desk.live, "abolished")
    assert page(agent, "article", pk=desk.live.pk).status_code == 404


def test_editors_see_the_open_draft_and_any_old_version(desk, client_for):
    services.edit_article(desk.editor, desk.live, texts(" NEXT"), "work in progress")
    editor = client_for(desk.editor)

    html = page(editor, "article", pk=desk.live.pk).content.decode()
    assert "Draft version 2, written by dana" in html and "Why is my bill estimated? NEXT" in html

    shown = editor.get(reverse("desk:knowledge:article", args=[desk.live.pk]), {"version": "9x"})
    assert shown.status_code == 200
    assert "version: there is no version 9x of this article." in shown.content.decode()


def test_a_draft_without_every_language_shows_what_is_missing(desk, client_for):
    html = page(client_for(desk.editor), "article", pk=desk.draft.pk).content.decode()

    assert 'id="not-published"' in html
    assert "Not written in this language yet." in html  # Chinese


# Writing


def test_a_new_version_from_the_page(desk, client_for):
    editor = client_for(desk.editor)
    form = page(editor, "edit", pk=desk.live.pk).content.decode()
    assert "Why is my bill estimated?</textarea>" in form  # filled from the published version

    response = post(
        editor, "edit", text_form_data(" v2", note="shorter answer", then="submit"), pk=desk.live.pk
    )

    assert response.status_code == 302
    assert response.url == reverse("desk:knowledge:article", args=[desk.live.pk])
    v2 = desk.live.versions.get(number=2)
    assert (v2.status, v2.created_by, v2.change_note) == (
        "in_review",
        desk.editor,
        "shorter answer",
    )
    assert v2.texts.get(language="en").keywords == "estimated bill\nestimeted reading\nbill guessed"


def test_a_half_written_language_is_named_on_the_form(desk, client_for):
    data = text_form_data(" v2")
    data["he-answer"] = ""

    response = post(client_for(desk.editor), "edit", data, pk=desk.live.pk)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_he-answer-error"' in html
    assert "Write the answer, or leave this language empty." in html
    assert desk.live.versions.count() == 1


def test_a_version_without_change_is_refused_on_the_form(desk, client_for):
    response = post(client_for(desk.editor), "edit", text_form_data(""), pk=desk.live.pk)

    assert response.status_code == 200
    assert "The texts are the same as version 1: nothing to change." in response.content.decode()


def test_the_correction_task_travels_from_the_link_to_the_version(desk, client_for):
    editor = client_for(desk.editor)
    form = editor.get(reverse("desk:knowledge:edit", args=[desk.live.pk]), {"task": "17"})
    assert 'name="task" value="17"' in form.content.decode()

    post(editor, "edit", text_form_data(" fixed", task="17"), pk=desk.live.pk)

    assert desk.live.versions.get(number=2).correction_task_id == 17
    bad = editor.get(reverse("desk:knowledge:edit", args=[desk.live.pk]), {"task": "abc"})
    assert "task: abc is not a correction task number" in bad.content.decode()


def test_someone_else_s_draft_is_explained_before_writing(desk, client_for):
    services.edit_article(desk.editor, desk.live, texts(" dana"), "mine")

    html = page(client_for(desk.reviewer), "edit", pk=desk.live.pk).content.decode()

    assert "Version 2 is a draft by dana" in html


def test_a_new_article(desk, client_for):
    data = text_form_data(
        note="new question from callers",
        key="il-meter-photo",
        topic="meters",
        kind="answer",
        order_types=["consultation"],
        subtypes=["bill_query"],
        profile="il",
    )
    data.pop("change_note")
    data["change_note"] = "new question from callers"

    response = post(client_for(desk.editor), "new", data)

    assert response.status_code == 302
    article = Article.objects.get(key="il-meter-photo")
    assert (article.status, article.topic, article.owner) == ("draft", "meters", desk.editor)
    assert article.order_types == ["consultation"]
    assert article.versions.get().change_note == "new question from callers"


def test_a_new_article_with_a_taken_key_is_named(desk, client_for):
    data = text_form_data(key="il-bill-estimated", topic="meters", kind="answer")

    response = post(client_for(desk.editor), "new", data)

    assert response.status_code == 200
    assert "An article with the key il-bill-estimated exists." in response.content.decode()


# Moving versions


def test_submit_approve_by_another_editor_and_the_author_refused(desk, client_for):
    version = services.edit_article(desk.editor, desk.live, texts(" v2"), "shorter")
    author, reviewer = client_for(desk.editor), client_for(desk.reviewer)

    post(author, "transition", {"action": "submit", "version": "2"}, pk=desk.live.pk)
    version.refresh_from_db()
    assert version.status == "in_review"

    refused = author.post(
        reverse("desk:knowledge:transition", args=[desk.live.pk]),
        {"action": "approve", "version": "2"},
        follow=True,
    )
    assert "You wrote version 2: another editor reviews and publishes it." in (
        refused.content.decode()
    )
    assert 'id="own-review"' in refused.content.decode()

    post(reviewer, "transition", {"action": "approve", "version": "2"}, pk=desk.live.pk)
    desk.live.refresh_from_db()
    assert desk.live.published_version == version


def test_send_back_and_retire_need_a_reason(desk, client_for):
    version = services.edit_article(desk.editor, desk.live, texts(" v2"), "shorter")
    reviewer = client_for(desk.reviewer)
    target = reverse("desk:knowledge:transition", args=[desk.live.pk])

    empty = reviewer.post(target, {"action": "send_back", "version": "2"}, follow=True)
    assert "Say why the version is sent back." in empty.content.decode()
    reviewer.post(target, {"action": "send_back", "version": "2", "reason": "too long"})
    version.refresh_from_db()
    assert version.status == "rejected"

    reviewer.post(target, {"action": "retire", "reason": "tariff abolished"})
    desk.live.refresh_from_db()
    assert desk.live.status == "retired"
    html = page(reviewer, "article", pk=desk.live.pk).content.decode()
    assert 'id="retired-note"' in html and "tariff abolished" in html


def test_validity_dates_and_bad_input_on_actions(desk, client_for):
    editor = client_for(desk.editor)
    target = reverse("desk:knowledge:transition", args=[desk.live.pk])

    wrong = editor.post(
        target, {"action": "validity", "valid_from": "2026-13-01"}, follow=True
    ).content.decode()
    assert "Valid from: Enter a valid date." in wrong
    backwards = editor.post(
        target,
        {"action": "validity", "valid_from": "2026-08-01", "valid_to": "2026-07-01"},
        follow=True,
    ).content.decode()
    assert "The article must stop being valid after it starts being valid." in backwards
    unknown = editor.post(target, {"action": "submit", "version": "7"}, follow=True)
    assert "version: there is no version 7 of this article." in unknown.content.decode()
    nothing = editor.post(target, {}, follow=True)
    assert "action: choose submit, approve, send back, retire or validity." in (
        nothing.content.decode()
    )

    editor.post(target, {"action": "validity", "valid_from": "2026-08-01", "valid_to": ""})
    desk.live.refresh_from_db()
    assert (desk.live.valid_from, desk.live.valid_to) == (dt.date(2026, 8, 1), None)


# Who gets what


@pytest.mark.parametrize(
    "name, method",
    [
        ("articles", "get"),
        ("article", "get"),
        ("new", "get"),
        ("edit", "get"),
        ("transition", "post"),
    ],
)
def test_customers_are_refused_and_anonymous_visitors_log_in(desk, client_for, name, method):
    kwargs = {} if name in ("articles", "new") else {"pk": desk.live.pk}
    target = reverse(f"desk:knowledge:{name}", kwargs=kwargs)

    customer = getattr(client_for(desk.customer), method)(target)
    anonymous = getattr(client_for(None), method)(target)

    assert customer.status_code == 403
    assert "Why is my bill estimated?" not in customer.content.decode()
    assert anonymous.status_code == 302
    assert anonymous.url == f"{reverse('login')}?next={target}"


def test_agents_do_not_write_or_move_versions(desk, client_for):
    agent = client_for(desk.agent)
    audit_before = AuditEntry.objects.count()

    assert page(agent, "new").status_code == 403
    assert page(agent, "edit", pk=desk.live.pk).status_code == 403
    assert post(agent, "edit", text_form_data(" x"), pk=desk.live.pk).status_code == 403
    refused = post(agent, "transition", {"action": "retire", "reason": "x"}, pk=desk.live.pk)
    assert refused.status_code == 403

    assert AuditEntry.objects.count() == audit_before
    desk.live.refresh_from_db()
    assert desk.live.status == "published"


def test_an_unknown_article_is_not_found(desk, client_for):
    assert page(client_for(desk.editor), "article", pk=999_999).status_code == 404


# The administrator's admin


def test_the_admin_shows_articles_with_their_versions_read_only(desk, client_for):
    from django.contrib.auth.models import User

    root = client_for(User.objects.create_superuser("root", "root@example.com", "pw"))
    version = desk.live.published_version

    listing = root.get(reverse("admin:knowledge_article_changelist"), {"q": "estimated"})
    article = root.get(reverse("admin:knowledge_article_change", args=[desk.live.pk]))
    texts_page = root.get(reverse("admin:knowledge_articleversion_change", args=[version.pk]))

    assert listing.status_code == article.status_code == texts_page.status_code == 200
    assert "il-bill-estimated" in listing.content.decode()
    assert f"/desk/knowledge/{desk.live.pk}/" in article.content.decode()  # its desk page
    assert "למה החשבון שלי לפי הערכה?" in texts_page.content.decode()
    assert root.get(reverse("admin:knowledge_article_add")).status_code == 403
