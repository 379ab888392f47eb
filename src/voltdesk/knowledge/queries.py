"""Set-based reads of the article list: the version each row shows, filters, languages."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from .choices import VersionStatus
from .models import ArticleText, ArticleVersion

AWAITING_REVIEW = "awaiting_review"


def with_current_version(qs: QuerySet, *, published_only: bool) -> QuerySet:
    """Annotate ``current_version_id``: the latest version for editors, else the published one."""
    if published_only:
        return qs.annotate(current_version_id=F("published_version_id"))
    latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
    return qs.annotate(
        current_version_id=Subquery(latest.values("pk")[:1]),
        current_number=Subquery(latest.values("number")[:1]),
        current_status=Subquery(latest.values("status")[:1]),
    )


def filter_articles(qs: QuerySet, *, topic="", status="", kind="", missing="", text="") -> QuerySet:
    """Articles (annotated by ``with_current_version``) matching the list's filters.

    ``missing`` is a language the current version has no text in; ``text``
    matches the key or a question of the current version (any language).
    """
    if topic:
        qs = qs.filter(topic=topic)
    if kind:
        qs = qs.filter(kind=kind)
    if status == AWAITING_REVIEW:
        qs = qs.filter(
            Exists(
                ArticleVersion.objects.filter(
                    article=OuterRef("pk"), status=VersionStatus.IN_REVIEW
                )
            )
        )
    elif status:
        qs = qs.filter(status=status)
    if missing:
        qs = qs.filter(
            ~Exists(
                ArticleText.objects.filter(
                    version_id=OuterRef("current_version_id"), language=missing
                )
            )
        )
    if text:
        qs = qs.filter(
            Q(key__icontains=text)
            | Exists(
                ArticleText.objects.filter(
                    version_id=OuterRef("current_version_id"), question__icontains=text
                )
            )
        )
    return qs


def questions_by_version(version_ids) -> dict[int, dict[str, str]]:
    """{version id: {language: question}} in one query."""
    found: dict[int, dict[str, str]] = {}
    rows = ArticleText.objects.filter(version_id__in=[v for v in version_ids if v]).values_list(
        "version_id", "language", "question"
    )
    for version_id, language, question in rows:
        found.setdefault(version_id, {})[language] = question
    return found
