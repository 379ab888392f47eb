"""A customer's bills at the desk: one bill as the customer sees it, and its PDF copy.

Staff read bills through ``core.access.visible_bills`` (the role's
``billing.view_bill``); staff without it get 404, like a bill that does not exist.
The desk shows drafts too: staff answer callers about the bill that is coming.
``bill_einvoice_pdf``: the sealed e-invoice of a paid bill, the very file the
customer downloads (issued on the spot if the hourly batch has not reached it);
an unpaid bill answers 409 with the amount still open.
The customer 360's bills card is ``{% bills_card customer %}`` (templatetags).
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from voltdesk.billing import einvoices
from voltdesk.billing.display import bill_context, bill_for_display, bill_language
from voltdesk.billing.pdf import CONTENT_TYPE, pdf_filename, render_bill_pdf
from voltdesk.core.access import visible_bills, visible_customers
from voltdesk.core.services import get_utility

from .views import staff_required


def _find(user, ref, number):
    customer = get_object_or_404(visible_customers(user), ref=ref)
    return customer, get_object_or_404(
        bill_for_display(visible_bills(user)), customer=customer, number=number
    )


@staff_required
def bill(request, ref, number):
    """The bill in the agent's language, with a link to the customer's PDF copy."""
    customer, found = _find(request.user, ref, number)
    utility = get_utility()
    return render(
        request,
        "desk/bill.html",
        {
            "customer": customer,
            "bill": bill_context(found, utility),
            "copy_language": bill_language(found, utility),
        },
    )


@staff_required
def bill_pdf(request, ref, number):
    """The copy the customer receives: in the customer's language."""
    _customer, found = _find(request.user, ref, number)
    response = HttpResponse(render_bill_pdf(found, get_utility()), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(found)}"'
    return response


@staff_required
def bill_einvoice_pdf(request, ref, number):
    """The customer's sealed e-invoice of a paid bill, for the agent to send or print."""
    _customer, found = _find(request.user, ref, number)
    try:
        invoice = einvoices.einvoice_for_bill(found, user=request.user)
        data = einvoices.einvoice_pdf(invoice)
    except einvoices.EInvoiceError as exc:
        return HttpResponse(exc.message, status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type=einvoices.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{einvoices.pdf_filename(invoice)}"'
    return response
