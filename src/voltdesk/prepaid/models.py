"""Prepaid annual packages (预缴电费套餐): the offer's settings, packages, their months, mandates.

A household prepays a year; each month of that year the package's amount plus
a bonus is credited to its electricity account (a ``billing.Payment`` of method
``prepaid``) and spent on the month's bill. A month whose bill is larger than
the credit leaves a shortfall the customer may pay within ``pay_by`` without a
late fee; with a bound debit mandate the shortfall is taken from the card.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voltdesk.billing.models import Bill, Payment
from voltdesk.customers.models import Contract, Customer

from .choices import DebitStatus, MandateStatus, PackageStatus, RefundStatus

MONEY = {"max_digits": 14, "decimal_places": 2}
KWH = {"max_digits": 18, "decimal_places": 6}


def default_levels() -> list[int]:
    return [80, 100, 120, 150]


class PrepaidSettings(models.Model):
    """The administrator's terms of the offer: one row (``current()``)."""

    bonus_rate = models.DecimalField(
        _("bonus rate"),
        max_digits=5,
        decimal_places=4,
        default="0.0100",
        help_text=_("share of the monthly amount credited on top, e.g. 0.0100 for 1 percent"),
    )
    levels = models.JSONField(
        _("levels offered"),
        default=default_levels,
        help_text=_("percentages of last year's consumption, e.g. [80, 100, 120, 150]"),
    )
    rounding_step = models.DecimalField(_("monthly amount rounded up to"), **MONEY, default="5.00")
    typical_annual_kwh = models.DecimalField(
        _("typical household (kWh a year)"),
        **KWH,
        default=2400,
        help_text=_("levels for a household without consumption history"),
    )
    shortfall_days = models.PositiveSmallIntegerField(
        _("days to pay a shortfall without late fee"), default=15
    )

    class Meta:
        verbose_name = _("prepaid package settings")
        verbose_name_plural = _("prepaid package settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "PrepaidSettings":
        terms = cls.objects.order_by("pk").first()
        if terms is None:
            terms = cls.objects.create()
            terms.refresh_from_db()  # the defaults as the database types them (Decimal)
        return terms


class Package(models.Model):
    """A year of electricity prepaid for one contract, at a fixed monthly amount.

    Its year is ``first_month`` .. ``last_month`` (12 months from the month after
    the bank's confirmation); the amount and the bonus rate are fixed at purchase.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="packages", verbose_name=_("customer")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="packages", verbose_name=_("contract")
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PackageStatus.choices,
        default=PackageStatus.AWAITING_PAYMENT,
    )
    level_percent = models.PositiveSmallIntegerField(_("level (percent of usual use)"))
    annual_kwh = models.DecimalField(_("kWh a year"), **KWH)
    annual_price = models.DecimalField(_("price of the year"), **MONEY)
    monthly_amount = models.DecimalField(_("monthly amount"), **MONEY)
    bonus_rate = models.DecimalField(_("bonus rate"), max_digits=5, decimal_places=4)
    monthly_bonus = models.DecimalField(
        _("monthly bonus"), **MONEY, help_text=_("monthly amount x bonus rate, in cents")
    )
    months = models.PositiveSmallIntegerField(_("months"), default=12)
    first_month = models.DateField(_("first month"), null=True, blank=True)
    last_month = models.DateField(_("last month"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    provider = models.CharField(_("provider"), max_length=40, default="sandbox")
    provider_ref = models.CharField(
        _("provider reference"), max_length=80, unique=True, null=True, blank=True
    )
    failure_reason = models.CharField(_("reason"), max_length=200, blank=True)
    bought_at = models.DateTimeField(_("bought at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bought by"),
    )

    class Meta:
        ordering = ["-bought_at"]
        verbose_name = _("prepaid package")
        verbose_name_plural = _("prepaid packages")
        constraints = [
            # One package at a time per contract: a second purchase is refused.
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=["awaiting", "active"]),
                name="one_live_package_per_contract",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gt=0), name="package_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["status", "first_month"], name="package_status_month")]

    def __str__(self) -> str:
        return f"PKG-{self.pk}"

    @property
    def number(self) -> str:
        return f"PKG-{self.pk}"


class PackageMonth(models.Model):
    """One month of a package: the credit (amount + bonus), what it paid, any shortfall.

    ``payment`` is the credit on the account; ``bill`` the month's bill of the
    package's contract; ``shortfall`` what was left open on it after the credit,
    payable without late fee until ``pay_by``.
    """

    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="credits", verbose_name=_("package")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("package amount"), **MONEY)
    bonus = models.DecimalField(_("bonus"), **MONEY)
    reference = models.CharField(_("reference"), max_length=40)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="package_month",
        verbose_name=_("credit"),
    )
    bill = models.ForeignKey(
        Bill,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="package_months",
        verbose_name=_("bill"),
    )
    bill_total = models.DecimalField(_("bill total"), **MONEY, default=0)
    deducted = models.DecimalField(_("paid from the package"), **MONEY, default=0)
    shortfall = models.DecimalField(_("shortfall"), **MONEY, default=0)
    pay_by = models.DateField(_("pay by"), null=True, blank=True)
    settled_on = models.DateField(_("settled on"))
    notified = models.BooleanField(_("SMS sent"), default=False)

    class Meta:
        ordering = ["package", "month"]
        verbose_name = _("package month")
        verbose_name_plural = _("package months")
        constraints = [
            models.UniqueConstraint(
                fields=["package", "month"], name="one_credit_per_package_month"
            )
        ]
        indexes = [models.Index(fields=["month", "customer"], name="package_month_customer")]

    def __str__(self) -> str:
        return f"{self.package} {self.month:%Y-%m}"

    @property
    def credit(self):
        return self.amount + self.bonus


class DebitMandate(models.Model):
    """A bank card bound for auto-debit: only the bank's token and the last digits are kept."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("customer")
    )
    holder = models.CharField(_("card holder"), max_length=120)
    card_last4 = models.CharField(_("card ending"), max_length=4)
    bank = models.CharField(_("bank"), max_length=40, default="sandbox")
    token = models.CharField(_("bank token"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("bound at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("unbound at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("debit mandate")
        verbose_name_plural = _("debit mandates")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="active"), name="one_active_mandate"
            )
        ]

    def __str__(self) -> str:
        return f"**** {self.card_last4}"


class AutoDebit(models.Model):
    """A shortfall taken from a bound card; the bank's answer settles it, later."""

    package_month = models.OneToOneField(
        PackageMonth,
        on_delete=models.PROTECT,
        related_name="auto_debit",
        verbose_name=_("package month"),
    )
    mandate = models.ForeignKey(
        DebitMandate, on_delete=models.PROTECT, related_name="debits", verbose_name=_("mandate")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=DebitStatus.choices, default=DebitStatus.PENDING
    )
    bank_ref = models.CharField(_("bank reference"), max_length=80, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("auto-debit")
        verbose_name_plural = _("auto-debits")

    def __str__(self) -> str:
        return self.bank_ref


class PackageRefund(models.Model):
    """What is paid back at move-out: unused months' amounts less the bonus already received."""

    package = models.OneToOneField(
        Package, on_delete=models.PROTECT, related_name="refund", verbose_name=_("package")
    )
    move_out_on = models.DateField(_("move-out date"))
    months_unused = models.PositiveSmallIntegerField(_("months unused"))
    unused_amount = models.DecimalField(_("unused months' amounts"), **MONEY)
    bonus_received = models.DecimalField(_("bonus received"), **MONEY)
    amount = models.DecimalField(_("refund"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("package refund")
        verbose_name_plural = _("package refunds")

    def __str__(self) -> str:
        return f"{self.package} {self.amount}"
