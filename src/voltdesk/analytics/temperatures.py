"""Daily temperatures for the forecasts: ``voltdesk import_temperatures FILE.csv``.

Columns: day,celsius[,region]. ``day`` is an ISO date (YYYY-MM-DD), ``celsius``
a number from -60 to 60 with at most one decimal, ``region`` a region's name
(empty: the utility as a whole). A day already known for the same region is
overwritten with the file's value. A bad file is refused whole with its line
and reason; nothing is written.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, csv_rows
from voltdesk.core.models import Region

from .models import DailyTemperature


@dataclass(frozen=True)
class TemperatureResult:
    created: int
    updated: int


def import_temperatures(path: str | Path) -> TemperatureResult:
    regions = dict(Region.objects.values_list("name", "pk"))
    seen: dict[tuple[int | None, date], int] = {}
    values: dict[tuple[int | None, date], Decimal] = {}
    for line, row in csv_rows(path, ["day", "celsius"], ["region"]):
        try:
            day = date.fromisoformat(row["day"])
        except ValueError:
            raise ImportProblem(
                path,
                _("day %(value)r is not a date as YYYY-MM-DD") % {"value": row["day"]},
                line=line,
            ) from None
        try:
            celsius = Decimal(row["celsius"])
        except InvalidOperation:
            celsius = None
        if celsius is None or not celsius.is_finite():
            raise ImportProblem(
                path,
                _("celsius %(value)r is not a number") % {"value": row["celsius"]},
                line=line,
            )
        if not Decimal(-60) <= celsius <= Decimal(60):
            raise ImportProblem(
                path,
                _("celsius %(value)s is outside -60 to 60") % {"value": row["celsius"]},
                line=line,
            )
        if celsius != celsius.quantize(Decimal("0.1")):
            raise ImportProblem(
                path,
                _("celsius %(value)s has more than one decimal") % {"value": row["celsius"]},
                line=line,
            )
        name = row.get("region", "")
        region = None
        if name:
            region = regions.get(name)
            if region is None:
                raise ImportProblem(
                    path, _("region %(value)r does not exist") % {"value": name}, line=line
                )
        key = (region, day)
        if key in seen:
            raise ImportProblem(
                path,
                _("day %(day)s is already on line %(first)s for the same region")
                % {"day": day.isoformat(), "first": seen[key]},
                line=line,
            )
        seen[key] = line
        values[key] = celsius
    with transaction.atomic():
        existing = {
            (t.region_id, t.day): t
            for t in DailyTemperature.objects.filter(day__in={d for _r, d in values})
        }
        changed, new = [], []
        for (region, day), celsius in values.items():
            known = existing.get((region, day))
            if known is None:
                new.append(DailyTemperature(region_id=region, day=day, celsius=celsius))
            else:
                known.celsius = celsius
                changed.append(known)
        DailyTemperature.objects.bulk_create(new, batch_size=2000)
        DailyTemperature.objects.bulk_update(changed, ["celsius"], batch_size=2000)
    return TemperatureResult(created=len(new), updated=len(changed))
