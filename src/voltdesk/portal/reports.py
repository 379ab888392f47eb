"""Reports in the lounge: billed kWh and charges in cross-sections, on a page and as files.

The page and its exports read the same GET parameters, and so the same report
(``billing.reports.build_report``): ``group`` (repeated: site, area, month,
tou_period, contract, supplier, tariff), the filters ``site``, ``area``,
``supplier``, ``tariff``, ``contract``, ``tou_period``, and the months ``from``
and ``to`` (``YYYY-MM``, both included). A page opened without parameters is
grouped by month.

Rows come from ``billing.reports.lines_seen_by``: a customer user's own issued
documents only. Every company role opens the page; one that does not handle
money (an energy manager) sees kWh only.
"""

import datetime as dt
import re

from django import forms
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.billing import reports
from voltdesk.billing.display import text_direction
from voltdesk.core.access import sees_money
from voltdesk.core.services import get_utility, utility_zone

from .views import customer_required

DEFAULT_GROUP = ["month"]
FILTERS = ("site", "area", "supplier", "tariff", "contract", "tou_period")
MONTH = re.compile(r"\d{4}-\d{2}")
EXPORTS = {
    "csv": reports.CSV_TYPE,
    "xlsx": reports.XLSX_TYPE,
    "pdf": reports.PDF_TYPE,
}


def _month(value: str) -> dt.date:
    if not MONTH.fullmatch(value):
        raise forms.ValidationError(_("enter a month as YYYY-MM, e.g. 2026-09"))
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise forms.ValidationError(_("enter a month as YYYY-MM, e.g. 2026-09")) from None


class MonthField(forms.CharField):
    """``YYYY-MM`` as the month's first day; empty means no bound."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        return _month(value) if value else None


class ReportForm(forms.Form):
    """The report's parameters; filter choices are those of the customer's own documents."""

    group = forms.MultipleChoiceField(
        label=gettext_lazy("Group by"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    site = forms.ChoiceField(label=gettext_lazy("Site"), required=False)
    area = forms.ChoiceField(label=gettext_lazy("Area"), required=False)
    supplier = forms.ChoiceField(label=gettext_lazy("Supplier"), required=False)
    tariff = forms.ChoiceField(label=gettext_lazy("Tariff"), required=False)
    contract = forms.ChoiceField(label=gettext_lazy("Contract"), required=False)
    tou_period = forms.ChoiceField(label=gettext_lazy("Time-of-use period"), required=False)

    def __init__(self, data, *, choices):
        super().__init__(data)
        # "from" is a Python keyword: declared here rather than as class attributes.
        self.fields["from"] = MonthField(label=gettext_lazy("From"), required=False)
        self.fields["to"] = MonthField(label=gettext_lazy("To"), required=False)
        self.fields["group"].choices = [
            (code, dimension.title()) for code, dimension in reports.DIMENSIONS.items()
        ]
        everything = [("", _("All"))]
        for name in FILTERS:
            self.fields[name].choices = everything + choices[name]
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = _(
                "Choose one of the listed values; %(value)s is not among them."
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("the last month comes before the first"))
        return data

    @property
    def filter_fields(self):
        return [self[name] for name in (*FILTERS, "from", "to")]

    def filters(self) -> reports.ReportFilters:
        data = self.cleaned_data

        def number(name):
            return int(data[name]) if data.get(name) else None

        return reports.ReportFilters(
            site=data.get("site") or None,
            area=number("area"),
            supplier=number("supplier"),
            tariff=number("tariff"),
            contract=number("contract"),
            tou_period=data.get("tou_period") or None,
            month_from=data.get("from"),
            month_to=data.get("to"),
        )

    def criteria(self) -> list[tuple[str, str]]:
        """What the report is narrowed to, in words: printed above the PDF's table."""
        chosen = []
        for name in FILTERS:
            value = self.cleaned_data.get(name)
            if value:
                labels = dict(self.fields[name].choices)
                chosen.append((str(self.fields[name].label), str(labels.get(value, value))))
        for name in ("from", "to"):
            if self.cleaned_data.get(name):
                chosen.append((str(self.fields[name].label), f"{self.cleaned_data[name]:%Y-%m}"))
        return chosen

    def errors_as_text(self) -> str:
        return "\n".join(
            f"{self.fields[name].label if name in self.fields else name}: {error}"
            for name, errors in self.errors.items()
            for error in errors
        )


def _params(request) -> QueryDict:
    """The request's parameters; none at all means the first visit: grouped by month."""
    if request.GET:
        return request.GET
    params = QueryDict(mutable=True)
    params.setlist("group", DEFAULT_GROUP)
    return params


def _prepare(request):
    """The form over the user's lines, and the report when the parameters are valid."""
    user = request.user
    money = sees_money(user)
    lines = reports.lines_seen_by(user)
    params = _params(request)
    form = ReportForm(params, choices=reports.filter_choices(lines))
    report = None
    if form.is_valid():
        report = reports.build_report(
            lines,
            form.cleaned_data["group"],
            form.filters(),
            money=money,
            currency=get_utility().currency,
        )
        report.criteria = form.criteria()
    return form, report, params


@customer_required
def report_page(request, customer):
    """The page: the form, the table with its total, links to the same report as files."""
    form, report, params = _prepare(request)
    shown = reports.shown(report) if report else [None]
    return render(
        request,
        "portal/reports.html",
        {
            "nav": "reports",
            "customer": customer,
            "form": form,
            "report": report,
            "rows": shown[:-1],
            "total": shown[-1],
            "query": params.urlencode(),
            "exports": list(EXPORTS),
            "money": sees_money(request.user),
        },
    )


def _today():
    return timezone.localdate(timezone=utility_zone())


@customer_required
def export(request, customer, fmt):
    """The page's report as CSV, XLSX or PDF, in the page's language."""
    if fmt not in EXPORTS:
        raise Http404
    form, report, _params_used = _prepare(request)
    if report is None:
        return HttpResponse(
            form.errors_as_text(), status=400, content_type="text/plain; charset=utf-8"
        )
    title = _("Report")
    today = _today()
    if fmt == "csv":
        body = reports.report_csv(report)
    elif fmt == "xlsx":
        body = reports.report_xlsx(report, title=title)
    else:
        body = reports.report_pdf(
            report,
            {
                "title": title,
                "utility_name": get_utility().name,
                "customer_name": customer.name,
                "customer_name_dir": text_direction(customer.name),
                "customer_ref": customer.ref,
                "made_on": _("Made on %(date)s") % {"date": formats.date_format(today)},
            },
        )
    response = HttpResponse(body, content_type=EXPORTS[fmt])
    ref = re.sub(r"[^\w.-]", "_", customer.ref)  # nothing that could break the header
    filename = f"report-{ref}-{today:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
