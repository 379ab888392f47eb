"""The residential portal on a phone (390 x 844), in English, Hebrew and Chinese.

The Wang household (cn profile, tiered tariff) has a year of bills from 250 kWh a
month, the eleven oldest paid by one payment, and an open latest bill. On a phone
it walks every page of its self-service: opens a bill and its PDF copy and sealed
e-invoice, its payments, its consumption chart, buys a prepaid package on the
sandbox's page, books, moves and cancels a hall visit, applies for a new
connection with a scanned document and reports a fault. Every page is checked
as a phone user meets it: nothing scrolls sideways, the menu hides behind a
toggler that opens it, wide tables scroll inside their own box, and what a
thumb taps (buttons, menu links, form fields) is at least 40 px high.

Package arithmetic (as tests/prepaid/test_levels.py): 250 kWh x 12 = 3,000 kWh
a year; the 80 % level is 2,400 kWh: 2,160 x 0.4883 = 1,054.73 in the first
annual tier + 240 x 0.5383 = 129.19 in the second = 1,183.92 a year, 98.66 a
month, rounded up to 100.00 a month (1,200.00 paid for the year).
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.appointments.conftest import make_hall
from tests.prepaid.conftest import active_package
from voltdesk.appointments import calendar
from voltdesk.appointments import services as appointments
from voltdesk.appointments.applications import submit_application
from voltdesk.appointments.choices import BusinessKindCode
from voltdesk.appointments.models import Application, Booking, BusinessKind
from voltdesk.billing import seal
from voltdesk.billing.models import Bill, Tariff
from voltdesk.billing.payments import record_payment
from voltdesk.billing.runs import billing_run, issue_bills
from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import init_utility
from voltdesk.customers.models import Contract, Customer, CustomerUser, Site
from voltdesk.metering.models import Reading
from voltdesk.metering.services import refresh_rollups
from voltdesk.prepaid.models import Package
from voltdesk.prepaid.services import add_months
from voltdesk.workorders.models import WorkOrder

pytestmark = pytest.mark.slow

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n% a scanned identity card\n"
MONTHLY_KWH = 250

# Everything a phone user taps: buttons, form fields, the menu's links and toggler.
TAP_TARGETS = """() => {
  const selector = [
    "main .btn", "main button", "main select", "main textarea",
    "main input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not([type=file])",
    "main input[type=file]", "main .form-check",
    ".navbar-toggler", "#portal-nav .nav-link", "#portal-nav .btn", "footer .btn",
  ].join(",");
  const shown = (el) => el.getClientRects().length > 0 && !el.closest(".visually-hidden")
      && getComputedStyle(el).visibility !== "hidden";
  return [...document.querySelectorAll(selector)].filter(shown)
    .filter((el) => el.getBoundingClientRect().height < 40)
    .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}`
      + ` "${(el.innerText || el.name || "").trim().slice(0, 30)}"`
      + ` ${Math.round(el.getBoundingClientRect().height)}px`);
}"""
UNBOXED = """() => [...document.querySelectorAll("main table")]
  .filter((t) => !t.closest(".table-responsive")).map((t) => t.id || t.className)"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def household(name, username, area, feeder, tariff):
    n = Customer.objects.count() + 1
    customer = Customer.objects.create(
        ref=f"CN{n:07d}",
        name=name,
        kind="residential",
        phone=f"+861380013800{n}",
        email=f"{username}@example.cn",
        language="en",
    )
    site = Site.objects.create(
        ref=f"CN{n:07d}-01", customer=customer, area=area, feeder=feeder, address="8 Xinyuan Road"
    )
    Contract.objects.create(customer=customer, site=site, tariff=tariff)
    user = User.objects.create_user(username, password=f"pw-{username}")
    user.groups.add(Group.objects.get(name=roles.CUSTOMER))
    CustomerUser.objects.create(user=user, customer=customer, company_role="holder")
    customer.user, customer.site = user, site
    return customer


@pytest.fixture
def homes(transactional_db, settings, tmp_path):
    """Two households billed for the last twelve months; the hall open every day."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    utility = init_utility("cn").utility
    seal.make_seal_certificate(utility.name, country="CN")
    area = Area.objects.create(
        region=Region.objects.create(name="Beijing"), name="Chaoyang", kind="urban"
    )
    feeder = Feeder.objects.create(area=area, name="CY-1")
    tariff = Tariff.objects.get(name="Residential tiered")
    wang = household("Wang Family", "wang", area, feeder, tariff)
    li = household("Li Family", "li", area, feeder, tariff)

    this_month = timezone.localdate(timezone=SHANGHAI).replace(day=1)
    months = [add_months(this_month, i) for i in range(-12, 0)]
    Reading.objects.bulk_create(
        Reading(
            site=home.site,
            start=local_midnight(month),
            end=local_midnight(add_months(month, 1)),
            kwh=Decimal(MONTHLY_KWH),
            source="csv",
        )
        for home in (wang, li)
        for month in months
    )
    refresh_rollups()
    for month in months:
        billing_run(month)
        issue_bills(month)
    bills = list(Bill.objects.filter(customer=wang, kind="bill").order_by("period_start"))
    assert len(bills) == 12
    paid = sum(b.total for b in bills[:-1])
    record_payment(wang, paid, "bank", timezone.now() - dt.timedelta(days=3), user=None)

    kinds = {
        code: BusinessKind.objects.create(code=code, rank=i)
        for i, code in enumerate(
            [
                BusinessKindCode.NEW_CONNECTION,
                BusinessKindCode.CHANGE_OF_USE,
                BusinessKindCode.METER_TEST,
            ]
        )
    }
    hall = make_hall(
        "chaoyang",
        name="Chaoyang Service Hall",
        weekdays=range(7),
        spans=[(dt.time(8), dt.time(18))],
        area=area,
    )
    # The neighbours' own rows, which the Wangs must never reach.
    today = timezone.localdate(timezone=SHANGHAI)
    li_slot = calendar.free_slots(hall, today, today + dt.timedelta(days=30))[-1].starts_at
    li_booking = appointments.book(
        li.user, customer=li, hall=hall, kind=kinds["meter_test"], starts_at=li_slot
    )
    li_application = submit_application(
        li.user,
        customer=li,
        kind="new_connection",
        supply="residential",
        address="9 Xinyuan Road",
        files=[SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")],
    )
    li_package = active_package(li, add_months(this_month, 1))
    return SimpleNamespace(
        wang=wang,
        li=li,
        bills=bills,
        paid_bill=bills[-2],
        open_bill=bills[-1],
        li_bill=Bill.objects.filter(customer=li).order_by("period_start").first(),
        li_booking=li_booking,
        li_application=li_application,
        li_package=li_package,
    )


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


def phone_page(browser_page_factory):
    page = browser_page_factory(**PHONE)
    page.emulate_media(reduced_motion="reduce")  # Bootstrap's collapse then opens at once
    return page


def phone_problems(page) -> list[str]:
    """What would trouble a phone user on this page (nothing, on a good page)."""
    where = page.url.split("/portal/", 1)[-1] or "home"
    problems = []
    if page.evaluate(OVERFLOW) > 0:
        problems.append(f"{where}: scrolls sideways")
    problems += [f"{where}: table outside .table-responsive: {t}" for t in page.evaluate(UNBOXED)]
    toggler, menu = page.locator(".navbar-toggler"), page.locator("#portal-nav")
    if not toggler.is_visible() or menu.is_visible():
        return [*problems, f"{where}: the menu is not folded behind a toggler"]
    toggler.click()
    menu.locator(".nav-link").first.wait_for(state="visible")
    if page.evaluate(OVERFLOW) > 0:
        problems.append(f"{where}: the open menu scrolls sideways")
    problems += [f"{where}: under 40 px: {t}" for t in page.evaluate(TAP_TARGETS)]
    toggler.click()
    menu.wait_for(state="hidden")
    return problems


def check_phone_page(page):
    """Fail on what would trouble a phone user; returns the page's heading."""
    assert phone_problems(page) == []
    return page.locator("main h1").first.inner_text()


def bills_fit(page) -> bool:
    """A bill's number, period, what is left to pay, status and PDF fit without scrolling."""
    box = "document.querySelector('#my-bills').parentElement"
    return page.evaluate(f"(b => b.scrollWidth <= b.clientWidth)({box})")


def go(page, href):
    """Through the folded menu, as a thumb does."""
    page.click(".navbar-toggler")
    page.click(f"#portal-nav a[href='{href}']")
    page.wait_for_load_state()
    return check_phone_page(page)


def test_a_household_lives_its_self_service_on_a_phone(homes, live_server, page_factory):
    base = live_server.url
    page = phone_page(page_factory)
    log_in(page, base, "wang")
    assert page.url == f"{base}/portal/"
    page.wait_for_selector("#monthly-chart canvas")  # the consumption chart is drawn
    assert check_phone_page(page) == "Wang Family"

    # Bills: twelve of them; the latest is open, the one before paid.
    assert go(page, "/portal/bills/") == "Bills and payments due"
    assert page.locator("#my-bills tbody tr").count() == 12
    assert bills_fit(page)
    open_row = page.locator(f"#my-bills tr[data-bill='{homes.open_bill.number}']")
    assert open_row.is_visible()
    page.click(f"#my-bills a[href='/portal/bills/{homes.paid_bill.number}/']")
    page.wait_for_load_state()
    assert homes.paid_bill.number in check_phone_page(page)
    for link in ("#pdf-copy", "#einvoice"):
        href = page.locator(link).get_attribute("href")
        response = page.request.get(base + href)
        assert response.status == 200, href
        assert response.headers["content-type"] == "application/pdf"
        assert response.body()[:5] == b"%PDF-"
    with page.expect_download() as download:
        page.click("#pdf-copy")
    assert Path(download.value.path()).read_bytes()[:4] == b"%PDF"

    # Payments: the one payment settled the eleven oldest bills.
    assert go(page, "/portal/payments/") == "Your payments"
    payment = page.locator("#my-payments tbody tr")
    assert payment.count() == 1
    assert payment.locator("[data-allocation]").count() == 11

    # Consumption: the last twelve months, this one not read yet: 11 x 250 = 2,750 kWh.
    assert go(page, "/portal/consumption/") == "Consumption by site"
    assert page.locator("main table tbody td").last.inner_text() == "2,750"

    # A prepaid package: the 80 % level, 100.00 a month, paid on the sandbox's page.
    assert go(page, "/portal/packages/") == "Prepaid packages"
    level = page.locator(".vd-level[data-level='80']")
    assert "100.00" in level.inner_text()
    level.click()
    page.click("#buy-form button[type=submit]")
    page.wait_for_load_state()
    package = Package.objects.get(customer=homes.wang)
    assert f"/portal/packages/pay/{package.provider_ref}/" in page.url
    check_phone_page(page)
    page.check("#card-success")
    page.click("#sandbox-card-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/portal/packages/")  # back where the purchase started
    package.refresh_from_db()
    assert (package.status, package.monthly_amount) == ("active", Decimal("100.00"))
    assert package.number in page.locator("#live-package").inner_text()
    page.click(f"#live-package a[href='/portal/packages/{package.pk}/']")
    page.wait_for_selector("#package-status")
    check_phone_page(page)

    # A hall visit: book, move to another time, cancel.
    assert go(page, "/portal/appointments/") == "Hall appointments"
    page.click("#book-visit")
    page.wait_for_load_state()
    page.select_option("#id_hall", "chaoyang")
    page.select_option("#id_kind", BusinessKindCode.NEW_CONNECTION)
    page.click("#hall-form button[type=submit]")
    page.wait_for_selector("#slots")
    check_phone_page(page)
    page.click("#slots input:enabled + label >> nth=0")
    page.click("#slot-form button[type=submit]")
    page.wait_for_selector("#booking-status")
    booking = Booking.objects.get(customer=homes.wang)
    assert page.locator("#booking-status").get_attribute("data-status") == "booked"
    check_phone_page(page)
    page.click("#move-link")
    page.wait_for_selector("#slots")
    check_phone_page(page)
    page.click("#days a.btn-outline-primary >> nth=0")  # a later day with free places
    page.wait_for_load_state()
    page.click("#slots input:enabled + label >> nth=0")
    page.click("#slot-form button[type=submit]")
    page.wait_for_selector("#booking-status")
    moved = Booking.objects.get(customer=homes.wang, status="booked")
    assert moved.pk != booking.pk and moved.starts_at > booking.starts_at
    assert moved.reference in page.locator("main h1").inner_text()
    page.click("#cancel-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#booking-status").get_attribute("data-status") == "cancelled"
    check_phone_page(page)
    assert go(page, "/portal/appointments/") == "Hall appointments"
    assert page.locator("#no-upcoming").is_visible()

    # An online application for a new connection, with a scanned identity card.
    assert go(page, "/portal/applications/") == "Online applications"
    page.click("a[href='/portal/applications/new/']")
    page.wait_for_load_state()
    check_phone_page(page)
    page.select_option("#id_kind", "new_connection")
    page.select_option("#id_supply", "residential")
    page.fill("#id_address", "8 Xinyuan Road, flat 2")
    page.set_input_files(
        "#id_documents", {"name": "id-card.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.click("#application-form button[type=submit]")
    page.wait_for_load_state()
    application = Application.objects.get(customer=homes.wang)
    assert page.url.endswith(f"/portal/applications/{application.pk}/")
    assert "id-card.pdf" in page.locator("main").inner_text()
    check_phone_page(page)

    # A fault report, then its status.
    assert go(page, "/portal/orders/") == "Requests and fault reports"
    page.click("a[href='#new-request']")
    page.select_option("#id_order_type", "fault")
    page.select_option("#id_site_ref", homes.wang.site.ref)
    page.fill("#id_description", "No power in the kitchen since 7 pm")
    page.click("#portal-order-form button[type=submit]")
    page.wait_for_selector("#order-status")
    fault = WorkOrder.objects.get(customer=homes.wang, order_type="fault")
    assert page.locator("#order-status").get_attribute("data-status") == "new"
    check_phone_page(page)
    go(page, "/portal/orders/")
    assert page.locator(f"#my-orders tr[data-order='{fault.pk}']").is_visible()


TOUR = [
    "/portal/",
    "/portal/bills/",
    "/portal/payments/",
    "/portal/consumption/",
    "/portal/packages/",
    "/portal/appointments/",
    "/portal/applications/",
    "/portal/orders/",
    "/portal/e-bills/",
    "/portal/reports/",
]


@pytest.mark.parametrize(
    ("language", "direction", "headings"),
    [
        ("he", "rtl", {"/portal/bills/": "חשבונות ותשלומים לתשלום"}),
        ("zh-hans", "ltr", {"/portal/bills/": "账单与应付款项"}),
    ],
)
def test_the_page_tour_in_hebrew_and_chinese(
    homes, live_server, page_factory, language, direction, headings
):
    base = live_server.url
    page = phone_page(page_factory)
    log_in(page, base, "wang")
    page.click(f"footer button[value='{language}']")
    page.wait_for_load_state()
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == (language, direction)
    seen = {}
    for href in TOUR:
        seen[href] = go(page, href)
        if href == "/portal/bills/":
            assert bills_fit(page)
        assert html.get_attribute("lang") == language and html.get_attribute("dir") == direction
    for href in ("/portal/appointments/new/", "/portal/applications/new/"):
        page.goto(base + href)
        seen[href] = check_phone_page(page)
    page.goto(f"{base}/portal/bills/{homes.paid_bill.number}/")
    check_phone_page(page)
    for href, heading in headings.items():
        assert seen[href] == heading
    # Translated, not English: no heading of the tour reads as it does in English.
    assert "Your payments" not in seen.values() and "Prepaid packages" not in seen.values()


def test_the_neighbours_bill_visit_application_and_package_are_404(
    homes, live_server, page_factory
):
    page = phone_page(page_factory)
    base = live_server.url
    log_in(page, base, "wang")
    for url in (
        f"/portal/bills/{homes.li_bill.number}/",
        f"/portal/bills/{homes.li_bill.number}.pdf",
        f"/portal/bills/{homes.li_bill.number}/e-invoice.pdf",
        f"/portal/appointments/{homes.li_booking.reference}/",
        f"/portal/appointments/{homes.li_booking.reference}/move/",
        f"/portal/applications/{homes.li_application.pk}/",
        f"/portal/packages/{homes.li_package.pk}/",
        f"/portal/packages/{homes.li_package.pk}/move-out/",
        f"/portal/packages/pay/{homes.li_package.provider_ref}/",
    ):
        assert page.request.get(base + url).status == 404, url
    shown = page.goto(f"{base}/portal/appointments/{homes.li_booking.reference}/")
    assert shown.status == 404
    assert homes.li_booking.reference not in page.locator("main").inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    # Nor do the lists name them.
    for url, secret in (
        ("/portal/bills/", homes.li_bill.number),
        ("/portal/appointments/", homes.li_booking.reference),
        ("/portal/applications/", homes.li_application.work_order.number),
        ("/portal/packages/", f'data-package="{homes.li_package.pk}"'),
    ):
        page.goto(base + url)
        assert secret not in page.content(), url
    homes.li_booking.refresh_from_db()
    assert homes.li_booking.status == "booked"
