"""Loading articles from the JSON format: all or nothing, idempotent, clear about bad input."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.knowledge.articles import item, published, texts, three_articles
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.demo.services import _seed_knowledge
from voltdesk.knowledge import services
from voltdesk.knowledge.models import Article, ArticleVersion
from voltdesk.knowledge.services import KnowledgeError, load_articles

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(make_user):
    return make_user(roles.KNOWLEDGE_EDITOR, username="editor")


def write(tmp_path, data, name="articles.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_file_of_three_articles_is_published_as_imported(editor, tmp_path):
    result = load_articles(write(tmp_path, three_articles()), actor=editor, profile="il")

    assert sorted(result.created) == ["il-bill-estimated", "il-late-payment", "il-new-connection"]
    assert (result.updated, result.unchanged) == ([], [])
    for article in Article.objects.all():
        version = article.published_version
        assert (article.status, article.profile, article.owner) == ("published", "il", editor)
        assert (version.number, version.status, version.change_note) == (1, "published", "imported")
        assert version.created_by == editor
    notice = Article.objects.get(key="il-new-connection")
    he = notice.published_version.texts.get(language="he")
    assert (notice.kind, notice.business_kind, notice.order_types) == (
        "notice",
        "new_connection",
        ["business"],
    )
    assert he.notice["time_limits"] == ["5 working days"]
    assert he.keywords == "חשבון לפי הערכה\nקריאת מונה"
    assert services.answers_for_agents().count() == 9  # 3 articles x 3 languages


def test_loading_the_same_file_again_changes_nothing(editor):
    load_articles(three_articles(), actor=editor)
    versions, audit = ArticleVersion.objects.count(), AuditEntry.objects.count()

    result = load_articles(three_articles(), actor=editor)

    assert len(result.unchanged) == 3 and not result.created and not result.updated
    assert (ArticleVersion.objects.count(), AuditEntry.objects.count()) == (versions, audit)


def test_changed_texts_become_a_new_published_version(editor):
    load_articles(three_articles(), actor=editor)
    changed = three_articles()
    changed[1]["texts"]["en"]["answer"] = "Pay within 14 days; after that the late fee is 0.05 %."

    result = load_articles(changed, actor=editor)

    assert result.updated == ["il-late-payment"] and len(result.unchanged) == 2
    article = Article.objects.get(key="il-late-payment")
    v1, v2 = article.versions.order_by("number")
    assert (v1.status, v2.status, v2.change_note) == ("superseded", "published", "imported")
    assert article.published_version == v2
    assert v2.texts.get(language="en").answer.startswith("Pay within 14 days")


def test_changed_details_are_updated_without_a_new_version(editor):
    load_articles(three_articles(), actor=editor)
    changed = three_articles()
    changed[0]["subtypes"] = ["bill_query", "billing_question"]

    result = load_articles(changed, actor=editor)

    assert result.updated == ["il-bill-estimated"]
    article = Article.objects.get(key="il-bill-estimated")
    assert article.subtypes == ["bill_query", "billing_question"]
    assert article.versions.count() == 1


def test_drafts_instead_of_publishing(editor):
    result = load_articles(three_articles(), actor=editor, publish=False)

    assert len(result.created) == 3
    assert set(Article.objects.values_list("status", flat=True)) == {"draft"}
    assert not services.answers_for_agents().exists()


def test_bad_input_names_the_article_and_the_field_and_loads_nothing(editor):
    bad = three_articles()
    bad[1]["texts"]["he"]["answer"] = ""
    bad[2]["topic"] = "weather"

    with pytest.raises(KnowledgeError) as refused:
        load_articles(bad, actor=editor)

    message = str(refused.value)
    assert "article 2 (il-late-payment): texts.he.answer: Hebrew: the answer is empty." in message
    assert "article 3 (il-new-connection): topic: weather is not a topic." in message
    assert not Article.objects.exists()  # not even the good first article


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda a: a[0]["texts"].pop("zh-hans"), "article 1 (il-bill-estimated): texts.zh-hans:"),
        (lambda a: a[0].update(key="no spaces!"), "article 1 (no spaces!): key: The key is a slug"),
        (lambda a: a[1].update(key="il-bill-estimated"), "already used by article 1"),
        (lambda a: a[0].update(order_types=["repair"]), "order_types: repair is not one of"),
        (lambda a: a[2]["texts"]["en"]["notice"].update(forms=["x"]), "not forms"),
        (lambda a: a[0].update(valid_from="1 July"), "valid_from: 1 July is not a date"),
        (lambda a: a.append("an article"), "article 4: An article is a JSON object."),
    ],
)
def test_each_kind_of_bad_input_is_named(editor, change, expected):
    articles = three_articles()
    change(articles)

    with pytest.raises(KnowledgeError, match=None) as refused:
        load_articles(articles, actor=editor)

    assert expected in str(refused.value)
    assert not Article.objects.exists()


def test_a_file_that_is_not_json_or_not_a_list_is_refused(tmp_path, editor):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"key": "x",}]', encoding="utf-8")

    with pytest.raises(KnowledgeError, match=r"broken\.json is not valid JSON \(line 1, column"):
        load_articles(broken)
    with pytest.raises(KnowledgeError, match="must hold a JSON list"):
        load_articles(write(tmp_path, {"key": "x"}))
    with pytest.raises(KnowledgeError, match="Cannot read"):
        load_articles(tmp_path / "missing.json")


def test_a_retired_article_is_not_brought_back_by_an_import(editor):
    load_articles(three_articles(), actor=editor)
    services.retire_article(editor, Article.objects.get(key="il-late-payment"), "abolished")
    changed = three_articles()
    changed[1]["texts"]["en"]["question"] = "Is there still a late fee?"

    result = load_articles(changed, actor=editor)

    assert result.skipped == ["il-late-payment"]
    article = Article.objects.get(key="il-late-payment")
    assert (article.status, article.versions.count()) == ("retired", 1)


def test_an_import_does_not_overwrite_a_version_open_on_the_desk(editor, make_user):
    reviewer = make_user(roles.KNOWLEDGE_EDITOR)
    article = published(editor, reviewer, key="il-bill-estimated", texts=texts())
    services.edit_article(editor, article, texts(" desk"), "editor at work")
    changed = [item("il-bill-estimated", tag=" file"), item("il-other", tag=" other")]

    with pytest.raises(KnowledgeError, match="article 1 .*version 2 is Draft on the desk"):
        load_articles(changed, actor=editor)

    assert not Article.objects.filter(key="il-other").exists()  # all or nothing
    assert article.versions.count() == 2


def test_the_command_prints_created_updated_unchanged(tmp_path, editor, capsys):
    path = write(tmp_path, three_articles())

    call_command("load_knowledge", str(path), "--as", "editor", "--profile", "il")
    first = capsys.readouterr().out
    call_command("load_knowledge", str(path))
    second = capsys.readouterr().out

    assert "Articles: 3 created, 0 updated, 0 unchanged." in first
    assert "Articles: 0 created, 0 updated, 3 unchanged." in second
    assert Article.objects.get(key="il-late-payment").owner == editor


def test_the_command_reports_bad_input_without_a_traceback(tmp_path, editor):
    bad = three_articles()
    del bad[0]["texts"]["en"]["question"]

    with pytest.raises(CommandError, match=r"article 1 \(il-bill-estimated\): texts.en.question"):
        call_command("load_knowledge", str(write(tmp_path, bad)))
    with pytest.raises(CommandError, match="--as: there is no user ghost"):
        call_command("load_knowledge", str(write(tmp_path, [])), "--as", "ghost")


def test_the_demo_loads_its_profile_s_content_as_the_editor(editor, tmp_path):
    write(tmp_path, three_articles(), name="il.json")

    _seed_knowledge("il", content_dir=tmp_path)
    _seed_knowledge("cn", content_dir=tmp_path)  # no cn.json: nothing, no error

    assert Article.objects.count() == 3
    assert set(Article.objects.values_list("owner__username", "profile", "status")) == {
        ("editor", "il", "published")
    }
