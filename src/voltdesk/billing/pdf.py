"""Bill copies as PDF, in the customer's language, from the same context as the lounge's page.

WeasyPrint lays out Hebrew right to left from ``dir="rtl"`` and takes its glyphs
from 'Noto Sans CJK SC' (Latin and Chinese) and 'DejaVu Sans' (Hebrew): Debian's
fonts-noto-cjk must be installed, or Chinese comes out as empty boxes.
"""

from django.template.loader import render_to_string
from django.utils import translation

from voltdesk.core.models import Utility

from .display import bill_context, bill_language
from .models import Bill

CONTENT_TYPE = "application/pdf"


def render_bill_pdf(bill: Bill, utility: Utility, *, language: str | None = None) -> bytes:
    """The PDF copy of ``bill`` (any kind: bill, credit note, late fee).

    ``language`` defaults to the customer's (``bill_language``); the copy is
    written wholly in it, dates and amounts included.
    """
    # Imported here: WeasyPrint loads Pango and fonts, which pages without PDFs never need.
    from weasyprint import HTML

    return HTML(string=bill_pdf_html(bill, utility, language=language)).write_pdf()


def bill_pdf_html(bill: Bill, utility: Utility, *, language: str | None = None) -> str:
    """The HTML the PDF is laid out from: ``dir="rtl"`` for Hebrew."""
    language = language or bill_language(bill, utility)
    with translation.override(language):
        return render_to_string(
            "billing/bill_pdf.html",
            {
                "bill": bill_context(bill, utility),
                "language": language,
                "bidi": translation.get_language_bidi(),
            },
        )


def pdf_filename(bill: Bill) -> str:
    """``B2026-01-000001.pdf``: the number, which is all a customer files it by."""
    return f"{bill.number or bill.pk}.pdf"
