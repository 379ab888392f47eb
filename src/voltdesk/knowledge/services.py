"""The knowledge base's life cycle: writing, reviewing, publishing and retiring articles.

An article's texts live in versions. Version statuses:

    draft --submit_for_review--> in_review --approve_and_publish--> published --> superseded
      \\                              |
       +---------send_back-----------+--> rejected ("sent back", with the reason)

* At most one version of an article is open (draft or in review) at a time.
  ``edit_article`` updates the open draft in place when the same editor wrote
  it (one version per round of work, not one per click); a draft by someone
  else, or a version in review, is refused until it is sent back or published.
  After publication or a send-back the next edit is a new version.
* Publishing needs a question and an answer in English, Hebrew and Chinese (and
  for a one-time notice at least one line of documents, fees, steps or time
  limits in each); ``submit_for_review`` checks the same, so reviewers never get
  half-translated work.
* The reviewer who publishes is not the version's author, unless an
  administrator (four eyes; a team of one editor asks an administrator).
* Publishing supersedes the version published before, points the article's
  ``published_version`` at the new one and makes the article published (also a
  retired one: publishing a new version brings it back).
* The article's own status says what agents get: ``published`` while a
  published version is in force (a newer draft does not hide it), ``retired``
  once withdrawn; before its first publication it follows its open version
  (``draft`` / ``in_review``).

Agents read only ``answers_for_agents()``: texts of the published version of
published articles valid today in the utility's time zone
(``valid_from <= today < valid_to``) whose profile is empty or the utility's.

Every change is one transaction with an audit row (``core.services.log_action``);
``record_article_use`` is a counter and writes none.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voltdesk.core.choices import Language
from voltdesk.core.profiles import PROFILES
from voltdesk.core.roles import ADMINISTRATOR
from voltdesk.core.services import get_utility, log_action, utility_zone
from voltdesk.workorders.choices import OrderType, Subtype

from .choices import ArticleKind, ArticleStatus, Topic, VersionStatus
from .models import Article, ArticleText, ArticleVersion

LANGUAGES = tuple(Language.values)  # en, he, zh-hans: all three needed to publish
NOTICE_PARTS = ("documents", "fees", "steps", "time_limits")
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)
# The change note of versions written by ``load_articles``; stored as is, shown translated.
IMPORTED_NOTE = gettext_noop("imported")
KEY_PATTERN = re.compile(r"^[-a-zA-Z0-9_]+$")
KEY_MAX = Article._meta.get_field("key").max_length
QUESTION_MAX = ArticleText._meta.get_field("question").max_length
BUSINESS_KIND_MAX = Article._meta.get_field("business_kind").max_length
MAX_PROBLEMS_SHOWN = 20


class KnowledgeError(ValueError):
    """A change the knowledge base refuses; ``field`` names the input at fault ("" if none)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def local_today() -> date:
    return timezone.localdate(timezone=utility_zone())


def is_administrator(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name=ADMINISTRATOR).exists()


# Texts ---------------------------------------------------------------------------------


def _language_label(code: str) -> str:
    return str(Language(code).label) if code in LANGUAGES else code


def lines_of(value) -> list[str]:
    """A list of phrases from a list or from text with one per line; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    return [str(item).strip() for item in value if str(item).strip()]


def _text_problems(language: str, text, kind: str) -> list[tuple[str, str]]:
    """(field, message) for what is wrong with one language's text; [] when it is fine."""
    label = _language_label(language)
    if language not in LANGUAGES:
        return [
            (
                "texts",
                _("%(language)s is not a language of the knowledge base (en, he, zh-hans).")
                % {"language": language},
            )
        ]
    if not isinstance(text, dict):
        return [
            (
                f"texts.{language}",
                _("%(language)s: the text must have a question and an answer.")
                % {"language": label},
            )
        ]
    problems = []
    for name in ("question", "answer"):
        value = text.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(
                (
                    f"texts.{language}.{name}",
                    _("%(language)s: the %(field)s must be text.")
                    % {"language": label, "field": name},
                )
            )
        elif not (value or "").strip():
            message = (
                _("%(language)s: the question is empty.")
                if name == "question"
                else _("%(language)s: the answer is empty.")
            )
            problems.append((f"texts.{language}.{name}", message % {"language": label}))
    question = text.get("question")
    if isinstance(question, str) and len(question.strip()) > QUESTION_MAX:
        problems.append(
            (
                f"texts.{language}.question",
                _("%(language)s: the question is longer than %(max)s characters.")
                % {"language": label, "max": QUESTION_MAX},
            )
        )
    keywords = text.get("keywords")
    if keywords is not None and not isinstance(keywords, str | list):
        problems.append(
            (
                f"texts.{language}.keywords",
                _("%(language)s: keywords must be a list of phrases.") % {"language": label},
            )
        )
    notice = text.get("notice")
    if kind == ArticleKind.NOTICE:
        if notice is not None and not isinstance(notice, dict):
            problems.append(
                (
                    f"texts.{language}.notice",
                    _("%(language)s: the notice must list documents, fees, steps and time limits.")
                    % {"language": label},
                )
            )
        elif isinstance(notice, dict):
            for part in notice:
                if part not in NOTICE_PARTS:
                    problems.append(
                        (
                            f"texts.{language}.notice.{part}",
                            _(
                                "%(language)s: a notice has documents, fees, steps and "
                                "time_limits, not %(part)s."
                            )
                            % {"language": label, "part": part},
                        )
                    )
                elif not isinstance(notice[part], str | list):
                    problems.append(
                        (
                            f"texts.{language}.notice.{part}",
                            _("%(language)s: %(part)s must be a list.")
                            % {"language": label, "part": part},
                        )
                    )
    elif notice and (
        not isinstance(notice, dict)
        or any(lines_of(v) for v in notice.values() if isinstance(v, str | list))
    ):
        problems.append(
            (
                f"texts.{language}.notice",
                _(
                    "%(language)s: only a one-time notice lists documents, fees, steps and "
                    "time limits."
                )
                % {"language": label},
            )
        )
    return problems


def _normal_text(text: dict, kind: str) -> dict:
    """One language's text as stored: stripped strings, keyword lines, the notice's four lists."""
    notice = {}
    if kind == ArticleKind.NOTICE:
        given = text.get("notice") or {}
        notice = {part: lines_of(given.get(part)) for part in NOTICE_PARTS}
    return {
        "question": text["question"].strip(),
        "answer": text["answer"].strip(),
        "keywords": lines_of(text.get("keywords")),
        "notice": notice,
    }


def clean_texts(texts, kind: str) -> dict[str, dict]:
    """The texts by language, checked and normalised; ``KnowledgeError`` on the first fault."""
    if not isinstance(texts, dict) or not texts:
        raise KnowledgeError(
            _("Write the question and the answer in at least one language."), "texts"
        )
    for language, text in texts.items():
        problems = _text_problems(language, text, kind)
        if problems:
            raise KnowledgeError(problems[0][1], problems[0][0])
    return {
        language: _normal_text(texts[language], kind) for language in LANGUAGES if language in texts
    }


def _write_texts(version: ArticleVersion, texts: dict[str, dict]) -> None:
    ArticleText.objects.bulk_create(
        ArticleText(
            version=version,
            language=language,
            question=text["question"],
            answer=text["answer"],
            keywords="\n".join(text["keywords"]),
            notice=text["notice"],
        )
        for language, text in texts.items()
    )


def _stored_text(text: ArticleText, kind: str) -> dict:
    """A stored text in the form of ``_normal_text``, to compare an import with it."""
    notice = {}
    if kind == ArticleKind.NOTICE:
        notice = {part: lines_of((text.notice or {}).get(part)) for part in NOTICE_PARTS}
    return {
        "question": text.question.strip(),
        "answer": text.answer.strip(),
        "keywords": lines_of(text.keywords),
        "notice": notice,
    }


def texts_of(version: ArticleVersion | None, kind: str) -> dict[str, dict]:
    if version is None:
        return {}
    return {t.language: _stored_text(t, kind) for t in version.texts.all()}


def _check_complete(version: ArticleVersion, kind: str) -> None:
    """Refuse a version that lacks a language, or (for a notice) the notice's content."""
    texts = {t.language: t for t in version.texts.all()}
    missing = [_language_label(code) for code in LANGUAGES if code not in texts]
    if missing:
        raise KnowledgeError(
            _(
                "Version %(number)s cannot be published without a text in every language; "
                "missing: %(languages)s."
            )
            % {"number": version.number, "languages": ", ".join(missing)},
            "texts",
        )
    for code in LANGUAGES:
        text = texts[code]
        if not text.question.strip() or not text.answer.strip():
            raise KnowledgeError(
                _("%(language)s: the question and the answer must both be written.")
                % {"language": _language_label(code)},
                f"texts.{code}",
            )
        if kind == ArticleKind.NOTICE and not any(
            lines_of((text.notice or {}).get(part)) for part in NOTICE_PARTS
        ):
            raise KnowledgeError(
                _(
                    "%(language)s: a one-time notice needs at least one document, fee, step "
                    "or time limit."
                )
                % {"language": _language_label(code)},
                f"texts.{code}.notice",
            )


# Articles ------------------------------------------------------------------------------


def _check_details(
    *, key, topic, kind, business_kind, order_types, subtypes, profile, valid_from, valid_to
) -> list[tuple[str, str]]:
    problems = []
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(
            ("key", _("The key is a slug: letters, digits, hyphens and underscores only."))
        )
    elif len(key) > KEY_MAX:
        problems.append(("key", _("The key is longer than %(max)s characters.") % {"max": KEY_MAX}))
    if not topic:
        problems.append(("topic", _("The topic is missing.")))
    elif topic not in Topic.values:
        problems.append(("topic", _("%(value)s is not a topic.") % {"value": topic}))
    if kind not in ArticleKind.values:
        problems.append(
            ("kind", _("The kind is answer or notice, not %(value)s.") % {"value": kind})
        )
    if not isinstance(business_kind, str) or len(business_kind) > BUSINESS_KIND_MAX:
        problems.append(
            (
                "business_kind",
                _("The kind of business is a code of at most %(max)s characters.")
                % {"max": BUSINESS_KIND_MAX},
            )
        )
    for name, values, known in (
        ("order_types", order_types, OrderType.values),
        ("subtypes", subtypes, Subtype.values),
    ):
        if not isinstance(values, list | tuple):
            problems.append((name, _("%(field)s must be a list.") % {"field": name}))
            continue
        for value in values:
            if value not in known:
                problems.append(
                    (
                        name,
                        _("%(value)s is not one of the %(field)s: %(known)s.")
                        % {"value": value, "field": name, "known": ", ".join(known)},
                    )
                )
    if profile not in ("", *PROFILES):
        problems.append(
            (
                "profile",
                _("The profile is il, cn, or empty for every utility, not %(value)s.")
                % {"value": profile},
            )
        )
    if valid_from and valid_to and valid_to <= valid_from:
        problems.append(
            ("valid_to", _("The article must stop being valid after it starts being valid."))
        )
    return problems


def _raise_first(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise KnowledgeError(problems[0][1], problems[0][0])


def _lock(article_or_pk) -> Article:
    pk = getattr(article_or_pk, "pk", article_or_pk)
    return Article.objects.select_for_update().get(pk=pk)


def _next_number(article: Article) -> int:
    return (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def open_version(article: Article) -> ArticleVersion | None:
    return (
        article.versions.filter(status__in=OPEN_STATUSES)
        .select_related("created_by")
        .order_by("-number")
        .first()
    )


@transaction.atomic
def create_article(
    actor,
    *,
    key: str,
    topic: str,
    kind: str = ArticleKind.ANSWER,
    business_kind: str = "",
    order_types=(),
    subtypes=(),
    profile: str = "",
    region=None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    texts: dict,
    change_note: str = "",
) -> Article:
    """A new article with version 1 as a draft written by ``actor``."""
    key = (key or "").strip()
    _raise_first(
        _check_details(
            key=key,
            topic=topic,
            kind=kind,
            business_kind=business_kind or "",
            order_types=list(order_types),
            subtypes=list(subtypes),
            profile=profile or "",
            valid_from=valid_from,
            valid_to=valid_to,
        )
    )
    cleaned = clean_texts(texts, kind)
    if Article.objects.filter(key=key).exists():
        raise KnowledgeError(_("An article with the key %(key)s exists.") % {"key": key}, "key")
    owner = actor if getattr(actor, "pk", None) else None
    article = Article.objects.create(
        key=key,
        topic=topic,
        kind=kind,
        business_kind=business_kind or "",
        order_types=list(order_types),
        subtypes=list(subtypes),
        profile=profile or "",
        region=region,
        owner=owner,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    version = ArticleVersion.objects.create(
        article=article, number=1, change_note=(change_note or "").strip(), created_by=owner
    )
    _write_texts(version, cleaned)
    log_action(
        actor,
        "knowledge.article_created",
        article,
        {"key": key, "version": 1, "languages": sorted(cleaned)},
    )
    return article


@transaction.atomic
def edit_article(
    actor, article: Article, texts: dict, change_note: str, correction_task_id: int | None = None
) -> ArticleVersion:
    """The article's texts as a draft: a new version, or the actor's own open draft updated.

    ``texts`` is the whole new text of every language the version has (a
    language left out is not in the version). ``change_note`` says what changed
    and why; ``correction_task_id`` links the answer-quality review's task that
    asked for it.
    """
    article = _lock(article)
    change_note = (change_note or "").strip()
    if not change_note:
        raise KnowledgeError(_("Say what changed and why."), "change_note")
    cleaned = clean_texts(texts, article.kind)
    current = open_version(article)
    if current is not None and current.status == VersionStatus.IN_REVIEW:
        raise KnowledgeError(
            _(
                "Version %(number)s is in review: it is published or sent back before "
                "anyone writes a new version."
            )
            % {"number": current.number}
        )
    if current is not None and current.created_by_id != getattr(actor, "pk", None):
        raise KnowledgeError(
            _(
                "Version %(number)s is a draft by %(author)s: they submit it for review, or "
                "it is sent back, before someone else writes a new version."
            )
            % {
                "number": current.number,
                "author": current.created_by.get_username() if current.created_by else "–",
            }
        )
    if (
        current is not None
        and correction_task_id
        and current.correction_task_id not in (None, correction_task_id)
    ):
        raise KnowledgeError(
            _(
                "Draft version %(number)s answers correction task %(task)s; submit it "
                "before starting on another task."
            )
            % {"number": current.number, "task": current.correction_task_id},
            "correction_task",
        )
    if current is not None:
        current.texts.all().delete()
        current.change_note = change_note
        if correction_task_id:
            current.correction_task_id = correction_task_id
        current.save(update_fields=["change_note", "correction_task_id"])
        _write_texts(current, cleaned)
        action, version = "knowledge.draft_updated", current
    else:
        base = article.published_version or article.versions.order_by("-number").first()
        # A retired article may come back with its old texts; otherwise a version changes them.
        if (
            base is not None
            and article.status != ArticleStatus.RETIRED
            and texts_of(base, article.kind) == cleaned
        ):
            raise KnowledgeError(
                _("The texts are the same as version %(number)s: nothing to change.")
                % {"number": base.number},
                "texts",
            )
        version = ArticleVersion.objects.create(
            article=article,
            number=_next_number(article),
            change_note=change_note,
            created_by=actor if getattr(actor, "pk", None) else None,
            correction_task_id=correction_task_id,
        )
        _write_texts(version, cleaned)
        action = "knowledge.version_created"
    article.save(update_fields=["updated_at"])
    log_action(
        actor,
        action,
        version,
        {
            "article": article.key,
            "version": version.number,
            "change_note": change_note,
            "languages": sorted(cleaned),
            "correction_task": version.correction_task_id,
        },
    )
    return version


def _version_under_lock(version: ArticleVersion) -> tuple[Article, ArticleVersion]:
    article = _lock(version.article_id)
    return article, ArticleVersion.objects.select_related("created_by").get(pk=version.pk)


def _status_label(version: ArticleVersion) -> str:
    return str(VersionStatus(version.status).label)


@transaction.atomic
def submit_for_review(actor, version: ArticleVersion) -> ArticleVersion:
    """A draft goes to review; it must be complete in every language."""
    article, version = _version_under_lock(version)
    if version.status != VersionStatus.DRAFT:
        raise KnowledgeError(
            _("Version %(number)s is %(status)s; only a draft is submitted for review.")
            % {"number": version.number, "status": _status_label(version)}
        )
    _check_complete(version, article.kind)
    version.status = VersionStatus.IN_REVIEW
    version.save(update_fields=["status"])
    if article.status == ArticleStatus.DRAFT:
        article.status = ArticleStatus.IN_REVIEW
    article.save(update_fields=["status", "updated_at"])
    log_action(
        actor, "knowledge.submitted", version, {"article": article.key, "version": version.number}
    )
    return version


def _publish(article: Article, version: ArticleVersion, *, reviewer, now) -> list[int]:
    """Make ``version`` the article's published one; returns the numbers it superseded."""
    before = article.versions.filter(status=VersionStatus.PUBLISHED).exclude(pk=version.pk)
    superseded = list(before.values_list("number", flat=True))
    # First: at most one published version per article (a unique index).
    before.update(status=VersionStatus.SUPERSEDED)
    version.status = VersionStatus.PUBLISHED
    version.reviewed_by = reviewer
    version.reviewed_at = now if reviewer is not None else None
    version.published_at = now
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "published_at"])
    article.published_version = version
    article.status = ArticleStatus.PUBLISHED
    article.save(update_fields=["published_version", "status", "updated_at"])
    return superseded


@transaction.atomic
def approve_and_publish(actor, version: ArticleVersion) -> ArticleVersion:
    """A reviewer approves a version in review: it is published and supersedes the one before."""
    article, version = _version_under_lock(version)
    if not getattr(actor, "pk", None):
        raise KnowledgeError(_("A signed-in reviewer approves a version."))
    if version.status != VersionStatus.IN_REVIEW:
        raise KnowledgeError(
            _("Version %(number)s is %(status)s; only a version in review is approved.")
            % {"number": version.number, "status": _status_label(version)}
        )
    if version.created_by_id == actor.pk and not is_administrator(actor):
        raise KnowledgeError(
            _("You wrote version %(number)s: another editor reviews and publishes it.")
            % {"number": version.number}
        )
    _check_complete(version, article.kind)
    superseded = _publish(article, version, reviewer=actor, now=timezone.now())
    # A version written for a correction task closes that task.
    from .reviews import complete_corrections_of

    complete_corrections_of(actor, version)
    log_action(
        actor,
        "knowledge.published",
        version,
        {"article": article.key, "version": version.number, "superseded": superseded},
    )
    return version


@transaction.atomic
def send_back(actor, version: ArticleVersion, reason: str) -> ArticleVersion:
    """An open version (in review, or a draft abandoned) is sent back with the reason."""
    article, version = _version_under_lock(version)
    reason = (reason or "").strip()
    if version.status not in OPEN_STATUSES:
        raise KnowledgeError(
            _("Version %(number)s is %(status)s; only a draft or a version in review is sent back.")
            % {"number": version.number, "status": _status_label(version)}
        )
    if not reason:
        raise KnowledgeError(_("Say why the version is sent back."), "reason")
    version.status = VersionStatus.REJECTED
    version.reviewed_by = actor if getattr(actor, "pk", None) else None
    version.reviewed_at = timezone.now()
    version.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    if article.status == ArticleStatus.IN_REVIEW:
        article.status = ArticleStatus.DRAFT
    article.save(update_fields=["status", "updated_at"])
    # The reason is kept in the audit row; the article page shows it in the history.
    log_action(
        actor,
        "knowledge.sent_back",
        version,
        {"article": article.key, "version": version.number, "reason": reason},
    )
    return version


@transaction.atomic
def retire_article(actor, article: Article, reason: str) -> Article:
    """Withdraw an article from agents; its history stays, a new version may bring it back."""
    article = _lock(article)
    reason = (reason or "").strip()
    if article.status == ArticleStatus.RETIRED:
        raise KnowledgeError(_("The article %(key)s is already retired.") % {"key": article.key})
    if not reason:
        raise KnowledgeError(_("Say why the article is retired."), "reason")
    was = article.status
    article.status = ArticleStatus.RETIRED
    article.save(update_fields=["status", "updated_at"])
    log_action(actor, "knowledge.retired", article, {"reason": reason, "was": was})
    return article


@transaction.atomic
def set_validity(
    actor, article: Article, valid_from: date | None, valid_to: date | None
) -> Article:
    """The days the article is valid: from ``valid_from`` up to, not including, ``valid_to``."""
    article = _lock(article)
    if valid_from and valid_to and valid_to <= valid_from:
        raise KnowledgeError(
            _("The article must stop being valid after it starts being valid."), "valid_to"
        )
    before = {
        "valid_from": article.valid_from.isoformat() if article.valid_from else None,
        "valid_to": article.valid_to.isoformat() if article.valid_to else None,
    }
    article.valid_from, article.valid_to = valid_from, valid_to
    article.save(update_fields=["valid_from", "valid_to", "updated_at"])
    log_action(
        actor,
        "knowledge.validity_set",
        article,
        {
            "before": before,
            "valid_from": valid_from.isoformat() if valid_from else None,
            "valid_to": valid_to.isoformat() if valid_to else None,
        },
    )
    return article


def record_article_use(article: Article) -> None:
    """An agent used the article's answer: one more use, counted in the database (no race).

    ``update()`` leaves ``updated_at`` alone, so a use does not look like an edit
    (the search index is rebuilt on edits only).
    """
    Article.objects.filter(pk=article.pk).update(usage_count=F("usage_count") + 1)


# What agents read ----------------------------------------------------------------------


def articles_for_agents(today: date | None = None) -> QuerySet:
    """Published articles valid today (utility's time zone) for this utility's profile."""
    utility = get_utility()  # once: the profile and, for today, the time zone
    today = today or timezone.localdate(timezone=ZoneInfo(utility.time_zone))
    return Article.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gt=today),
        status=ArticleStatus.PUBLISHED,
        published_version__isnull=False,
        profile__in=["", utility.profile],
    )


def answers_for_agents(today: date | None = None, language: str | None = None) -> QuerySet:
    """The texts agents may read: the published version's, of ``articles_for_agents``."""
    texts = ArticleText.objects.filter(
        version_id__in=articles_for_agents(today).values("published_version_id")
    ).select_related("version__article")
    if language:
        texts = texts.filter(language=language)
    return texts


# Loading a file of articles -------------------------------------------------------------


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # retired: left as the editors retired them


@dataclass
class _Item:
    index: int
    key: str
    details: dict
    texts: dict[str, dict]
    given: dict  # profile and validity dates: only those the item (or the caller) gives


def _read_items(path_or_list):
    if isinstance(path_or_list, str | Path):
        path = Path(path_or_list)
        try:
            with path.open(encoding="utf-8") as handle:
                return json.load(handle)
        except OSError as exc:
            raise KnowledgeError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        except json.JSONDecodeError as exc:
            raise KnowledgeError(
                _("%(path)s is not valid JSON (line %(line)s, column %(column)s): %(error)s")
                % {"path": path, "line": exc.lineno, "column": exc.colno, "error": exc.msg}
            ) from exc
    return path_or_list


def _date_field(item: dict, name: str, problems: list) -> date | None:
    value = item.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append((name, _("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}))
        return None


def _parse_item(index: int, item, *, publish: bool, profile: str | None):
    """(_Item or None, [(field, message)])."""
    if not isinstance(item, dict):
        return None, [("", _("An article is a JSON object."))]
    problems: list[tuple[str, str]] = []
    key = item.get("key")
    kind = item.get("kind", ArticleKind.ANSWER)
    details = {
        "topic": item.get("topic"),
        "kind": kind,
        "business_kind": item.get("business_kind") or "",
        "order_types": item.get("order_types") or [],
        "subtypes": item.get("subtypes") or [],
    }
    given = {
        name: _date_field(item, name, problems)
        for name in ("valid_from", "valid_to")
        if name in item
    }
    if "profile" in item or profile is not None:
        given["profile"] = item.get("profile", profile) or ""
    problems += _check_details(
        key=key,
        **details,
        profile=given.get("profile", ""),
        valid_from=given.get("valid_from"),
        valid_to=given.get("valid_to"),
    )
    texts = item.get("texts")
    if not isinstance(texts, dict) or not texts:
        problems.append(("texts", _("The texts by language (en, he, zh-hans) are missing.")))
        texts = {}
    if publish:
        for code in LANGUAGES:
            if code not in texts:
                problems.append(
                    (
                        f"texts.{code}",
                        _("%(language)s is missing; every language is needed to publish.")
                        % {"language": _language_label(code)},
                    )
                )
    for code, text in texts.items():
        problems += _text_problems(code, text, kind)
    if problems:
        return None, problems
    cleaned = {code: _normal_text(texts[code], kind) for code in LANGUAGES if code in texts}
    return _Item(index, key, details, cleaned, given), []


def load_articles(
    path_or_list, *, actor=None, publish: bool = True, profile: str | None = None
) -> LoadResult:
    """Import articles from the JSON format of ``docs/knowledge.md``: all or nothing.

    A new key becomes a new article; an existing one whose texts are the same is
    left alone (its details are brought up to date when they differ); changed
    texts become a new version with the change note "imported". With
    ``publish`` the new versions are published at once (the file is content
    already reviewed), else they are drafts. ``profile`` is the profile of
    articles whose item does not say one; when neither says, a new article is
    for every utility and an existing one keeps its profile (validity dates
    likewise change only when the item gives them). Retired
    articles and articles with a version open on the desk are not overwritten:
    a retired one is reported as skipped; an open version refuses the import.
    """
    items = _read_items(path_or_list)
    if not isinstance(items, list):
        raise KnowledgeError(_("The file must hold a JSON list of articles."))
    parsed: list[_Item] = []
    problems: list[str] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(items, start=1):
        item, item_problems = _parse_item(index, raw, publish=publish, profile=profile)
        key = raw.get("key") if isinstance(raw, dict) else None
        where = (
            _("article %(index)s (%(key)s)") % {"index": index, "key": key}
            if isinstance(key, str) and key
            else _("article %(index)s") % {"index": index}
        )
        for name, message in item_problems:
            problems.append(f"{where}: {name}: {message}" if name else f"{where}: {message}")
        if item is None:
            continue
        if item.key in first_index:
            problems.append(
                _("%(where)s: key: the key is already used by article %(other)s.")
                % {"where": where, "other": first_index[item.key]}
            )
            continue
        first_index[item.key] = index
        parsed.append(item)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > len(shown):
            shown.append(
                _("… and %(count)s more problems.") % {"count": len(problems) - len(shown)}
            )
        raise KnowledgeError("\n".join(shown))
    with transaction.atomic():
        return _load(parsed, actor=actor, publish=publish)


def _load(items: list[_Item], *, actor, publish: bool) -> LoadResult:
    result = LoadResult()
    user = actor if getattr(actor, "pk", None) else None
    now = timezone.now()
    existing = {
        a.key: a for a in Article.objects.select_for_update().filter(key__in=[i.key for i in items])
    }
    # The version each existing article is compared with: its published one, else its latest.
    latest = {}
    for version in ArticleVersion.objects.filter(article__in=existing.values()).order_by(
        "article_id", "number"
    ):
        latest[version.article_id] = version
    current = {
        a.pk: a.published_version_id or getattr(latest.get(a.pk), "pk", None)
        for a in existing.values()
    }
    stored: dict[int, dict[str, ArticleText]] = {}
    for text in ArticleText.objects.filter(version_id__in=[v for v in current.values() if v]):
        stored.setdefault(text.version_id, {})[text.language] = text
    open_versions = {
        v.article_id: v
        for v in ArticleVersion.objects.filter(
            article__in=existing.values(), status__in=OPEN_STATUSES
        )
    }
    for item in items:
        article = existing.get(item.key)
        if article is None:
            _import_new(item, user=user, actor=actor, publish=publish, now=now)
            result.created.append(item.key)
            continue
        kind = item.details["kind"]
        have = {
            code: _stored_text(text, kind)
            for code, text in stored.get(current[article.pk], {}).items()
        }
        wanted = {**item.details, **item.given}
        changed_fields = [name for name, value in wanted.items() if getattr(article, name) != value]
        texts_changed = have != item.texts
        if not changed_fields and not texts_changed:
            result.unchanged.append(item.key)
            continue
        if article.status == ArticleStatus.RETIRED:
            result.skipped.append(item.key)
            continue
        if texts_changed and article.pk in open_versions:
            version = open_versions[article.pk]
            raise KnowledgeError(
                _(
                    "article %(index)s (%(key)s): version %(number)s is %(status)s on the desk; "
                    "publish it or send it back before importing new texts."
                )
                % {
                    "index": item.index,
                    "key": item.key,
                    "number": version.number,
                    "status": _status_label(version),
                }
            )
        for name in changed_fields:
            setattr(article, name, wanted[name])
        if changed_fields:
            article.save(update_fields=[*changed_fields, "updated_at"])
        data = {"fields": changed_fields}
        if texts_changed:
            version = ArticleVersion.objects.create(
                article=article,
                number=(latest[article.pk].number if article.pk in latest else 0) + 1,
                change_note=IMPORTED_NOTE,
                created_by=user,
            )
            _write_texts(version, item.texts)
            if publish:
                data["superseded"] = _publish(article, version, reviewer=None, now=now)
            else:
                article.save(update_fields=["updated_at"])
            data.update(version=version.number, published=publish)
        log_action(actor, "knowledge.imported", article, data)
        result.updated.append(item.key)
    return result


def _import_new(item: _Item, *, user, actor, publish: bool, now) -> Article:
    article = Article.objects.create(key=item.key, owner=user, **item.details, **item.given)
    version = ArticleVersion.objects.create(
        article=article, number=1, change_note=IMPORTED_NOTE, created_by=user
    )
    _write_texts(version, item.texts)
    if publish:
        _publish(article, version, reviewer=None, now=now)
    log_action(
        actor,
        "knowledge.imported",
        article,
        {"created": True, "version": 1, "published": publish},
    )
    return article
