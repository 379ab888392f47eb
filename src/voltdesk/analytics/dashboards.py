"""Supervisor dashboards: filters in, tables of figures against last year out.

What is counted
    Work orders by the local day they were opened on (the utility's time zone),
    from the analytics store (``store.py``), for a period (both ends included;
    by default the last 12 full months) and the same days a year earlier.
    Filters narrow both periods alike: type, channel, region, area, feeder.

Figures
    volume
        orders by type, subtype, channel, region, area, feeder, hour of the
        day, weekday and month.
    SLA compliance
        the share of service commitments met in time, of those that fell due
        (met in time, met late, or past due and still open); a commitment not
        yet due does not count. By type, area and commitment.
    repeat contacts
        orders that follow an earlier order of the same caller phone or the
        same site by at most 30 days (to the minute: 30 days is a repeat, 31
        is not); the share is of all orders of the group.
    complaints per 10,000 customers
        complaint orders of the period per 10,000 customers on the books at its
        end (``customers.Customer``; for a region, area or feeder: customers
        with a site there).
    satisfaction
        the average survey score (1–5) of the orders that have one, and how
        many orders got each score.

Every table has "this period", "same period last year", the change and the
change in percent (or, for shares, in percentage points); every table is
exported as CSV (UTF-8 with a byte-order mark, for Excel) and XLSX (right to
left in Hebrew) from the very same ``Table``.
"""

import csv
import datetime as dt
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import formats, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.workorders.choices import Channel, Clock, OrderType, Subtype

from . import queries, store

MAX_DAYS = 3 * 366 + 1  # a longer period is refused: it says nothing a page can show
SHOWN_ROWS = 25  # rows of a long table on the page (feeders); exports have all

# The dashboard's views: code, title.
VIEWS: dict[str, object] = {
    "overview": gettext_lazy("Overview"),
    "volume": gettext_lazy("Volume"),
    "sla": gettext_lazy("SLA compliance"),
    "repeats": gettext_lazy("Repeat contacts"),
    "complaints": gettext_lazy("Complaints"),
    "satisfaction": gettext_lazy("Satisfaction"),
}


class FilterError(ValueError):
    """A filter value the dashboard cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filters:
    date_from: dt.date
    date_to: dt.date
    order_type: str | None = None
    channel: str | None = None
    region: int | None = None
    area: int | None = None
    feeder: int | None = None

    def scope(self) -> queries.Scope:
        return queries.Scope(
            date_from=self.date_from,
            date_to=self.date_to,
            last_from=_year_before(self.date_from),
            last_to=_year_before(self.date_to),
            order_type=self.order_type,
            channel=self.channel,
            region=self.region,
            area=self.area,
            feeder=self.feeder,
        )

    def as_query(self) -> dict[str, str]:
        """The filters as the page's query string writes them (for export links)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        for name in ("order_type", "channel", "region", "area", "feeder"):
            value = getattr(self, name)
            if value is not None:
                out["type" if name == "order_type" else name] = str(value)
        return out


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February: the 28th a year before
        return day.replace(year=day.year - 1, day=28)


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 full months before ``today``'s month."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _i in range(11):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def _today() -> dt.date:
    from django.utils import timezone

    from voltdesk.core.services import utility_zone

    return timezone.now().astimezone(utility_zone()).date()


def parse_filters(data) -> Filters:
    """The filters of a query string (``from``, ``to``, ``type``, ``channel``, ``region``,
    ``area``, ``feeder``); empty means "all". Raises ``FilterError`` naming the field."""
    from voltdesk.core.models import Area, Feeder, Region

    start, end = default_period(_today())

    def day(name: str, default: dt.date) -> dt.date:
        text = (data.get(name) or "").strip()
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FilterError(
                name,
                _("%(field)s: “%(value)s” is not a date (write YYYY-MM-DD).")
                % {"field": name, "value": text},
            ) from None

    def choice(name: str, values) -> str | None:
        text = (data.get(name) or "").strip()
        if not text:
            return None
        if text not in values:
            raise FilterError(
                name,
                _("%(field)s: “%(value)s” is not one of %(choices)s.")
                % {"field": name, "value": text, "choices": ", ".join(values)},
            )
        return text

    def place(name: str, model) -> int | None:
        text = (data.get(name) or "").strip()
        if not text:
            return None
        if not text.isdigit() or not model.objects.filter(pk=int(text)).exists():
            raise FilterError(
                name,
                _("%(field)s: “%(value)s” is not a known %(field)s.")
                % {"field": name, "value": text},
            )
        return int(text)

    date_from, date_to = day("from", start), day("to", end)
    if date_from > date_to:
        raise FilterError("from", _("from: the period starts after it ends."))
    if (date_to - date_from).days > MAX_DAYS:
        raise FilterError("to", _("to: a period of at most three years is shown."))
    return Filters(
        date_from=date_from,
        date_to=date_to,
        order_type=choice("type", OrderType.values),
        channel=choice("channel", Channel.values),
        region=place("region", Region),
        area=place("area", Area),
        feeder=place("feeder", Feeder),
    )


# Tables ----------------------------------------------------------------------------------

LABEL, COUNT, SHARE, POINTS, DECIMAL, CHANGE = "label", "count", "share", "points", "decimal", "pct"


@dataclass
class Table:
    """One table of a view: a header, rows of raw values, a total, and what its chart shows.

    Column kinds: ``label`` text, ``count`` whole numbers, ``share`` and
    ``points`` percentages (of 100), ``decimal`` averages and rates, ``pct`` a
    change in percent. ``chart`` gives the columns of this period and last
    year's for the chart (None: no chart).
    """

    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list] = field(default_factory=list)
    total: list | None = None
    chart: tuple[int, int] | None = None
    note: str = ""

    @property
    def header(self) -> list[str]:
        return [title for title, _kind in self.columns]


def _change(now, last) -> tuple:
    diff = None if now is None or last is None else now - last
    pct = None if diff is None or not last else round(100 * diff / last, 1)
    return diff, pct


def _points(now, last) -> float | None:
    return None if now is None or last is None else round(now - last, 1)


def _share(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _ratio(part, whole, per: int = 1, places: int = 2) -> float | None:
    return round(per * part / whole, places) if whole else None


def _count_columns(label: str) -> list[tuple[str, str]]:
    return [
        (label, LABEL),
        (_("This period"), COUNT),
        (_("Same period last year"), COUNT),
        (_("Change"), COUNT),
        (_("Change (%)"), CHANGE),
    ]


def _share_columns(label: str, part: str, whole: str) -> list[tuple[str, str]]:
    return [
        (label, LABEL),
        (part, COUNT),
        (whole, COUNT),
        (_("This period (%)"), SHARE),
        (_("Same period last year (%)"), SHARE),
        (_("Change (points)"), POINTS),
    ]


def _not_set() -> str:
    return _("Not set")


def _labeller(by: str) -> Callable:
    types = dict(OrderType.choices)
    channels = dict(Channel.choices)
    subtypes = dict(Subtype.choices)
    if by == "type":
        return lambda key, label: str(types.get(key, key))
    if by == "subtype":
        return lambda key, label: (
            f"{types.get(label, label)} · {subtypes.get(key, key)}" if key else _not_set()
        )
    if by == "channel":
        return lambda key, label: str(channels.get(key, key)) if key else _not_set()
    if by in ("region", "area", "feeder"):
        return lambda key, label: label if key is not None else _not_set()
    if by == "hour":
        return lambda key, label: f"{key:02d}:00"
    if by == "weekday":
        return lambda key, label: str(WEEKDAYS[key - 1])  # ISO 1 = Monday; Django's 0
    if by == "month":
        return lambda key, label: formats.date_format(key, "YEAR_MONTH_FORMAT")
    if by == "satisfaction":
        return lambda key, label: str(key) if key is not None else _("No answer")
    return lambda key, label: str(label if label is not None else key)


def _order(by: str, groups: dict) -> list:
    """Keys in the order a reader expects: time in time order, choices in their order."""
    keys = list(groups)
    if by in ("hour", "weekday", "month", "satisfaction"):
        return sorted(keys, key=lambda k: (k is None, k))
    if by == "type":
        order = {code: n for n, code in enumerate(OrderType.values)}
        return sorted(keys, key=lambda k: order.get(k, len(order)))
    if by == "channel":
        order = {code: n for n, code in enumerate(Channel.values)}
        return sorted(keys, key=lambda k: order.get(k, len(order)))
    # Places and subtypes: the busiest first.
    return sorted(keys, key=lambda k: (-groups[k]["now"].get("orders", 0), str(k)))


_BY_TITLES = {
    "type": gettext_lazy("Type"),
    "subtype": gettext_lazy("Subtype"),
    "channel": gettext_lazy("Channel"),
    "region": gettext_lazy("Region"),
    "area": gettext_lazy("Area"),
    "feeder": gettext_lazy("Feeder"),
    "hour": gettext_lazy("Hour"),
    "weekday": gettext_lazy("Weekday"),
    "month": gettext_lazy("Month"),
}


def _volume(con, scope, by: str) -> Table:
    groups = queries.compare(con, scope, by, ["orders"])
    label = _labeller(by)
    table = Table(
        key=f"volume_{by}",
        title=_("Work orders by %(dimension)s") % {"dimension": str(_BY_TITLES[by]).lower()},
        columns=_count_columns(str(_BY_TITLES[by])),
        chart=(1, 2),
    )
    total_now = total_last = 0
    for key in _order(by, groups):
        now, last = groups[key]["now"]["orders"], groups[key]["last"]["orders"]
        table.rows.append([label(key, groups[key]["label"]), now, last, *_change(now, last)])
        total_now, total_last = total_now + now, total_last + last
    table.total = [_("Total"), total_now, total_last, *_change(total_now, total_last)]
    return table


def _rate_table(con, scope, by: str, *, key: str, title: str, part, whole, measures) -> Table:
    groups = queries.compare(con, scope, by, measures)
    label = _labeller(by)
    table = Table(
        key=key,
        title=title,
        columns=_share_columns(str(_BY_TITLES[by]), part[0], whole[0]),
        chart=(3, 4),
    )
    sums = {"now": [0, 0], "last": [0, 0]}
    for k in _order(by, groups):
        g = groups[k]
        now_part, now_whole = g["now"][part[1]], g["now"][whole[1]]
        last_part, last_whole = g["last"][part[1]], g["last"][whole[1]]
        if not now_whole and not last_whole:
            continue
        now_share, last_share = _share(now_part, now_whole), _share(last_part, last_whole)
        table.rows.append(
            [
                label(k, g["label"]),
                now_part,
                now_whole,
                now_share,
                last_share,
                _points(now_share, last_share),
            ]
        )
        for side, p, w in (("now", now_part, now_whole), ("last", last_part, last_whole)):
            sums[side][0] += p
            sums[side][1] += w
    now_share, last_share = _share(*sums["now"]), _share(*sums["last"])
    table.total = [
        _("Total"),
        *sums["now"],
        now_share,
        last_share,
        _points(now_share, last_share),
    ]
    return table


def _sla(con, scope, by: str) -> Table:
    return _rate_table(
        con,
        scope,
        by,
        key=f"sla_{by}",
        title=_("Commitments met in time by %(dimension)s")
        % {"dimension": str(_BY_TITLES[by]).lower()},
        part=(_("Met in time"), "sla_met"),
        whole=(_("Commitments due"), "sla_counted"),
        measures=["orders", "sla_met", "sla_counted"],
    )


def _sla_by_commitment(con, scope) -> Table:
    measures = [m for c in store.CLOCKS for m in (f"met_{c}", f"counted_{c}")]
    groups = queries.compare(con, scope, "total", measures)
    g = groups.get("all", {"now": dict.fromkeys(measures, 0), "last": dict.fromkeys(measures, 0)})
    labels = dict(Clock.choices)
    table = Table(
        key="sla_commitment",
        title=_("Commitments met in time by commitment"),
        columns=_share_columns(_("Commitment"), _("Met in time"), _("Commitments due")),
        chart=(3, 4),
    )
    for clock in store.CLOCKS:
        met, due = g["now"][f"met_{clock}"], g["now"][f"counted_{clock}"]
        last_met, last_due = g["last"][f"met_{clock}"], g["last"][f"counted_{clock}"]
        if not due and not last_due:
            continue
        now_share, last_share = _share(met, due), _share(last_met, last_due)
        table.rows.append(
            [str(labels[clock]), met, due, now_share, last_share, _points(now_share, last_share)]
        )
    return table


def _repeats(con, scope, by: str) -> Table:
    return _rate_table(
        con,
        scope,
        by,
        key=f"repeats_{by}",
        title=_("Repeat contacts within 30 days by %(dimension)s")
        % {"dimension": str(_BY_TITLES[by]).lower()},
        part=(_("Repeat contacts"), "repeats"),
        whole=(_("Work orders"), "orders"),
        measures=["orders", "repeats"],
    )


def _complaints(con, scope, by: str) -> Table:
    groups = queries.compare(con, scope, by, ["orders", "complaints"])
    people = queries.customers(con, scope, by)
    label = _labeller(by)
    table = Table(
        key=f"complaints_{by}",
        title=_("Complaints per 10,000 customers by %(dimension)s")
        % {"dimension": str(_BY_TITLES.get(by, by)).lower()},
        columns=[
            (str(_BY_TITLES[by]), LABEL),
            (_("Complaints"), COUNT),
            (_("Customers"), COUNT),
            (_("This period"), DECIMAL),
            (_("Same period last year"), DECIMAL),
            (_("Change"), DECIMAL),
            (_("Change (%)"), CHANGE),
        ],
        chart=(3, 4),
    )
    keys = [k for k in _order(by, groups) if k is not None] + [
        k for k in people if k is not None and k not in groups
    ]
    for k in keys:
        g = groups.get(k, {"label": None, "now": {"complaints": 0}, "last": {"complaints": 0}})
        customers_now, customers_last = people.get(k, (0, 0))
        if g["label"] is None and k in people:
            g["label"] = _place_name(by, k)
        now = _ratio(g["now"]["complaints"], customers_now, 10_000)
        last = _ratio(g["last"]["complaints"], customers_last, 10_000)
        table.rows.append(
            [
                label(k, g["label"]),
                g["now"]["complaints"],
                customers_now,
                now,
                last,
                *_round_change(now, last),
            ]
        )
    total = queries.compare(con, scope, "total", ["complaints"]).get("all")
    total_now = total["now"]["complaints"] if total else 0
    total_last = total["last"]["complaints"] if total else 0
    customers_now, customers_last = queries.customers(con, scope, "total").get("all", (0, 0))
    now = _ratio(total_now, customers_now, 10_000)
    last = _ratio(total_last, customers_last, 10_000)
    table.total = [_("Total"), total_now, customers_now, now, last, *_round_change(now, last)]
    return table


def _round_change(now, last) -> tuple:
    diff, pct = _change(now, last)
    return (round(diff, 2) if diff is not None else None), pct


def _place_name(by: str, pk: int) -> str:
    from voltdesk.core.models import Area, Feeder, Region

    model = {"region": Region, "area": Area, "feeder": Feeder}[by]
    return model.objects.filter(pk=pk).values_list("name", flat=True).first() or str(pk)


def _satisfaction_by(con, scope, by: str) -> Table:
    groups = queries.compare(con, scope, by, ["orders", "satisfaction_sum", "satisfaction_n"])
    label = _labeller(by)
    table = Table(
        key=f"satisfaction_{by}",
        title=_("Average satisfaction (1–5) by %(dimension)s")
        % {"dimension": str(_BY_TITLES[by]).lower()},
        columns=[
            (str(_BY_TITLES[by]), LABEL),
            (_("Answers"), COUNT),
            (_("This period"), DECIMAL),
            (_("Same period last year"), DECIMAL),
            (_("Change"), DECIMAL),
        ],
        chart=(2, 3),
    )
    sums = {"now": [0, 0], "last": [0, 0]}
    for k in _order(by, groups):
        g = groups[k]
        if not g["now"]["satisfaction_n"] and not g["last"]["satisfaction_n"]:
            continue
        now = _ratio(g["now"]["satisfaction_sum"], g["now"]["satisfaction_n"])
        last = _ratio(g["last"]["satisfaction_sum"], g["last"]["satisfaction_n"])
        table.rows.append(
            [
                label(k, g["label"]),
                g["now"]["satisfaction_n"],
                now,
                last,
                _round_change(now, last)[0],
            ]
        )
        for side in ("now", "last"):
            sums[side][0] += g[side]["satisfaction_sum"]
            sums[side][1] += g[side]["satisfaction_n"]
    now, last = _ratio(*sums["now"]), _ratio(*sums["last"])
    table.total = [_("Total"), sums["now"][1], now, last, _round_change(now, last)[0]]
    return table


def _satisfaction_scores(con, scope) -> Table:
    groups = queries.compare(
        con, scope, "satisfaction", ["orders"], where="satisfaction IS NOT NULL"
    )
    table = Table(
        key="satisfaction_scores",
        title=_("Answers by satisfaction score"),
        columns=[
            (_("Score"), LABEL),
            (_("This period"), COUNT),
            (_("Share (%)"), SHARE),
            (_("Same period last year"), COUNT),
            (_("Share last year (%)"), SHARE),
        ],
        chart=(1, 3),
    )
    now_all = sum(g["now"]["orders"] for g in groups.values())
    last_all = sum(g["last"]["orders"] for g in groups.values())
    for score in range(1, 6):
        g = groups.get(score, {"now": {"orders": 0}, "last": {"orders": 0}})
        now, last = g["now"]["orders"], g["last"]["orders"]
        table.rows.append([str(score), now, _share(now, now_all), last, _share(last, last_all)])
    table.total = [
        _("Total"),
        now_all,
        100.0 if now_all else None,
        last_all,
        100.0 if last_all else None,
    ]
    return table


def _headline(con, scope) -> Table:
    measures = [
        "orders",
        "sla_met",
        "sla_counted",
        "repeats",
        "complaints",
        "satisfaction_sum",
        "satisfaction_n",
    ]
    g = queries.compare(con, scope, "total", measures).get("all") or {
        "now": dict.fromkeys(measures, 0),
        "last": dict.fromkeys(measures, 0),
    }
    people = queries.customers(con, scope, "total").get("all", (0, 0))
    now, last = g["now"], g["last"]

    def figures(side, customers):
        return [
            side["orders"],
            _share(side["sla_met"], side["sla_counted"]),
            _share(side["repeats"], side["orders"]),
            _ratio(side["complaints"], customers, 10_000),
            _ratio(side["satisfaction_sum"], side["satisfaction_n"]),
        ]

    names = [
        (_("Work orders"), COUNT),
        (_("Commitments met in time (%)"), SHARE),
        (_("Repeat contacts (%)"), SHARE),
        (_("Complaints per 10,000 customers"), DECIMAL),
        (_("Average satisfaction (1–5)"), DECIMAL),
    ]
    table = Table(
        key="headline",
        title=_("At a glance"),
        columns=[
            (_("Figure"), LABEL),
            (_("This period"), DECIMAL),
            (_("Same period last year"), DECIMAL),
            (_("Change"), DECIMAL),
            (_("Change (%)"), CHANGE),
        ],
    )
    for (name, kind), a, b in zip(
        names, figures(now, people[0]), figures(last, people[1]), strict=True
    ):
        diff, pct = _round_change(a, b)
        table.rows.append([name, a, b, diff, pct if kind in (COUNT, DECIMAL) else None])
    return table


BUILDERS: dict[str, list[tuple[str, Callable]]] = {
    "overview": [
        ("headline", _headline),
        ("volume_month", lambda con, s: _volume(con, s, "month")),
        ("volume_type", lambda con, s: _volume(con, s, "type")),
    ],
    "volume": [
        (f"volume_{by}", functools.partial(_volume, by=by))
        for by in (
            "type",
            "subtype",
            "channel",
            "region",
            "area",
            "feeder",
            "hour",
            "weekday",
            "month",
        )
    ],
    "sla": [
        ("sla_type", lambda con, s: _sla(con, s, "type")),
        ("sla_area", lambda con, s: _sla(con, s, "area")),
        ("sla_commitment", _sla_by_commitment),
    ],
    "repeats": [
        ("repeats_type", lambda con, s: _repeats(con, s, "type")),
        ("repeats_channel", lambda con, s: _repeats(con, s, "channel")),
        ("repeats_area", lambda con, s: _repeats(con, s, "area")),
    ],
    "complaints": [
        ("complaints_region", lambda con, s: _complaints(con, s, "region")),
        ("complaints_area", lambda con, s: _complaints(con, s, "area")),
    ],
    "satisfaction": [
        ("satisfaction_scores", _satisfaction_scores),
        ("satisfaction_type", lambda con, s: _satisfaction_by(con, s, "type")),
        ("satisfaction_channel", lambda con, s: _satisfaction_by(con, s, "channel")),
    ],
}
TABLES: dict[str, Callable] = {key: build for view in BUILDERS.values() for key, build in view}


@dataclass
class Dashboard:
    view: str
    filters: Filters
    tables: list[Table]
    as_of: dt.datetime | None  # when the store was taken from the database (UTC)


def build_view(view: str, filters: Filters) -> Dashboard:
    """The tables of one view (``VIEWS``); builds the store first if there is none."""
    store.ensure()
    con = store.reader()
    scope = filters.scope()
    tables = [build(con, scope) for _key, build in BUILDERS[view]]
    meta = store.info(con)
    return Dashboard(view=view, filters=filters, tables=tables, as_of=meta.as_of if meta else None)


def build_table(key: str, filters: Filters) -> tuple[Table, dt.datetime | None]:
    """One table (for an export); ``KeyError`` for an unknown key."""
    build = TABLES[key]
    store.ensure()
    con = store.reader()
    meta = store.info(con)
    return build(con, filters.scope()), (meta.as_of if meta else None)


# Shown on a page ---------------------------------------------------------------------------


def _cell(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == LABEL:
        return str(value)
    if kind == COUNT:
        return formats.number_format(value, 0, force_grouping=True)
    if kind in (SHARE, POINTS):
        text = formats.number_format(value, 1, force_grouping=True)
        return f"{'+' if kind == POINTS and value > 0 else ''}{text}"
    if kind == CHANGE:
        return f"{'+' if value > 0 else ''}{formats.number_format(value, 1)}%"
    return formats.number_format(value, 2, force_grouping=True)


def shown(table: Table, limit: int | None = SHOWN_ROWS) -> dict:
    """The table formatted for the page: header, rows (the first ``limit``), total, chart."""
    kinds = [kind for _title, kind in table.columns]
    rows = table.rows if limit is None else table.rows[:limit]
    out = {
        "key": table.key,
        "title": table.title,
        "header": [(title, kind) for title, kind in table.columns],
        "rows": [[(_cell(v, k), k) for v, k in zip(row, kinds, strict=True)] for row in rows],
        "total": [(_cell(v, k), k) for v, k in zip(table.total, kinds, strict=True)]
        if table.total
        else None,
        "more": max(0, len(table.rows) - len(rows)),
        "chart": None,
    }
    if table.chart and table.rows:
        now, last = table.chart
        out["chart"] = {
            "labels": [str(row[0]) for row in rows],
            "series": [
                {"name": table.columns[now][0], "values": [row[now] for row in rows]},
                {"name": table.columns[last][0], "values": [row[last] for row in rows]},
            ],
        }
    return out


# Exports ---------------------------------------------------------------------------------

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cells(table: Table) -> list[list]:
    return [table.header, *table.rows, *([table.total] if table.total else [])]


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return (
            format(value, "f").rstrip("0").rstrip(".") if value != int(value) else str(int(value))
        )
    return str(value)


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark: Excel then reads Hebrew and Chinese labels right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([[_plain(v) for v in row] for row in _cells(table)])
    return buffer.getvalue().encode("utf-8-sig")


NUMBER_FORMATS = {
    COUNT: "#,##0",
    SHARE: "0.0",
    POINTS: "0.0",
    DECIMAL: "#,##0.00",
    CHANGE: "0.0",
}


def _sheet_name(title: str, taken: set[str]) -> str:
    # A sheet's name is at most 31 characters, unique, and cannot hold some punctuation.
    base = "".join(c for c in title if c not in "[]:*?/\\")[:31].strip() or "Report"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
    taken.add(name.lower())
    return name


def _fill_sheet(sheet, table: Table) -> None:
    from openpyxl.styles import Font

    sheet.sheet_view.rightToLeft = bool(translation.get_language_bidi())
    cells = _cells(table)
    bold = Font(bold=True)
    for r, row in enumerate(cells, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            kind = table.columns[c - 1][1]
            if r == 1 or (table.total and r == len(cells)):
                cell.font = bold
            if r > 1 and kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
    for c in range(1, len(table.header) + 1):
        longest = max(len(str(row[c - 1] if row[c - 1] is not None else "")) for row in cells)
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = max(
            10, min(48, longest + 2)
        )
    sheet.freeze_panes = "A2"


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table (the header, the rows and the total); figures are numbers."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        _fill_sheet(workbook.create_sheet(_sheet_name(table.title, taken)), table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_xlsx(table: Table) -> bytes:
    """A sheet with the header, the rows and the total; figures are numbers, not text."""
    return tables_xlsx([table])


def export_name(key: str, filters: Filters, extension: str) -> str:
    return f"{key}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{extension}"
