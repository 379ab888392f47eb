"""Prepaid packages in residential self-service: levels offered, buying, statement, card, move-out.

Every page is the signed-in household's own: packages are looked up under the
user's customer (``core.access.customer_of``), so another household's package
answers 404. A business customer's user is told packages are for households
(403). Rules live in ``voltdesk.prepaid.services``; these views parse the form
and call them. Bad input answers 400 with the message beside its field; a
second purchase 409.
"""

import secrets
from datetime import date

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from voltdesk.billing.display import format_money
from voltdesk.billing.payments import today
from voltdesk.customers.choices import CustomerKind
from voltdesk.prepaid import services
from voltdesk.prepaid.choices import PackageStatus
from voltdesk.prepaid.models import Package

from .views import customer_required

NAV = "packages"
SANDBOX_CARDS = [
    ("4242 4242 4242 4242", "success"),
    ("4000 0000 0000 0002", "decline"),
]


def _refuse_business(request, customer):
    return render(
        request,
        "portal/package_refused.html",
        {"nav": NAV, "customer": customer},
        status=403,
    )


def household_required(view):
    """Customer pages for households only; a business user gets a clear 403 page."""

    @customer_required
    def wrapped(request, customer, *args, **kwargs):
        if customer.kind != CustomerKind.RESIDENTIAL:
            return _refuse_business(request, customer)
        return view(request, customer, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _own_package(customer, pk) -> Package:
    return get_object_or_404(Package, pk=pk, customer=customer)


def _offer_context(customer, **extra):
    context = {"nav": NAV, "customer": customer, "offer": None, "offer_error": ""}
    try:
        offer = services.offer_levels(customer)
    except services.PrepaidError as exc:
        context["offer_error"] = str(exc)
    else:
        context["offer"] = offer
        context["levels"] = [
            {
                "percent": lv.percent,
                "share": f"{lv.percent} %",
                "kwh": lv.annual_kwh,
                "monthly": format_money(lv.monthly_amount, offer.currency),
                "annual": format_money(lv.annual_price, offer.currency),
                "bonus": format_money(lv.monthly_bonus, offer.currency),
                "annual_bonus": format_money(lv.annual_bonus, offer.currency),
            }
            for lv in offer.levels
        ]
    context["packages"] = list(
        Package.objects.filter(customer=customer).order_by("-bought_at")[:20]
    )
    context["live"] = next(
        (
            p
            for p in context["packages"]
            if p.status in (PackageStatus.ACTIVE, PackageStatus.AWAITING_PAYMENT)
        ),
        None,
    )
    context["mandate"] = services.active_mandate(customer)
    context["key"] = secrets.token_urlsafe(16)
    context.update(extra)
    return context


@household_required
def packages(request, customer):
    """The levels offered, the household's packages and its bound card."""
    return render(request, "portal/packages.html", _offer_context(customer))


@require_POST
@household_required
def buy(request, customer):
    try:
        purchase = services.buy_package(
            customer,
            request.POST.get("level", ""),
            request.POST.get("key", ""),
            user=request.user,
            return_url=reverse("portal:packages"),
        )
    except services.PrepaidError as exc:
        status = 409 if exc.code == "conflict" else 400
        context = _offer_context(customer, errors={exc.field or "level": str(exc)})
        return render(request, "portal/packages.html", context, status=status)
    return redirect(purchase.redirect_url)


@require_http_methods(["GET", "POST"])
@household_required
def sandbox_pay(request, customer, ref):
    """The sandbox gateway's page for a package: the cardholder picks a test card."""
    package = Package.objects.filter(provider_ref=ref, customer=customer).first()
    if package is None:
        raise Http404
    waiting = package.status == PackageStatus.AWAITING_PAYMENT
    error = ""
    if request.method == "POST" and waiting:
        try:
            services.sandbox_card_chosen(ref, request.POST.get("card", ""))
        except services.PrepaidError as exc:
            error = str(exc)
        else:
            back = request.POST.get("return") or ""
            if back and url_has_allowed_host_and_scheme(back, {request.get_host()}):
                return redirect(back)
            return redirect("portal:package", package.pk)
    return render(
        request,
        "portal/package_pay.html",
        {
            "nav": NAV,
            "customer": customer,
            "package": package,
            "amount": format_money(package.annual_price, package.currency),
            "waiting": waiting,
            "cards": SANDBOX_CARDS,
            "error": error,
            "return_url": request.GET.get("return", ""),
        },
        status=400 if error else 200,
    )


@household_required
def package(request, customer, pk):
    """One package's statement: each month's credit, bonus, deduction and shortfall."""
    pkg = _own_package(customer, pk)
    st = services.statement(pkg)
    money = lambda amount: format_money(amount, pkg.currency)  # noqa: E731
    rows = [
        {
            "month": m.month,
            "amount": money(m.amount),
            "bonus": money(m.bonus),
            "bill": m.bill,
            "bill_total": money(m.bill_total) if m.bill_id else "",
            "deducted": money(m.deducted),
            "shortfall": money(m.shortfall) if m.shortfall else "",
            "pay_by": m.pay_by,
            "debit": getattr(m, "auto_debit", None),
        }
        for m in st.months
    ]
    return render(
        request,
        "portal/package.html",
        {
            "nav": NAV,
            "customer": customer,
            "package": pkg,
            "rows": rows,
            "monthly": money(pkg.monthly_amount),
            "annual": money(pkg.annual_price),
            "credited": money(st.credited),
            "bonus": money(st.bonus),
            "deducted": money(st.deducted),
            "shortfall": money(st.shortfall),
            "months_left": st.months_left,
            "refund": getattr(pkg, "refund", None),
            "refund_amount": money(pkg.refund.amount) if hasattr(pkg, "refund") else "",
        },
    )


@require_POST
@household_required
def card_bind(request, customer):
    try:
        services.bind_mandate(
            customer,
            request.POST.get("holder", ""),
            request.POST.get("card", ""),
            user=request.user,
        )
    except services.PrepaidError as exc:
        context = _offer_context(customer, card_errors={exc.field or "card": str(exc)})
        return render(request, "portal/packages.html", context, status=400)
    return redirect("portal:packages")


@require_POST
@household_required
def card_unbind(request, customer):
    try:
        services.unbind_mandate(customer, user=request.user)
    except services.PrepaidError as exc:
        context = _offer_context(customer, card_errors={"mandate": str(exc)})
        return render(request, "portal/packages.html", context, status=400)
    return redirect("portal:packages")


@require_http_methods(["GET", "POST"])
@household_required
def move_out(request, customer, pk):
    """Moving out: the refund of the months after the move-out month, less bonus received."""
    pkg = _own_package(customer, pk)
    error, quote = "", None
    value = request.POST.get("move_out_on") or request.GET.get("move_out_on") or ""
    day = None
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            error = _("Enter the move-out date as YYYY-MM-DD.")
    if request.method == "POST" and not error:
        if day is None:
            error = _("Enter the move-out date.")
        else:
            try:
                services.request_refund(customer, pkg, day, user=request.user)
            except services.PrepaidError as exc:
                error = str(exc)
            else:
                return redirect("portal:package", pkg.pk)
    if pkg.status == PackageStatus.ACTIVE:
        quote = services.refund_quote(pkg, day or today())
    return render(
        request,
        "portal/package_move_out.html",
        {
            "nav": NAV,
            "customer": customer,
            "package": pkg,
            "quote": quote,
            "quote_amount": format_money(quote.amount, pkg.currency) if quote else "",
            "quote_unused": format_money(quote.unused_amount, pkg.currency) if quote else "",
            "quote_bonus": format_money(quote.bonus_received, pkg.currency) if quote else "",
            "move_out_on": value or today().isoformat(),
            "error": error,
        },
        status=400 if error else 200,
    )


urlpatterns = [
    path("packages/", packages, name="packages"),
    path("packages/buy/", buy, name="package_buy"),
    path("packages/pay/<str:ref>/", sandbox_pay, name="package_sandbox_pay"),
    path("packages/card/", card_bind, name="package_card"),
    path("packages/card/unbind/", card_unbind, name="package_card_unbind"),
    path("packages/<int:pk>/", package, name="package"),
    path("packages/<int:pk>/move-out/", move_out, name="package_move_out"),
]
