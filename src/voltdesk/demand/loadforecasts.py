"""Regions' day-ahead peak-load forecasts: ``voltdesk import_load_forecasts FILE.csv``.

Columns: day,region,peak_mw[,peak_hour]. ``day`` is an ISO date, ``region`` a
region's name, ``peak_mw`` the forecast peak in MW (positive, at most one
decimal), ``peak_hour`` the local hour it is expected (0–23, default 14). A
day already known for the region is overwritten. A bad file is refused whole
with its line and reason; nothing is written. ``proposals.propose_events``
compares the peaks with each region's capacity less the reserve margin.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, csv_rows
from voltdesk.core.models import Region

from .models import LoadForecast

MAX_MW = Decimal("1000000")


@dataclass(frozen=True)
class LoadForecastResult:
    rows: int


def import_load_forecasts(path: str | Path) -> LoadForecastResult:
    regions = dict(Region.objects.values_list("name", "pk"))
    seen: dict[tuple[int, date], int] = {}
    rows = []
    for line, row in csv_rows(path, ["day", "region", "peak_mw"], ["peak_hour"]):

        def refuse(reason, line=line):
            raise ImportProblem(path, reason, line=line)

        try:
            day = date.fromisoformat(row["day"])
        except ValueError:
            refuse(_("day %(value)r is not a date as YYYY-MM-DD") % {"value": row["day"]})
        region = regions.get(row["region"])
        if region is None:
            refuse(_("region %(value)r does not exist") % {"value": row["region"]})
        try:
            peak = Decimal(row["peak_mw"])
        except InvalidOperation:
            peak = None
        if peak is None or not peak.is_finite() or not Decimal(0) < peak < MAX_MW:
            refuse(_("peak_mw %(value)r is not a load in MW above 0") % {"value": row["peak_mw"]})
        if peak != peak.quantize(Decimal("0.1")):
            refuse(_("peak_mw %(value)s has more than one decimal") % {"value": row["peak_mw"]})
        hour = row.get("peak_hour") or "14"
        if not hour.isdigit() or not 0 <= int(hour) <= 23:
            refuse(_("peak_hour %(value)r is not an hour from 0 to 23") % {"value": hour})
        key = (region, day)
        if key in seen:
            refuse(
                _("day %(day)s is already on line %(first)s for the same region")
                % {"day": day.isoformat(), "first": seen[key]}
            )
        seen[key] = line
        rows.append(LoadForecast(region_id=region, day=day, peak_mw=peak, peak_hour=int(hour)))
    with transaction.atomic():
        LoadForecast.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["region", "day"],
            update_fields=["peak_mw", "peak_hour"],
        )
    return LoadForecastResult(rows=len(rows))
