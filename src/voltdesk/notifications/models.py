"""The outbox: every e-mail and SMS the utility sends, and how its delivery went.

A row is written in the same transaction as the business change that causes it,
and a worker delivers it afterwards; so a message is never lost when a provider
or a worker fails, and its dedupe key makes sure it is never queued twice.
"""

import hashlib

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from voltdesk.core.choices import Language

from .choices import Channel, MessageStatus


class Message(models.Model):
    """One message to one address over one channel, rendered in the recipient's language.

    The subject and body are rendered when the message is queued and kept, so the
    outbox shows exactly what the customer was told, whatever templates say later.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("customer"),
    )
    address = models.CharField(
        _("address"), max_length=254, help_text=_("E-mail address or E.164 phone number")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    template = models.CharField(_("template"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"))
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    driver = models.CharField(_("driver"), max_length=32, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            # dispatch_due scans queued rows by due time and sending rows by lease start.
            models.Index(fields=["status", "next_attempt_at"], name="notif_msg_status_due"),
            models.Index(fields=["status", "sending_since"], name="notif_msg_status_lease"),
            models.Index(fields=["provider_message_id"], name="notif_msg_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} → {self.address} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """What providers see instead of the dedupe key: stable, and reveals nothing."""
        return hashlib.sha256(self.dedupe_key.encode()).hexdigest()
