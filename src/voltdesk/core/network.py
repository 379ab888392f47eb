"""Importing the network (regions, areas, feeders) from the utility's old system.

An import only adds: an area met again under another region or with another
kind, or a feeder under another area, is a conflict that refuses the file (a
network is re-drawn deliberately in the admin, never silently by a file).
"""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from .choices import AreaKind
from .importing import ImportProblem, csv_rows, progress
from .models import Area, Feeder, Region, Utility
from .services import log_action

NETWORK_COLUMNS = ["region", "area", "area_kind", "feeder"]


@dataclass(frozen=True)
class NetworkImportResult:
    """What an import added; ``unchanged`` counts lines that added nothing."""

    regions: int = 0
    areas: int = 0
    feeders: int = 0
    unchanged: int = 0

    @property
    def created(self) -> int:
        return self.regions + self.areas + self.feeders


def _value(path, line: int, row: dict[str, str], column: str, model) -> str:
    value = row[column]
    limit = model._meta.get_field("name").max_length
    if len(value) > limit:
        raise ImportProblem(
            path,
            _("%(column)s is longer than %(limit)s characters")
            % {"column": column, "limit": limit},
            line=line,
        )
    return value


def _required(path, line: int, row: dict[str, str], column: str, model) -> str:
    value = _value(path, line, row, column, model)
    if not value:
        raise ImportProblem(path, _("%(column)s is empty") % {"column": column}, line=line)
    return value


def import_network(path: str | Path, *, actor=None) -> NetworkImportResult:
    """Add the regions, areas and feeders of a CSV file (region,area,area_kind,feeder).

    ``feeder`` may be empty (an area without feeders yet). The whole file is
    checked before anything is written, and written in one transaction.
    """
    with transaction.atomic():
        regions = dict(Region.objects.values_list("name", "pk"))
        # name -> (region name, kind, line of this file that introduced it or None)
        areas: dict[str, tuple[str, str, int | None]] = {
            name: (region, kind, None)
            for name, region, kind in Area.objects.values_list("name", "region__name", "kind")
        }
        feeders: dict[str, tuple[str, int | None]] = {
            name: (area, None) for name, area in Feeder.objects.values_list("name", "area__name")
        }
        new_regions: list[str] = []
        new_areas: list[tuple[str, str, str]] = []
        new_feeders: list[tuple[str, str]] = []
        unchanged = 0

        rows = csv_rows(path, NETWORK_COLUMNS)
        for line, row in progress(rows, desc=Path(path).name, unit=_("lines")):
            region = _required(path, line, row, "region", Region)
            area = _required(path, line, row, "area", Area)
            kind = _required(path, line, row, "area_kind", Area).lower()
            feeder = _value(path, line, row, "feeder", Feeder)
            if kind not in AreaKind.values:
                raise ImportProblem(
                    path,
                    _("unknown area kind %(kind)s; expected one of %(choices)s")
                    % {"kind": row["area_kind"], "choices": ", ".join(AreaKind.values)},
                    line=line,
                )
            added = False
            if region not in regions:
                regions[region] = None
                new_regions.append(region)
                added = True
            known_area = areas.get(area)
            if known_area is None:
                areas[area] = (region, kind, line)
                new_areas.append((area, region, kind))
                added = True
            elif known_area[:2] != (region, kind):
                raise ImportProblem(path, _area_conflict(area, known_area, region, kind), line=line)
            if feeder:
                known_feeder = feeders.get(feeder)
                if known_feeder is None:
                    feeders[feeder] = (area, line)
                    new_feeders.append((feeder, area))
                    added = True
                elif known_feeder[0] != area:
                    raise ImportProblem(
                        path, _feeder_conflict(feeder, known_feeder, area), line=line
                    )
            unchanged += not added

        # Everything is checked; write parents first so children can point to them.
        Region.objects.bulk_create([Region(name=name) for name in new_regions])
        region_ids = dict(Region.objects.values_list("name", "pk"))
        Area.objects.bulk_create(
            [
                Area(name=name, region_id=region_ids[region], kind=kind)
                for name, region, kind in new_areas
            ],
            batch_size=1000,
        )
        area_ids = dict(Area.objects.values_list("name", "pk"))
        Feeder.objects.bulk_create(
            [Feeder(name=name, area_id=area_ids[area]) for name, area in new_feeders],
            batch_size=1000,
        )
        result = NetworkImportResult(
            regions=len(new_regions),
            areas=len(new_areas),
            feeders=len(new_feeders),
            unchanged=unchanged,
        )
        if result.created:
            _log_import(actor, path, result)
        return result


def _area_conflict(area, known, region, kind) -> str:
    known_region, known_kind, first_line = known
    values = {
        "area": area,
        "region": known_region,
        "kind": known_kind,
        "new_region": region,
        "new_kind": kind,
        "first": first_line,
    }
    if first_line is None:
        return (
            _(
                "area %(area)s already exists in region %(region)s as %(kind)s; this line "
                "puts it in region %(new_region)s as %(new_kind)s (an import does not move "
                "areas: change it in the admin)"
            )
            % values
        )
    return (
        _(
            "area %(area)s was given on line %(first)s in region %(region)s as %(kind)s; "
            "this line puts it in region %(new_region)s as %(new_kind)s"
        )
        % values
    )


def _feeder_conflict(feeder, known, area) -> str:
    known_area, first_line = known
    values = {"feeder": feeder, "area": known_area, "new_area": area, "first": first_line}
    if first_line is None:
        return (
            _(
                "feeder %(feeder)s already exists under area %(area)s; this line puts it "
                "under area %(new_area)s (an import does not move feeders: change it in the "
                "admin)"
            )
            % values
        )
    return (
        _(
            "feeder %(feeder)s was given on line %(first)s under area %(area)s; this line "
            "puts it under area %(new_area)s"
        )
        % values
    )


def _log_import(actor, path, result: NetworkImportResult) -> None:
    # The audit trail hangs on the utility; a network may be loaded before it exists.
    utility = Utility.objects.order_by("pk").first()
    if utility is not None:
        log_action(
            actor,
            "network.imported",
            utility,
            {
                "file": Path(path).name,
                "regions": result.regions,
                "areas": result.areas,
                "feeders": result.feeders,
            },
        )
