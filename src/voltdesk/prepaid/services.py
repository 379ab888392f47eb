"""Prepaid packages: the levels offered, buying through the gateway, mandates, refunds, statements.

* ``offer_levels`` prices a few levels around the household's usual year (its
  last 12 months of monthly rollups, annualised when it has fewer; a typical
  household's year when it has none) under its contract's tariff
  (``pricing.py``).
* ``buy_package`` creates the package, waiting for payment, and sends the buyer
  to the sandbox gateway's page; only the gateway's signed confirmation
  (``receive_purchase_webhook``) makes it active. Its year starts the month
  after the confirmation (no pro-rata first month).
* ``bind_mandate`` / ``unbind_mandate``: the bank card the monthly shortfall is
  taken from (``bank.py``).
* ``request_refund``: moving out ends the package with the move-out month; the
  months after it are paid back, less the bonus already received.

The monthly credit and settlement are in ``settlement.py``.
"""

import json
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.billing import gateway
from voltdesk.billing.models import GatewayEvent, TariffVersion
from voltdesk.billing.payments import today
from voltdesk.billing.rating import priced_version
from voltdesk.core.access import rollups_held_by
from voltdesk.core.services import get_utility, log_action, utility_zone
from voltdesk.customers.choices import CustomerKind, VoltageLevel
from voltdesk.customers.models import Contract
from voltdesk.metering.models import MonthlyRollup
from voltdesk.metering.periods import first_of_month, local_date, next_month

from . import pricing
from .choices import MandateStatus, PackageStatus, RefundStatus
from .models import DebitMandate, Package, PackageMonth, PackageRefund, PrepaidSettings

HISTORY_MONTHS = 12
PENDING_TIMEOUT = gateway.PENDING_TIMEOUT  # a purchase the bank never answered may be retried
PROVIDER = "sandbox"


class PrepaidError(ValueError):
    """A request about packages that cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


# The household and its usual year ----------------------------------------------------------


def package_contract(customer) -> Contract:
    """The contract a package is for: the household's low-voltage contract in force."""
    if customer.kind != CustomerKind.RESIDENTIAL:
        raise PrepaidError(
            _("Prepaid packages are for residential customers only."), code="not_residential"
        )
    now = timezone.now()
    contract = (
        Contract.objects.filter(customer=customer, site__voltage_level=VoltageLevel.LOW)
        .filter(Q(start__isnull=True) | Q(start__lte=now), Q(end__isnull=True) | Q(end__gt=now))
        .select_related("site", "tariff")
        .order_by("site__ref", "pk")
        .first()
    )
    if contract is None:
        raise PrepaidError(
            _("You have no low-voltage household contract in force."), code="no_contract"
        )
    return contract


def _version_in_force(contract: Contract, day: date):
    if contract.tariff_id is None:
        return None
    return (
        TariffVersion.objects.filter(tariff_id=contract.tariff_id, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("tariff")
        .prefetch_related("rates", "seasons")
        .order_by("-valid_from")
        .first()
    )


@dataclass(frozen=True)
class UsualYear:
    kwh: Decimal
    months: int  # months of history it is drawn from; 0: the typical household
    first: date
    end: date  # exclusive


def usual_year(contract: Contract, as_of: date) -> UsualYear:
    """The household's kWh over the 12 full months before ``as_of``'s month.

    Only months its contract held the site count (a new household does not take
    over the previous one's consumption); fewer than 12 are scaled to a year.
    """
    end = first_of_month(as_of)
    first = add_months(end, -HISTORY_MONTHS)
    rows = rollups_held_by(
        [contract],
        MonthlyRollup.objects.filter(month__gte=first, month__lt=end),
        date_field="month",
        monthly=True,
    ).aggregate(kwh=Sum("kwh"), months=Count("pk"))
    months = rows["months"] or 0
    if not months:
        typical = PrepaidSettings.current().typical_annual_kwh
        return UsualYear(kwh=Decimal(typical), months=0, first=first, end=end)
    total = Decimal(repr(rows["kwh"])) if not isinstance(rows["kwh"], Decimal) else rows["kwh"]
    annual = (total * HISTORY_MONTHS / months).quantize(Decimal("1"))
    return UsualYear(kwh=annual, months=months, first=first, end=end)


@dataclass(frozen=True)
class Offer:
    contract: Contract
    usual: UsualYear
    levels: list[pricing.Level]
    currency: str

    @property
    def typical(self) -> bool:
        return self.usual.months == 0

    def level(self, percent) -> pricing.Level:
        for level in self.levels:
            if str(level.percent) == str(percent).strip():
                return level
        raise PrepaidError(
            _("Choose one of the levels offered: %(levels)s.")
            % {"levels": ", ".join(f"{lv.percent} %" for lv in self.levels)},
            "level",
        )


def offer_levels(customer, as_of: date | None = None) -> Offer:
    """The levels a household is offered now, priced under its contract's tariff."""
    as_of = as_of or today()
    contract = package_contract(customer)
    version = _version_in_force(contract, as_of)
    if version is None:
        raise PrepaidError(
            _("Your contract has no tariff in force to price a package."), code="no_tariff"
        )
    terms = PrepaidSettings.current()
    utility = get_utility()
    usual = usual_year(contract, as_of)
    try:
        levels = pricing.price_levels(
            priced_version(version),
            usual.kwh,
            [int(p) for p in terms.levels],
            step=terms.rounding_step,
            bonus_rate=terms.bonus_rate,
            default_vat_rate=utility.vat_rate,
        )
    except pricing.PricingError:
        raise PrepaidError(
            _("Packages are not offered on a time-of-use tariff."), code="no_tariff"
        ) from None
    return Offer(contract=contract, usual=usual, levels=levels, currency=utility.currency)


# Buying --------------------------------------------------------------------------------------


@dataclass
class Purchase:
    package: Package
    redirect_url: str
    created: bool


def pay_url(package: Package, return_url: str = "") -> str:
    url = reverse("portal:package_sandbox_pay", args=[package.provider_ref])
    if return_url:
        from urllib.parse import urlencode

        url += "?" + urlencode({"return": return_url})
    return url


def _expire_stale(contract: Contract) -> None:
    """A purchase the bank never answered within the timeout no longer blocks a new one."""
    stale = Package.objects.filter(
        contract=contract,
        status=PackageStatus.AWAITING_PAYMENT,
        bought_at__lt=timezone.now() - PENDING_TIMEOUT,
    )
    for package in stale.select_for_update():
        package.status = PackageStatus.FAILED
        package.failure_reason = _("No answer from the bank within 30 minutes.")
        package.save(update_fields=["status", "failure_reason"])
        log_action(None, "prepaid.package_timed_out", package)


def buy_package(
    customer, percent, idempotency_key: str, *, user, as_of=None, return_url=""
) -> Purchase:
    """Start buying the level ``percent``: the package waits for the gateway's confirmation.

    The same idempotency key answers the same purchase (a double click pays
    once); a household with a package active or waiting is refused.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80 or not key.isprintable():
        raise PrepaidError(_("The form expired: reload the page and try again."), "key")
    existing = Package.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise PrepaidError(_("This purchase key was already used."), "key", code="conflict")
        return Purchase(existing, pay_url(existing, return_url), created=False)
    offer = offer_levels(customer, as_of)
    level = offer.level(percent)
    try:
        with transaction.atomic():
            _expire_stale(offer.contract)
            live = Package.objects.filter(
                contract=offer.contract,
                status__in=[PackageStatus.AWAITING_PAYMENT, PackageStatus.ACTIVE],
            ).first()
            if live is not None:
                raise PrepaidError(
                    _(
                        "You already have a package (%(number)s, %(status)s); buy the next one "
                        "when it ends."
                    )
                    % {"number": live.number, "status": live.get_status_display()},
                    "level",
                    code="conflict",
                )
            package = Package.objects.create(
                customer=customer,
                contract=offer.contract,
                level_percent=level.percent,
                annual_kwh=level.annual_kwh,
                annual_price=level.annual_price,
                monthly_amount=level.monthly_amount,
                bonus_rate=level.bonus_rate,
                monthly_bonus=level.monthly_bonus,
                currency=offer.currency,
                idempotency_key=key,
                provider=PROVIDER,
                provider_ref="sbx_pkg_" + secrets.token_urlsafe(18),
                created_by=user if getattr(user, "pk", None) else None,
            )
            log_action(
                user,
                "prepaid.package_bought",
                package,
                {
                    "level": level.percent,
                    "annual_price": str(level.annual_price),
                    "monthly_amount": str(level.monthly_amount),
                },
            )
    except IntegrityError:
        # Two requests at once: the constraint lets one through.
        raise PrepaidError(
            _("You already have a package; buy the next one when it ends."),
            "level",
            code="conflict",
        ) from None
    return Purchase(package, pay_url(package, return_url), created=True)


def purchase_event(package: Package, outcome: str) -> dict:
    """The event the sandbox bank sends for a package's payment (same choice, same id)."""
    kind = {"success": gateway.SUCCEEDED, "decline": gateway.DECLINED}[outcome]
    return {
        "id": f"evt_{package.provider_ref}_{outcome}",
        "type": kind,
        "created": int(time.time()),
        "data": {
            "provider_ref": package.provider_ref,
            "amount": str(package.annual_price),
            "currency": package.currency,
            "reason": "card_declined" if outcome == "decline" else "",
        },
    }


def sandbox_card_chosen(provider_ref: str, card: str) -> Package:
    """The cardholder paid on the sandbox page: the bank answers by signed webhook, later."""
    package = Package.objects.filter(provider=PROVIDER, provider_ref=provider_ref).first()
    if package is None:
        raise PrepaidError(_("No such payment."), "provider_ref")
    outcome = gateway.TEST_CARDS.get((card or "").replace(" ", ""))
    if outcome not in ("success", "decline"):
        raise PrepaidError(_("Use one of the sandbox's test cards."), "card")
    from .tasks import send_purchase_webhook

    transaction.on_commit(lambda: send_purchase_webhook.delay(package.pk, outcome))
    return package


def deliver_purchase_webhook(package_id: int, outcome: str):
    """The sandbox bank signing its answer and handing it to our webhook handler."""
    package = Package.objects.get(pk=package_id)
    body = json.dumps(purchase_event(package, outcome), separators=(",", ":")).encode()
    header = gateway.sign(gateway.gateway_secret(), body, int(time.time()))
    return receive_purchase_webhook(body, {gateway.SIGNATURE_HEADER: header})


def receive_purchase_webhook(body: bytes, headers, *, now: float | None = None) -> bool:
    """Take the gateway's signed answer about a package's payment; False for a repeat.

    Raises ``gateway.WebhookRejected`` (nothing written) for a bad signature, a
    stale timestamp, an unknown package or an amount that does not match.
    """
    data = gateway.adapter(PROVIDER).parse_webhook(
        body, headers, time.time() if now is None else now
    )
    with transaction.atomic():
        package = (
            Package.objects.select_for_update()
            .filter(provider=PROVIDER, provider_ref=data.provider_ref)
            .first()
        )
        if package is None:
            raise gateway.WebhookRejected(_("No package with this provider reference."))
        if data.kind == gateway.SUCCEEDED and (
            data.amount != package.annual_price
            or (data.currency and data.currency != package.currency)
        ):
            raise gateway.WebhookRejected(_("The amount or currency does not match the package."))
        try:
            with transaction.atomic():
                GatewayEvent.objects.create(
                    provider=PROVIDER, event_id=data.event_id, kind=data.kind, payload=data.payload
                )
        except IntegrityError:
            return False
        if data.kind == gateway.SUCCEEDED:
            _start(package)
        elif (
            data.kind in (gateway.DECLINED, gateway.TIMED_OUT)
            and package.status == PackageStatus.AWAITING_PAYMENT
        ):
            package.status = PackageStatus.FAILED
            package.failure_reason = data.reason or _("Declined by the bank.")
            package.save(update_fields=["status", "failure_reason"])
            log_action(None, "prepaid.package_payment_failed", package, {"reason": data.reason})
    return True


def _start(package: Package) -> None:
    """The bank confirmed: the year begins the month after the confirmation."""
    if package.paid_at is not None:
        return
    paid_at = timezone.now()
    first = next_month(local_date(paid_at, utility_zone()))
    package.status = PackageStatus.ACTIVE
    package.paid_at = paid_at
    package.first_month = first
    package.last_month = add_months(first, package.months - 1)
    package.failure_reason = ""
    package.save(update_fields=["status", "paid_at", "first_month", "last_month", "failure_reason"])
    log_action(
        None,
        "prepaid.package_paid",
        package,
        {"first_month": first.isoformat(), "last_month": package.last_month.isoformat()},
    )


# Mandates -----------------------------------------------------------------------------------


def active_mandate(customer) -> DebitMandate | None:
    return DebitMandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE).first()


def bind_mandate(customer, holder: str, card_number: str, *, user) -> DebitMandate:
    """Bind a bank card for auto-debit of shortfalls; replaces a card bound before."""
    from . import bank

    package_contract(customer)  # households only
    holder = (holder or "").strip()
    if not holder or len(holder) > 120:
        raise PrepaidError(_("Enter the card holder's name (at most 120 characters)."), "holder")
    digits = (card_number or "").replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise PrepaidError(_("Enter the card number: 12 to 19 digits."), "card")
    token = bank.sandbox_bank().create_mandate(digits)
    with transaction.atomic():
        for old in DebitMandate.objects.select_for_update().filter(
            customer=customer, status=MandateStatus.ACTIVE
        ):
            _revoke(old, user)
        mandate = DebitMandate.objects.create(
            customer=customer, holder=holder, card_last4=digits[-4:], token=token
        )
        log_action(user, "prepaid.mandate_bound", mandate, {"card": f"**** {digits[-4:]}"})
    return mandate


def _revoke(mandate: DebitMandate, user) -> None:
    mandate.status = MandateStatus.REVOKED
    mandate.revoked_at = timezone.now()
    mandate.save(update_fields=["status", "revoked_at"])
    log_action(user, "prepaid.mandate_unbound", mandate)


def unbind_mandate(customer, *, user) -> int:
    with transaction.atomic():
        mandates = list(
            DebitMandate.objects.select_for_update().filter(
                customer=customer, status=MandateStatus.ACTIVE
            )
        )
        if not mandates:
            raise PrepaidError(_("No bank card is bound."), "mandate")
        for mandate in mandates:
            _revoke(mandate, user)
    return len(mandates)


# Move-out refund ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundQuote:
    months_unused: int
    unused_amount: Decimal
    bonus_received: Decimal
    amount: Decimal
    last_month: date


def refund_quote(package: Package, move_out_on: date) -> RefundQuote:
    """Months after the move-out month (and after any month already credited) come back,
    less every bonus received: 12 x 100.00 bought, 5 months credited with 1.00 bonus
    each, moving out in the 5th: 7 x 100.00 - 5.00 = 695.00."""
    credited = package.credits.aggregate(bonus=Sum("bonus"))
    last_credited = package.credits.order_by("-month").values_list("month", flat=True).first()
    last = first_of_month(move_out_on)
    if last_credited and last_credited > last:
        last = last_credited
    if package.first_month and last < add_months(package.first_month, -1):
        last = add_months(package.first_month, -1)
    end = package.last_month
    unused = 0
    if end is not None and last < end:
        unused = (end.year - last.year) * 12 + end.month - last.month
    bonus = credited["bonus"] or Decimal("0.00")
    unused_amount = package.monthly_amount * unused
    amount = max(unused_amount - bonus, Decimal("0.00"))
    return RefundQuote(unused, unused_amount, bonus, amount, last)


def request_refund(customer, package: Package, move_out_on: date, *, user) -> PackageRefund:
    """End the package at move-out and record the refund owed (paid back by the utility)."""
    if package.customer_id != customer.pk:
        raise PrepaidError(_("No such package."), "package", code="not_found")
    if move_out_on < today() - timedelta(days=31):
        raise PrepaidError(_("The move-out date cannot be more than a month ago."), "move_out_on")
    if move_out_on > today() + timedelta(days=366):
        raise PrepaidError(_("The move-out date is too far ahead."), "move_out_on")
    with transaction.atomic():
        package = Package.objects.select_for_update().get(pk=package.pk)
        if package.status != PackageStatus.ACTIVE:
            raise PrepaidError(
                _("Only an active package can be ended (this one is %(status)s).")
                % {"status": package.get_status_display()},
                "package",
                code="conflict",
            )
        quote = refund_quote(package, move_out_on)
        refund = PackageRefund.objects.create(
            package=package,
            move_out_on=move_out_on,
            months_unused=quote.months_unused,
            unused_amount=quote.unused_amount,
            bonus_received=quote.bonus_received,
            amount=quote.amount,
            status=RefundStatus.REQUESTED,
            requested_by=user if getattr(user, "pk", None) else None,
        )
        package.status = PackageStatus.ENDED
        package.last_month = quote.last_month
        package.save(update_fields=["status", "last_month"])
        log_action(
            user,
            "prepaid.refund_requested",
            package,
            {"move_out_on": move_out_on.isoformat(), "amount": str(quote.amount)},
        )
    return refund


# Statement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    package: Package
    months: list[PackageMonth]
    credited: Decimal
    bonus: Decimal
    deducted: Decimal
    shortfall: Decimal
    months_left: int


def statement(package: Package) -> Statement:
    """Each month's credit, bonus earned, what it paid of the bill and any shortfall."""
    months = list(package.credits.select_related("bill", "auto_debit").order_by("month"))
    zero = Decimal("0.00")
    left = package.months - len(months) if package.status == PackageStatus.ACTIVE else 0
    return Statement(
        package=package,
        months=months,
        credited=sum((m.amount + m.bonus for m in months), zero),
        bonus=sum((m.bonus for m in months), zero),
        deducted=sum((m.deducted for m in months), zero),
        shortfall=sum((m.shortfall for m in months), zero),
        months_left=max(left, 0),
    )
