"""An article's life: draft, review, publication, new versions, sending back, retiring.

And what agents read: only published articles valid today in the utility's time
zone, of the utility's profile or of every profile, in their published version.
"""

import datetime as dt

import pytest
from django.utils import timezone

from tests.knowledge.articles import draft, published, texts
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.knowledge import services
from voltdesk.knowledge.models import Article, ArticleText
from voltdesk.knowledge.services import KnowledgeError

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_user):
    class Team:
        editor = make_user(roles.KNOWLEDGE_EDITOR, username="dana")
        reviewer = make_user(roles.KNOWLEDGE_EDITOR, username="yossi")
        admin = make_user(roles.ADMINISTRATOR, username="boss")

    return Team


def actions(obj) -> list[tuple[str, str | None]]:
    entries = AuditEntry.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("at", "pk")
    return [(e.action, e.actor.username if e.actor else None) for e in entries]


def agent_questions(**kwargs) -> set[str]:
    return set(services.answers_for_agents(**kwargs).values_list("question", flat=True))


# The state machine


def test_a_new_article_is_a_draft_of_version_1_by_its_writer(team):
    article = draft(team.editor, change_note="callers keep asking")

    version = article.versions.get()
    assert (article.status, article.owner, article.published_version) == (
        "draft",
        team.editor,
        None,
    )
    assert (version.number, version.status, version.created_by) == (1, "draft", team.editor)
    assert version.change_note == "callers keep asking"
    assert set(version.texts.values_list("language", flat=True)) == {"en", "he", "zh-hans"}
    assert version.texts.get(language="en").keywords == (
        "estimated bill\nestimeted reading\nbill guessed"
    )
    assert actions(article) == [("knowledge.article_created", "dana")]


def test_review_then_publication_by_another_editor(team):
    article = draft(team.editor)
    version = article.versions.get()

    services.submit_for_review(team.editor, version)
    article.refresh_from_db()
    version.refresh_from_db()
    assert (article.status, version.status) == ("in_review", "in_review")

    services.approve_and_publish(team.reviewer, version)
    article.refresh_from_db()
    version.refresh_from_db()
    assert (article.status, article.published_version) == ("published", version)
    assert (version.status, version.reviewed_by) == ("published", team.reviewer)
    assert version.published_at is not None and version.reviewed_at is not None
    assert actions(version) == [("knowledge.submitted", "dana"), ("knowledge.published", "yossi")]


def test_the_author_does_not_publish_their_own_version(team):
    article = draft(team.editor)
    version = article.versions.get()
    services.submit_for_review(team.editor, version)

    with pytest.raises(KnowledgeError, match="You wrote version 1"):
        services.approve_and_publish(team.editor, version)

    article.refresh_from_db()
    assert article.status == "in_review"
    assert article.published_version is None


def test_an_administrator_may_publish_their_own_version(team):
    article = draft(team.admin)
    version = article.versions.get()
    services.submit_for_review(team.admin, version)

    services.approve_and_publish(team.admin, version)

    article.refresh_from_db()
    assert article.status == "published"


@pytest.mark.parametrize(
    "step, message",
    [
        ("submit", "Version 1 is Published; only a draft is submitted"),
        ("approve", "Version 1 is Published; only a version in review is approved"),
        ("send_back", "Version 1 is Published; only a draft or a version in review"),
    ],
)
def test_a_published_version_does_not_move_again(team, step, message):
    article = published(team.editor, team.reviewer)
    version = article.published_version
    do = {
        "submit": lambda: services.submit_for_review(team.editor, version),
        "approve": lambda: services.approve_and_publish(team.reviewer, version),
        "send_back": lambda: services.send_back(team.reviewer, version, "wrong"),
    }[step]
    audit_before = AuditEntry.objects.count()

    with pytest.raises(KnowledgeError, match=message):
        do()

    assert AuditEntry.objects.count() == audit_before
    version.refresh_from_db()
    assert version.status == "published"


def test_a_draft_is_not_approved_before_review(team):
    article = draft(team.editor)

    with pytest.raises(KnowledgeError, match="Version 1 is Draft; only a version in review"):
        services.approve_and_publish(team.reviewer, article.versions.get())


def test_publishing_needs_every_language_and_names_the_missing_one(team):
    article = draft(team.editor, texts=texts(languages=("en", "he")))
    version = article.versions.get()

    with pytest.raises(KnowledgeError, match="missing: Simplified Chinese") as refused:
        services.submit_for_review(team.editor, version)

    assert refused.value.field == "texts"
    version.refresh_from_db()
    assert version.status == "draft"


def test_a_language_present_needs_both_question_and_answer(team):
    broken = texts()
    broken["he"]["answer"] = "   "

    with pytest.raises(KnowledgeError, match="Hebrew: the answer is empty") as refused:
        draft(team.editor, texts=broken)

    assert refused.value.field == "texts.he.answer"
    assert not Article.objects.exists()


def test_a_notice_needs_its_documents_fees_steps_or_time_limits(team):
    article = draft(team.editor, kind="notice", texts=texts())  # no notice lists at all

    with pytest.raises(KnowledgeError, match="English: a one-time notice needs at least one"):
        services.submit_for_review(team.editor, article.versions.get())


def test_only_a_notice_lists_documents(team):
    with pytest.raises(KnowledgeError, match="only a one-time notice lists documents"):
        draft(team.editor, kind="answer", texts=texts(notice=True))


def test_a_new_version_supersedes_the_published_one_when_published(team):
    article = published(team.editor, team.reviewer)
    v1 = article.published_version

    v2 = services.edit_article(team.editor, article, texts(" v2"), "7 days, not 14")
    article.refresh_from_db()
    # While v2 is a draft agents keep reading v1.
    assert (v2.number, v2.status, article.status, article.published_version) == (
        2,
        "draft",
        "published",
        v1,
    )
    assert "Why is my bill estimated?" in agent_questions(language="en")

    services.submit_for_review(team.editor, v2)
    services.approve_and_publish(team.reviewer, v2)

    article.refresh_from_db()
    v1.refresh_from_db()
    assert article.published_version == v2
    assert v1.status == "superseded"
    assert agent_questions(language="en") == {"Why is my bill estimated? v2"}
    published_log = AuditEntry.objects.get(action="knowledge.published", object_id=str(v2.pk))
    assert published_log.data["superseded"] == [1]


def test_the_writer_updates_their_own_draft_in_place(team):
    article = published(team.editor, team.reviewer)
    first = services.edit_article(team.editor, article, texts(" a"), "first try")

    again = services.edit_article(team.editor, article, texts(" b"), "second try")

    assert again.pk == first.pk and again.number == 2
    assert again.change_note == "second try"
    assert again.texts.get(language="en").question == "Why is my bill estimated? b"
    assert article.versions.count() == 2
    assert [a for a, _who in actions(again)] == [
        "knowledge.version_created",
        "knowledge.draft_updated",
    ]


def test_a_draft_by_someone_else_or_a_version_in_review_blocks_a_new_version(team):
    article = published(team.editor, team.reviewer)
    v2 = services.edit_article(team.editor, article, texts(" v2"), "shorter")

    with pytest.raises(KnowledgeError, match="Version 2 is a draft by dana"):
        services.edit_article(team.reviewer, article, texts(" mine"), "my way")

    services.submit_for_review(team.editor, v2)
    with pytest.raises(KnowledgeError, match="Version 2 is in review"):
        services.edit_article(team.editor, article, texts(" v3"), "more")
    assert article.versions.count() == 2


def test_a_new_version_must_change_something_and_say_why(team):
    article = published(team.editor, team.reviewer)

    with pytest.raises(KnowledgeError, match="nothing to change"):
        services.edit_article(team.editor, article, texts(), "no change")
    with pytest.raises(KnowledgeError, match="Say what changed and why") as refused:
        services.edit_article(team.editor, article, texts(" v2"), "  ")
    assert refused.value.field == "change_note"


def test_a_version_sent_back_keeps_the_reason_and_the_next_edit_is_a_new_version(team):
    article = draft(team.editor)
    v1 = article.versions.get()
    services.submit_for_review(team.editor, v1)

    with pytest.raises(KnowledgeError, match="Say why"):
        services.send_back(team.reviewer, v1, "")
    services.send_back(team.reviewer, v1, "the fee is 50, not 40")

    v1.refresh_from_db()
    article.refresh_from_db()
    assert (v1.status, v1.reviewed_by, article.status) == ("rejected", team.reviewer, "draft")
    entry = AuditEntry.objects.get(action="knowledge.sent_back")
    assert (entry.actor, entry.data["reason"]) == (team.reviewer, "the fee is 50, not 40")

    v2 = services.edit_article(team.editor, article, texts(" fee 50"), "fee corrected")
    assert (v2.number, v2.status) == (2, "draft")


def test_a_correction_task_is_linked_to_the_version_it_led_to(team):
    article = published(team.editor, team.reviewer)

    version = services.edit_article(
        team.editor, article, texts(" fixed"), "review said wrong", correction_task_id=41
    )

    assert version.correction_task_id == 41
    with pytest.raises(KnowledgeError, match="answers correction task 41"):
        services.edit_article(
            team.editor, article, texts(" again"), "another", correction_task_id=42
        )


def test_retiring_takes_the_article_from_agents_and_a_new_version_brings_it_back(team):
    article = published(team.editor, team.reviewer)
    assert agent_questions(language="en")

    with pytest.raises(KnowledgeError, match="Say why the article is retired"):
        services.retire_article(team.editor, article, " ")
    services.retire_article(team.editor, article, "tariff abolished")

    article.refresh_from_db()
    assert article.status == "retired"
    assert agent_questions() == set()
    with pytest.raises(KnowledgeError, match="already retired"):
        services.retire_article(team.editor, article, "again")
    assert actions(article)[-1] == ("knowledge.retired", "dana")

    # The same texts may come back: a new version, reviewed and published.
    back = services.edit_article(team.editor, article, texts(), "tariff restored")
    services.submit_for_review(team.editor, back)
    services.approve_and_publish(team.reviewer, back)
    article.refresh_from_db()
    assert (article.status, article.published_version) == ("published", back)


def test_validity_dates_are_checked_and_recorded(team):
    article = draft(team.editor)

    with pytest.raises(KnowledgeError, match="stop being valid after") as refused:
        services.set_validity(team.editor, article, dt.date(2026, 7, 1), dt.date(2026, 7, 1))
    assert refused.value.field == "valid_to"

    services.set_validity(team.editor, article, dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    article.refresh_from_db()
    assert (article.valid_from, article.valid_to) == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    entry = AuditEntry.objects.get(action="knowledge.validity_set")
    assert (entry.data["valid_from"], entry.data["valid_to"]) == ("2026-07-01", "2026-10-01")


def test_each_use_by_an_agent_counts_once_and_is_not_an_edit(team):
    article = published(team.editor, team.reviewer)
    changed = article.updated_at

    services.record_article_use(article)
    services.record_article_use(article)

    article.refresh_from_db()
    assert article.usage_count == 2
    assert article.updated_at == changed


# What agents read


@pytest.mark.parametrize(
    "valid_from, valid_to, shown",
    [
        (None, None, True),
        (dt.date(2026, 7, 1), None, True),  # from today
        (dt.date(2026, 7, 2), None, False),  # from tomorrow
        (None, dt.date(2026, 7, 2), True),  # until tomorrow: today is the last day
        (None, dt.date(2026, 7, 1), False),  # until today, not included
        (dt.date(2026, 6, 1), dt.date(2026, 7, 1), False),
    ],
)
def test_agents_read_articles_valid_today(team, valid_from, valid_to, shown):
    published(team.editor, team.reviewer, valid_from=valid_from, valid_to=valid_to)

    questions = agent_questions(today=dt.date(2026, 7, 1), language="en")

    assert bool(questions) is shown


def test_today_is_the_utility_s_day(team, monkeypatch):
    """30 June 2026 22:30 UTC is already 1 July 01:30 in Jerusalem."""
    published(team.editor, team.reviewer, valid_from=dt.date(2026, 7, 1))
    late_june_utc = dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: late_june_utc)

    assert services.local_today() == dt.date(2026, 7, 1)
    assert agent_questions(language="en") == {"Why is my bill estimated?"}


def test_agents_read_the_utility_s_profile_and_every_profile_only(team):
    published(team.editor, team.reviewer, key="il-only", profile="il")
    published(team.editor, team.reviewer, key="both", profile="", texts=texts(" both"))
    published(team.editor, team.reviewer, key="cn-only", profile="cn", texts=texts(" cn"))

    keys = set(services.articles_for_agents().values_list("key", flat=True))

    assert keys == {"il-only", "both"}  # the utility of the tests is il


def test_agents_never_read_drafts_or_versions_in_review(team):
    draft(team.editor, key="draft-only", texts=texts(" draft"))
    article = published(team.editor, team.reviewer)
    v2 = services.edit_article(team.editor, article, texts(" next"), "next")
    services.submit_for_review(team.editor, v2)

    texts_read = services.answers_for_agents()

    assert {t.version_id for t in texts_read} == {article.published_version_id}
    assert texts_read.count() == 3  # en, he, zh-hans of version 1
    assert set(services.answers_for_agents(language="he").values_list("language", flat=True)) == {
        "he"
    }


def test_answers_for_agents_reads_in_a_fixed_number_of_queries(team, django_assert_num_queries):
    for n in range(5):
        published(team.editor, team.reviewer, key=f"a-{n}", texts=texts(f" {n}"))

    with django_assert_num_queries(2):  # the utility's profile, then the texts
        rows = [(t.version.article.key, t.question) for t in services.answers_for_agents()]

    assert len(rows) == 15
    assert ArticleText.objects.count() == 15
