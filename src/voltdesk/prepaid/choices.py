"""Fixed vocabularies of prepaid packages: a package's life, mandates, auto-debits, refunds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PackageStatus(models.TextChoices):
    """A package waits for the bank's signed confirmation before its year begins."""

    AWAITING_PAYMENT = "awaiting", _("Waiting for payment")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Payment failed")
    ENDED = "ended", _("Ended at move-out")


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("Bound")
    REVOKED = "revoked", _("Unbound")


class DebitStatus(models.TextChoices):
    """An auto-debit is settled only by the bank's answer, which comes later."""

    PENDING = "pending", _("Waiting for the bank")
    SUCCEEDED = "succeeded", _("Debited")
    FAILED = "failed", _("Failed")


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    PAID = "paid", _("Paid")
