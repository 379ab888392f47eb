"""Billing: tariffs (the rest of billing arrives with its own issue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tariff(models.Model):
    """A named tariff a contract is billed on; its priced versions come with billing."""

    class Kind(models.TextChoices):
        FLAT = "flat", _("Flat")
        TIERED = "tiered", _("Tiered")
        TIME_OF_USE = "tou", _("Time of use")

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FLAT)
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")

    def __str__(self) -> str:
        return self.name
