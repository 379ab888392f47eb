"""E-bills and e-invoices in the portal.

* ``ebills`` (``portal:ebills``): how my bills reach me: paper, e-mail or an SMS link.
* ``einvoice_pdf`` (``portal:einvoice_pdf``): the sealed e-invoice of one of my
  paid bills; the same bytes every time. An unpaid bill answers 409 with the
  amount still open; another customer's bill is 404.
* ``einvoice_verify`` (``portal:einvoice_verify``): upload a PDF, read whether
  its seal is intact, valid and ours (what ``voltdesk verify_invoice`` says).
* ``ebill_link`` (``portal:ebill_link``, no log-in): the link an e-bill message
  carries; the signed token names one bill and is the only credential. A
  forged, altered or expired token is 404, like a bill that does not exist.

Bills are found through ``core.access.visible_bills``; only company roles that
handle money (and households) see them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from voltdesk.billing import einvoices
from voltdesk.billing.models import BillDelivery
from voltdesk.billing.pdf import pdf_filename, render_bill_pdf
from voltdesk.billing.seal import SealError, check_seal
from voltdesk.core.access import sees_money, visible_bills
from voltdesk.core.services import get_utility

from .views import customer_required

MAX_UPLOAD = 10 * 1024 * 1024  # a sealed invoice is ~50 kB; anything far larger is not one


def _money_required(user) -> None:
    if not sees_money(user):
        raise PermissionDenied


def _pdf(data: bytes, filename: str, disposition: str = "attachment") -> HttpResponse:
    response = HttpResponse(data, content_type=einvoices.CONTENT_TYPE)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@customer_required
def einvoice_pdf(request, customer, number):
    """The sealed e-invoice of my paid bill ``number``, issued now if it is the first ask."""
    bill = get_object_or_404(visible_bills(request.user).select_related("corrects"), number=number)
    try:
        invoice = einvoices.einvoice_for_bill(bill, user=request.user)
        data = einvoices.einvoice_pdf(invoice)
    except einvoices.EInvoiceError as exc:
        return render(
            request,
            "portal/einvoice_unavailable.html",
            {"nav": "bills", "customer": customer, "bill": bill, "reason": exc.message},
            status=409,
        )
    return _pdf(data, einvoices.pdf_filename(invoice))


class DeliveryForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Send my bills by"),
        choices=BillDelivery.Channel.choices,
        widget=forms.RadioSelect,
    )
    address = forms.CharField(
        label=gettext_lazy("E-mail address or mobile number"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Not needed for paper bills."),
    )


@customer_required
@require_http_methods(["GET", "POST"])
def ebills(request, customer):
    """Choose paper, e-mail or SMS for my bills."""
    _money_required(request.user)
    current = einvoices.bill_delivery(customer)
    status = 200
    if request.method == "POST":
        form = DeliveryForm(request.POST)
        if form.is_valid():
            try:
                einvoices.choose_bill_delivery(
                    customer,
                    form.cleaned_data["channel"],
                    form.cleaned_data["address"],
                    user=request.user,
                )
            except einvoices.EInvoiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Your choice is saved."))
                return redirect("portal:ebills")
        status = 400
    else:
        default = current.address or (
            customer.email if current.channel != BillDelivery.Channel.SMS else customer.phone
        )
        form = DeliveryForm(initial={"channel": current.channel, "address": default})
    return render(
        request,
        "portal/einvoice_ebills.html",
        {"nav": "ebills", "customer": customer, "form": form, "current": current},
        status=status,
    )


class VerifyForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("E-invoice (PDF)"))


@customer_required
@require_http_methods(["GET", "POST"])
def einvoice_verify(request, customer):
    """Upload an e-invoice and see whether its seal holds."""
    result, status = None, 200
    form = VerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_UPLOAD:
                form.add_error("file", _("file: this file is too large to be one of our invoices."))
                status = 400
            else:
                try:
                    result = check_seal(upload.read())
                except SealError as exc:
                    form.add_error("file", str(exc))
                    status = 400
        else:
            status = 400
    return render(
        request,
        "portal/einvoice_verify.html",
        {"nav": "ebills", "customer": customer, "form": form, "result": result},
        status=status,
    )


def ebill_link(request, token):
    """The bill an e-bill message links to; the signed token is the credential."""
    bill = einvoices.bill_for_token(token)
    if bill is None:
        raise Http404
    return _pdf(render_bill_pdf(bill, get_utility()), pdf_filename(bill), "inline")


urlpatterns = [
    path("bills/<str:number>/e-invoice.pdf", einvoice_pdf, name="einvoice_pdf"),
    path("e-bills/", ebills, name="ebills"),
    path("e-invoices/verify/", einvoice_verify, name="einvoice_verify"),
    path("e-bill/<str:token>.pdf", ebill_link, name="ebill_link"),
]
