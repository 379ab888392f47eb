"""Service commitments (SLA policies), defined per utility by the administrator."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voltdesk.core.choices import AreaKind
from voltdesk.customers.choices import CustomerKind, VoltageLevel

from ..choices import Clock, OrderType, TimeBasis


class SlaPolicy(models.Model):
    """How long one commitment may take for orders of a type.

    The most specific active policy wins for each clock: members-only before
    general, then a matching subtype, then a matching area kind, then a matching
    customer kind or voltage level, each before "any". ``after_clock`` makes
    the clock start when another is met (power back within 3 hours *of the
    crew's arrival*); otherwise it starts at intake. Calendar time counts
    ``minutes``; working time counts ``working_days`` in the utility's holiday
    calendar (the due time is the end of the last working day).
    """

    name = models.CharField(_("name"), max_length=160)
    order_type = models.CharField(_("type"), max_length=12, choices=OrderType.choices)
    subtype = models.CharField(_("subtype"), max_length=40, blank=True)
    area_kind = models.CharField(_("area kind"), max_length=8, choices=AreaKind.choices, blank=True)
    customer_kind = models.CharField(
        _("customer kind"), max_length=12, choices=CustomerKind.choices, blank=True
    )
    voltage_level = models.CharField(
        _("voltage level"), max_length=8, choices=VoltageLevel.choices, blank=True
    )
    members_only = models.BooleanField(_("club members only"), default=False)
    clock = models.CharField(_("commitment"), max_length=8, choices=Clock.choices)
    after_clock = models.CharField(
        _("counted from"), max_length=8, choices=Clock.choices, blank=True
    )
    basis = models.CharField(_("counted in"), max_length=8, choices=TimeBasis.choices)
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(_("working days"), null=True, blank=True)
    warn_before_minutes = models.PositiveIntegerField(
        _("warn this many minutes before the due time"), default=30
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order_type", "clock", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(basis=TimeBasis.CALENDAR, minutes__isnull=False)
                    | models.Q(basis=TimeBasis.WORKING, working_days__isnull=False)
                ),
                name="wo_sla_duration_set",
            )
        ]
        verbose_name = _("service commitment")
        verbose_name_plural = _("service commitments")

    def __str__(self) -> str:
        return self.name
