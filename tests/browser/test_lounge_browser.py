"""The business lounge in a browser: walk it in English and Hebrew, take a bill's PDF, pay it.

Acme's September bill is conftest's (tests/lounge): 2,557.06 with 1,000.00 paid,
so 1,557.06 is left to pay. Paying it on the sandbox's page with the test card
4242 4242 4242 4242 leaves 1,557.06 - 1,557.06 = 0.00 open; the sandbox bank's
signed webhook is delivered in-process (tasks run eagerly) before the cardholder
is sent back, and only that webhook settles the bill.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.lounge.conftest import JERUSALEM, SEPTEMBER_LINES, make_bill
from voltdesk.billing.models import Bill, OnlinePayment
from voltdesk.core import roles
from voltdesk.metering.models import MonthlyRollup
from voltdesk.portal.consumption import month_starts

pytestmark = pytest.mark.slow

D = Decimal
SEPTEMBER = "B2026-09-000001"


@pytest.fixture
def world(transactional_db, make_customer, make_user):
    acme = make_customer(name="Acme Industries", sites=2, language="en")
    bakery = make_customer(name="Blue Bakery", sites=1)
    MonthlyRollup.objects.bulk_create(
        MonthlyRollup(site=site, month=month, kwh=D("1111"))
        for site in acme.sites.all()
        for month in month_starts(12)
    )
    make_bill(
        acme,
        SEPTEMBER,
        start=dt.date(2026, 9, 1),
        lines=SEPTEMBER_LINES,
        energy_kwh=D("3234.5"),
        net_amount=D("2167.00"),
        vat_amount=D("390.06"),
        total=D("2557.06"),
        paid=D("1000.00"),
        issued_at=dt.datetime(2026, 10, 4, 9, 0, tzinfo=JERUSALEM),
        due_date=dt.date(2026, 10, 23),
    )
    return SimpleNamespace(
        acme=acme,
        bakery=bakery,
        finance=make_user(
            roles.CUSTOMER, username="acme-finance", customer=acme, company_role="finance"
        ),
        baker=make_user(
            roles.CUSTOMER, username="bakery-owner", customer=bakery, company_role="holder"
        ),
    )


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("form:has(input[name=username]) button[type=submit]")
    page.wait_for_load_state()


def go(page, href):
    page.click(f"#portal-nav a[href='{href}']")
    page.wait_for_load_state()
    return page.locator("h1").first.inner_text()


def walk(page):
    """Overview, sites, consumption, bills: each page's heading."""
    return [
        go(page, "/portal/"),
        go(page, "/portal/sites/"),
        go(page, "/portal/consumption/"),
        go(page, "/portal/bills/"),
    ]


def test_a_finance_user_walks_the_lounge_takes_a_pdf_and_pays_a_bill(
    world, live_server, page_factory
):
    base = live_server.url
    page = page_factory()
    log_in(page, base, "acme-finance")
    assert page.url.endswith("/portal/")
    page.click("button[value='en']")
    page.wait_for_load_state()

    assert walk(page) == [
        "Acme Industries",
        "Your sites",
        "Consumption by site",
        "Bills and payments due",
    ]
    assert page.locator("html").get_attribute("dir") == "ltr"
    row = page.locator(f"#my-bills tr[data-bill='{SEPTEMBER}']")
    assert "₪1,557.06" in row.inner_text()

    # One bill, and its PDF copy.
    page.click(f"#my-bills a[href='/portal/bills/{SEPTEMBER}/']")
    page.wait_for_load_state()
    with page.expect_download() as download_info:
        page.click("#pdf-copy")
    download = download_info.value
    assert download.suggested_filename == f"{SEPTEMBER}.pdf"
    assert Path(download.path()).read_bytes()[:4] == b"%PDF"

    # Pay now: to the sandbox's page, a test card, back to the payment's page.
    assert page.input_value("#pay-amount") == "1557.06"
    page.click("#pay-now-button")
    page.wait_for_load_state()
    online = OnlinePayment.objects.get()
    assert f"/sandbox-pay/{online.provider_ref}/" in page.url
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_load_state()
    assert page.url == f"{base}/portal/payments/online/{online.provider_ref}/"
    page.wait_for_selector("#online-status[data-status='succeeded']", timeout=10_000)
    assert "Paid: the money was received." in page.locator("#online-status").inner_text()
    assert "₪0.00" in page.locator(f"#settled-bills tr[data-bill='{SEPTEMBER}']").inner_text()
    assert Bill.objects.get(number=SEPTEMBER).open_amount == D("0.00")
    go(page, "/portal/payments/")
    assert "₪1,557.06" in page.locator("#my-payments").inner_text()

    # The same lounge in Hebrew, right to left.
    page.click("button[value='he']")
    page.wait_for_load_state()
    html = page.locator("html")
    assert (html.get_attribute("dir"), html.get_attribute("lang")) == ("rtl", "he")
    assert page.locator("link[href*='bootstrap.rtl']").count() == 1
    assert walk(page) == [
        "Acme Industries",
        "אתרי הצריכה שלך",
        "צריכה לפי אתר צריכה",
        "חשבונות ותשלומים לתשלום",
    ]
    assert "סקירה כללית" in page.locator("#portal-nav").inner_text()  # Overview
    assert "שולם" in page.locator(f"#my-bills tr[data-bill='{SEPTEMBER}']").inner_text()  # Paid
    assert page.locator("html").get_attribute("dir") == "rtl"


def test_another_company_s_user_gets_404_on_the_first_company_s_bill(
    world, live_server, page_factory
):
    page = page_factory()
    log_in(page, live_server.url, "bakery-owner")

    for url in (f"/portal/bills/{SEPTEMBER}/", f"/portal/bills/{SEPTEMBER}.pdf"):
        response = page.request.get(live_server.url + url)
        assert response.status == 404, url
    shown = page.goto(f"{live_server.url}/portal/bills/{SEPTEMBER}/")
    assert shown.status == 404
    assert "1,557.06" not in page.content()
