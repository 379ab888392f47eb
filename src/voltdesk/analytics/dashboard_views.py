"""The supervisors' dashboards at /desk/analytics/: views of figures and their exports.

The pages only parse the filters, call ``dashboards`` and show its tables;
every table exports as CSV or XLSX with the same filters. Bad filter values
answer 400 with a message naming the field. Supervisors only
(``analytics.view_analytics``).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import formats, timezone
from django.utils.http import urlencode

from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import utility_zone
from voltdesk.knowledge.review_views import permission_required
from voltdesk.workorders.choices import Channel, OrderType

from . import dashboards

PERMISSION = "analytics.view_analytics"
FORMATS = {"csv": dashboards.CSV_TYPE, "xlsx": dashboards.XLSX_TYPE}


def _choices() -> dict:
    return {
        "types": OrderType.choices,
        "channels": Channel.choices,
        "regions": list(Region.objects.order_by("name").values_list("pk", "name")),
        "areas": list(Area.objects.order_by("name").values_list("pk", "name")),
        "feeders": list(Feeder.objects.order_by("name").values_list("pk", "name")),
    }


def _local(moment, fmt: str) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment, utility_zone()), fmt)


def _page(request, view: str):
    context = {
        "nav": "analytics",
        "views": list(dashboards.VIEWS.items()),
        "view": view,
        "query": request.GET,
        **_choices(),
    }
    try:
        filters = dashboards.parse_filters(request.GET)
    except dashboards.FilterError as exc:
        context.update(error=exc.message, error_field=exc.field)
        return render(request, "analytics/dashboard.html", context, status=400)
    board = dashboards.build_view(view, filters)
    query = urlencode(filters.as_query())
    context.update(
        filters=filters,
        tables=[dashboards.shown(table) for table in board.tables],
        # Formatted here: template filters would show an aware time in UTC again.
        as_of=_local(board.as_of, "H:i"),
        as_of_full=_local(board.as_of, "SHORT_DATETIME_FORMAT"),
        export_query=query,
    )
    return render(request, "analytics/dashboard.html", context)


@permission_required(PERMISSION)
def dashboard(request):
    """The overview: the headline figures, volume by month and by type."""
    return _page(request, "overview")


@permission_required(PERMISSION)
def dashboard_view(request, view: str):
    """One view of the dashboard (volume, SLA, repeat contacts, complaints, satisfaction)."""
    if view not in dashboards.VIEWS or view == "overview":
        raise Http404
    return _page(request, view)


@permission_required(PERMISSION)
def dashboard_export(request, table: str, fmt: str):
    """One table as CSV or XLSX, with the page's filters."""
    if table not in dashboards.TABLES or fmt not in FORMATS:
        raise Http404
    try:
        filters = dashboards.parse_filters(request.GET)
    except dashboards.FilterError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    found, _as_of = dashboards.build_table(table, filters)
    body = dashboards.table_csv(found) if fmt == "csv" else dashboards.table_xlsx(found)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    name = dashboards.export_name(found.key, filters, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission_required(PERMISSION)
def dashboard_workbook(request, view: str):
    """Every table of a view as one XLSX workbook, a sheet each."""
    if view not in dashboards.VIEWS:
        raise Http404
    try:
        filters = dashboards.parse_filters(request.GET)
    except dashboards.FilterError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    board = dashboards.build_view(view, filters)
    response = HttpResponse(dashboards.tables_xlsx(board.tables), content_type=dashboards.XLSX_TYPE)
    name = dashboards.export_name(view, filters, "xlsx")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("dashboard/<slug:view>/", dashboard_view, name="dashboard_view"),
    path("dashboard/export/<slug:table>.<slug:fmt>", dashboard_export, name="dashboard_export"),
    path("dashboard/<slug:view>/workbook.xlsx", dashboard_workbook, name="dashboard_workbook"),
]
