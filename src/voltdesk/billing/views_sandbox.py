"""The sandbox gateway's hosted payment page: the cardholder picks a test card.

It plays the provider's site, so it is reached by its unguessable link alone (no
log-in), shows only the amount and the merchant, and settles nothing itself: the
sandbox bank answers later with a signed webhook, as a real one does.
"""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from . import gateway
from .choices import OnlinePaymentStatus
from .models import OnlinePayment
from .payments import PaymentError

CARDS = [
    ("4242 4242 4242 4242", "success"),
    ("4000 0000 0000 0002", "decline"),
    ("4000 0000 0000 0119", "timeout"),
]


def _return_url(request) -> str:
    url = request.GET.get("return") or request.POST.get("return") or ""
    ok = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
    return url if url and ok else ""


@require_http_methods(["GET", "POST"])
def pay(request, provider_ref: str):
    payment = OnlinePayment.objects.filter(provider="sandbox", provider_ref=provider_ref).first()
    if payment is None:
        raise Http404
    waiting = payment.status in (OnlinePaymentStatus.CREATED, OnlinePaymentStatus.PENDING)
    error, chosen = "", None
    if request.method == "POST" and waiting:
        try:
            gateway.sandbox_cardholder_chose(provider_ref, request.POST.get("card", ""))
        except PaymentError as exc:
            error = str(exc)
        else:
            back = _return_url(request)
            if back:
                return redirect(back)
            chosen = request.POST.get("card", "")
    status = 400 if error else 200
    context = {
        "payment": payment,
        "waiting": waiting,
        "cards": CARDS,
        "error": error,
        "chosen": chosen,
        "return_url": _return_url(request),
    }
    return render(request, "billing/sandbox_pay.html", context, status=status)
