"""What analytics keeps: trained classifiers, temperatures and staffing assumptions.

Dashboards, root causes and forecasts are computed from the work orders
themselves (see ``store.py`` and ``queries.py``); only what cannot be
recomputed lives here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClassifierModel(models.Model):
    """A type/subtype classifier trained on the utility's own history.

    The fitted scikit-learn pipeline is stored with it, so every web process
    suggests with the same model; only the newest active one is used.
    """

    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trained by"),
    )
    orders_trained = models.PositiveIntegerField(_("orders trained on"), default=0)
    orders_held_out = models.PositiveIntegerField(_("orders held out"), default=0)
    macro_f1_type = models.FloatField(_("macro-F1 (type)"), null=True, blank=True)
    macro_f1_subtype = models.FloatField(_("macro-F1 (subtype)"), null=True, blank=True)
    report = models.JSONField(_("evaluation report"), default=dict, blank=True)
    pipeline = models.BinaryField(_("fitted model"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("work-order classifier")
        verbose_name_plural = _("work-order classifiers")
        ordering = ["-trained_at", "-pk"]

    def __str__(self) -> str:
        return f"classifier {self.pk} ({self.trained_at:%Y-%m-%d})"


class DailyTemperature(models.Model):
    """An optional daily temperature series that volume forecasts may use.

    ``region`` empty means the utility as a whole.
    """

    region = models.ForeignKey(
        "core.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    day = models.DateField(_("day"))
    celsius = models.DecimalField(_("temperature (°C)"), max_digits=4, decimal_places=1)

    class Meta:
        verbose_name = _("daily temperature")
        verbose_name_plural = _("daily temperatures")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["region", "day"], name="analytics_temperature_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.celsius} °C"


class StaffingAssumptions(models.Model):
    """The figures staffing is planned with, edited by the administrator.

    One row per deployment (the utility); ``staffing.assumptions()`` makes it.
    """

    handling_seconds = models.PositiveIntegerField(_("average handling time (s)"), default=300)
    service_level = models.DecimalField(
        _("service level target (share answered in time)"),
        max_digits=4,
        decimal_places=3,
        default="0.800",
    )
    answer_within_seconds = models.PositiveIntegerField(_("answered within (s)"), default=20)
    patience_seconds = models.PositiveIntegerField(
        _("average caller patience (s), for Erlang A"), null=True, blank=True
    )
    shrinkage = models.DecimalField(
        _("shrinkage (breaks, training, absence)"),
        max_digits=4,
        decimal_places=3,
        default="0.300",
    )
    calls_per_order = models.DecimalField(
        _("calls per work order"), max_digits=5, decimal_places=2, default="1.30"
    )
    orders_per_crew_day = models.DecimalField(
        _("fault orders one crew handles a day"), max_digits=5, decimal_places=1, default="8.0"
    )

    class Meta:
        verbose_name = _("staffing assumptions")
        verbose_name_plural = _("staffing assumptions")
        permissions = [("view_analytics", _("Can see work-order analytics"))]

    def __str__(self) -> str:
        return str(_("staffing assumptions"))
