"""Outage incidents: many fault reports, one repair."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import IncidentStatus


class Incident(models.Model):
    """Fault reports from one feeder (or, without a feeder, one area) close in time.

    Resolving it resolves every linked order and tells every caller that power
    is back.
    """

    feeder = models.ForeignKey(
        "core.Feeder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("feeder"),
    )
    area = models.ForeignKey(
        "core.Area",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("area"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # The latest report linked: the window for joining runs from it.
    last_report_at = models.DateTimeField(_("last report at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("power back at"), null=True, blank=True)
    cause = models.TextField(_("cause"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "feeder"], name="wo_incident_feeder"),
            models.Index(fields=["status", "area"], name="wo_incident_area"),
        ]
        verbose_name = _("outage incident")
        verbose_name_plural = _("outage incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.feeder or self.area}"
