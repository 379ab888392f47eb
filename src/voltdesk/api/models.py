"""API keys for integrations (billing systems, meter data hubs, the utility's BI)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A key that acts as its user; only a SHA-256 hash of the key is kept.

    The key is shown once when issued. ``prefix`` is a non-secret part of the key
    used to find the row; the rest is checked against ``key_hash``. Because the
    key is 256 bits of randomness, a plain SHA-256 suffices (no slow password hash).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix} ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
