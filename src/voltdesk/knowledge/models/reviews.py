"""Answer-quality review: sampled work orders, the supervisor's verdict, and corrections.

A supervisor draws a sample of handled work orders (random, and targeted:
complaints, reopened orders, low satisfaction). Each sampled order is an
``AnswerReview`` waiting for its verdict; the verdict says whether the answer the
agent gave was right and what the right answer is. A wrong or partly right
answer given from an article opens a ``CorrectionTask`` for the article's owner,
done when a new version of the article is published for it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import Topic


class SampleReason(models.TextChoices):
    RANDOM = "random", _("Random sample")
    COMPLAINT = "complaint", _("Complaint")
    REOPENED = "reopened", _("Reopened")
    LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction")
    # A supervisor opened the order for review without drawing a sample.
    CHOSEN = "chosen", _("Chosen by the reviewer")


class Verdict(models.TextChoices):
    CORRECT = "correct", _("Correct")
    PARTLY = "partly", _("Partly right")
    WRONG = "wrong", _("Wrong")


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DISMISSED = "dismissed", _("Dismissed")


class AnswerReview(models.Model):
    """One handled work order under review: sampled (no verdict yet), then reviewed."""

    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("work order"),
        on_delete=models.PROTECT,
        related_name="answer_reviews",
    )
    # The article the agent used, or should have used.
    article = models.ForeignKey(
        "knowledge.Article",
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answer_reviews_received",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answer_reviews_given",
    )
    sample_reason = models.CharField(_("why sampled"), max_length=20, choices=SampleReason.choices)
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sampled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sampled_at = models.DateTimeField(_("sampled at"), auto_now_add=True)
    # When the order was handled (its last resolve or close): the period it is reported in.
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices, blank=True)
    correct_answer = models.TextField(_("correct answer"), blank=True)
    note = models.TextField(_("note"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Copied from the article when reviewed, so the error rate by topic stays put
    # if the article is later moved to another topic.
    topic = models.CharField(_("topic"), max_length=24, choices=Topic.choices, blank=True)

    class Meta:
        verbose_name = _("answer review")
        verbose_name_plural = _("answer reviews")
        ordering = ["-sampled_at", "-pk"]
        constraints = [
            # An order is reviewed once: a second sample never picks it again.
            models.UniqueConstraint(fields=["work_order"], name="one_review_per_order"),
            models.CheckConstraint(
                condition=Q(verdict="") | Q(reviewed_at__isnull=False),
                name="review_verdict_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["reviewed_at", "handled_at"], name="review_done_handled"),
        ]

    def __str__(self):
        return f"{self.work_order_id} {self.verdict or 'pending'}"


class CorrectionTask(models.Model):
    """The owner of an article must correct it after a wrong or partly right answer."""

    review = models.ForeignKey(
        AnswerReview,
        verbose_name=_("review"),
        on_delete=models.CASCADE,
        related_name="corrections",
    )
    article = models.ForeignKey(
        "knowledge.Article",
        verbose_name=_("article"),
        on_delete=models.CASCADE,
        related_name="correction_tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="correction_tasks",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN
    )
    due_date = models.DateField(_("due"))
    resolved_version = models.ForeignKey(
        "knowledge.ArticleVersion",
        verbose_name=_("corrected in version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("correction task")
        verbose_name_plural = _("correction tasks")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review"], name="one_correction_per_review"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(done_at__isnull=False),
                name="correction_closed_has_date",
            ),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="correction_owner_status")]

    def __str__(self):
        return f"{self.article_id} ← review {self.review_id} ({self.status})"
