"""Payments, their allocation to bills, online payments at the gateway, and arrangements."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voltdesk.customers.models import Customer

from ..choices import ArrangementStatus, OnlinePaymentStatus, PaymentMethod
from .bills import Bill
from .tariffs import MONEY


class OnlinePayment(models.Model):
    """A payment started in the portal and settled only by the gateway's signed confirmation.

    The idempotency key comes from the page (one per "pay" form), so a double
    click or a retried request finds the same payment instead of charging twice.
    """

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="online_payments",
        verbose_name=_("customer"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    bills = models.ManyToManyField(Bill, related_name="online_payments", verbose_name=_("bills"))
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    provider = models.CharField(_("provider"), max_length=40)
    provider_ref = models.CharField(
        _("provider reference"), max_length=80, unique=True, null=True, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OnlinePaymentStatus.choices,
        default=OnlinePaymentStatus.CREATED,
    )
    failure_reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="online_payment_positive")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_ref or self.idempotency_key}"


class GatewayEvent(models.Model):
    """A webhook call received from the payment gateway, kept once per event id."""

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=80)
    online_payment = models.ForeignKey(
        OnlinePayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("online payment"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("gateway event")
        verbose_name_plural = _("gateway events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="one_event_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"


class Payment(models.Model):
    """Money received from a customer; what is not yet allocated is the customer's credit."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="payments", verbose_name=_("customer")
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=8, choices=PaymentMethod.choices)
    received_at = models.DateTimeField(_("received at"))
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    online_payment = models.OneToOneField(
        OnlinePayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name=_("online payment"),
    )
    allocated = models.DecimalField(_("allocated"), **MONEY, default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.received_at:%Y-%m-%d}"

    @property
    def unallocated(self):
        return self.amount - self.allocated


class PaymentAllocation(models.Model):
    """The part of a payment that settles one bill."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("payment")
    )
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("bill")
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(fields=["payment", "bill"], name="one_allocation_per_bill"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment} → {self.bill}"


class PaymentArrangement(models.Model):
    """Instalments agreed for a customer's debt; no late fee on debt inside a kept arrangement."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="arrangements", verbose_name=_("customer")
    )
    bills = models.ManyToManyField(Bill, related_name="arrangements", verbose_name=_("bills"))
    total = models.DecimalField(_("total"), **MONEY)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ArrangementStatus.choices,
        default=ArrangementStatus.ACTIVE,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agreed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment arrangement")
        verbose_name_plural = _("payment arrangements")

    def __str__(self) -> str:
        return f"{self.customer} {self.total}"


class Instalment(models.Model):
    arrangement = models.ForeignKey(
        PaymentArrangement,
        on_delete=models.CASCADE,
        related_name="instalments",
        verbose_name=_("arrangement"),
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid = models.DecimalField(_("paid"), **MONEY, default=0)

    class Meta:
        ordering = ["arrangement", "number"]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        constraints = [
            models.UniqueConstraint(
                fields=["arrangement", "number"], name="one_instalment_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.arrangement} #{self.number}"
