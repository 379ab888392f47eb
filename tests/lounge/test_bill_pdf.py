"""The PDF copy of a bill: in the customer's language, Hebrew right to left, every glyph there.

Amounts are those of the hand-computed September bill (conftest). Text is read
back with pypdf; fonts are read from the PDF's own resources.
"""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from voltdesk.billing.display import bill_context
from voltdesk.billing.pdf import bill_pdf_html, render_bill_pdf
from voltdesk.core.services import get_utility

HEBREW_NAME = "מאפיית הכרמל"
CHINESE_NAME = "上海电机厂"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts embedded in the PDF, without the subset prefix."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for part in descendants:
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names


def _speaks(customer, language, name=None):
    customer.language = language
    if name:
        customer.name = name
    customer.save()


@pytest.fixture
def september(lounge):
    return lounge.september


def test_english_copy_has_every_line_and_the_hand_computed_figures(lounge, september):
    _speaks(lounge.acme, "en")

    text = _text(render_bill_pdf(september, get_utility()))

    assert "Electricity bill" in text
    assert "B2026-09-000001" in text
    assert "Acme Industries" in text and lounge.acme.ref in text
    assert "7 Harbour Rd" in text
    for figure in ("₪719.10", "₪602.40", "₪45.50", "₪800.00"):
        assert figure in text
    assert "1,234.5" in text and "₪0.5825" in text  # quantity and price: the line's check
    assert "Before VAT ₪2,167.00" in text
    assert "VAT 18% ₪390.06" in text
    assert "Total ₪2,557.06" in text
    assert "Paid ₪1,000.00" in text
    assert "₪1,557.06" in text
    assert "09/01/2026 – 09/30/2026" in text  # the last day covered, not the exclusive end
    assert "Oct. 23, 2026" in text  # due date


def test_hebrew_copy_is_right_to_left_in_hebrew(lounge, september):
    _speaks(lounge.acme, "he", HEBREW_NAME)
    utility = get_utility()

    html = bill_pdf_html(september, utility)
    pdf = render_bill_pdf(september, utility)

    assert '<html lang="he" dir="rtl">' in html
    text = _text(pdf)
    assert HEBREW_NAME in text
    assert "מספר לקוח" in text  # "customer number"
    assert "סה״כ" in text  # "total"
    assert "פסגה" in text  # the peak line
    assert "2,557.06" in text and "1,557.06" in text
    assert "באוקטובר" in text  # dates in Hebrew


def test_hebrew_copy_is_laid_out_from_the_right(lounge, september):
    """The customer's name sits on the right half of the page in Hebrew, the left in English."""

    def x_of(pdf, words):
        page = PdfReader(io.BytesIO(pdf)).pages[0]
        found = []

        def visit(text, cm, tm, font, size):
            if words in text:
                found.append(tm[4] * cm[0] + cm[4])

        page.extract_text(visitor_text=visit)
        return found[0], float(page.mediabox.width)

    _speaks(lounge.acme, "he", HEBREW_NAME)
    x, width = x_of(render_bill_pdf(september, get_utility()), HEBREW_NAME)
    assert x > width / 2

    _speaks(lounge.acme, "en", "Acme Industries")
    x, width = x_of(render_bill_pdf(september, get_utility()), "Acme Industries")
    assert x < width / 2


def test_chinese_copy_embeds_noto_sans_cjk_so_no_glyph_is_missing(lounge, september):
    _speaks(lounge.acme, "zh-hans", CHINESE_NAME)

    pdf = render_bill_pdf(september, get_utility())

    text = _text(pdf)
    assert CHINESE_NAME in text
    assert "客户编号" in text  # "customer number"
    assert "合计 ₪2,557.06" in text  # "total"
    assert "电量电费, 峰" in text  # energy, peak
    assert "2026年10月23日" in text  # the due date, written the Chinese way
    fonts = _fonts(pdf)
    assert any(name.replace("-", "").startswith("NotoSansCJK") for name in fonts), fonts
    # Hebrew letters come from DejaVu Sans, which Noto Sans CJK lacks.
    _speaks(lounge.acme, "he", HEBREW_NAME)
    assert any("DejaVu" in name for name in _fonts(render_bill_pdf(september, get_utility())))


def test_customer_without_a_language_gets_the_utilitys(lounge, september):
    _speaks(lounge.acme, "")  # il: Hebrew

    assert '<html lang="he" dir="rtl">' in bill_pdf_html(september, get_utility())


def test_credit_note_and_late_fee_have_their_own_titles_and_negative_amounts(lounge, september):
    from tests.lounge.conftest import make_bill

    _speaks(lounge.acme, "en")
    note = make_bill(
        lounge.acme,
        "CN2026-11-000001",
        start=september.period_start,
        kind="credit_note",
        lines=[("fixed", "all", "", "-1", "month", "45.50", "-45.50")],
        corrects=september,
        net_amount=Decimal("-45.50"),
        vat_amount=Decimal("-8.19"),
        total=Decimal("-53.69"),
    )

    text = _text(render_bill_pdf(note, get_utility()))

    assert "Credit note" in text
    assert "Cancels bill B2026-09-000001" in text
    assert "Total -₪53.69" in text


def test_page_and_pdf_show_the_same_figures(lounge, september, client_for):
    """Both render bill_context: what the page prints, the copy prints."""
    _speaks(lounge.acme, "en")
    context = bill_context(september, get_utility())

    page = client_for(lounge.admin).get(reverse("portal:bill", args=[september.number]))
    text = _text(render_bill_pdf(september, get_utility()))

    html = page.content.decode()
    for key in ("net", "vat", "total", "paid", "open_amount", "period", "due_date"):
        assert context[key] in html, key
        assert context[key] in text, key
    for line in context["lines"]:
        assert line.amount in html and line.amount in text
