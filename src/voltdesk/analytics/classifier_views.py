"""Work-order classification in the desk (``desk:analytics:<name>``).

* ``classify`` (GET ``classify/?description=...``): the htmx fragment of the intake
  form, "Looks like: Fault repair › No power · 87 %", with a button that puts the
  type and subtype into the form. Empty when no model is active or the text is too
  short; 400 with a message when it is too long. Staff who open work orders
  (``workorders.add_workorder``).
* ``classifier`` (``classifier/``): the active model's evaluation on held-out
  orders (macro-F1, per-class table, confusion matrix, when and on how much it
  was trained) and the recent training runs, for ``analytics.view_classifiermodel``;
  POST "train now" (``analytics.add_classifiermodel``) queues a training in a
  Celery task; while it runs the page says so and refreshes itself.

Customer users get 403, anonymous visitors log in. Views parse input, check
permission and call ``analytics.classifier``.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from voltdesk.knowledge.review_views import permission_required

from . import classifier
from .models import ClassifierModel

RUNS_SHOWN = 10


@permission_required("workorders.add_workorder")
def classify(request):
    try:
        text = classifier.check_text(request.GET.get("description", ""))
    except classifier.ClassifierError as exc:
        return render(
            request, "analytics/classify_suggestion.html", {"error": exc.message}, status=400
        )
    return render(
        request,
        "analytics/classify_suggestion.html",
        {"suggestion": classifier.suggest(text)},
    )


def _labelled(scores: dict, kind: str) -> dict:
    """The report's codes with the labels of the reader's language."""

    def label(code: str) -> str:
        if kind == "type":
            return classifier.type_label(code)
        order_type, _slash, subtype = code.partition("/")
        if not subtype:
            return f"{classifier.type_label(order_type)} › –"
        return f"{classifier.type_label(order_type)} › {classifier.subtype_label(subtype)}"

    def percent(value):
        return None if value is None else round(value * 100, 1)

    confusion = scores.get("confusion") or {}
    labels = confusion.get("labels", [])
    return {
        **scores,
        "macro_f1_percent": percent(scores.get("macro_f1")),
        "accuracy_percent": percent(scores.get("accuracy")),
        "classes": [
            {
                **row,
                "name": label(row["label"]),
                "precision_percent": percent(row["precision"]),
                "recall_percent": percent(row["recall"]),
                "f1_percent": percent(row["f1"]),
            }
            for row in scores.get("classes", [])
        ],
        "matrix": [
            {
                "name": label(code),
                "cells": [
                    {"count": count, "diagonal": i == j, "column": label(labels[j])}
                    for j, count in enumerate(row)
                ],
            }
            for i, (code, row) in enumerate(zip(labels, confusion.get("matrix", []), strict=True))
        ],
        "columns": [label(code) for code in labels],
    }


def _rare(report: dict) -> list[tuple[str, int]]:
    rare = [(classifier.type_label(code), n) for code, n in report.get("rare_types", {}).items()]
    for code, n in report.get("rare_subtypes", {}).items():
        order_type, _slash, subtype = code.partition("/")
        rare.append(
            (f"{classifier.type_label(order_type)} › {classifier.subtype_label(subtype)}", n)
        )
    return sorted(rare)


@permission_required("analytics.view_classifiermodel")
def classifier_report(request):
    if request.method == "POST":
        if not request.user.has_perm("analytics.add_classifiermodel"):
            raise PermissionDenied
        try:
            classifier.request_training(request.user)
        except classifier.ClassifierError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Training started. The new model replaces the active one when ready.")
            )
        return redirect("desk:analytics:classifier")
    model = classifier.active_model()
    report = model.report if model else {}
    runs = list(
        ClassifierModel.objects.defer("pipeline")
        .select_related("trained_by")
        .order_by("-trained_at", "-pk")[:RUNS_SHOWN]
    )
    return render(
        request,
        "analytics/classifier.html",
        {
            "nav": "analytics",
            "model": model,
            "report": report,
            "type_scores": _labelled(report.get("type", {}), "type") if model else None,
            "subtype_scores": _labelled(report.get("subtype", {}), "subtype") if model else None,
            "rare": _rare(report) if model else [],
            "pending": classifier.pending_training(),
            "runs": runs,
        },
    )


urlpatterns = [
    path("classify/", classify, name="classify"),
    path("classifier/", classifier_report, name="classifier"),
]
