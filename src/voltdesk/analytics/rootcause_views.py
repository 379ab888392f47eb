"""The root-cause pages under /desk/analytics/ (``desk:analytics:<name>``).

* ``root_causes``: one month's report (``?month=YYYY-MM``, default the last
  full month): abnormal feeders and areas, complaint themes, chains of repeated
  contacts and answer errors.
* ``root_causes_pdf``: the same month as a PDF (``?language=he|zh-hans|en``,
  default the page's language).

Supervisors only (``analytics.view_analytics``); other desk users get 403,
anonymous visitors log in. A bad month answers 400 naming the field. The
figures come from ``analytics.rootcauses``.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _

from voltdesk.core.choices import Language
from voltdesk.knowledge.review_views import permission_required

from . import rootcauses

PERMISSION = "analytics.view_analytics"


def _language(request) -> str | None:
    language = request.GET.get("language") or translation.get_language()
    return language if language in Language.values else None


def _bar(labels, values, name, unit="") -> dict:
    return {"labels": labels, "values": values, "name": name, "unit": unit}


def _charts(report) -> dict:
    feeders = report.feeders.abnormal[:12] or report.feeders.watch
    return {
        "feeder_chart": _bar(
            [u.name for u in feeders],
            [round(u.ratio or 0, 2) for u in feeders],
            _("Observed / expected"),
            "×",
        ),
        "theme_chart": _bar(
            [t.label for t in report.themes.themes],
            [t.count for t in report.themes.themes],
            _("Complaints"),
        ),
    }


@permission_required(PERMISSION)
def root_causes(request):
    """One month's root causes; a bad ``month`` answers 400 with the reason."""
    asked = request.GET.get("month")
    try:
        period = (
            rootcauses.month_period(asked) if asked is not None else rootcauses.last_full_month()
        )
    except rootcauses.RootCauseError as exc:
        return render(
            request,
            "analytics/rootcauses.html",
            {"nav": "analytics", "error": exc, "month": asked},
            status=400,
        )
    report = rootcauses.monthly_report(period)
    return render(
        request,
        "analytics/rootcauses.html",
        {
            "nav": "analytics",
            **rootcauses.report_context(report),
            **_charts(report),
            "languages": Language.choices,
        },
    )


@permission_required(PERMISSION)
def root_causes_pdf(request, month: str):
    """The month's report as a PDF; a bad month or language answers 400."""
    try:
        period = rootcauses.month_period(month)
    except rootcauses.RootCauseError as exc:
        return HttpResponse(
            f"{exc.field}: {exc.message}", status=400, content_type="text/plain; charset=utf-8"
        )
    language = _language(request)
    if language is None:
        return HttpResponse(
            "language: "
            + _("Choose one of %(languages)s.") % {"languages": ", ".join(Language.values)},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    report = rootcauses.monthly_report(period)
    pdf = rootcauses.render_report_pdf(report, language=language)
    response = HttpResponse(pdf, content_type=rootcauses.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{rootcauses.pdf_filename(period)}"'
    return response


urlpatterns = [
    path("root-causes/", root_causes, name="root_causes"),
    path("root-causes/<str:month>.pdf", root_causes_pdf, name="root_causes_pdf"),
]
