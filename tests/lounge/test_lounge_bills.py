"""The lounge's bills: the list, one bill, its PDF copy; who sees what.

Figures are the hand-computed ones of conftest: September's bill is 2,557.06 with
1,000.00 paid (1,557.06 open, overdue); October's 53.69 is open and not yet due.
"""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from voltdesk.core.models import UserProfile

SEPTEMBER = "B2026-09-000001"
OCTOBER = "B2026-10-000001"
DRAFT = "B2026-11-DRAFT"
BAKERY = "B2026-09-000002"


def _get(client, name, *args, **query):
    return client.get(reverse(name, args=args), query)


def _speaks(user, language):
    UserProfile.objects.update_or_create(user=user, defaults={"language": language})


def _pdf_text(response) -> str:
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


# The list --------------------------------------------------------------------------


def test_list_shows_issued_documents_with_money_and_highlights_the_overdue(lounge, client_for):
    html = _get(client_for(lounge.admin), "portal:bills").content.decode()

    assert f'data-bill="{SEPTEMBER}" class="table-danger" data-overdue="1"' in html
    assert f'data-bill="{OCTOBER}">' in html  # open, due in ten days: not highlighted
    for figure in ("₪2,557.06", "₪1,000.00", "₪1,557.06", "₪53.69"):
        assert figure in html
    # Open debt 1,557.06 + 53.69, of which September's part is overdue.
    assert 'data-figure="open-debt">₪1,610.75<' in html
    assert 'data-figure="overdue">₪1,557.06<' in html
    assert reverse("portal:bill_pdf", args=[SEPTEMBER]) in html


def test_drafts_are_never_shown(lounge, client_for):
    client = client_for(lounge.admin)

    html = _get(client, "portal:bills").content.decode()

    assert DRAFT not in html and "9,999.99" not in html
    assert _get(client, "portal:bill", DRAFT).status_code == 404
    assert _get(client, "portal:bill_pdf", DRAFT).status_code == 404


def test_list_filters_by_site_contract_and_year(lounge, client_for):
    from tests.lounge.conftest import make_bill

    second_site = lounge.acme.sites.order_by("ref").last()
    contract = second_site.contracts.get()
    make_bill(lounge.acme, "B2025-12-000001", start=dt.date(2025, 12, 1), site=second_site)
    client = client_for(lounge.admin)

    by_site = _get(client, "portal:bills", site=second_site.ref).content.decode()
    by_contract = _get(client, "portal:bills", contract=contract.pk).content.decode()
    by_year = _get(client, "portal:bills", year=2026).content.decode()

    assert "B2025-12-000001" in by_site and SEPTEMBER not in by_site
    assert "B2025-12-000001" in by_contract and OCTOBER not in by_contract
    assert SEPTEMBER in by_year and OCTOBER in by_year and "B2025-12-000001" not in by_year


def test_a_filter_value_not_offered_is_named_and_explained(lounge, client_for):
    response = _get(client_for(lounge.admin), "portal:bills", year="1999", site="NOPE")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Year: Choose one of the listed values; 1999 is not among them." in html
    assert "Site: Choose one of the listed values; NOPE is not among them." in html
    assert SEPTEMBER in html  # the invalid filters narrow nothing


# One bill --------------------------------------------------------------------------


def test_bill_page_shows_lines_and_figures(lounge, client_for):
    html = _get(client_for(lounge.finance), "portal:bill", SEPTEMBER).content.decode()

    assert "Electricity bill" in html
    assert 'data-line="1"' in html and 'data-line="4"' in html
    assert "Energy, Peak, summer" in html and "1,234.5" in html and "₪0.5825" in html
    assert "kVA·month" in html and "₪800.00" in html
    assert 'data-figure="net"><bdi>₪2,167.00<' in html
    assert "VAT 18%" in html and 'data-figure="vat"><bdi>₪390.06<' in html
    assert 'data-figure="total"><bdi>₪2,557.06<' in html
    assert 'data-figure="open"><bdi>₪1,557.06<' in html
    assert "is not yet fully paid" in html  # overdue


def test_hebrew_bill_page_is_right_to_left(lounge, client_for):
    _speaks(lounge.admin, "he")

    html = _get(client_for(lounge.admin), "portal:bill", SEPTEMBER).content.decode()

    assert '<html lang="he" dir="rtl">' in html
    assert "סה״כ" in html and "מספר לקוח" in html
    assert "2,557.06\u00a0₪" in html  # the shekel sign after the amount, as Hebrew writes it


def test_chinese_bill_and_list_pages(lounge, client_for):
    _speaks(lounge.admin, "zh-hans")
    client = client_for(lounge.admin)

    bill = _get(client, "portal:bill", SEPTEMBER).content.decode()
    listing = _get(client, "portal:bills").content.decode()

    assert '<html lang="zh-hans" dir="ltr">' in bill
    assert "合计" in bill and "电量电费, 峰" in bill and "2026年10月23日" in bill
    assert "₪2,557.06" in listing and "逾期" in listing  # overdue


# The PDF copy ------------------------------------------------------------------------


def test_pdf_is_an_attachment_in_the_customers_language(lounge, client_for):
    lounge.acme.language = "he"
    lounge.acme.save()

    response = _get(client_for(lounge.admin), "portal:bill_pdf", SEPTEMBER)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{SEPTEMBER}.pdf"'
    text = _pdf_text(response)
    assert "סה״כ" in text and "2,557.06" in text


def test_pdf_in_another_language_on_request(lounge, client_for):
    response = _get(client_for(lounge.admin), "portal:bill_pdf", SEPTEMBER, language="zh-hans")

    assert "合计 ₪2,557.06" in _pdf_text(response)


def test_pdf_in_an_unknown_language_is_refused_with_the_reason(lounge, client_for):
    response = _get(client_for(lounge.admin), "portal:bill_pdf", SEPTEMBER, language="xx")

    assert response.status_code == 400
    assert response.content.decode() == "language: choose one of en, he, zh-hans."


# Who sees what -----------------------------------------------------------------------

ROUTES = [
    ("portal:bills", ()),
    ("portal:bill", (SEPTEMBER,)),
    ("portal:bill_pdf", (SEPTEMBER,)),
]


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_anonymous_is_sent_to_log_in(lounge, client_for, name, args):
    target = reverse(name, args=args)

    response = client_for(None).get(target)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={target}"


@pytest.mark.parametrize("name", ["portal:bill", "portal:bill_pdf"])
def test_another_company_gets_404_on_the_first_companys_bill(lounge, client_for, name):
    response = _get(client_for(lounge.bakery_owner), name, SEPTEMBER)

    assert response.status_code == 404
    assert b"Acme" not in response.content and b"2,557.06" not in response.content


def test_another_company_lists_only_its_own_bills(lounge, client_for):
    html = _get(client_for(lounge.bakery_owner), "portal:bills").content.decode()

    assert BAKERY in html and "₪3,277.45" in html
    assert SEPTEMBER not in html and OCTOBER not in html and "Acme" not in html


@pytest.mark.parametrize("role", ["admin", "finance", "bakery_owner"])
def test_money_roles_have_the_menu_link(lounge, client_for, role):
    html = _get(client_for(getattr(lounge, role)), "portal:home").content.decode()

    assert f'href="{reverse("portal:bills")}"' in html


def test_energy_manager_sees_no_bills(lounge, client_for):
    client = client_for(lounge.energy_manager)

    home = _get(client, "portal:home").content.decode()

    assert f'href="{reverse("portal:bills")}"' not in home
    assert _get(client, "portal:bills").status_code == 403
    assert _get(client, "portal:bill", SEPTEMBER).status_code == 404
    assert _get(client, "portal:bill_pdf", SEPTEMBER).status_code == 404


@pytest.mark.parametrize(("name", "args"), ROUTES)
@pytest.mark.parametrize("who", ["agent", "dispatcher"])
def test_staff_are_sent_to_the_desk(lounge, client_for, name, args, who):
    response = client_for(getattr(lounge, who)).get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url == reverse("desk:home")
