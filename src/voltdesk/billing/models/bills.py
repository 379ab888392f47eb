"""Bills and the other documents that move a customer's balance, with their lines.

A bill is computed as a draft by a billing run and replaced by the next run until
it is issued; an issued bill is never edited. A correction is a credit note that
cancels it (the bill becomes ``credited``) and a new bill from the next run.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from voltdesk.customers.models import Contract, Customer, Site

from ..choices import BillKind, BillStatus, LineKind, TouPeriod
from .tariffs import MONEY, PRICE, TariffVersion

KWH = {"max_digits": 18, "decimal_places": 6}


class BillingRun(models.Model):
    """One run of ``billing_run`` for a month: who started it, how far it got, what it made."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.DateField(_("billing month"), help_text=_("first day of the month"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    figures = models.JSONField(
        _("figures"), default=dict, blank=True, help_text=_("contracts, drafts, kept, skipped")
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.get_status_display()}"


class Bill(models.Model):
    """A bill, credit note or late fee of one customer (for one contract where it has one).

    ``total`` is what the customer owes by this document (negative for a credit
    note); ``paid`` is the sum of its payment allocations, kept with them in one
    transaction, so open debt is ``total - paid`` without a join.
    """

    number = models.CharField(
        _("number"), max_length=24, unique=True, null=True, blank=True, help_text=_("on issue")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=BillKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=BillStatus.choices, default=BillStatus.DRAFT
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="bills", verbose_name=_("customer")
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("contract"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("site"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"), help_text=_("exclusive"))
    run = models.ForeignKey(
        BillingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("billing run"),
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("about"),
        help_text=_("the bill a credit note cancels or a late fee is charged on"),
    )
    energy_kwh = models.DecimalField(_("energy (kWh)"), **KWH, default=0)
    net_amount = models.DecimalField(_("before VAT"), **MONEY, default=0)
    vat_amount = models.DecimalField(_("VAT"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    paid = models.DecimalField(_("paid"), **MONEY, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "pk"]
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            # A re-run replaces the draft; an issued bill stays the only live one.
            models.UniqueConstraint(
                fields=["contract", "period_start"],
                condition=Q(kind="bill") & Q(status__in=["draft", "issued"]),
                name="one_live_bill_per_contract_month",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="bill_period_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="bill_customer_status"),
            models.Index(fields=["run"], name="bill_run"),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.get_kind_display()} #{self.pk}"

    @property
    def open_amount(self):
        return self.total - self.paid


class BillLine(models.Model):
    """One line a customer can check by hand: quantity x unit price = amount."""

    bill = models.ForeignKey(
        Bill, on_delete=models.CASCADE, related_name="lines", verbose_name=_("bill")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices)
    period = models.CharField(
        _("period"), max_length=8, choices=TouPeriod.choices, default=TouPeriod.ALL
    )
    season = models.CharField(_("season"), max_length=40, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    covers_from = models.DateField(_("from"))
    covers_to = models.DateField(_("until"), help_text=_("exclusive"))
    tariff_version = models.ForeignKey(
        TariffVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tariff version"),
    )
    quantity = models.DecimalField(_("quantity"), **KWH)
    unit = models.CharField(_("unit"), max_length=8)  # kWh, month, kVA·month
    unit_price = models.DecimalField(_("unit price"), **PRICE)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["bill", "position"]
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        constraints = [
            models.UniqueConstraint(fields=["bill", "position"], name="one_line_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.bill} #{self.position}"
