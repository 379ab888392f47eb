"""Articles of the knowledge base: unified answers and one-time notices, versioned.

An article is edited as versions: a new version is a draft, goes to review and is
published; publishing supersedes the version before it. Agents only ever read the
article's ``published_version`` while the article is published and valid. Each
version holds one text per language (en, he, zh-hans).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voltdesk.core.choices import Language
from voltdesk.core.models import Region

from ..choices import ArticleKind, ArticleStatus, Topic, VersionStatus


class Article(models.Model):
    key = models.SlugField(_("key"), max_length=100, unique=True)
    topic = models.CharField(_("topic"), max_length=24, choices=Topic.choices)
    kind = models.CharField(
        _("kind"), max_length=8, choices=ArticleKind.choices, default=ArticleKind.ANSWER
    )
    business_kind = models.CharField(
        _("kind of business"),
        max_length=40,
        blank=True,
        help_text=_("For a one-time notice: new_connection, change_of_use, meter_test, ..."),
    )
    order_types = models.JSONField(_("work-order types"), default=list, blank=True)
    subtypes = models.JSONField(_("work-order subtypes"), default=list, blank=True)
    profile = models.CharField(
        _("profile"), max_length=8, blank=True, help_text=_("il, cn, or empty for every utility")
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_articles",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True, help_text=_("exclusive"))
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    published_version = models.ForeignKey(
        "ArticleVersion",
        verbose_name=_("published version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["key"]
        indexes = [models.Index(fields=["status", "updated_at"], name="article_status_updated")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="article_valid_span",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_version__isnull=False),
                name="published_article_has_version",
            ),
        ]

    def __str__(self):
        return self.key


class ArticleVersion(models.Model):
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    change_note = models.TextField(_("what changed and why"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # The answer-quality review's correction task that led to this version, if any
    # (knowledge.models.reviews; kept as an id so the two parts stay decoupled).
    correction_task_id = models.PositiveBigIntegerField(_("correction task"), null=True, blank=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="one_version_number"),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(status="published"),
                name="one_published_version",
            ),
        ]

    def __str__(self):
        return f"{self.article.key} v{self.number}"


class ArticleText(models.Model):
    version = models.ForeignKey(
        ArticleVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="texts"
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("unified answer"))
    keywords = models.TextField(_("how callers say it"), blank=True, help_text=_("one per line"))
    notice = models.JSONField(
        _("one-time notice"),
        default=dict,
        blank=True,
        help_text=_("documents, fees, steps and time limits, each a list"),
    )

    class Meta:
        verbose_name = _("article text")
        verbose_name_plural = _("article texts")
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="one_text_per_language")
        ]

    def __str__(self):
        return f"{self.version} [{self.language}]"
