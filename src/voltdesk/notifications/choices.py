"""Fixed vocabularies of the notifications outbox."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    """Life of an outbox row: queued → sending → sent → delivered, or failed.

    ``sending`` is a lease held by one worker; a row stuck in it longer than the
    lease goes back to ``queued`` (see ``services.dispatch_due``).
    """

    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class ReceiptStatus(models.TextChoices):
    """What an SMS gateway's delivery receipt can report."""

    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
