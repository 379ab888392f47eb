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


# Proposed events: the forecasts that cross the utility's margins (proposals.py).
from .choices import ProposalReason, ProposalStatus  # noqa: E402


class LoadForecast(models.Model):
    """A region's forecast peak load for a day: the system operator's day-ahead figure.

    Compared with the region's capacity less the utility's reserve margin; a peak
    above it proposes an event around ``peak_hour``.
    """

    region = models.ForeignKey(
        "core.Region", on_delete=models.CASCADE, related_name="+", verbose_name=_("region")
    )
    day = models.DateField(_("day"))
    peak_mw = models.DecimalField(_("forecast peak (MW)"), max_digits=10, decimal_places=1)
    peak_hour = models.PositiveSmallIntegerField(
        _("peak hour"), default=14, help_text=_("local hour (0–23) the peak is expected")
    )

    class Meta:
        ordering = ["day", "region"]
        verbose_name = _("load forecast")
        verbose_name_plural = _("load forecasts")
        constraints = [
            models.UniqueConstraint(fields=["region", "day"], name="demand_load_forecast_once")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.day}: {self.peak_mw} MW"


class DemandProposal(models.Model):
    """An event the system proposes because a forecast crossed the utility's margin.

    One per (day, reason, scope): running the proposals again updates an open
    proposal and never repeats one that was declared or dismissed. The demand
    manager declares it (it becomes a ``DemandEvent``, linked here) or dismisses
    it. ``region`` empty means the whole network (a utility-wide forecast).
    """

    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=10, choices=ProposalReason.choices)
    region = models.ForeignKey(
        "core.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("empty: the whole network"),
    )
    scope_key = models.CharField(_("scope"), max_length=24, editable=False)
    forecast = models.DecimalField(
        _("forecast"), max_digits=10, decimal_places=1, help_text=_("°C, or MW for a load")
    )
    margin = models.DecimalField(
        _("margin crossed"), max_digits=10, decimal_places=1, help_text=_("°C, or MW for a load")
    )
    severity = models.CharField(
        _("suggested severity"), max_length=10, choices=Severity.choices, default=Severity.ADVISORY
    )
    starts_at = models.DateTimeField(_("suggested start"))
    ends_at = models.DateTimeField(_("suggested end"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    event = models.OneToOneField(
        DemandEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposal",
        verbose_name=_("declared event"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["day", "reason", "scope_key"]
        verbose_name = _("proposed event")
        verbose_name_plural = _("proposed events")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "reason", "scope_key"], name="demand_proposal_once"
            )
        ]
        indexes = [models.Index(fields=["status", "day"], name="demand_proposal_open")]

    def __str__(self) -> str:
        return f"{self.day} {self.reason} {self.scope_key}"


# --- OpenADR 2.0b: customers' energy-management systems (VENs) and what they were sent ---


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the VEN to poll")
    SENT = "sent", _("Sent to the VEN")
    OPTED_IN = "opted_in", _("Opted in")
    OPTED_OUT = "opted_out", _("Opted out")
    CANCELLED = "cancelled", _("Cancelled")


class OptType(models.TextChoices):
    OPT_IN = "optIn", _("Opted in")
    OPT_OUT = "optOut", _("Opted out")


class VenRegistration(models.Model):
    """A customer's energy-management system (an OpenADR VEN), provisioned by the utility.

    The utility registers it for some of the customer's own sites and hands the
    ``ven_name`` (and, with TLS, takes the certificate fingerprint) to the
    customer; the VTN accepts a VEN only when an active registration carries its
    name, and sends it the events of the feeders its sites hang on.
    """

    ven_id = models.CharField(_("VEN id"), max_length=64, unique=True)
    ven_name = models.CharField(
        _("VEN name"),
        max_length=120,
        unique=True,
        help_text=_("the name the VEN gives when it registers with the VTN"),
    )
    registration_id = models.CharField(_("registration id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="vens",
        verbose_name=_("customer"),
    )
    sites = models.ManyToManyField("customers.Site", related_name="vens", verbose_name=_("sites"))
    fingerprint = models.CharField(
        _("certificate fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("the VEN's TLS client certificate fingerprint (required with TLS)"),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    registered_at = models.DateTimeField(_("registered with the VTN at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        ordering = ["customer", "ven_name"]
        verbose_name = _("VEN registration")
        verbose_name_plural = _("VEN registrations")

    def __str__(self) -> str:
        return f"{self.ven_name} ({self.ven_id})"


class VenDelivery(models.Model):
    """One event as sent to one VEN: its SIMPLE-signal intervals, the VEN's answer.

    ``intervals`` is the snapshot the VTN sends (``[{"start", "end", "level"}]``,
    ISO times) and ``site_refs`` the VEN's affected sites, sent as the event's
    resource targets; ``modification_number`` goes up when the event changes (a
    cancellation), so the VEN treats it as an update of the same OpenADR event.
    """

    event = models.ForeignKey(
        DemandEvent,
        on_delete=models.CASCADE,
        related_name="ven_deliveries",
        verbose_name=_("event"),
    )
    ven = models.ForeignKey(
        VenRegistration, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("VEN")
    )
    oadr_event_id = models.CharField(_("OpenADR event id"), max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    signal_level = models.PositiveSmallIntegerField(
        _("highest SIMPLE signal level"), help_text=_("1 moderate, 2 high, 3 special")
    )
    intervals = models.JSONField(_("intervals"), default=list)
    site_refs = models.JSONField(
        _("sites"), default=list, help_text=_("the VEN's sites the event affects (its targets)")
    )
    modification_number = models.PositiveIntegerField(_("modification number"), default=0)
    opt_type = models.CharField(_("answer"), max_length=8, choices=OptType.choices, blank=True)
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    opted_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_sent_at = models.DateTimeField(_("cancellation sent at"), null=True, blank=True)

    class Meta:
        ordering = ["event", "ven"]
        verbose_name = _("OpenADR delivery")
        verbose_name_plural = _("OpenADR deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "ven"], name="demand_ven_delivery_once")
        ]
        indexes = [models.Index(fields=["status"], name="demand_ven_delivery_status")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.ven_id}: {self.status}"


class VenReport(models.Model):
    """A telemetry value a VEN reported (TELEMETRY_USAGE), tied to the event it concerns.

    ``event`` is the VEN's event whose window holds the reading or, before it,
    the VEN's next open event (the pre-event baseline); empty when the VEN has none.
    """

    ven = models.ForeignKey(
        VenRegistration, on_delete=models.CASCADE, related_name="reports", verbose_name=_("VEN")
    )
    event = models.ForeignKey(
        DemandEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ven_reports",
        verbose_name=_("event"),
    )
    resource_id = models.CharField(_("resource"), max_length=120, blank=True)
    measurement = models.CharField(_("measurement"), max_length=60, blank=True)
    measured_at = models.DateTimeField(_("measured at"))
    value = models.FloatField(_("value as sent"))
    kw = models.FloatField(_("power (kW)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["ven", "measured_at"]
        verbose_name = _("VEN report")
        verbose_name_plural = _("VEN reports")
        indexes = [
            models.Index(fields=["event", "ven", "measured_at"], name="demand_ven_report_event")
        ]

    def __str__(self) -> str:
        return f"{self.ven_id} {self.measured_at:%H:%M:%S} {self.value}"
