"""What a bill shows, built once: the lounge's bill page and the PDF copy render the same context.

Every figure is formatted here, in the language active when the context is built
(the page's language, or the customer's for a PDF), so the page and its copy can
never disagree. Amounts are already exact cents on the bill; formatting only
places separators and the currency sign, it never rounds a stored amount.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.models import Utility

from .choices import BillKind, BillStatus, LineKind, TouPeriod
from .models import Bill

CENT = Decimal("0.01")

# Signs of the currencies our profiles use; another ISO code is shown as it is.
CURRENCY_SIGNS = {"ILS": "₪", "CNY": "¥", "USD": "$", "EUR": "€"}
# Hebrew writes the sign after the amount (1,234.56 ₪); English and Chinese before it.
SIGN_AFTER = {"he"}

# Units as the billing run stores them; late fees stored "day" in the language of the run.
UNIT_LABELS = {
    "kWh": gettext_lazy("kWh"),
    "month": gettext_lazy("month"),
    "kVA·mo": gettext_lazy("kVA·month"),
    "day": gettext_lazy("day"),
}

TITLES = {
    BillKind.BILL: gettext_lazy("Electricity bill"),
    BillKind.CREDIT_NOTE: gettext_lazy("Credit note"),
    BillKind.LATE_FEE: gettext_lazy("Late fee"),
}


def bill_language(bill: Bill, utility: Utility | None = None) -> str:
    """The language of a bill's copy: the customer's, else the utility's default."""
    known = {code for code, _name in settings.LANGUAGES}
    for code in (bill.customer.language, utility.default_language if utility else ""):
        if code in known:
            return code
    return settings.LANGUAGE_CODE


def _decimal(value) -> Decimal:
    # A model default not yet read back from the database is a plain int.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _signed(number: str, negative: bool, currency: str) -> str:
    sign = CURRENCY_SIGNS.get(currency, currency)
    minus = "-" if negative else ""
    if (translation.get_language() or "").split("-")[0] in SIGN_AFTER:
        return f"{minus}{number}\u00a0{sign}"
    return f"{minus}{sign}{number}"


def format_money(amount: Decimal, currency: str) -> str:
    """``amount`` with two decimals, grouped and signed as the active language writes money."""
    amount = _decimal(amount)
    cents = abs(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    return _signed(formats.number_format(cents, 2, force_grouping=True), amount < 0, currency)


def format_quantity(value: Decimal) -> str:
    """A quantity with the decimals it has (1,234.5 kWh; 0.483871 months), never rounded."""
    value = _decimal(value)
    places = max(0, -value.normalize().as_tuple().exponent)
    return formats.number_format(value, places, force_grouping=True)


def format_price(value: Decimal, currency: str) -> str:
    """A unit price: at least the cents, and every further decimal the tariff publishes."""
    value = _decimal(value)
    places = max(2, -value.normalize().as_tuple().exponent)
    number = formats.number_format(abs(value), places, force_grouping=True)
    return _signed(number, value < 0, currency)


def format_rate(rate: Decimal) -> str:
    """A VAT rate as a percentage: 0.18 reads 18%, 0.175 reads 17.5%."""
    return format_quantity(rate * 100) + "%"


def text_direction(text: str) -> str:
    """ "rtl" when the first strong letter is Hebrew or Arabic: a Latin address in a Hebrew
    copy keeps its own reading order (house number first), and the other way round."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "auto"


def _day(value: date | None, fmt: str = "DATE_FORMAT") -> str:
    return formats.date_format(value, fmt) if value else ""


def last_day(exclusive_end: date) -> date:
    """Periods are stored with an exclusive end; a bill prints the last day it covers."""
    return exclusive_end - timedelta(days=1)


def span(start: date, exclusive_end: date) -> str:
    """ "01/01/2026 – 31/01/2026": first and last day, in the active language's short format."""
    first = _day(start, "SHORT_DATE_FORMAT")
    return f"{first} – {_day(last_day(exclusive_end), 'SHORT_DATE_FORMAT')}"


def is_overdue(bill: Bill, today: date) -> bool:
    """Past its due date with money still open (the API's rule: credit notes never are)."""
    return bool(bill.due_date and bill.due_date < today and bill.open_amount > 0)


def status_label(bill: Bill, today: date) -> str:
    """What the customer reads in the status column."""
    if bill.status == BillStatus.CREDITED:
        return _("Cancelled by credit note")
    if bill.kind == BillKind.CREDIT_NOTE:
        return _("Credit")
    if bill.open_amount <= 0:
        return _("Paid")
    if is_overdue(bill, today):
        return _("Overdue")
    if bill.paid:
        return _("Partly paid")
    return _("Open")


def line_label(line) -> str:
    """ "Energy, Peak, summer" or "Energy, tier 2": what the line charges for."""
    parts = [str(LineKind(line.kind).label) if line.kind in LineKind.values else line.kind]
    if line.period and line.period != TouPeriod.ALL:
        parts.append(str(TouPeriod(line.period).label))
    if line.season:
        parts.append(line.season)  # the administrator's own name of the season
    if line.tier:
        parts.append(_("tier %(number)s") % {"number": line.tier})
    return ", ".join(parts)


def vat_rates(bill: Bill, lines, utility: Utility) -> list[Decimal]:
    """The VAT rates the lines were taxed at (a version's own, else the utility's)."""
    rates = sorted(
        {
            line.tariff_version.vat_rate
            if line.tariff_version.vat_rate is not None
            else utility.vat_rate
            for line in lines
            if line.tariff_version_id
        }
    )
    if not rates:
        rates = [utility.vat_rate if bill.vat_amount else Decimal(0)]
    return rates


@dataclass(frozen=True)
class LineView:
    position: int
    label: str
    covers: str
    quantity: str
    unit: str
    unit_price: str
    amount: str


def bill_context(bill: Bill, utility: Utility, *, today: date | None = None) -> dict:
    """Everything a bill shows, formatted in the active language.

    ``bill`` should come with ``customer``, ``site``, ``contract`` and ``corrects``
    selected and ``lines__tariff_version`` prefetched (``bill_for_display``).
    """
    zone = ZoneInfo(utility.time_zone)
    if today is None:
        today = timezone.localdate(timezone=zone)
    currency = bill.currency or utility.currency
    lines = list(bill.lines.all())
    rates = vat_rates(bill, lines, utility)
    issued_on = timezone.localtime(bill.issued_at, zone).date() if bill.issued_at else None
    return {
        "utility_name": utility.name,
        "title": str(TITLES.get(bill.kind, bill.get_kind_display())),
        "number": bill.number or "",
        "kind": bill.kind,
        "status": bill.status,
        "status_label": status_label(bill, today),
        "overdue": is_overdue(bill, today),
        "customer_name": bill.customer.name,
        "customer_name_dir": text_direction(bill.customer.name),
        "customer_ref": bill.customer.ref,
        "customer_address": bill.customer.address,
        "customer_address_dir": text_direction(bill.customer.address),
        "site_ref": bill.site.ref if bill.site_id else "",
        "site_address": bill.site.address if bill.site_id else "",
        "site_address_dir": text_direction(bill.site.address if bill.site_id else ""),
        "period": span(bill.period_start, bill.period_end),
        "period_start": bill.period_start,
        "issued_on": _day(issued_on),
        "due_date": _day(bill.due_date),
        "corrects": bill.corrects.number if bill.corrects_id and bill.corrects else "",
        "energy_kwh": format_quantity(bill.energy_kwh) if bill.energy_kwh else "",
        "lines": [
            LineView(
                position=line.position,
                label=line_label(line),
                covers=span(line.covers_from, line.covers_to),
                quantity=format_quantity(line.quantity),
                unit=str(UNIT_LABELS.get(line.unit, line.unit)),
                unit_price=format_price(line.unit_price, currency),
                amount=format_money(line.amount, currency),
            )
            for line in lines
        ],
        "net": format_money(bill.net_amount, currency),
        "vat_rate": ", ".join(format_rate(rate) for rate in rates),
        "vat": format_money(bill.vat_amount, currency),
        "total": format_money(bill.total, currency),
        "paid": format_money(bill.paid, currency),
        "open_amount": format_money(bill.open_amount, currency),
        "currency": currency,
    }


def bill_for_display(qs):
    """``qs`` (already scoped by ``core.access``) with what ``bill_context`` reads."""
    return qs.select_related("customer", "site", "contract", "corrects").prefetch_related(
        "lines__tariff_version"
    )
