"""E-invoices of paid bills, and how each customer wants its bills delivered.

An e-invoice is issued once per paid bill: its number is given when the row is
written (one gap-free series a year), its PDF is rendered and sealed right
after; from then on the same bytes are handed out every time, checked against
``sha256``. A bill delivery choice says paper, e-mail or an SMS link.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voltdesk.customers.models import Customer

from .bills import Bill


class EInvoice(models.Model):
    """The sealed e-invoice of one paid bill; never changed once sealed."""

    class Status(models.TextChoices):
        NUMBERED = "numbered", _("Numbered, not yet sealed")
        SEALED = "sealed", _("Sealed")

    number = models.CharField(_("invoice number"), max_length=24, unique=True)
    bill = models.OneToOneField(
        Bill, on_delete=models.PROTECT, related_name="einvoice", verbose_name=_("bill")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="einvoices", verbose_name=_("customer")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.NUMBERED
    )
    issued_at = models.DateTimeField(_("issued at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="einvoices/%Y/%m/", blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("e-invoice")
        verbose_name_plural = _("e-invoices")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="numbered") | (~Q(sha256="") & Q(sealed_at__isnull=False)),
                name="einvoice_sealed_has_hash",
            )
        ]
        indexes = [models.Index(fields=["status"], name="einvoice_status")]

    def __str__(self) -> str:
        return self.number


class BillDelivery(models.Model):
    """How a customer receives its bills: on paper, by e-mail, or as an SMS with a link."""

    class Channel(models.TextChoices):
        PAPER = "paper", _("Paper, by post")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS with a link")

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="bill_delivery", verbose_name=_("customer")
    )
    channel = models.CharField(
        _("bills by"), max_length=8, choices=Channel.choices, default=Channel.PAPER
    )
    address = models.CharField(
        _("address"), max_length=254, blank=True, help_text=_("e-mail address or phone number")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("bill delivery")
        verbose_name_plural = _("bill deliveries")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel="paper") | ~Q(address=""), name="ebill_has_address"
            )
        ]
        indexes = [models.Index(fields=["channel"], name="bill_delivery_channel")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}"
