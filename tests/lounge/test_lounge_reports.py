"""The lounge's reports: billed kWh and charges before VAT in cross-sections, and their files.

Figures are Acme's documents of conftest plus one September bill at its second
site (``REPORT``), all before VAT:

======================  ==================  =================  ==========
document                line                kWh                amount
======================  ==================  =================  ==========
site 1, September       energy, peak        1,234.5            719.10
                        energy, off-peak    2,000              602.40
                        fixed charge                           45.50
                        capacity charge                        800.00
site 1, October         fixed charge                           45.50
site 2, September       energy, peak        500 x 0.5825       291.25
                        fixed charge                           45.50
======================  ==================  =================  ==========

* by time-of-use period: peak 1,234.5 + 500 = 1,734.5 kWh, 719.10 + 291.25 =
  1,010.35 (2 documents); off-peak 2,000 kWh, 602.40 (1); not by time of use
  (fixed and capacity) 0 kWh, 45.50 + 800.00 + 45.50 + 45.50 = 936.50 (3);
* by site: site 1 3,234.5 kWh, 2,167.00 + 45.50 = 2,212.50 (2); site 2 500 kWh,
  336.75 (1);
* by month: September 3,734.5 kWh, 2,167.00 + 336.75 = 2,503.75 (2); October
  0 kWh, 45.50 (1);
* total: 3,734.5 kWh, 2,212.50 + 336.75 = 2,549.25, 3 documents.

The draft (given a line of 7,777 kWh / 8,474.57 here) and Blue Bakery's bill
(5,555 kWh / 2,777.50) are never counted for Acme.
"""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.lounge.conftest import JERUSALEM, make_bill
from voltdesk.billing.models import BillLine, Tariff
from voltdesk.billing.reports import ReportFilters, build_report, lines_seen_by
from voltdesk.billing.runs import credit_bill
from voltdesk.core.models import Area, Region
from voltdesk.customers.models import Supplier

D = Decimal


@pytest.fixture
def report(lounge):
    """Acme's two sites in two areas, with two suppliers and two tariffs, and a second bill."""
    site_1, site_2 = lounge.acme.sites.order_by("ref")
    region = Region.objects.create(name="North")
    haifa = Area.objects.create(region=region, name="Haifa Bay", kind="urban")
    galilee = Area.objects.create(region=region, name="Galilee", kind="rural")
    utility_supplier = Supplier.objects.create(name="Israel Electric", is_utility=True)
    green = Supplier.objects.create(name="Green Power")
    tou = Tariff.objects.create(name="General TOU", kind="tou")
    flat = Tariff.objects.create(name="Low voltage flat", kind="flat")
    for site, area, supplier, tariff in (
        (site_1, haifa, utility_supplier, tou),
        (site_2, galilee, green, flat),
    ):
        site.area = area
        site.save()
        site.contracts.update(supplier=supplier, tariff=tariff)
    second = make_bill(
        lounge.acme,
        "B2026-09-000003",
        start=dt.date(2026, 9, 1),
        site=site_2,
        lines=[
            ("energy", "peak", "summer", "500", "kWh", "0.5825", "291.25"),
            ("fixed", "all", "", "1", "month", "45.50", "45.50"),
        ],
        energy_kwh=D("500"),
        net_amount=D("336.75"),
        vat_amount=D("60.62"),
        total=D("397.37"),
        issued_at=dt.datetime(2026, 10, 4, 9, 0, tzinfo=JERUSALEM),
        due_date=dt.date(2026, 10, 23),
    )
    # The draft gets a line, so that counting it would show.
    BillLine.objects.create(
        bill=lounge.draft,
        position=1,
        kind="energy",
        period="all",
        covers_from=lounge.draft.period_start,
        covers_to=lounge.draft.period_end,
        quantity=D("7777"),
        unit="kWh",
        unit_price=D("1.089700"),
        amount=D("8474.57"),
    )
    return SimpleNamespace(
        site_1=site_1,
        site_2=site_2,
        haifa=haifa,
        galilee=galilee,
        green=green,
        tou=tou,
        flat=flat,
        second=second,
    )


def _page(client, **query):
    return client.get(reverse("portal:reports"), query)


def _export(client, fmt, **query):
    return client.get(reverse("portal:report_export", args=[fmt]), query)


def _rows(html: str) -> dict[str, tuple[str, ...]]:
    """The table's rows by their labels ("Peak", "S00001-1 · 7 Harbour Rd | September 2026")."""
    rows = {}
    for label, body in re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', html, re.S):
        rows[label] = tuple(re.findall(r'data-figure="\w+">([^<]*)<', body))
    return rows


def _total(html: str) -> tuple[str, ...]:
    body = re.search(r'<tr class="fw-bold" data-total="1">(.*?)</tr>', html, re.S).group(1)
    return tuple(re.findall(r'data-figure="total-\w+">([^<]*)<', body))


def _csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _pdf_text(response) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


# The cross-sections ---------------------------------------------------------------------


def test_grouped_by_time_of_use_period(lounge, report, client_for):
    html = _page(client_for(lounge.admin), group="tou_period").content.decode()

    assert _rows(html) == {
        "Peak": ("1,734.5", "₪1,010.35", "2"),
        "Off-peak": ("2,000", "₪602.40", "1"),
        "Not by time of use": ("0", "₪936.50", "3"),
    }
    assert list(_rows(html)) == ["Peak", "Off-peak", "Not by time of use"]  # dearest first
    assert _total(html) == ("3,734.5", "₪2,549.25", "3")


def test_grouped_by_site(lounge, report, client_for):
    html = _page(client_for(lounge.admin), group="site").content.decode()

    assert _rows(html) == {
        f"{report.site_1.ref} · 7 Harbour Rd": ("3,234.5", "₪2,212.50", "2"),
        report.site_2.ref: ("500", "₪336.75", "1"),
    }
    assert _total(html) == ("3,734.5", "₪2,549.25", "3")


def test_grouped_by_month(lounge, report, client_for):
    html = _page(client_for(lounge.admin), group="month").content.decode()

    assert _rows(html) == {
        "September 2026": ("3,734.5", "₪2,503.75", "2"),
        "October 2026": ("0", "₪45.50", "1"),
    }
    assert _total(html) == ("3,734.5", "₪2,549.25", "3")


def test_first_visit_is_grouped_by_month(lounge, report, client_for):
    html = _page(client_for(lounge.admin)).content.decode()

    assert list(_rows(html)) == ["September 2026", "October 2026"]
    assert 'value="month" id="id_group_2" checked' in html


def test_two_dimensions_cross_each_other(lounge, report, client_for):
    """Site 1's September is the whole conftest bill: 3,234.5 kWh, 2,167.00."""
    html = _page(client_for(lounge.admin), group=["month", "site"]).content.decode()

    site_1 = f"{report.site_1.ref} · 7 Harbour Rd"
    assert _rows(html) == {
        f"{site_1} | September 2026": ("3,234.5", "₪2,167.00", "1"),
        f"{site_1} | October 2026": ("0", "₪45.50", "1"),
        f"{report.site_2.ref} | September 2026": ("500", "₪336.75", "1"),
    }


def test_filtered_by_site(lounge, report, client_for):
    html = _page(
        client_for(lounge.admin), group="tou_period", site=report.site_2.ref
    ).content.decode()

    assert _rows(html) == {
        "Peak": ("500", "₪291.25", "1"),
        "Not by time of use": ("0", "₪45.50", "1"),
    }
    assert _total(html) == ("500", "₪336.75", "1")


def test_area_supplier_and_tariff_follow_the_site_and_its_contract(lounge, report, client_for):
    client = client_for(lounge.admin)

    by_area = _rows(_page(client, group="area").content.decode())
    by_supplier = _page(client, group="site", supplier=report.green.pk).content.decode()
    by_tariff = _page(client, group="tariff", tariff=report.tou.pk).content.decode()

    assert by_area == {
        "Galilee": ("500", "₪336.75", "1"),
        "Haifa Bay": ("3,234.5", "₪2,212.50", "2"),
    }
    assert list(_rows(by_supplier)) == [report.site_2.ref]
    assert _total(by_supplier) == ("500", "₪336.75", "1")
    assert _rows(by_tariff) == {"General TOU": ("3,234.5", "₪2,212.50", "2")}


def test_months_from_and_to_narrow_the_documents(lounge, report, client_for):
    html = _page(
        client_for(lounge.admin), group="month", **{"from": "2026-10", "to": "2026-10"}
    ).content.decode()

    assert _rows(html) == {"October 2026": ("0", "₪45.50", "1")}
    assert _total(html) == ("0", "₪45.50", "1")


def test_filters_offer_the_customers_own_values_only(lounge, report, client_for):
    html = _page(client_for(lounge.admin)).content.decode()

    assert f'<option value="{report.site_2.ref}">' in html
    assert f'<option value="{report.green.pk}">Green Power</option>' in html
    assert lounge.bakery.sites.get().ref not in html
    assert '<option value="shoulder">' not in html  # no shoulder line was billed


def test_a_credit_note_counts_negative_and_cancels_its_bill(lounge, report, client_for):
    """October's 45.50 and its credit note's -45.50 make 0.00 over two documents;
    the total falls to 2,549.25 - 45.50 = 2,503.75."""
    credit_bill(lounge.october, reason="wrong fixed charge")

    html = _page(client_for(lounge.admin), group="month").content.decode()

    assert _rows(html)["October 2026"] == ("0", "₪0.00", "2")
    assert _total(html) == ("3,734.5", "₪2,503.75", "4")


def test_drafts_are_never_counted(lounge, report, client_for):
    html = _page(client_for(lounge.admin), group="month").content.decode()
    csv_text = _export(client_for(lounge.admin), "csv", group="month").content.decode()

    for text in (html, csv_text):
        assert "November 2026" not in text
        assert "7,777" not in text and "7777" not in text
        assert "8,474.57" not in text and "8474.57" not in text
    assert _total(html) == ("3,734.5", "₪2,549.25", "3")


def test_the_report_is_one_grouped_query_and_one_total(lounge, report, django_assert_num_queries):
    lines = lines_seen_by(lounge.admin)

    with django_assert_num_queries(2):
        built = build_report(lines, ["site", "month", "tou_period"], ReportFilters())

    assert len(built.rows) == 6  # site 1: Sep peak, off-peak, fixed; Oct fixed; site 2: 2
    assert (built.total.kwh, built.total.amount) == (D("3734.5"), D("2549.25"))


# Who sees what ---------------------------------------------------------------------------


def test_another_companys_lines_never_appear(lounge, report, client_for):
    client = client_for(lounge.admin)
    bakery_site = lounge.bakery.sites.get().ref

    html = _page(client, group=["site", "tou_period"]).content.decode()
    exported = _export(client, "csv", group="site").content.decode("utf-8-sig")

    for text in (html, exported):
        assert bakery_site not in text and "Blue Bakery" not in text
        assert "5,555" not in text and "5555" not in text
        assert "2,777.50" not in text and "2777.50" not in text


def test_another_company_sees_its_own_and_cannot_name_acmes_site(lounge, report, client_for):
    """The bakery's one bill: 5,555 kWh, 2,777.50; Acme's site is not among its choices."""
    client = client_for(lounge.bakery_owner)

    own = _page(client, group="site").content.decode()
    naming = _page(client, site=report.site_1.ref).content.decode()
    export = _export(client, "csv", site=report.site_1.ref)

    assert _total(own) == ("5,555", "₪2,777.50", "1")
    assert report.site_1.ref not in own and "3,734.5" not in own
    assert "Site: Choose one of the listed values" in naming
    assert "3,234.5" not in naming and 'id="report"' not in naming
    assert export.status_code == 400 and b"3234.5" not in export.content


def test_energy_manager_sees_kwh_but_no_money(lounge, report, client_for):
    client = client_for(lounge.energy_manager)

    html = _page(client, group="tou_period").content.decode()
    rows = _csv(_export(client, "csv", group="tou_period"))

    assert _rows(html) == {"Peak": ("1,734.5",), "Off-peak": ("2,000",)}
    assert _total(html) == ("3,734.5",)
    assert "₪" not in html and "Before VAT" not in html and "Documents" not in html
    assert f'href="{reverse("portal:reports")}"' in html  # the menu offers reports
    assert f'href="{reverse("portal:bills")}"' not in html  # but no bills
    assert rows == [
        ["Time-of-use period", "Energy (kWh)"],
        ["Peak", "1734.5"],
        ["Off-peak", "2000"],
        ["Total", "3734.5"],
    ]
    pdf = _pdf_text(_export(client, "pdf", group="tou_period"))
    assert "3,734.5" in pdf and "₪" not in pdf and "Before VAT" not in pdf


def test_anonymous_is_sent_to_log_in(lounge, client_for):
    for target in (reverse("portal:reports"), reverse("portal:report_export", args=["csv"])):
        response = client_for().get(target)

        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={target}"


# Exports --------------------------------------------------------------------------------


def test_csv_has_the_pages_rows_and_total_in_utf8_with_a_bom(lounge, report, client_for):
    response = _export(client_for(lounge.admin), "csv", group="tou_period")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = response["Content-Disposition"].rsplit("-", 1)[-1][:8]
    assert response["Content-Disposition"] == (
        f'attachment; filename="report-{lounge.acme.ref}-{today}.csv"'
    )
    assert dt.datetime.strptime(today, "%Y%m%d")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert _csv(response) == [
        ["Time-of-use period", "Energy (kWh)", "Before VAT", "Documents"],
        ["Peak", "1734.5", "1010.35", "2"],
        ["Off-peak", "2000", "602.40", "1"],
        ["Not by time of use", "0", "936.50", "3"],
        ["Total", "3734.5", "2549.25", "3"],
    ]


def test_csv_in_hebrew_keeps_its_letters(lounge, report, client_for):
    rows = _csv(_export(client_for(lounge.admin, language="he"), "csv", group="month"))

    assert rows[0][0] == "חודש"  # "month"
    assert rows[-1] == ["סה״כ", "3734.5", "2549.25", "3"]  # "total"


def test_xlsx_has_numbers_a_header_and_a_total(lounge, report, client_for):
    response = _export(client_for(lounge.admin), "xlsx", group=["site", "month"])

    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0] == ("Site", "Month", "Energy (kWh)", "Before VAT", "Documents")
    assert values[1] == (f"{report.site_1.ref} · 7 Harbour Rd", "September 2026", 3234.5, 2167, 1)
    assert values[3] == (report.site_2.ref, "September 2026", 500, 336.75, 1)
    assert values[-1] == ("Total", None, 3734.5, 2549.25, 3)
    assert sheet.cell(row=len(values), column=1).font.bold
    assert not sheet.sheet_view.rightToLeft


def test_xlsx_in_hebrew_is_a_right_to_left_sheet(lounge, report, client_for):
    response = _export(client_for(lounge.admin, language="he"), "xlsx", group="month")

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.sheet_view.rightToLeft
    assert list(sheet.values)[-1] == ("סה״כ", 3734.5, 2549.25, 3)


def test_pdf_has_the_rows_and_the_total(lounge, report, client_for):
    response = _export(client_for(lounge.admin), "pdf", group="tou_period", site=report.site_1.ref)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    text = _pdf_text(response)
    assert "Acme Industries" in text and lounge.acme.ref in text
    assert f"Site: {report.site_1.ref}" in text  # what it was narrowed to
    assert "Peak 1,234.5 ₪719.10 1" in text
    assert "Off-peak 2,000 ₪602.40 1" in text
    assert "Not by time of use 0 ₪891.00 2" in text  # 45.50 + 800.00 + 45.50
    assert "Total 3,234.5 ₪2,212.50 2" in text


def test_pdf_in_hebrew_has_hebrew_headings(lounge, report, client_for):
    response = _export(client_for(lounge.admin, language="he"), "pdf", group="month")

    text = _pdf_text(response)
    assert "חודש" in text  # "month"
    assert "לפני מע״מ" in text  # "before VAT"
    assert "סה״כ" in text  # "total"
    assert "2,549.25" in text and "3,734.5" in text
    assert "ספטמבר" in text  # September, the Hebrew way


def test_pdf_in_chinese(lounge, report, client_for):
    text = _pdf_text(_export(client_for(lounge.admin, language="zh-hans"), "pdf", group="month"))

    assert "合计" in text and "2026年9月" in text and "₪2,549.25" in text


# Bad input ------------------------------------------------------------------------------


def test_a_bad_month_is_named_beside_its_field(lounge, report, client_for):
    response = _page(client_for(lounge.admin), **{"from": "2026-13"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "From: enter a month as YYYY-MM" in html
    assert 'id="id_from" value="2026-13"' in html and "is-invalid" in html
    assert 'id="report"' not in html  # no total for a question not asked right


@pytest.mark.parametrize(
    "query, message",
    [
        ({"to": "Sept"}, "To: enter a month as YYYY-MM"),
        ({"from": "2026-10", "to": "2026-09"}, "To: the last month comes before the first"),
        ({"group": "colour"}, "Group by: Choose one of the listed values; colour is not"),
        ({"tou_period": "night"}, "Time-of-use period: Choose one of the listed values"),
        ({"area": "x"}, "Area: Choose one of the listed values"),
    ],
)
def test_other_bad_parameters_are_named_too(lounge, report, client_for, query, message):
    response = _page(client_for(lounge.admin), **query)

    assert response.status_code == 200
    assert message in response.content.decode()


def test_exports_refuse_bad_parameters_by_name(lounge, report, client_for):
    response = _export(client_for(lounge.admin), "xlsx", **{"from": "2026-13"})

    assert response.status_code == 400
    assert "From: enter a month as YYYY-MM" in response.content.decode()


def test_an_unknown_format_is_not_found(lounge, client_for):
    assert _export(client_for(lounge.admin), "doc").status_code == 404


def test_the_page_links_its_exports_with_the_same_parameters(lounge, report, client_for):
    html = _page(client_for(lounge.admin), group="site", site=report.site_2.ref).content.decode()

    for fmt in ("csv", "xlsx", "pdf"):
        link = reverse("portal:report_export", args=[fmt])
        assert f'href="{link}?group=site&amp;site={report.site_2.ref}"' in html
