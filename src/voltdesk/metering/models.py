"""Readings of any interval length and their daily and monthly rollups per site.

A reading is energy delivered to the site in [start, end), in kWh as an exact
decimal. 15-minute interval data and monthly register reads share the table;
pages, eligibility and billing read the rollups.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voltdesk.customers.models import Meter, Site

from .choices import ReadingQuality, ReadingSource

KWH = {"max_digits": 18, "decimal_places": 6}


class ImportBatch(models.Model):
    """One imported file; the same file (same SHA-256) is never imported twice."""

    file_name = models.CharField(_("file name"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    file_format = models.CharField(_("format"), max_length=16, choices=ReadingSource.choices)
    readings = models.PositiveIntegerField(_("readings"), default=0)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return self.file_name


class Reading(models.Model):
    """Energy delivered to a site between ``start`` (inclusive) and ``end`` (exclusive)."""

    # One reading per site and interval is the key itself: no surrogate id, whose
    # own index cost every bulk load a third of its insert time and 64 MB per
    # 3 million readings (an IEC-sized day is 290 million).
    pk = models.CompositePrimaryKey("site", "start", "end")

    # No index of its own: the unique (site, start, end) index leads with site and
    # serves every lookup by site. No database constraint either: PostgreSQL checks
    # a foreign key once per inserted row at commit (about 4 s per million
    # readings, more than the whole rest of a bulk import). The importers resolve
    # every site_ref against the sites table in the statement that inserts and
    # hold FOR KEY SHARE locks on those sites until commit (loading.lock_sites);
    # on_delete=PROTECT still stops deleting a site that has readings.
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="readings",
        verbose_name=_("site"),
    )
    # Indexed only where set (see Meta.indexes): bulk imports leave it empty. No
    # database constraint, as for the site: PostgreSQL queues its deferred check for
    # every inserted row, empty or not, and ran them at commit (1.1 s of a
    # 3-million-row import); on_delete=PROTECT still stops deleting a meter with readings.
    meter = models.ForeignKey(
        Meter,
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name=_("meter"),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kwh = models.DecimalField(_("kWh"), **KWH)
    source = models.CharField(_("source"), max_length=16, choices=ReadingSource.choices)
    quality = models.CharField(
        _("quality"), max_length=16, choices=ReadingQuality.choices, default=ReadingQuality.ACTUAL
    )
    # Provenance, not integrity: without a database constraint, bulk imports skip a
    # foreign-key check per row (about a quarter of PostgreSQL's insert time).
    # Not indexed either: nothing looks readings up by batch, and each index costs
    # a bulk import about a tenth of its time.
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("import batch"),
    )

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        indexes = [
            models.Index(
                fields=["meter"],
                condition=models.Q(meter__isnull=False),
                name="reading_meter_when_set",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="reading_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.start:%Y-%m-%d %H:%M} {self.kwh} kWh"


class DailyRollup(models.Model):
    """kWh per site per day in the utility's time zone (readings split by overlap)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    kwh = models.DecimalField(_("kWh"), **KWH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="one_rollup_per_site_day")
        ]
        verbose_name = _("daily consumption")
        verbose_name_plural = _("daily consumption")

    def __str__(self) -> str:
        return f"{self.site_id} {self.day} {self.kwh} kWh"


class MonthlyRollup(models.Model):
    """kWh per site per calendar month (``month`` is its first day, utility time zone)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))
    kwh = models.DecimalField(_("kWh"), **KWH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "month"], name="one_rollup_per_site_month")
        ]
        verbose_name = _("monthly consumption")
        verbose_name_plural = _("monthly consumption")

    def __str__(self) -> str:
        return f"{self.site_id} {self.month:%Y-%m} {self.kwh} kWh"
