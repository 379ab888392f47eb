"""Supervisor dashboards: hand-placed orders with known figures, exports, access, filters."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from voltdesk.analytics import dashboards, store
from voltdesk.core import roles
from voltdesk.customers.models import Customer
from voltdesk.workorders.models import Deadline

from .test_store import analytics_store, at, network, order  # noqa: F401 - fixtures

PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}  # last year: 2025-01-01 .. 2025-03-31


@pytest.fixture
def placed(analytics_store, network, make_customer):  # noqa: F811
    """Six orders this period, three the same period last year, one outside both."""
    haifa, galil, negev = network["haifa"], network["galil"], network["negev"]
    customers = [make_customer() for _ in range(5)]
    Customer.objects.update(created_at=at("2024-12-01"))  # on the books in both periods
    site = customers[0].sites.get()
    phone = "+972508888888"
    a1 = order(
        "fault",
        at("2026-01-05", 9),
        area=haifa,
        feeder=network["feeder"],
        caller_phone=phone,
        site=site,
    )
    Deadline.objects.create(
        work_order=a1, clock="arrive", due_at=at("2026-01-05", 10), met_at=at("2026-01-05", 9, 40)
    )
    order("fault", at("2026-02-04", 9), area=haifa, caller_phone=phone)  # 30 days: repeat
    order("fault", at("2026-03-07", 9), channel="web", area=galil, caller_phone=phone)  # 31
    a4 = order("complaint", "2026-01-20", area=negev, satisfaction=1)
    Deadline.objects.create(
        work_order=a4, clock="reply", due_at=at("2026-01-21"), met_at=at("2026-01-22")
    )  # late
    a5 = order("complaint", "2026-03-01", channel="app", area=negev, satisfaction=4)
    Deadline.objects.create(work_order=a5, clock="contact", due_at=at("2026-03-02"))  # overdue
    order(
        "consultation", "2026-01-25", channel="web", area=haifa, satisfaction=5, site=site
    )  # same site 20 days after a1: repeat
    order("fault", "2025-01-10", area=haifa)
    order("consultation", "2025-02-15", channel="hall", area=galil, satisfaction=3)
    b3 = order("complaint", "2025-03-01", area=negev)
    Deadline.objects.create(
        work_order=b3, clock="reply", due_at=at("2025-03-02"), met_at=at("2025-03-01", 15)
    )
    order("fault", "2025-06-01", area=haifa)  # in neither period
    return network


def filters(**extra) -> dashboards.Filters:
    return dashboards.parse_filters({**PERIOD, **extra})


def table(view: str, key: str, **extra) -> dashboards.Table:
    board = dashboards.build_view(view, filters(**extra))
    return next(t for t in board.tables if t.key == key)


def by_label(t: dashboards.Table) -> dict:
    return {row[0]: row[1:] for row in t.rows}


def test_volume_by_type_against_last_year(placed):
    t = table("volume", "volume_type")
    rows = by_label(t)
    # fault 3 now, 1 last year: +2, +200 %; consultation 1 and 1; complaint 2 and 1.
    assert rows["Fault repair"] == [3, 1, 2, 200.0]
    assert rows["Consultation and query"] == [1, 1, 0, 0.0]
    assert rows["Complaint and report"] == [2, 1, 1, 100.0]
    assert t.total == ["Total", 6, 3, 3, 100.0]


def test_volume_by_month_lines_up_last_year_and_filters_narrow_both(placed):
    months = by_label(table("volume", "volume_month"))
    # January: a1, a4, the consultation now; the fault of 10 January 2025 last year.
    assert months["January 2026"] == [3, 1, 2, 200.0]
    assert months["March 2026"] == [2, 1, 1, 100.0]
    web = table("volume", "volume_type", channel="web")
    assert by_label(web)["Fault repair"] == [1, 0, 1, None]  # no last-year base: no %
    negev = table("volume", "volume_area", area=str(placed["negev"].pk))
    assert [row[0] for row in negev.rows] == ["Test Negev"]
    assert negev.total[1:3] == [2, 1]


def test_volume_by_hour_and_weekday_use_local_time(placed):
    hours = by_label(table("volume", "volume_hour"))
    # 09:00 UTC in January is 11:00 in Jerusalem: the three calls of the phone.
    assert hours["11:00"][0] == 3
    weekdays = by_label(table("volume", "volume_weekday"))
    assert weekdays["Monday"][0] == 1  # 5 January 2026 was a Monday


def test_sla_compliance_share_by_type(placed):
    t = table("sla", "sla_type")
    rows = by_label(t)
    # Fault: 1 of 1 met; complaint: 0 of 2 (one late, one past due); last year 1 of 1.
    assert rows["Fault repair"] == [1, 1, 100.0, None, None]
    assert rows["Complaint and report"] == [0, 2, 0.0, 100.0, -100.0]
    # Total: 1 of 3 = 33.3 % against 100 %: 66.7 points less.
    assert t.total == ["Total", 1, 3, 33.3, 100.0, -66.7]


def test_repeat_contacts_within_30_days_not_at_31(placed):
    t = table("repeats", "repeats_type")
    rows = by_label(t)
    # Faults: the call 30 days after the first repeats it, the one 31 days later does not.
    assert rows["Fault repair"][:3] == [1, 3, 33.3]
    assert rows["Consultation and query"][:3] == [1, 1, 100.0]  # same site, 20 days later
    assert t.total[1:3] == [2, 6]


def test_complaints_per_10000_customers(placed):
    t = table("complaints", "complaints_region")
    # Five customers; 2 complaints now = 2 / 5 x 10,000 = 4,000; 1 last year = 2,000.
    assert t.total == ["Total", 2, 5, 4000.0, 2000.0, 2000.0, 100.0]


def test_satisfaction_average_and_distribution(placed):
    scores = by_label(table("satisfaction", "satisfaction_scores"))
    assert scores["1"] == [1, 33.3, 0, 0.0]
    assert scores["5"] == [1, 33.3, 0, 0.0]
    assert scores["3"] == [0, 0.0, 1, 100.0]
    average = table("satisfaction", "satisfaction_type")
    # (1 + 4 + 5) / 3 = 3.33 now, 3 last year: +0.33.
    assert average.total == ["Total", 3, 3.33, 3.0, 0.33]


def test_default_period_is_the_last_twelve_full_months():
    assert dashboards.default_period(dt.date(2026, 12, 3)) == (
        dt.date(2025, 12, 1),
        dt.date(2026, 11, 30),
    )


@pytest.fixture
def supervisor(client, make_user):
    client.force_login(make_user(roles.SUPERVISOR))
    return client


def test_supervisor_sees_every_view_with_data_as_of(placed, supervisor):
    response = supervisor.get(reverse("desk:analytics:dashboard"), PERIOD)
    assert response.status_code == 200
    # The refresh time in Jerusalem, as the utility reads its clock.
    local = store.info().as_of.astimezone(ZoneInfo("Asia/Jerusalem"))
    assert f"Data as of {local:%H:%M}" in response.content.decode()
    for view in ("volume", "sla", "repeats", "complaints", "satisfaction"):
        response = supervisor.get(reverse("desk:analytics:dashboard_view", args=[view]), PERIOD)
        assert response.status_code == 200, view
    assert (
        supervisor.get(reverse("desk:analytics:dashboard_view", args=["nope"])).status_code == 404
    )


def test_csv_export_has_a_bom_and_the_figures(placed, supervisor):
    url = reverse("desk:analytics:dashboard_export", args=["volume_type", "csv"])
    response = supervisor.get(url, PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Type,This period,Same period last year,Change,Change (%)"
    assert "Fault repair,3,1,2,200" in lines
    assert lines[-1] == "Total,6,3,3,100"


def test_xlsx_export_opens_and_is_right_to_left_in_hebrew(placed):
    from openpyxl import load_workbook

    with translation.override("he"):
        t = dashboards.build_table("sla_type", filters())[0]
        book = load_workbook(io.BytesIO(dashboards.table_xlsx(t)))
    sheet = book.active
    assert sheet.sheet_view.rightToLeft is True
    assert sheet.max_row == len(t.rows) + 2
    assert sheet.cell(row=sheet.max_row, column=3).value == 3  # commitments due


def test_xlsx_export_through_the_page(placed, supervisor):
    from openpyxl import load_workbook

    url = reverse("desk:analytics:dashboard_export", args=["complaints_area", "xlsx"])
    response = supervisor.get(url, PERIOD)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=1, column=1).value == "Area"
    assert sheet.sheet_view.rightToLeft is not True


def test_a_whole_view_exports_as_one_workbook(placed, supervisor):
    from openpyxl import load_workbook

    url = reverse("desk:analytics:dashboard_workbook", args=["repeats"])
    response = supervisor.get(url, PERIOD)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    # Three tables whose titles share their first 31 characters: three distinct sheets.
    assert len(book.sheetnames) == 3 == len(set(book.sheetnames))
    assert book.worksheets[0].cell(row=1, column=1).value == "Type"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-03-01", "to": "2026-01-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"type": "lightning"}, "type"),
        ({"channel": "pigeon"}, "channel"),
        ({"region": "999999"}, "region"),
        ({"area": "x"}, "area"),
        ({"feeder": "999999"}, "feeder"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(placed, supervisor, params, field):
    response = supervisor.get(reverse("desk:analytics:dashboard"), params)
    assert response.status_code == 400
    assert response.content.decode().count(f"{field}:") >= 1
    export = reverse("desk:analytics:dashboard_export", args=["volume_type", "csv"])
    response = supervisor.get(export, params)
    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")


@pytest.mark.parametrize(
    "url",
    [
        reverse("desk:analytics:dashboard"),
        reverse("desk:analytics:dashboard_view", args=["sla"]),
        reverse("desk:analytics:dashboard_export", args=["volume_type", "csv"]),
        reverse("desk:analytics:dashboard_workbook", args=["volume"]),
    ],
)
def test_only_supervisors_get_in(placed, client, make_user, make_customer, url):
    assert client.get(url).status_code == 302  # anonymous: to log in
    assert "login" in client.get(url)["Location"]
    for user in (
        make_user(roles.AGENT),
        make_user(roles.CUSTOMER, customer=make_customer()),
    ):
        client.force_login(user)
        assert client.get(url, PERIOD).status_code == 403
    client.force_login(make_user(roles.SUPERVISOR))
    assert client.get(url, PERIOD).status_code == 200


def test_page_in_hebrew_is_right_to_left(placed, supervisor):
    response = supervisor.get(
        reverse("desk:analytics:dashboard"), PERIOD, HTTP_ACCEPT_LANGUAGE="he"
    )
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()
