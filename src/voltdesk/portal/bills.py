"""Bills in the lounge: the list of a customer's documents, one bill with its lines, its PDF copy.

Rows come from ``core.access.visible_bills``: a customer user sees its own
customer's issued and credited documents (never a draft), and only when its
company role handles money; another company's bill, or any bill for an energy
manager, answers 404. The page and the PDF render the same ``bill_context``.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.billing import payments
from voltdesk.billing.display import (
    bill_context,
    bill_for_display,
    format_money,
    is_overdue,
    span,
    status_label,
)
from voltdesk.billing.pdf import CONTENT_TYPE, pdf_filename, render_bill_pdf
from voltdesk.core.access import sees_money, visible_bills
from voltdesk.core.services import get_utility
from voltdesk.customers.models import Contract, Site

from .payments import pay_now_form
from .views import customer_required

PER_PAGE = 50


class BillFilterForm(forms.Form):
    """Narrow the list by site, contract and year: the choices are those of the customer's bills."""

    site = forms.ChoiceField(label=gettext_lazy("Site"), required=False)
    contract = forms.ChoiceField(label=gettext_lazy("Contract"), required=False)
    year = forms.ChoiceField(label=gettext_lazy("Year"), required=False)

    def __init__(self, data, *, bills):
        super().__init__(data)
        everything = [("", _("All"))]
        sites = Site.objects.filter(pk__in=bills.values("site_id")).order_by("ref")
        self.fields["site"].choices = everything + [(s.ref, s.ref) for s in sites]
        contracts = (
            Contract.objects.filter(pk__in=bills.values("contract_id"))
            .select_related("site", "tariff")
            .order_by("site__ref", "start")
        )
        self.fields["contract"].choices = everything + [
            (str(c.pk), _contract_label(c)) for c in contracts
        ]
        years = bills.dates("period_start", "year", order="DESC")
        self.fields["year"].choices = everything + [(str(d.year), str(d.year)) for d in years]
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = _(
                "Choose one of the listed values; %(value)s is not among them."
            )

    def filter(self, bills):
        """``bills`` narrowed by every field that is valid; an invalid one is left out."""
        data = getattr(self, "cleaned_data", {})
        if data.get("site"):
            bills = bills.filter(site__ref=data["site"])
        if data.get("contract"):
            bills = bills.filter(contract_id=int(data["contract"]))
        if data.get("year"):
            bills = bills.filter(period_start__year=int(data["year"]))
        return bills


def _contract_label(contract: Contract) -> str:
    tariff = f" · {contract.tariff}" if contract.tariff_id else ""
    return f"{contract.site.ref}{tariff} (#{contract.pk})"


def _money_required(user) -> None:
    # The energy manager's role is consumption: no bills, not even an empty list.
    if not sees_money(user):
        raise PermissionDenied


@customer_required
def bills(request, customer):
    """My bills, credit notes and late fees, newest first, with my open debt above them."""
    user = request.user
    _money_required(user)
    utility = get_utility()
    mine = visible_bills(user)
    form = BillFilterForm(request.GET or None, bills=mine)
    form.is_valid()  # errors are shown beside their field; the valid fields still filter
    listed = form.filter(mine).select_related("site").order_by("-period_start", "-pk")
    page = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    today = payments.today()
    rows = [
        {
            "number": bill.number,
            "kind": bill.get_kind_display(),
            "kind_code": bill.kind,
            "period": span(bill.period_start, bill.period_end),
            "site": bill.site.ref if bill.site_id else "",
            "total": format_money(bill.total, bill.currency),
            "paid": format_money(bill.paid, bill.currency),
            "open": format_money(bill.open_amount, bill.currency),
            "due_date": bill.due_date,
            "status": status_label(bill, today),
            "overdue": is_overdue(bill, today),
        }
        for bill in page.object_list
    ]
    balance = payments.customer_balance(customer, as_of=today)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/bills.html",
        {
            "nav": "bills",
            "customer": customer,
            "form": form,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "balance": {
                "open_debt": format_money(balance.open_debt, balance.currency),
                "overdue": format_money(balance.overdue, balance.currency),
                "has_overdue": balance.overdue > 0,
                "credit": format_money(balance.credit, balance.currency),
                "has_credit": balance.credit > 0,
            },
            "utility_currency": utility.currency,
            "pay": pay_now_form(customer),
        },
    )


def _find(user, number):
    return get_object_or_404(bill_for_display(visible_bills(user)), number=number)


@customer_required
def bill(request, customer, number):
    """One bill with its lines, as the PDF copy shows it, in the page's language."""
    found = _find(request.user, number)
    utility = get_utility()
    return render(
        request,
        "portal/bill.html",
        {
            "nav": "bills",
            "customer": customer,
            "bill": bill_context(found, utility),
            "languages": settings.LANGUAGES,
            "pay": pay_now_form(customer, found),
        },
    )


@customer_required
def bill_pdf(request, customer, number):
    """The PDF copy, in the customer's language unless ``?language=`` asks for another."""
    found = _find(request.user, number)
    language = request.GET.get("language") or None
    if language is not None and language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(
            _("language: choose one of %(codes)s.")
            % {"codes": ", ".join(code for code, _name in settings.LANGUAGES)},
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        render_bill_pdf(found, get_utility(), language=language), content_type=CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(found)}"'
    return response
