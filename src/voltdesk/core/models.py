"""The utility itself (its profile) and its network: regions, areas and feeders."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AreaKind, ClubRule, Language, ProfileCode


class Utility(models.Model):
    """The one utility this deployment serves, with its editable profile.

    Business rules read thresholds, currency, time zone and calendars from here;
    nothing of it is hard-coded. There is exactly one row (see ``get_utility``).
    """

    profile = models.CharField(_("profile"), max_length=8, choices=ProfileCode.choices)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    default_language = models.CharField(
        _("default language"), max_length=8, choices=Language.choices
    )
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166 code: phone numbers and identifiers")
    )
    holiday_country = models.CharField(
        _("holiday calendar"), max_length=2, help_text=_("country code for the holidays package")
    )
    fault_line = models.CharField(_("fault line"), max_length=20)
    service_line = models.CharField(_("service line"), max_length=20)
    vip_single_site_kwh = models.DecimalField(
        _("club threshold, single site (kWh a year)"), max_digits=16, decimal_places=3
    )
    vip_multi_site_kwh = models.DecimalField(
        _("club threshold, all sites together (kWh a year)"), max_digits=16, decimal_places=3
    )
    vip_window_months = models.PositiveSmallIntegerField(_("club window (months)"), default=12)
    vip_rule = models.CharField(
        _("club rule"),
        max_length=16,
        default=ClubRule.LITERAL,
        choices=ClubRule.choices,
    )
    vip_exit_after = models.PositiveSmallIntegerField(
        _("leave the club after this many evaluations below the bar"),
        default=1,
        help_text=_("1 follows the rule exactly; more prevents flapping around the bar"),
    )
    vip_min_coverage = models.DecimalField(
        _("reads must cover this share of the window"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        help_text=_("a site whose reads cover less is flagged on the decision"),
    )
    vat_rate = models.DecimalField(
        _("VAT rate"), max_digits=5, decimal_places=4, default=Decimal("0")
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("days to pay a bill"), default=15, help_text=_("from issue to due date")
    )
    late_fee_grace_days = models.PositiveSmallIntegerField(
        _("grace days before a late fee"), default=0
    )
    late_fee_daily_rate_residential = models.DecimalField(
        _("late fee a day, households"),
        max_digits=6,
        decimal_places=5,
        default=Decimal("0"),
        help_text=_("share of the overdue amount, e.g. 0.001 is 0.1 % a day"),
    )
    late_fee_daily_rate_business = models.DecimalField(
        _("late fee a day, businesses"),
        max_digits=6,
        decimal_places=5,
        default=Decimal("0"),
        help_text=_("share of the overdue amount, e.g. 0.002 is 0.2 % a day"),
    )
    # Excess-demand events and planned outages (cn: planned outages announced 7
    # days ahead, temporary maintenance told to important customers 24 hours ahead).
    planned_outage_notice_days = models.PositiveSmallIntegerField(
        _("planned outage notice (days)"), default=7
    )
    temporary_outage_notice_hours = models.PositiveSmallIntegerField(
        _("temporary outage notice (hours)"), default=24
    )
    demand_call_lead_hours = models.PositiveSmallIntegerField(
        _("call club members this many hours before an event"), default=24
    )
    # Margins that make the system propose an excess-demand event (demand/proposals.py).
    demand_hot_day_celsius = models.DecimalField(
        _("hot day from (°C)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("35"),
        help_text=_("a forecast daily temperature at or above this proposes an event"),
    )
    demand_cold_day_celsius = models.DecimalField(
        _("cold day up to (°C)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("3"),
        help_text=_("a forecast daily temperature at or below this proposes an event"),
    )
    demand_reserve_margin_pct = models.DecimalField(
        _("reserve margin (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        help_text=_(
            "a region's forecast peak load above its capacity less this margin proposes an event"
        ),
    )
    demand_forecast_days = models.PositiveSmallIntegerField(
        _("propose events this many days ahead"), default=3
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("utility")
        verbose_name_plural = _("utility")

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A region of the network (a district or province branch)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    capacity_mw = models.DecimalField(
        _("capacity (MW)"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("the load the region's network can carry; compared with load forecasts"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    """An area within a region; its kind (urban, rural, remote) sets service commitments."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="areas", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=AreaKind.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return self.name


class Feeder(models.Model):
    """A medium-voltage feeder: the unit in which outages and load shedding happen."""

    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="feeders", verbose_name=_("area")
    )
    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("feeder")
        verbose_name_plural = _("feeders")

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """What a person using VoltDesk chose for themselves (now: the language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'})"


class AuditEntry(models.Model):
    """Who changed what and when; written in the same transaction as the change."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
