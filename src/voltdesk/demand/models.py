"""Excess-demand events and planned outages: scope, shedding windows, warnings, call lists.

An event is declared for regions, areas and feeders; its feeders (the scope
expanded down the network) are what it affects. A shedding event carries a
rotating schedule: each feeder off for a window, never a feeder that serves a
critical-load site. Every affected customer is warned ahead: club members by
their account manager (a call-list entry), the others by SMS and e-mail
through the outbox (one ``Warning`` row each, the dedupe record of the fan-out).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import CallOutcome, EventKind, EventStatus, Severity, WarningChannel


class DemandEvent(models.Model):
    kind = models.CharField(
        _("kind"), max_length=20, choices=EventKind.choices, default=EventKind.EXCESS_DEMAND
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.DECLARED
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.SHEDDING
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    rotation_minutes = models.PositiveSmallIntegerField(
        _("shedding block (minutes)"),
        default=120,
        help_text=_("how long each feeder is off in its turn"),
    )
    regions = models.ManyToManyField(
        "core.Region", blank=True, related_name="+", verbose_name=_("regions")
    )
    areas = models.ManyToManyField(
        "core.Area", blank=True, related_name="+", verbose_name=_("areas")
    )
    feeders = models.ManyToManyField(
        "core.Feeder", blank=True, related_name="+", verbose_name=_("feeders")
    )
    reason = models.TextField(_("reason"), blank=True)
    proposed_from = models.CharField(
        _("proposed from"),
        max_length=300,
        blank=True,
        help_text=_("the forecast that crossed the margin, when the system proposed it"),
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("declared by"),
    )
    declared_at = models.DateTimeField(_("declared at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    warnings_queued_at = models.DateTimeField(_("warnings queued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("excess-demand event")
        verbose_name_plural = _("excess-demand events")
        indexes = [models.Index(fields=["status", "ends_at"], name="demand_event_open")]
        permissions = [("declare_demandevent", _("Can declare excess-demand events"))]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M})"


class AffectedFeeder(models.Model):
    """A feeder the event affects (the scope expanded), with why it is never shed."""

    event = models.ForeignKey(
        DemandEvent, on_delete=models.CASCADE, related_name="affected", verbose_name=_("event")
    )
    feeder = models.ForeignKey(
        "core.Feeder", on_delete=models.PROTECT, related_name="+", verbose_name=_("feeder")
    )
    critical_load = models.BooleanField(
        _("serves a critical load"),
        default=False,
        help_text=_("a hospital or life-support site: never scheduled off"),
    )

    class Meta:
        verbose_name = _("affected feeder")
        verbose_name_plural = _("affected feeders")
        constraints = [
            models.UniqueConstraint(fields=["event", "feeder"], name="demand_affected_once")
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.feeder_id}"


class SheddingWindow(models.Model):
    """One feeder off for [starts_at, ends_at) in the event's rotation."""

    event = models.ForeignKey(
        DemandEvent, on_delete=models.CASCADE, related_name="windows", verbose_name=_("event")
    )
    feeder = models.ForeignKey(
        "core.Feeder", on_delete=models.PROTECT, related_name="+", verbose_name=_("feeder")
    )
    starts_at = models.DateTimeField(_("off from"))
    ends_at = models.DateTimeField(_("off until"))

    class Meta:
        ordering = ["starts_at", "feeder"]
        verbose_name = _("shedding window")
        verbose_name_plural = _("shedding windows")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "feeder", "starts_at"], name="demand_window_once"
            )
        ]
        indexes = [models.Index(fields=["feeder", "starts_at"], name="demand_window_feeder")]

    def __str__(self) -> str:
        return f"{self.feeder_id} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class EventWarning(models.Model):
    """A customer warned about an event by one channel: once per (event, customer, channel)."""

    event = models.ForeignKey(
        DemandEvent, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("event")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=WarningChannel.choices)
    message = models.ForeignKey(
        "notifications.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outbox message"),
    )
    created_at = models.DateTimeField(_("warned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "customer", "channel"], name="demand_warning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.customer_id} ({self.channel})"


class CallListEntry(models.Model):
    """A club member its account manager must call before the event, by ``due_at``."""

    event = models.ForeignKey(
        DemandEvent, on_delete=models.CASCADE, related_name="calls", verbose_name=_("event")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    manager = models.ForeignKey(
        "keyaccounts.AccountManager",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demand_calls",
        verbose_name=_("account manager"),
    )
    due_at = models.DateTimeField(_("call by"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=CallOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called by"),
    )

    class Meta:
        ordering = ["due_at", "customer__name"]
        verbose_name = _("call-list entry")
        verbose_name_plural = _("call-list entries")
        constraints = [
            models.UniqueConstraint(fields=["event", "customer"], name="demand_call_once")
        ]
        indexes = [models.Index(fields=["manager", "acknowledged_at"], name="demand_call_open")]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.customer_id}"
