"""Tariffs and their priced versions: rates, tiers, seasons and time-of-use windows.

A tariff is the name a contract is billed on; what it costs lives in versions,
each valid for [valid_from, valid_to) in the utility's local dates. A bill that
spans a version change is prorated between them, so a version is never edited
once a bill has used it: the administrator adds a new one.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..choices import DayKind, TariffKind, TierBasis, TouPeriod

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 12, "decimal_places": 6}  # per kWh: tariffs publish fractions of a cent


class Tariff(models.Model):
    """A named tariff a contract is billed on."""

    Kind = TariffKind  # kept for code that says Tariff.Kind

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=TariffKind.choices, default="flat")
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")

    def __str__(self) -> str:
        return self.name


class TariffVersion(models.Model):
    """The prices of a tariff for a validity period [valid_from, valid_to)."""

    tariff = models.ForeignKey(
        Tariff, on_delete=models.PROTECT, related_name="versions", verbose_name=_("tariff")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("exclusive; empty: until replaced")
    )
    tier_basis = models.CharField(
        _("tiers counted"), max_length=8, choices=TierBasis.choices, default=TierBasis.MONTHLY
    )
    fixed_charge = models.DecimalField(
        _("fixed charge a month"), **MONEY, default=0, help_text=_("before VAT")
    )
    capacity_charge = models.DecimalField(
        _("capacity charge a month per kVA"), **PRICE, default=0, help_text=_("before VAT")
    )
    vat_rate = models.DecimalField(
        _("VAT rate"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("empty: the utility's VAT rate"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["tariff", "valid_from"]
        verbose_name = _("tariff version")
        verbose_name_plural = _("tariff versions")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "valid_from"], name="one_tariff_version_per_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="tariff_version_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} {self.valid_from:%Y-%m-%d}"


class TouSeason(models.Model):
    """A season of a time-of-use version: the calendar months it covers."""

    version = models.ForeignKey(
        TariffVersion, on_delete=models.CASCADE, related_name="seasons", verbose_name=_("version")
    )
    name = models.CharField(_("name"), max_length=40)
    months = models.JSONField(_("months"), help_text=_("month numbers, e.g. [6, 7, 8, 9]"))

    class Meta:
        ordering = ["version", "pk"]
        verbose_name = _("season")
        verbose_name_plural = _("seasons")
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="one_season_name_per_version")
        ]

    def __str__(self) -> str:
        return self.name


class TouWindow(models.Model):
    """Hours [start_hour, end_hour) of one kind of day in a season that fall in a period.

    Hours not covered by any window of their day are off-peak.
    """

    season = models.ForeignKey(
        TouSeason, on_delete=models.CASCADE, related_name="windows", verbose_name=_("season")
    )
    day_kind = models.CharField(_("days"), max_length=8, choices=DayKind.choices)
    start_hour = models.PositiveSmallIntegerField(_("from hour"))
    end_hour = models.PositiveSmallIntegerField(_("until hour"), help_text=_("exclusive, 1-24"))
    period = models.CharField(_("period"), max_length=8, choices=TouPeriod.choices)

    class Meta:
        ordering = ["season", "day_kind", "start_hour"]
        verbose_name = _("time-of-use window")
        verbose_name_plural = _("time-of-use windows")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_hour__lt=F("end_hour")) & Q(end_hour__lte=24),
                name="tou_window_hours_in_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day_kind} {self.start_hour}-{self.end_hour} {self.period}"


class TariffRate(models.Model):
    """A price per kWh: for a period (and season) of the version, up to a tier's upper bound.

    Flat: one row, period ``all``. Tiered: one row per tier, ``up_to_kwh`` rising,
    the last empty. Time of use: one row per season and period.
    """

    version = models.ForeignKey(
        TariffVersion, on_delete=models.CASCADE, related_name="rates", verbose_name=_("version")
    )
    season = models.ForeignKey(
        TouSeason,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rates",
        verbose_name=_("season"),
    )
    period = models.CharField(
        _("period"), max_length=8, choices=TouPeriod.choices, default=TouPeriod.ALL
    )
    up_to_kwh = models.DecimalField(
        _("tier up to (kWh)"),
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("upper bound of the tier; empty: no bound"),
    )
    price = models.DecimalField(_("price per kWh"), **PRICE)

    class Meta:
        ordering = ["version", "season", "period", F("up_to_kwh").asc(nulls_last=True)]
        verbose_name = _("rate")
        verbose_name_plural = _("rates")

    def __str__(self) -> str:
        return f"{self.version} {self.period} {self.up_to_kwh or '∞'} @ {self.price}"
