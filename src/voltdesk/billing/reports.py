"""The lounge's reports in cross-sections: billed kWh and charges grouped and filtered.

What is counted
    The lines of a customer's issued documents: bills, late fees and credit
    notes, the last with the negative quantities and amounts they are stored
    with, so a cancelled bill and its credit note add up to nothing. A bill
    cancelled by a credit note (``credited``) is counted with the note; a draft,
    which the next billing run may still replace, never is.

Figures of a row
    ``kwh``: the sum of the energy lines' quantities (billed kWh; fixed and
    capacity lines carry months and kVA, not energy); ``amount``: the sum of
    all the lines' amounts, before VAT; ``documents``: how many documents have
    a line in the row (a document split over time-of-use periods counts in
    each of its rows, once in the total).

Dimensions
    site and area (the document's site), month (the month the document's
    period starts in), tou_period (the line's time-of-use period; fixed,
    capacity and flat lines are "not by time of use"), contract, and the
    contract's supplier and tariff. Every dimension also filters, and a range
    of months [from, to] narrows the documents.

Who sees money
    A user whose company role does not handle money (``core.access.sees_money``
    false: a business's energy manager) gets the same report built from the
    energy lines only, without the amount and the document count: the rows
    carry ``None`` there and every surface leaves those columns out, so the
    money is never even summed. Such a user sees no bills
    (``visible_bills`` is empty), so their lines are scoped here through
    ``visible_customers`` and ``visible_contracts`` instead, with the same
    rule as ``visible_bills``: issued and credited documents only.

Each report is one GROUP BY query (``values().annotate()``) and one aggregate for
the total, whatever the number of sites or months. Labels are written in the
language active when the report is built; CSV, XLSX and PDF exports are made
from the very same ``Report``.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.access import visible_billed_lines

from .choices import BillStatus, LineKind, TouPeriod
from .display import CENT, format_money, format_quantity

# The states of a document that has been issued: a draft is never reported.
REPORTED = [BillStatus.ISSUED, BillStatus.CREDITED]

ZERO = Decimal(0)

# Time-of-use periods in the order of the day's price, dearest first.
TOU_ORDER = [TouPeriod.PEAK, TouPeriod.SHOULDER, TouPeriod.OFF_PEAK, TouPeriod.ALL]
TOU_LABELS = {
    TouPeriod.PEAK: TouPeriod.PEAK.label,
    TouPeriod.SHOULDER: TouPeriod.SHOULDER.label,
    TouPeriod.OFF_PEAK: TouPeriod.OFF_PEAK.label,
    # "all" lines are flat energy and the fixed and capacity charges alike.
    TouPeriod.ALL: gettext_lazy("Not by time of use"),
}


def _not_set() -> str:
    return _("Not set")


def _site_label(row) -> str:
    ref = row["bill__site__ref"]
    if ref is None:
        return _not_set()
    address = row["bill__site__address"]
    return f"{ref} · {address}" if address else ref


def _month_label(row) -> str:
    return formats.date_format(row["month"], "YEAR_MONTH_FORMAT")


def _tou_label(row) -> str:
    return str(TOU_LABELS.get(row["period"], row["period"]))


def _contract_label(row) -> str:
    if row["bill__contract_id"] is None:
        return _not_set()
    tariff = row["bill__contract__tariff__name"]
    tariff = f" · {tariff}" if tariff else ""
    return f"{row['bill__contract__site__ref']}{tariff} (#{row['bill__contract_id']})"


def _named(key: str) -> Callable[[dict], str]:
    def label(row) -> str:
        return row[key] if row[key] is not None else _not_set()

    return label


@dataclass(frozen=True)
class Dimension:
    """One way to cut the report: the columns it groups on, their order, its label."""

    code: str
    title: Callable[[], str]
    keys: tuple[str, ...]
    order: tuple
    label: Callable[[dict], str]


DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension(
            "site",
            lambda: _("Site"),
            ("bill__site__ref", "bill__site__address"),
            (F("bill__site__ref").asc(nulls_last=True),),
            _site_label,
        ),
        Dimension(
            "area",
            lambda: _("Area"),
            ("bill__site__area__name",),
            (F("bill__site__area__name").asc(nulls_last=True),),
            _named("bill__site__area__name"),
        ),
        Dimension("month", lambda: _("Month"), ("month",), (F("month").asc(),), _month_label),
        Dimension(
            "tou_period",
            lambda: _("Time-of-use period"),
            ("tou_rank", "period"),
            (F("tou_rank").asc(),),
            _tou_label,
        ),
        Dimension(
            "contract",
            lambda: _("Contract"),
            ("bill__contract_id", "bill__contract__site__ref", "bill__contract__tariff__name"),
            (
                F("bill__contract__site__ref").asc(nulls_last=True),
                F("bill__contract_id").asc(nulls_last=True),
            ),
            _contract_label,
        ),
        Dimension(
            "supplier",
            lambda: _("Supplier"),
            ("bill__contract__supplier__name",),
            (F("bill__contract__supplier__name").asc(nulls_last=True),),
            _named("bill__contract__supplier__name"),
        ),
        Dimension(
            "tariff",
            lambda: _("Tariff"),
            ("bill__contract__tariff__name",),
            (F("bill__contract__tariff__name").asc(nulls_last=True),),
            _named("bill__contract__tariff__name"),
        ),
    )
}


@dataclass(frozen=True)
class ReportFilters:
    """What the report is narrowed to; ``None`` leaves a dimension whole.

    ``site`` is a site number, ``tou_period`` a period code, the others primary
    keys; ``month_from`` and ``month_to`` are first days of months, both included.
    """

    site: str | None = None
    area: int | None = None
    supplier: int | None = None
    tariff: int | None = None
    contract: int | None = None
    tou_period: str | None = None
    month_from: dt.date | None = None
    month_to: dt.date | None = None


@dataclass(frozen=True)
class ReportRow:
    labels: tuple[str, ...]
    kwh: Decimal
    amount: Decimal | None  # None: the user does not see money
    documents: int | None


@dataclass
class Report:
    dimensions: list[str]
    rows: list[ReportRow]
    total: ReportRow
    money: bool
    currency: str
    criteria: list[tuple[str, str]] = field(default_factory=list)  # (field, chosen value)

    @property
    def titles(self) -> list[str]:
        """Headings of the label columns; without dimensions one, empty, holds "Total"."""
        return [DIMENSIONS[code].title() for code in self.dimensions] or [""]

    def columns(self) -> list[str]:
        """The header row of every export: the dimensions, then the figures."""
        figures = [_("Energy (kWh)")]
        if self.money:
            figures += [_("Before VAT"), _("Documents")]
        return self.titles + figures


def lines_seen_by(user) -> QuerySet:
    """The bill lines ``user`` may report on (see the module's "Who sees money")."""
    return visible_billed_lines(user)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def filtered(lines: QuerySet, filters: ReportFilters, *, money: bool = True) -> QuerySet:
    """``lines`` of issued documents narrowed by ``filters`` (energy lines only without money)."""
    lines = lines.filter(bill__status__in=REPORTED)
    if not money:
        lines = lines.filter(kind=LineKind.ENERGY)
    if filters.site:
        lines = lines.filter(bill__site__ref=filters.site)
    if filters.area:
        lines = lines.filter(bill__site__area_id=filters.area)
    if filters.supplier:
        lines = lines.filter(bill__contract__supplier_id=filters.supplier)
    if filters.tariff:
        lines = lines.filter(bill__contract__tariff_id=filters.tariff)
    if filters.contract:
        lines = lines.filter(bill__contract_id=filters.contract)
    if filters.tou_period:
        lines = lines.filter(period=filters.tou_period)
    if filters.month_from:
        lines = lines.filter(bill__period_start__gte=filters.month_from.replace(day=1))
    if filters.month_to:
        lines = lines.filter(bill__period_start__lt=_next_month(filters.month_to))
    return lines


def _figures(money: bool) -> dict:
    figures = {"kwh": Sum("quantity", filter=Q(kind=LineKind.ENERGY))}
    if money:
        figures["amount"] = Sum("amount")
        figures["documents"] = Count("bill_id", distinct=True)
    return figures


def _row(labels, values: dict, money: bool) -> ReportRow:
    return ReportRow(
        labels=tuple(labels),
        kwh=values["kwh"] if values["kwh"] is not None else ZERO,
        amount=(values["amount"] if values["amount"] is not None else ZERO) if money else None,
        documents=values["documents"] if money else None,
    )


def build_report(
    lines: QuerySet,
    group_by: Sequence[str] = (),
    filters: ReportFilters | None = None,
    *,
    money: bool = True,
    currency: str = "",
) -> Report:
    """The report over ``lines`` (already scoped by access: ``lines_seen_by``).

    ``group_by`` are codes of ``DIMENSIONS``, shown in the order of that table
    whatever order they are given in; an unknown code raises ``ValueError``.
    """
    unknown = [code for code in group_by if code not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")
    dimensions = [code for code in DIMENSIONS if code in group_by]
    lines = filtered(lines, filters or ReportFilters(), money=money)
    figures = _figures(money)

    rows: list[ReportRow] = []
    if dimensions:
        grouped = lines
        if "month" in dimensions:
            grouped = grouped.annotate(month=TruncMonth("bill__period_start"))
        if "tou_period" in dimensions:
            grouped = grouped.annotate(
                tou_rank=Case(
                    *(When(period=code, then=Value(n)) for n, code in enumerate(TOU_ORDER)),
                    default=Value(len(TOU_ORDER)),
                    output_field=IntegerField(),
                )
            )
        keys = [key for code in dimensions for key in DIMENSIONS[code].keys]
        order = [term for code in dimensions for term in DIMENSIONS[code].order]
        for values in grouped.values(*keys).annotate(**figures).order_by(*order):
            labels = [DIMENSIONS[code].label(values) for code in dimensions]
            rows.append(_row(labels, values, money))

    # The total's label sits in the first column; without dimensions it is the only one.
    total_labels = [_("Total")] + [""] * max(0, len(dimensions) - 1)
    total = _row(total_labels, lines.aggregate(**figures), money)
    return Report(dimensions=dimensions, rows=rows, total=total, money=money, currency=currency)


def filter_choices(lines: QuerySet) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: only those the user's own documents have."""
    from voltdesk.core.models import Area
    from voltdesk.customers.models import Contract, Site, Supplier

    from .models import Tariff

    lines = lines.filter(bill__status__in=REPORTED)
    contracts = (
        Contract.objects.filter(pk__in=lines.values("bill__contract_id"))
        .select_related("site", "tariff")
        .order_by("site__ref", "pk")
    )
    periods = set(lines.values_list("period", flat=True).distinct())
    return {
        "site": [
            (s.ref, s.ref)
            for s in Site.objects.filter(pk__in=lines.values("bill__site_id")).order_by("ref")
        ],
        "area": [
            (str(a.pk), a.name)
            for a in Area.objects.filter(pk__in=lines.values("bill__site__area_id"))
        ],
        "supplier": [
            (str(s.pk), s.name)
            for s in Supplier.objects.filter(pk__in=lines.values("bill__contract__supplier_id"))
        ],
        "tariff": [
            (str(t.pk), t.name)
            for t in Tariff.objects.filter(pk__in=lines.values("bill__contract__tariff_id"))
        ],
        "contract": [
            (
                str(c.pk),
                _contract_label(
                    {
                        "bill__contract_id": c.pk,
                        "bill__contract__site__ref": c.site.ref,
                        "bill__contract__tariff__name": c.tariff.name if c.tariff_id else None,
                    }
                ),
            )
            for c in contracts
        ],
        "tou_period": [(code, str(TOU_LABELS[code])) for code in TOU_ORDER if code in periods],
    }


# Figures as text and as numbers ----------------------------------------------------------


def plain_number(value: Decimal) -> str:
    """A figure for a file another program reads: no grouping, no exponent (3234.5, 2000)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def shown(report: Report) -> list[dict]:
    """Rows and the total formatted for a page or a PDF: ``total`` is the last, marked."""
    out = []
    for row in [*report.rows, report.total]:
        out.append(
            {
                "labels": row.labels,
                "kwh": format_quantity(row.kwh),
                "amount": format_money(row.amount, report.currency) if report.money else "",
                "documents": formats.number_format(row.documents, force_grouping=True)
                if report.money
                else "",
                "is_total": row is report.total,
            }
        )
    return out


def plain_money(value: Decimal) -> str:
    """An amount for a file another program reads: always the cents (719.10), no grouping."""
    return f"{value.quantize(CENT):f}"


def _table(report: Report, kwh: Callable, money: Callable) -> list[list]:
    """Header, rows and total as cells; ``kwh`` and ``money`` turn a figure into a cell."""
    cells = [report.columns()]
    for row in [*report.rows, report.total]:
        figures = [kwh(row.kwh)]
        if report.money:
            figures += [money(row.amount), row.documents]
        cells.append([*row.labels, *figures])
    return cells


# Exports ---------------------------------------------------------------------------------

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"


def report_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark: Excel then reads Hebrew and Chinese labels right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(_table(report, plain_number, plain_money))
    return buffer.getvalue().encode("utf-8-sig")


def report_xlsx(report: Report, *, title: str) -> bytes:
    """A sheet with a header row, the rows and a total row; figures are numbers, not text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # A sheet's name is at most 31 characters and cannot hold some punctuation.
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Report"
    sheet.sheet_view.rightToLeft = bool(translation.get_language_bidi())
    table = _table(report, lambda kwh: kwh, lambda amount: amount.quantize(CENT))
    bold = Font(bold=True)
    width = len(report.titles)
    formats_of = ["#,##0.######"] + (["#,##0.00", "0"] if report.money else [])
    for r, cells in enumerate(table, start=1):
        for c, value in enumerate(cells, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if r == 1 or r == len(table):
                cell.font = bold
            if r > 1 and c > width:
                cell.number_format = formats_of[c - width - 1]
    for c, heading in enumerate(table[0], start=1):
        longest = max(len(str(cells[c - 1])) for cells in table)
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = max(
            10, min(48, longest + 2), len(heading) + 2
        )
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_pdf_html(report: Report, context: dict) -> str:
    """The HTML the PDF is laid out from, in the active language (``dir="rtl"`` for Hebrew)."""
    return render_to_string(
        "billing/report_pdf.html",
        {
            **context,
            "report": report,
            "titles": report.titles,
            "rows": shown(report),
            "language": translation.get_language(),
            "bidi": translation.get_language_bidi(),
        },
    )


def report_pdf(report: Report, context: dict) -> bytes:
    """The report as a PDF, laid out like the bill copies (``billing.pdf``): same fonts, direction.

    ``context`` gives ``title``, ``utility_name``, ``customer_name``, ``customer_ref``
    and ``made_on`` for the heading.
    """
    # Imported here: WeasyPrint loads Pango and fonts, which pages without PDFs never need.
    from weasyprint import HTML

    return HTML(string=report_pdf_html(report, context)).write_pdf()
