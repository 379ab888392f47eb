"""``{% einvoice_button bill.number %}``: the e-invoice download button on a bill's page.

Shown only for a bill that may have an e-invoice (issued, paid in full); the
page that calls it has already found the bill through ``core.access``. With
``customer_ref`` it links to the desk's route, else to the portal's.
"""

from django import template
from django.urls import NoReverseMatch, reverse

from voltdesk.billing.einvoices import refusal
from voltdesk.billing.models import Bill

register = template.Library()


@register.inclusion_tag("billing/einvoice_button.html")
def einvoice_button(number: str, customer_ref: str = "") -> dict:
    bill = Bill.objects.filter(number=number).select_related("corrects").first()
    href = ""
    if bill is not None and refusal(bill) is None:
        try:
            if customer_ref:
                href = reverse("desk:bill_einvoice_pdf", args=[customer_ref, number])
            else:
                href = reverse("portal:einvoice_pdf", args=[number])
        except NoReverseMatch:
            href = ""  # the route is not wired in yet: no button rather than a broken page
    return {"href": href, "desk": bool(customer_ref)}
