"""Two companies with bills made directly (the billing run is another part's), and their users.

Acme's bill for September 2026 at its first site, computed by hand (il: VAT 18 %):

==========================  =====================  ==========
line                        quantity x unit price  amount
==========================  =====================  ==========
energy, peak, summer        1,234.5 kWh x 0.5825   719.10 (719.09625, half-up)
energy, off-peak, summer    2,000 kWh x 0.3012     602.40
fixed charge                1 month x 45.50        45.50
capacity charge             250 kVA·month x 3.20   800.00
before VAT                                         2,167.00
VAT 18 %                    2,167.00 x 0.18        390.06
total                                              2,557.06
paid                                               1,000.00
left to pay                                        1,557.06
==========================  =====================  ==========

It was due on 23 October 2026, so it is overdue whenever the tests run.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from voltdesk.billing.models import Bill, BillLine
from voltdesk.billing.payments import today
from voltdesk.core import roles

D = Decimal
JERUSALEM = ZoneInfo("Asia/Jerusalem")

SEPTEMBER_LINES = [
    # kind, period, season, quantity, unit, unit price, amount
    ("energy", "peak", "summer", "1234.5", "kWh", "0.5825", "719.10"),
    ("energy", "off_peak", "summer", "2000", "kWh", "0.3012", "602.40"),
    ("fixed", "all", "", "1", "month", "45.50", "45.50"),
    ("capacity", "all", "", "250", "kVA·mo", "3.20", "800.00"),
]


def make_bill(
    customer, number, *, start, site=None, lines=(), status="issued", kind="bill", **fields
):
    """A document of ``customer`` at ``site`` (its first); ``lines`` as in SEPTEMBER_LINES."""
    contracts = customer.contracts.order_by("site__ref")
    contract = contracts.filter(site=site).first() if site else contracts.first()
    end = (start + dt.timedelta(days=32)).replace(day=1)
    bill = Bill.objects.create(
        number=number,
        kind=kind,
        status=status,
        customer=customer,
        contract=contract,
        site=contract.site,
        period_start=start,
        period_end=end,
        currency="ILS",
        **fields,
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            position=n,
            kind=line_kind,
            period=period,
            season=season,
            covers_from=start,
            covers_to=end,
            quantity=D(quantity),
            unit=unit,
            unit_price=D(price),
            amount=D(amount),
        )
        for n, (line_kind, period, season, quantity, unit, price, amount) in enumerate(
            lines, start=1
        )
    )
    return bill


@pytest.fixture
def lounge(utility, make_customer, make_user):
    acme = make_customer(
        name="Acme Industries", sites=2, address="1 Herzl St, Haifa", language="en"
    )
    bakery = make_customer(name="Blue Bakery", sites=1)
    acme_site = acme.sites.order_by("ref").first()
    acme_site.address = "7 Harbour Rd"
    acme_site.save()
    september = make_bill(
        acme,
        "B2026-09-000001",
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
    # Due in ten days: open, not overdue.
    october = make_bill(
        acme,
        "B2026-10-000001",
        start=dt.date(2026, 10, 1),
        lines=[("fixed", "all", "", "1", "month", "45.50", "45.50")],
        net_amount=D("45.50"),
        vat_amount=D("8.19"),
        total=D("53.69"),
        issued_at=dt.datetime(2026, 11, 3, 9, 0, tzinfo=JERUSALEM),
        due_date=today() + dt.timedelta(days=10),
    )
    # A draft the next run may still replace: never shown to the customer.
    draft = make_bill(
        acme,
        "B2026-11-DRAFT",
        start=dt.date(2026, 11, 1),
        status="draft",
        net_amount=D("8474.57"),
        vat_amount=D("1525.42"),
        total=D("9999.99"),
    )
    other = make_bill(
        bakery,
        "B2026-09-000002",
        start=dt.date(2026, 9, 1),
        lines=[("energy", "all", "", "5555", "kWh", "0.5", "2777.50")],
        net_amount=D("2777.50"),
        vat_amount=D("499.95"),
        total=D("3277.45"),
        issued_at=dt.datetime(2026, 10, 4, 9, 0, tzinfo=JERUSALEM),
        due_date=dt.date(2026, 10, 23),
    )
    return SimpleNamespace(
        acme=acme,
        bakery=bakery,
        acme_site=acme_site,
        september=september,
        october=october,
        draft=draft,
        other=other,
        admin=make_user(roles.CUSTOMER, username="acme-admin", customer=acme),
        finance=make_user(
            roles.CUSTOMER, username="acme-finance", customer=acme, company_role="finance"
        ),
        energy_manager=make_user(
            roles.CUSTOMER, username="acme-energy", customer=acme, company_role="energy_manager"
        ),
        bakery_owner=make_user(
            roles.CUSTOMER, username="bakery-owner", customer=bakery, company_role="holder"
        ),
        agent=make_user(roles.AGENT, username="agent-1"),  # reads bills (billing.view_bill)
        dispatcher=make_user(roles.DISPATCHER, username="dispatcher-1"),  # does not
    )


@pytest.fixture
def client_for():
    """A test client signed in as the given user (or anonymous for None), in ``language``."""

    def make(user=None, language=None):
        client = Client(headers={"accept-language": language} if language else {})
        if user is not None:
            client.force_login(user)
        return client

    return make
