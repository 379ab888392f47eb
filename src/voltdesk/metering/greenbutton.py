"""Reading a Green Button (NAESB REQ.21 ESPI) Atom feed.

The feed is a flat list of Atom entries; ESPI ties them together with links, as
the standard intends: a UsagePoint's ``related`` links name its MeterReadings
(their ``up`` feed or their ``self``), a MeterReading's ``related`` links name
its ReadingType and its IntervalBlocks (again their ``up`` feed or ``self``).
Where a producer left a link out, an entry's ``self`` path under its parent's
``self`` path (ESPI's REST layout) ties it instead.

Units come from the ReadingType: ``uom`` 72 is Wh (imported as kWh), scaled by
``10^powerOfTenMultiplier``. Only energy delivered to the customer is
consumption: flowDirection 1 (forward) or absent; reverse flow (19, energy the
site fed into the grid) and other directions (net, total) are left out and
reported. Other units (reactive or apparent energy, power, temperatures, gas
therms, water volumes) are not electricity consumption and are left out and
reported; an electricity reading in a unit we cannot identify refuses the file.
Interval times are UTC epoch seconds (``start`` + ``duration``); the feed's
LocalTimeParameters only say how its producer displays them.

The parser is lxml in streaming mode with entities never resolved, no network
and no DTD: a file that declares a DOCTYPE is refused outright, since a
Green Button feed never needs one and entity tricks (billion laughs, external
entities) all need one.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from voltdesk.core.importing import ImportProblem

ATOM = "{http://www.w3.org/2005/Atom}"
ESPI = "{http://naesb.org/espi}"

ELECTRICITY = 0
SERVICE_KINDS = {
    0: "electricity",
    1: "gas",
    2: "water",
    3: "time",
    4: "heat",
    5: "refuse",
    6: "sewerage",
    7: "rates",
    8: "tv licence",
    9: "internet",
}
WATT_HOUR = 72
# ESPI UnitSymbolKind codes we recognise as not being active energy in Wh.
OTHER_UNITS = {
    0: "no unit",
    5: "A",
    23: "°C",
    29: "V",
    33: "Hz",
    38: "W",
    42: "m³",
    61: "VA",
    63: "VAr",
    65: "cos φ",
    71: "VAh",
    73: "VArh",
    106: "Ah",
    119: "ft³",
    122: "ft³/h",
    125: "m³/h",
    128: "US gal",
    129: "US gal/h",
    132: "Btu",
    169: "therm",
}
FORWARD, REVERSE = 1, 19
# accumulationBehaviour: interval amounts (deltaData 4) are consumption; register
# totals (bulkQuantity 1, cumulative 3, summation 9...) are not amounts per interval.
DELTA_KINDS = {None, 0, 4}
# ESPI commodity codes for electricity, used when a UsagePoint has no ServiceCategory.
ELECTRIC_COMMODITIES = {1, 2}


@dataclass
class Entry:
    kind: str
    line: int
    self_href: str = ""
    up: str = ""
    related: set[str] = field(default_factory=set)
    title: str = ""
    data: dict = field(default_factory=dict)
    readings: list = field(default_factory=list)  # IntervalBlock: (line, start, duration, value)

    @property
    def id(self) -> str:
        """The usage point's id as a user can give it: the last segment of its self link."""
        return self.self_href.rstrip("/").rsplit("/", 1)[-1] if self.self_href else ""

    def describe(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id


@dataclass
class UsagePointData:
    entry: Entry
    readings: list = field(default_factory=list)  # (line, start, end, kwh)


@dataclass
class Feed:
    usage_points: list[UsagePointData]
    notes: list[str]


def _int(el, name):
    child = el.find(ESPI + name)
    if child is None or child.text is None or not child.text.strip():
        return None
    return int(child.text.strip())


def _href(value: str | None) -> str:
    return (value or "").strip().rstrip("/")


def _entry(path, el) -> Entry | None:
    content = el.find(ATOM + "content")
    body = None
    if content is not None:
        body = next((c for c in content if isinstance(c.tag, str)), None)
    if body is None or not body.tag.startswith(ESPI):
        return None
    kind = body.tag[len(ESPI) :]
    entry = Entry(kind=kind, line=el.sourceline or 0)
    for link in el.iterfind(ATOM + "link"):
        rel, href = link.get("rel"), _href(link.get("href"))
        if rel == "self":
            entry.self_href = href
        elif rel == "up":
            entry.up = href
        elif rel == "related":
            entry.related.add(href)
    title = el.find(ATOM + "title")
    entry.title = (title.text or "").strip() if title is not None else ""
    try:
        if kind == "UsagePoint":
            category = body.find(ESPI + "ServiceCategory")
            entry.data["service"] = _int(category, "kind") if category is not None else None
        elif kind == "ReadingType":
            for name in (
                "uom",
                "powerOfTenMultiplier",
                "flowDirection",
                "accumulationBehaviour",
                "commodity",
            ):
                entry.data[name] = _int(body, name)
        elif kind == "IntervalBlock":
            # One entry may carry several IntervalBlocks (a day each, say).
            for reading in content.iterfind(f"{ESPI}IntervalBlock/{ESPI}IntervalReading"):
                period = reading.find(ESPI + "timePeriod")
                value = reading.find(ESPI + "value")
                if period is None or value is None:
                    raise ImportProblem(
                        path,
                        _("an interval reading needs a timePeriod and a value"),
                        line=reading.sourceline,
                        element="IntervalReading",
                    )
                try:
                    entry.readings.append(
                        (
                            reading.sourceline,
                            int(period.findtext(ESPI + "start").strip()),
                            int(period.findtext(ESPI + "duration").strip()),
                            int(value.text.strip()),
                        )
                    )
                except (AttributeError, ValueError):
                    raise ImportProblem(
                        path,
                        _("start, duration and value must be whole numbers"),
                        line=reading.sourceline,
                        element="IntervalReading",
                    ) from None
    except ValueError:
        raise ImportProblem(
            path, _("a number is expected here"), line=entry.line, element=kind
        ) from None
    return entry


def _entries(path) -> Iterator[Entry]:
    try:
        context = etree.iterparse(
            str(path),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        first = True
        for event, el in context:
            if first:
                first = False
                docinfo = el.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None:
                    raise ImportProblem(
                        path,
                        _(
                            "the file declares a DOCTYPE; Green Button files never need one "
                            "and entity declarations are refused for safety"
                        ),
                        line=1,
                    )
                if el.tag != ATOM + "feed":
                    raise ImportProblem(
                        path,
                        _("the XML is not a Green Button (Atom feed) file"),
                        line=el.sourceline,
                        element=str(etree.QName(el).localname),
                    )
                continue
            if event == "end" and el.tag == ATOM + "entry":
                entry = _entry(path, el)
                if entry is not None:
                    yield entry
                # Streaming: drop what has been read so memory stays flat.
                el.clear()
                parent = el.getparent()
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ImportProblem(
            path,
            _("the XML is malformed (%(reason)s)") % {"reason": exc.msg},
            line=exc.lineno,
        ) from None


def _children(parent: Entry, candidates: list[Entry]) -> list[Entry]:
    """Entries the parent links to (by their feed or their own link), else under its path."""
    linked = [c for c in candidates if c.up in parent.related or c.self_href in parent.related]
    if linked:
        return linked
    prefix = parent.self_href + "/"
    return [c for c in candidates if parent.self_href and c.self_href.startswith(prefix)]


def read_feed(path: str | Path) -> Feed:
    """Usage points with their electricity consumption in kWh; refuse what cannot be known."""
    by_kind: dict[str, list[Entry]] = {}
    for entry in _entries(path):
        by_kind.setdefault(entry.kind, []).append(entry)
    usage_points = by_kind.get("UsagePoint", [])
    meter_readings = by_kind.get("MeterReading", [])
    reading_types = {e.self_href: e for e in by_kind.get("ReadingType", []) if e.self_href}
    blocks = by_kind.get("IntervalBlock", [])
    if not usage_points:
        raise ImportProblem(path, _("the feed has no UsagePoint entry"), element="feed")

    notes: list[str] = []
    result: list[UsagePointData] = []
    owned_readings: set[int] = set()
    owned_blocks: set[int] = set()
    for up in usage_points:
        data = UsagePointData(up)
        result.append(data)
        for mr in _children(up, meter_readings):
            owned_readings.add(id(mr))
            mr_blocks = _children(mr, blocks)
            owned_blocks.update(id(b) for b in mr_blocks)
            count = sum(len(b.readings) for b in mr_blocks)
            if not count:
                continue
            types = [reading_types[h] for h in mr.related if h in reading_types]
            if len(types) != 1:
                raise ImportProblem(
                    path,
                    _("MeterReading %(href)s links to no ReadingType, so its units cannot be known")
                    % {"href": mr.self_href},
                    line=mr.line,
                    element="MeterReading",
                )
            rt = types[0].data
            service = up.data.get("service")
            if service is None and rt["commodity"] in ELECTRIC_COMMODITIES:
                service = ELECTRICITY
            if service is None:
                raise ImportProblem(
                    path,
                    _(
                        "usage point %(point)s has no ServiceCategory, so whether it is "
                        "electricity cannot be known"
                    )
                    % {"point": up.describe()},
                    line=up.line,
                    element="UsagePoint",
                )
            uom = rt["uom"]
            values = {"count": count, "point": up.describe()}
            if service != ELECTRICITY:
                values["service"] = SERVICE_KINDS.get(service, str(service))
                values["unit"] = OTHER_UNITS.get(uom, str(uom))
                notes.append(
                    _(
                        "%(count)d readings of usage point %(point)s are %(service)s "
                        "(%(unit)s), not electricity: left out"
                    )
                    % values
                )
                continue
            if uom != WATT_HOUR:
                if uom not in OTHER_UNITS:
                    raise ImportProblem(
                        path,
                        _("ReadingType %(href)s has unit code %(uom)s, which is not known")
                        % {"href": types[0].self_href, "uom": uom},
                        line=types[0].line,
                        element="ReadingType",
                    )
                values["unit"] = OTHER_UNITS[uom]
                notes.append(
                    _(
                        "%(count)d readings of usage point %(point)s are in %(unit)s, "
                        "not energy consumed (Wh): left out"
                    )
                    % values
                )
                continue
            if rt["accumulationBehaviour"] not in DELTA_KINDS:
                notes.append(
                    _(
                        "%(count)d readings of usage point %(point)s are meter register "
                        "totals, not consumption per interval: left out"
                    )
                    % values
                )
                continue
            direction = rt["flowDirection"]
            if direction not in (None, FORWARD):
                if direction == REVERSE:
                    reason = _(
                        "%(count)d readings of usage point %(point)s are energy the site fed "
                        "into the grid (reverse flow), not consumption: left out"
                    )
                else:
                    reason = _(
                        "%(count)d readings of usage point %(point)s have flow direction "
                        "%(direction)s (not energy delivered to the site): left out"
                    )
                values["direction"] = direction
                notes.append(reason % values)
                continue
            # Exact: Wh × 10^multiplier / 1000, as a Decimal.
            scale = Decimal(1).scaleb((rt["powerOfTenMultiplier"] or 0) - 3)
            for block in mr_blocks:
                for line, start, duration, value in block.readings:
                    if duration <= 0:
                        raise ImportProblem(
                            path,
                            _("duration %(duration)s is not positive") % {"duration": duration},
                            line=line,
                            element="IntervalReading",
                        )
                    if value < 0:
                        raise ImportProblem(
                            path,
                            _("value %(value)s is negative; consumption cannot be below zero")
                            % {"value": value},
                            line=line,
                            element="IntervalReading",
                        )
                    kwh = value * scale
                    if kwh.normalize().as_tuple().exponent < -6 or kwh >= 10**12:
                        raise ImportProblem(
                            path,
                            _("value %(value)s does not fit kWh with 6 decimal places")
                            % {"value": value},
                            line=line,
                            element="IntervalReading",
                        )
                    data.readings.append(
                        (
                            line,
                            datetime.fromtimestamp(start, UTC),
                            datetime.fromtimestamp(start + duration, UTC),
                            kwh,
                        )
                    )
    for block in blocks:
        if id(block) not in owned_blocks and block.readings:
            raise ImportProblem(
                path,
                _("IntervalBlock %(href)s belongs to no MeterReading, so its units cannot be known")
                % {"href": block.self_href},
                line=block.line,
                element="IntervalBlock",
            )
    for mr in meter_readings:
        if id(mr) not in owned_readings and _children(mr, blocks):
            raise ImportProblem(
                path,
                _("MeterReading %(href)s belongs to no UsagePoint, so its service is unknown")
                % {"href": mr.self_href},
                line=mr.line,
                element="MeterReading",
            )
    return Feed(usage_points=result, notes=notes)
