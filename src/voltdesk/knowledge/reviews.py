"""Answer-quality review: sample handled work orders, record verdicts, follow corrections.

* ``draw_sample`` picks, in a period (the utility's local days, both ends
  included), the orders handled then — an order is handled in the period when
  it was resolved or closed in it (the last such move counts) — and not
  reviewed or sampled before: every targeted one (a complaint, a reopened
  order, low satisfaction) and ``size`` more at random. The same few
  statements whatever the number of orders: one SELECT of the targeted ones
  (each with its first reason), one of the random ones, one bulk INSERT.
* ``record_review`` gives a sampled (or chosen) order its verdict. A wrong or
  partly right answer given from an article opens a correction task for the
  article's owner, due in ``CORRECTION_WORKING_DAYS`` working days, and tells
  the owner by e-mail through the outbox.
* ``complete_correction`` closes a task with the published version that
  corrected the article; the version keeps the task's id, so the article's
  history shows which reviews led to which versions.
* ``error_rates`` groups the reviewed orders of a period by topic, agent or
  month in one GROUP BY: reviewed, wrong, partly right, and the error rate
  (wrong + partly right) / reviewed.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, LPad, TruncMonth
from django.db.models.lookups import LessThan
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, log_action, utility_zone
from voltdesk.workorders.choices import Action, OrderType, Status
from voltdesk.workorders.models import Transition, WorkOrder

from .choices import ArticleStatus, Topic, VersionStatus
from .models import Article, ArticleVersion
from .models.reviews import (
    AnswerReview,
    CorrectionStatus,
    CorrectionTask,
    SampleReason,
    Verdict,
)

logger = logging.getLogger(__name__)

CORRECTION_WORKING_DAYS = 5
LOW_SATISFACTION = 2  # CSAT 1–5: 1 and 2 are "dissatisfied", as the club's surveys count it
# A complaint by the same customer this soon after an order points back at its answer.
COMPLAINT_WITHIN = timedelta(days=7)
MAX_SIZE = 500  # random orders per draw
MAX_TARGETED = 500  # a period with more targeted orders than this is sampled again
MAX_TEXT = 4000
HANDLED = [Status.RESOLVED, Status.CLOSED]
TARGETED_REASONS = [SampleReason.COMPLAINT, SampleReason.REOPENED, SampleReason.LOW_SATISFACTION]
SAMPLE_REASONS = [SampleReason.RANDOM, *TARGETED_REASONS]


class ReviewError(ValueError):
    """A review input or action refused; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# Sampling


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The period's local days as [start, end) instants; refused when it runs backwards."""
    if period_end < period_start:
        raise ReviewError("period_end", _("The period ends before it starts."))
    zone = utility_zone()
    return (
        datetime.combine(period_start, time(0), tzinfo=zone),
        datetime.combine(period_end + timedelta(days=1), time(0), tzinfo=zone),
    )


def handled_orders(start: datetime, end: datetime):
    """Orders resolved or closed in [start, end), with when (``handled_at``) and by whom.

    ``agent_id`` is who handled it: the assignee, else whoever resolved it, else
    whoever opened it (an agent who answered at once and closed the order).
    """
    moves = Transition.objects.filter(
        work_order=OuterRef("pk"), to_status__in=HANDLED, at__gte=start, at__lt=end
    )
    resolver = Transition.objects.filter(
        work_order=OuterRef("pk"), to_status=Status.RESOLVED, actor__isnull=False
    ).order_by("-at", "-pk")
    return (
        WorkOrder.objects.exclude(status=Status.CANCELLED)
        .filter(Exists(moves))
        .annotate(
            handled_at=Subquery(moves.order_by("-at", "-pk").values("at")[:1]),
            agent_id=Coalesce(
                "assignee_id",
                Subquery(resolver.values("actor_id")[:1]),
                "created_by_id",
                output_field=IntegerField(),
            ),
        )
    )


def _targets():
    """Expressions telling why an order (the outer row) deserves a targeted look."""
    complaint_after = WorkOrder.objects.filter(
        customer_id=OuterRef("customer_id"),
        order_type=OrderType.COMPLAINT,
        created_at__gt=OuterRef("created_at"),
        created_at__lte=OuterRef("created_at") + COMPLAINT_WITHIN,
    ).exclude(pk=OuterRef("pk"))
    reopened = Transition.objects.filter(work_order=OuterRef("pk"), action=Action.REOPEN)
    # Surveys name the order by its number: the id zero-padded to 8 digits (``number``).
    digits = Cast(OuterRef("pk"), CharField())
    number = Case(
        When(LessThan(OuterRef("pk"), 10**8), then=LPad(digits, 8, Value("0"))),
        default=digits,
        output_field=CharField(),
    )
    from voltdesk.keyaccounts.models import SurveyResponse

    low_survey = SurveyResponse.objects.filter(
        customer_id=OuterRef("customer_id"), csat__lte=LOW_SATISFACTION, work_order_ref=number
    )
    return {
        SampleReason.COMPLAINT: Q(order_type=OrderType.COMPLAINT) | Q(_complaint_after=True),
        SampleReason.REOPENED: Q(_reopened=True),
        SampleReason.LOW_SATISFACTION: Q(satisfaction__lte=LOW_SATISFACTION) | Q(_low_survey=True),
    }, {
        "_complaint_after": Exists(complaint_after),
        "_reopened": Exists(reopened),
        "_low_survey": Exists(low_survey),
    }


@dataclass(frozen=True)
class SampleResult:
    """How many orders a draw put in the review queue, by reason."""

    by_reason: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


def draw_sample(actor, period_start: date, period_end: date, size: int, reasons) -> SampleResult:
    """Put handled, not yet reviewed orders of the period in the review queue.

    ``reasons`` is any of random, complaint, reopened, low_satisfaction. Every
    order matching a targeted reason is taken (up to ``MAX_TARGETED``), each
    under the first reason it matches in that order; ``size`` more are drawn at
    random among the rest when "random" is asked for.
    """
    reasons = list(dict.fromkeys(reasons or []))
    size = int(size or 0)
    unknown = [r for r in reasons if r not in SAMPLE_REASONS]
    if unknown or not reasons:
        raise ReviewError("reasons", _("Choose at least one known reason to sample."))
    if SampleReason.RANDOM in reasons and not (1 <= size <= MAX_SIZE):
        raise ReviewError(
            "size",
            _("The random sample is between 1 and %(max)s work orders.") % {"max": MAX_SIZE},
        )
    start, end = period_bounds(period_start, period_end)
    pool = handled_orders(start, end).exclude(
        Exists(AnswerReview.objects.filter(work_order=OuterRef("pk")))
    )
    conditions, flags = _targets()
    wanted = [r for r in TARGETED_REASONS if r in reasons]
    rows: list[tuple[int, int | None, datetime, str]] = []
    if wanted:
        targeted = pool.annotate(**flags)
        # Each order's first matching reason, told by the database in the same statement.
        found = (
            targeted.annotate(
                reason=Case(
                    *[When(conditions[reason], then=Value(reason)) for reason in wanted],
                    default=Value(""),
                    output_field=CharField(),
                )
            )
            .exclude(reason="")
            .order_by("handled_at", "pk")
            .values_list("pk", "agent_id", "handled_at", "reason")[:MAX_TARGETED]
        )
        rows += list(found)
    if SampleReason.RANDOM in reasons:
        taken = [row[0] for row in rows]
        rest = pool.exclude(pk__in=taken).order_by("?")[:size]
        rows += [
            (pk, agent_id, handled_at, SampleReason.RANDOM)
            for pk, agent_id, handled_at in rest.values_list("pk", "agent_id", "handled_at")
        ]
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    with transaction.atomic():
        # A draw at the same moment may have taken some: the unique order is skipped.
        AnswerReview.objects.bulk_create(
            [
                AnswerReview(
                    work_order_id=pk,
                    agent_id=agent_id,
                    handled_at=handled_at,
                    sample_reason=reason,
                    sampled_by_id=actor_id,
                )
                for pk, agent_id, handled_at, reason in rows
            ],
            ignore_conflicts=True,
        )
        counts = dict(
            AnswerReview.objects.filter(
                work_order_id__in=[row[0] for row in rows],
                sampled_by_id=actor_id,
                verdict="",
            )
            .values("sample_reason")
            .annotate(n=Count("pk"))
            .values_list("sample_reason", "n")
        )
        by_reason = {reason: counts.get(reason, 0) for reason in reasons}
        utility = get_utility()
        log_action(
            actor,
            "knowledge.review_sample_drawn",
            utility,
            {
                "from": period_start.isoformat(),
                "to": period_end.isoformat(),
                "size": size,
                "sampled": by_reason,
            },
        )
    return SampleResult(by_reason=by_reason)


def review_queue(limit: int = 100):
    """Sampled orders still waiting for a verdict, the oldest handled first."""
    return (
        AnswerReview.objects.filter(verdict="")
        .select_related("work_order", "agent")
        .order_by("handled_at", "pk")[:limit]
    )


# Reviewing


def _handled_at(order: WorkOrder) -> datetime | None:
    return (
        Transition.objects.filter(work_order=order, to_status__in=HANDLED)
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )


def agent_of(order: WorkOrder):
    """Who handled the order (see ``handled_orders``), as a user id or None."""
    if order.assignee_id:
        return order.assignee_id
    resolver = (
        Transition.objects.filter(work_order=order, to_status=Status.RESOLVED, actor__isnull=False)
        .order_by("-at", "-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    return resolver or order.created_by_id


def _clean_text(value, field: str, label) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ReviewError(
            field,
            _("%(field)s is longer than %(max)s characters.") % {"field": label, "max": MAX_TEXT},
        )
    return value


def record_review(
    actor, work_order: WorkOrder, article: Article | None, verdict: str, correct_answer: str, note
) -> AnswerReview:
    """Give a handled order its verdict; a wrong or partly right one opens a correction.

    The order's sampled review is completed, or a new one is written when the
    reviewer chose the order without a sample. An order is reviewed once; a
    reviewer never reviews an order they handled themselves.
    """
    if verdict not in Verdict.values:
        raise ReviewError(
            "verdict", _("Choose whether the answer was correct, partly right or wrong.")
        )
    correct_answer = _clean_text(correct_answer, "correct_answer", _("The correct answer"))
    note = _clean_text(note, "note", _("The note"))
    if verdict != Verdict.CORRECT and not correct_answer:
        raise ReviewError(
            "correct_answer", _("Write the correct answer: the article's owner corrects from it.")
        )
    now = timezone.now()
    with transaction.atomic():
        order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        review = AnswerReview.objects.select_for_update().filter(work_order=order).first()
        if review is not None and review.verdict:
            raise ReviewError("work_order", _("This work order has already been reviewed."))
        if review is None:
            handled_at = _handled_at(order)
            if handled_at is None or order.status == Status.CANCELLED:
                raise ReviewError(
                    "work_order", _("Only resolved or closed work orders are reviewed.")
                )
            review = AnswerReview(
                work_order=order,
                agent_id=agent_of(order),
                handled_at=handled_at,
                sample_reason=SampleReason.CHOSEN,
                sampled_by=actor if getattr(actor, "pk", None) else None,
            )
        if getattr(actor, "pk", None) and review.agent_id == actor.pk:
            raise ReviewError(
                "work_order", _("You handled this work order: another reviewer must review it.")
            )
        review.article = article
        review.topic = article.topic if article is not None else ""
        review.verdict = verdict
        review.correct_answer = correct_answer
        review.note = note
        review.reviewer = actor if getattr(actor, "pk", None) else None
        review.reviewed_at = now
        try:
            with transaction.atomic():
                review.save()
        except IntegrityError as exc:  # a sample drawn at this very moment took the order
            raise ReviewError(
                "work_order", _("This work order has just been sampled: try again.")
            ) from exc
        log_action(
            actor,
            "knowledge.answer_reviewed",
            review,
            {"work_order": order.pk, "verdict": verdict, "article": getattr(article, "key", None)},
        )
        if verdict != Verdict.CORRECT and article is not None:
            _open_correction(actor, review, article)
    return review


def _open_correction(actor, review: AnswerReview, article: Article) -> CorrectionTask:
    from voltdesk.keyaccounts.tasks_service import add_working_days, local_today

    task = CorrectionTask.objects.create(
        review=review,
        article=article,
        owner=article.owner,
        due_date=add_working_days(local_today(), CORRECTION_WORKING_DAYS),
    )
    log_action(actor, "knowledge.correction_opened", task, {"article": article.key})
    _tell_owner(task)
    return task


def _owner_language(user) -> str:
    profile = getattr(user, "profile", None)
    return getattr(profile, "language", "") or get_utility().default_language


def _tell_owner(task: CorrectionTask) -> None:
    """E-mail the owner about the task (in their language); no address, no mail."""
    from voltdesk.keyaccounts.portfolio import _public_url
    from voltdesk.notifications.choices import Channel
    from voltdesk.notifications.services import NotificationError, queue_message

    owner = task.owner
    if owner is None or not owner.email:
        return
    try:
        queue_message(
            channel=Channel.EMAIL,
            template="knowledge_correction_task",
            payload={
                "owner_name": owner.get_full_name() or owner.username,
                "article_key": task.article.key,
                "work_order": task.review.work_order.number,
                "verdict": task.review.verdict,
                "correct_answer": task.review.correct_answer,
                "due": task.due_date,
                "link": _public_url(reverse("desk:knowledge:corrections")),
            },
            dedupe_key=f"knowledge:correction:{task.pk}",
            address=owner.email,
            language=_owner_language(owner),
        )
    except NotificationError as exc:  # a bad address must not undo the review
        logger.warning("no e-mail for correction task %s: %s", task.pk, exc)


def complete_correction(actor, task: CorrectionTask, version: ArticleVersion) -> CorrectionTask:
    """Close the task with the published version that corrected its article.

    Idempotent for the same version (publishing calls it, and so may the owner).
    The version keeps the task's id when it did not name one.
    """
    with transaction.atomic():
        task = CorrectionTask.objects.select_for_update().get(pk=task.pk)
        version = ArticleVersion.objects.select_for_update().get(pk=version.pk)
        if task.status == CorrectionStatus.DONE and task.resolved_version_id == version.pk:
            return task
        if task.status != CorrectionStatus.OPEN:
            raise ReviewError("task", _("This correction task is already closed."))
        if version.article_id != task.article_id:
            raise ReviewError("version", _("The version belongs to another article."))
        if version.status != VersionStatus.PUBLISHED:
            raise ReviewError("version", _("Only a published version completes a correction."))
        if version.correction_task_id not in (None, task.pk):
            raise ReviewError("version", _("That version was written for another correction."))
        task.status = CorrectionStatus.DONE
        task.resolved_version = version
        task.resolved_by = actor if getattr(actor, "pk", None) else None
        task.done_at = timezone.now()
        task.save()
        if version.correction_task_id is None:
            ArticleVersion.objects.filter(pk=version.pk).update(correction_task_id=task.pk)
        log_action(actor, "knowledge.correction_done", task, {"version": version.number})
    return task


def complete_corrections_of(actor, version: ArticleVersion) -> CorrectionTask | None:
    """After publishing: close the task the version was written for, if it names one."""
    if not version.correction_task_id:
        return None
    task = CorrectionTask.objects.filter(
        pk=version.correction_task_id, article_id=version.article_id
    ).first()
    if task is None or task.status == CorrectionStatus.DISMISSED:
        return None
    return complete_correction(actor, task, version)


def complete_with_published(actor, task: CorrectionTask) -> CorrectionTask:
    """The owner published the correction without naming the task: link the current version.

    Only a version published after the task was opened counts.
    """
    article = Article.objects.select_related("published_version").get(pk=task.article_id)
    version = article.published_version
    if (
        version is None
        or article.status != ArticleStatus.PUBLISHED
        or version.published_at is None
        or version.published_at < task.created_at
    ):
        raise ReviewError(
            "task", _("Publish a corrected version of the article first, then mark the task done.")
        )
    return complete_correction(actor, task, version)


def dismiss_correction(actor, task: CorrectionTask, note: str) -> CorrectionTask:
    """The owner finds the article right (the agent misread it): closed with a reason."""
    note = _clean_text(note, "note", _("The reason"))
    if not note:
        raise ReviewError("note", _("Say why the article needs no correction."))
    with transaction.atomic():
        task = CorrectionTask.objects.select_for_update().get(pk=task.pk)
        if task.status != CorrectionStatus.OPEN:
            raise ReviewError("task", _("This correction task is already closed."))
        task.status = CorrectionStatus.DISMISSED
        task.resolution_note = note
        task.resolved_by = actor if getattr(actor, "pk", None) else None
        task.done_at = timezone.now()
        task.save()
        log_action(actor, "knowledge.correction_dismissed", task, {"note": note[:200]})
    return task


def corrections_for(user):
    """The correction tasks a user works: their own, and those of articles nobody owns."""
    return (
        CorrectionTask.objects.filter(Q(owner=user) | Q(owner__isnull=True))
        .select_related("article", "review__work_order", "resolved_version")
        .order_by(
            # Open first, soonest due; then the latest closed.
            F("done_at").desc(nulls_first=True),
            "due_date",
            "-pk",
        )
    )


def reviews_by_version(article: Article) -> list[dict]:
    """Each version of the article with the reviews that led to it, newest first.

    A version is linked to a review by the correction task it was written for
    (``correction_task_id``) or that it completed (``resolved_version``). Open
    tasks come under ``None``: corrections not yet published. Three queries.
    """
    versions = list(article.versions.order_by("-number"))
    by_task = {v.correction_task_id: v for v in versions if v.correction_task_id}
    tasks = list(
        CorrectionTask.objects.filter(article=article)
        .filter(
            Q(pk__in=list(by_task))
            | Q(resolved_version__isnull=False)
            | Q(status=CorrectionStatus.OPEN)
        )
        .select_related("review__work_order", "review__reviewer", "owner")
        .order_by("pk")
    )
    linked: dict[int | None, list] = {}
    for task in tasks:
        version = by_task.get(task.pk)
        version_id = version.pk if version else task.resolved_version_id
        if task.status == CorrectionStatus.DISMISSED and version_id is None:
            continue
        linked.setdefault(version_id, []).append(task)
    rows = []
    if linked.get(None):
        rows.append({"version": None, "tasks": linked[None]})
    for version in versions:
        if version.pk in linked:
            rows.append({"version": version, "tasks": linked[version.pk]})
    return rows


# Reporting


@dataclass(frozen=True)
class ErrorRate:
    key: object
    label: str
    reviewed: int
    wrong: int
    partly: int

    @property
    def errors(self) -> int:
        return self.wrong + self.partly

    @property
    def error_rate(self) -> Decimal:
        """(wrong + partly right) / reviewed, in per cent, one decimal."""
        if not self.reviewed:
            return Decimal("0.0")
        return (Decimal(100 * self.errors) / self.reviewed).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


BY = ("topic", "agent", "month")


def error_rates(period_start: date, period_end: date, by: str = "topic") -> list[ErrorRate]:
    """Reviewed orders handled in the period, grouped ``by`` topic, agent or month.

    One GROUP BY statement. Orders reviewed without an article count under
    "no article" (topic), those nobody is known to have handled under "unknown"
    (agent). Months are the utility's calendar months.
    """
    if by not in BY:
        raise ReviewError("by", _("Group by topic, agent or month."))
    start, end = period_bounds(period_start, period_end)
    reviewed = AnswerReview.objects.exclude(verdict="").filter(
        handled_at__gte=start, handled_at__lt=end
    )
    counts = {
        "reviewed": Count("pk"),
        "wrong": Count("pk", filter=Q(verdict=Verdict.WRONG)),
        "partly": Count("pk", filter=Q(verdict=Verdict.PARTLY)),
    }
    if by == "topic":
        rows = reviewed.values("topic").annotate(**counts).order_by("topic")
        labels = dict(Topic.choices)
        return [
            ErrorRate(
                r["topic"],
                str(labels.get(r["topic"], r["topic"])) if r["topic"] else _("No article"),
                r["reviewed"],
                r["wrong"],
                r["partly"],
            )
            for r in rows
        ]
    if by == "agent":
        rows = (
            reviewed.values("agent_id", "agent__username", "agent__first_name", "agent__last_name")
            .annotate(**counts)
            .order_by("agent__username", "agent_id")
        )
        return [
            ErrorRate(
                r["agent_id"],
                " ".join(filter(None, [r["agent__first_name"], r["agent__last_name"]]))
                or r["agent__username"]
                or _("Unknown"),
                r["reviewed"],
                r["wrong"],
                r["partly"],
            )
            for r in rows
        ]
    zone = utility_zone()
    rows = (
        reviewed.annotate(month=TruncMonth("handled_at", tzinfo=zone))
        .values("month")
        .annotate(**counts)
        .order_by("month")
    )
    result = []
    for r in rows:
        month = r["month"]
        month = month.date() if isinstance(month, datetime) else month
        result.append(
            ErrorRate(
                month,
                formats.date_format(month, "YEAR_MONTH_FORMAT"),
                r["reviewed"],
                r["wrong"],
                r["partly"],
            )
        )
    return result


__all__ = [
    "ReviewError",
    "SampleResult",
    "complete_correction",
    "complete_corrections_of",
    "complete_with_published",
    "corrections_for",
    "dismiss_correction",
    "draw_sample",
    "error_rates",
    "record_review",
    "review_queue",
    "reviews_by_version",
]
