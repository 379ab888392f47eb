"""Bills at the desk: the customer 360's card, one bill and the customer's PDF copy.

Staff read bills with their role's ``billing.view_bill`` (agents do, dispatchers
do not); a customer user gets no desk page at all.
"""

import io

from django.urls import reverse
from pypdf import PdfReader

SEPTEMBER = "B2026-09-000001"


def _bill_url(lounge, name="desk:bill", ref=None, number=SEPTEMBER):
    return reverse(name, args=[ref or lounge.acme.ref, number])


def test_agent_sees_the_bill_as_the_customer_does(lounge, client_for):
    html = client_for(lounge.agent).get(_bill_url(lounge)).content.decode()

    assert "Acme Industries" in html
    assert 'data-figure="total"><bdi>₪2,557.06<' in html
    assert 'data-figure="open"><bdi>₪1,557.06<' in html
    assert "Energy, Peak, summer" in html


def test_agent_downloads_the_copy_in_the_customers_language(lounge, client_for):
    lounge.acme.language = "zh-hans"
    lounge.acme.save()

    response = client_for(lounge.agent).get(_bill_url(lounge, "desk:bill_pdf"))

    assert response["Content-Disposition"] == f'attachment; filename="{SEPTEMBER}.pdf"'
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "合计 ₪2,557.06" in text


def test_staff_without_the_billing_permission_find_no_bill(lounge, client_for):
    client = client_for(lounge.dispatcher)

    assert client.get(_bill_url(lounge)).status_code == 404
    assert client.get(_bill_url(lounge, "desk:bill_pdf")).status_code == 404
    card = client.get(reverse("desk:customer", args=[lounge.acme.ref])).content.decode()
    assert 'id="bills-card"' not in card and "2,557.06" not in card


def test_a_bill_is_found_only_under_its_own_customer(lounge, client_for):
    response = client_for(lounge.agent).get(_bill_url(lounge, ref=lounge.bakery.ref))

    assert response.status_code == 404


def test_customer_users_get_no_desk_bill(lounge, client_for):
    for name in ("desk:bill", "desk:bill_pdf"):
        response = client_for(lounge.admin).get(_bill_url(lounge, name))
        assert response.status_code == 403


def test_customer_360_shows_latest_bills_and_open_debt(lounge, client_for):
    html = client_for(lounge.agent).get(reverse("desk:customer", args=[lounge.acme.ref]))
    html = html.content.decode()

    assert 'id="bills-card"' in html
    assert 'data-figure="open-debt">₪1,610.75<' in html  # 1,557.06 + 53.69
    assert 'data-figure="overdue">₪1,557.06<' in html
    assert _bill_url(lounge) in html
    assert "₪9,999.99" in html  # the draft: staff see the bill that is coming
    assert "B2026-09-000002" not in html  # Blue Bakery's
