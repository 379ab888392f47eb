"""Answer-quality review pages under /desk/knowledge/reviews/ (``desk:knowledge:<name>``).

* ``reviews``: the supervisor's page: draw a sample, the queue of sampled orders
  waiting for a verdict, and the error rates by topic, agent and month.
* ``review``: one work order (its description, transitions and comments) and
  the verdict form.
* ``corrections``: the correction tasks of an article owner (editors), every
  task for supervisors; the owner closes or dismisses them here.

Supervisors review (``knowledge.add_answerreview``); agents get 403 on every
review page, so they never read the reviews of colleagues. Views parse input,
check permission and call ``knowledge.reviews``.
"""

from datetime import date, timedelta
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.access import visible_work_order_comments, visible_work_orders
from voltdesk.desk.views import staff_required
from voltdesk.keyaccounts.tasks_service import local_today

from . import reviews
from .choices import ArticleKind
from .models import Article, CorrectionTask
from .models.reviews import AnswerReview, CorrectionStatus, SampleReason, Verdict

SUGGESTED_ARTICLES = 300
MONTHS_SHOWN = 6


def permission_required(perm: str):
    """Desk users with ``perm``; other signed-in users get 403, anonymous ones log in."""

    def decorator(view):
        @wraps(view)
        @staff_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _error_to_form(form, exc) -> None:
    """A service error shown next to its field (else above the form)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _date_input():
    return forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})


class PeriodForm(forms.Form):
    """The period of the error rates: the orders handled in it (local days, both included)."""

    date_from = forms.DateField(label=gettext_lazy("From"), widget=_date_input())
    date_to = forms.DateField(label=gettext_lazy("Until"), widget=_date_input())

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class SampleForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("Handled from"), widget=_date_input())
    period_end = forms.DateField(label=gettext_lazy("Handled until"), widget=_date_input())
    size = forms.IntegerField(
        label=gettext_lazy("Random orders"),
        required=False,
        min_value=1,
        max_value=reviews.MAX_SIZE,
        initial=20,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
        help_text=gettext_lazy("Targeted orders are all added on top of these."),
    )
    reasons = forms.MultipleChoiceField(
        label=gettext_lazy("Sample"),
        choices=[(r.value, r.label) for r in reviews.SAMPLE_REASONS],
        initial=reviews.SAMPLE_REASONS,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The end of the period is before its start."))
        return data


class ReviewForm(forms.Form):
    article = forms.CharField(
        label=gettext_lazy("Article (key)"),
        required=False,
        max_length=Article._meta.get_field("key").max_length,
        widget=forms.TextInput(
            attrs={"class": "form-control", "list": "article-keys", "autocomplete": "off"}
        ),
        help_text=gettext_lazy("The article the agent used, or should have used."),
    )
    verdict = forms.ChoiceField(
        label=gettext_lazy("The answer given was"),
        choices=Verdict.choices,
        widget=forms.RadioSelect,
    )
    correct_answer = forms.CharField(
        label=gettext_lazy("Correct answer"),
        required=False,
        max_length=reviews.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        help_text=gettext_lazy("Needed when the answer was wrong or partly right."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=reviews.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def clean_article(self):
        key = self.cleaned_data["article"].strip()
        if not key:
            return None
        article = Article.objects.filter(key=key).select_related("owner").first()
        if article is None:
            raise forms.ValidationError(_("No article has the key %(key)s.") % {"key": key})
        return article


def _default_period() -> tuple[date, date]:
    today = local_today()
    month = today.replace(day=1)
    for _i in range(MONTHS_SHOWN - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return month, today


@permission_required("knowledge.add_answerreview")
def reviews_page(request):
    """Draw a sample (POST), see the queue and the error rates of a period (GET)."""
    start, end = _default_period()
    sample_form = SampleForm(
        request.POST if request.method == "POST" else None,
        initial={"period_start": start, "period_end": end},
    )
    status = 200
    if request.method == "POST":
        if sample_form.is_valid():
            data = sample_form.cleaned_data
            try:
                result = reviews.draw_sample(
                    request.user,
                    data["period_start"],
                    data["period_end"],
                    data["size"] or 0,
                    data["reasons"],
                )
            except reviews.ReviewError as exc:
                _error_to_form(sample_form, exc)
            else:
                labels = dict(SampleReason.choices)
                messages.success(
                    request,
                    _("%(total)s work orders added to the review queue (%(detail)s).")
                    % {
                        "total": result.total,
                        "detail": ", ".join(
                            f"{labels[reason]}: {n}" for reason, n in result.by_reason.items()
                        ),
                    },
                )
                return redirect("desk:knowledge:reviews")
        status = 400

    asked = "date_from" in request.GET or "date_to" in request.GET
    period = PeriodForm(
        request.GET if asked else None, initial={"date_from": start, "date_to": end}
    )
    if asked:
        if period.is_valid():
            start, end = period.cleaned_data["date_from"], period.cleaned_data["date_to"]
        else:
            status = 400
    rates = {by: reviews.error_rates(start, end, by=by) for by in reviews.BY}
    return render(
        request,
        "knowledge/reviews.html",
        {
            "nav": "reviews",
            "sample_form": sample_form,
            "period": period,
            "date_from": start,
            "date_to": end,
            "queue": reviews.review_queue(),
            "waiting": AnswerReview.objects.filter(verdict="").count(),
            "rates": rates,
            "chart": {
                "labels": [row.label for row in rates["month"]],
                "values": [float(row.error_rate) for row in rates["month"]],
                "unit": "%",
                "name": _("Error rate"),
            },
        },
        status=status,
    )


def _article_choices(order, language: str) -> list[dict]:
    """Answer articles for the datalist, those for the order's subtype and type first."""
    from .services import answers_for_agents

    texts = (
        answers_for_agents(language=language)
        .filter(version__article__kind=ArticleKind.ANSWER)
        .values_list(
            "version__article__key",
            "question",
            "version__article__order_types",
            "version__article__subtypes",
        )
    )

    def rank(row):
        _key, _question, types, subtypes = row
        return (
            0 if order.subtype and order.subtype in (subtypes or []) else 1,
            0 if order.order_type in (types or []) else 1,
            row[0],
        )

    rows = sorted(texts, key=rank)[:SUGGESTED_ARTICLES]
    return [{"key": key, "question": question} for key, question, _t, _s in rows]


@permission_required("knowledge.add_answerreview")
def review_page(request, pk):
    """One handled order and its verdict form; a reviewed order shows its verdict."""
    user = request.user
    order = get_object_or_404(
        visible_work_orders(user).select_related("customer", "assignee", "created_by"), pk=pk
    )
    review = (
        AnswerReview.objects.filter(work_order=order)
        .select_related("article", "agent", "reviewer")
        .first()
    )
    form = ReviewForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if review is not None and review.verdict:
            form.add_error(None, _("This work order has already been reviewed."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                reviews.record_review(
                    user,
                    order,
                    data["article"],
                    data["verdict"],
                    data["correct_answer"],
                    data["note"],
                )
            except reviews.ReviewError as exc:
                _error_to_form(form, exc)
            else:
                messages.success(
                    request, _("Review of work order %(number)s saved.") % {"number": order.number}
                )
                following = reviews.review_queue(limit=1)
                if following:
                    return redirect("desk:knowledge:review", following[0].work_order_id)
                return redirect("desk:knowledge:reviews")
        status = 400
    corrections = list(review.corrections.select_related("article", "owner")) if review else []
    return render(
        request,
        "knowledge/review.html",
        {
            "nav": "reviews",
            "order": order,
            "review": review,
            "agent": review.agent if review else _user(reviews.agent_of(order)),
            "transitions": order.transitions.select_related("actor").order_by("at", "pk"),
            "comments": visible_work_order_comments(user)
            .filter(work_order=order)
            .select_related("author")
            .order_by("at", "pk"),
            "form": form,
            "articles": _article_choices(order, request.LANGUAGE_CODE)
            if not (review and review.verdict)
            else [],
            "corrections": corrections,
        },
        status=status,
    )


def _user(pk):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=pk).first() if pk else None


def _correction_rows(user):
    if user.has_perm("knowledge.view_answerreview"):  # supervisors follow every task up
        return (
            CorrectionTask.objects.select_related(
                "article", "owner", "review__work_order", "resolved_version"
            ).order_by(F("done_at").desc(nulls_first=True), "due_date", "-pk")
        ), True
    return reviews.corrections_for(user), False


class DismissForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why no correction is needed"), max_length=4000)


@permission_required("knowledge.view_correctiontask")
def corrections_page(request):
    """The owner's correction tasks: mark one done with the published version, or dismiss it."""
    user = request.user
    rows, everyone = _correction_rows(user)
    status = 200
    errors = {}
    if request.method == "POST":
        if not user.has_perm("knowledge.change_correctiontask"):
            raise PermissionDenied
        task_id = request.POST.get("task", "")
        task = (
            reviews.corrections_for(user).filter(pk=int(task_id)).first()
            if task_id.isdigit()
            else None
        )
        action = request.POST.get("action")
        if task is None:
            errors["task"] = _("Choose one of your correction tasks.")
        elif action not in ("done", "dismiss"):
            errors["action"] = _("Choose to mark the task done or to dismiss it.")
        else:
            try:
                if action == "done":
                    reviews.complete_with_published(user, task)
                    messages.success(request, _("Correction task marked done."))
                else:
                    reviews.dismiss_correction(user, task, request.POST.get("note", ""))
                    messages.success(request, _("Correction task dismissed."))
                return redirect("desk:knowledge:corrections")
            except reviews.ReviewError as exc:
                errors[exc.field] = exc.message
        status = 400
    rows = list(rows[:200])
    return render(
        request,
        "knowledge/corrections.html",
        {
            "nav": "corrections",
            "tasks": rows,
            "everyone": everyone,
            "may_change": user.has_perm("knowledge.change_correctiontask"),
            "errors": errors,
            "posted_task": request.POST.get("task", ""),
            "open_status": CorrectionStatus.OPEN,
        },
        status=status,
    )
