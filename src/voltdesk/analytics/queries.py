"""DuckDB SQL over the analytics store (``store.py``): each figure against last year.

Every query reads the store's flat ``orders`` table twice in one statement:
once for the period asked for and once for the same days a year earlier, each
grouped by the same key. Last year's rows are keyed as if they were a year
later (``day + 1 year``), so "month" lines up March with March. The two sides
are separate branches of a UNION ALL, so a period longer than a year (whose
last year overlaps it) still counts each side whole.

Values go in as parameters, never into the text; only the fixed SQL fragments
below (keys, measures, filter columns) are put together.
"""

# ruff: noqa: S608 - the SQL is put together from the fixed fragments below; every value
# goes in as a parameter.

import datetime as dt
from dataclasses import dataclass

from . import store


@dataclass(frozen=True)
class Scope:
    """Which orders count: a period and last year's, and the filters of the network and kind."""

    date_from: dt.date
    date_to: dt.date
    last_from: dt.date
    last_to: dt.date
    order_type: str | None = None
    channel: str | None = None
    region: int | None = None
    area: int | None = None
    feeder: int | None = None


# What a figure can be grouped by: the key (over ``{day}``, the day as keyed) and its label.
KEYS: dict[str, tuple[str, str]] = {
    "total": ("'all'", "NULL"),
    "type": ("order_type", "NULL"),
    "subtype": ("COALESCE(subtype, '')", "any_value(order_type)"),
    "channel": ("COALESCE(channel, '')", "NULL"),
    "region": ("region_id", "any_value(region_name)"),
    "area": ("area_id", "any_value(area_name)"),
    "feeder": ("feeder_id", "any_value(feeder_name)"),
    "hour": ("hour", "NULL"),
    "weekday": ("weekday", "NULL"),
    "month": ("date_trunc('month', {day})::DATE", "NULL"),
    "satisfaction": ("satisfaction", "NULL"),
}

# The figures: SQL aggregates over the orders of a group.
MEASURES: dict[str, str] = {
    "orders": "count(*)",
    "sla_met": "COALESCE(sum(sla_met), 0)",
    "sla_counted": "COALESCE(sum(sla_counted), 0)",
    "repeats": "count(*) FILTER (WHERE repeat_phone OR repeat_site)",
    "complaints": "count(*) FILTER (WHERE order_type = 'complaint')",
    "satisfaction_sum": "COALESCE(sum(satisfaction), 0)",
    "satisfaction_n": "count(satisfaction)",
    **{f"met_{clock}": f"COALESCE(sum(sla_{clock}), 0)" for clock in store.CLOCKS},
    **{f"counted_{clock}": f"count(sla_{clock})" for clock in store.CLOCKS},
}

_FILTERS = [
    ("order_type", "order_type"),
    ("channel", "channel"),
    ("region", "region_id"),
    ("area", "area_id"),
    ("feeder", "feeder_id"),
]


def _where(scope: Scope, extra: str | None) -> tuple[str, list]:
    terms, params = [], []
    for attribute, column in _FILTERS:
        value = getattr(scope, attribute)
        if value is not None:
            terms.append(f"{column} = ?")
            params.append(value)
    if extra:
        terms.append(extra)
    return (" AND ".join(terms) or "TRUE"), params


def compare(con, scope: Scope, by: str, measures: list[str], *, where: str | None = None) -> dict:
    """``{key: {"label": ..., "now": {measure: value}, "last": {...}}}`` for both periods.

    A key present on one side only has zeros on the other.
    """
    key, label = KEYS[by]
    figures = ", ".join(f"{MEASURES[m]} AS {m}" for m in measures)
    filters, params = _where(scope, where)
    branch = (
        "SELECT '{side}' AS side, {key} AS key, {label} AS label, {figures} FROM orders "
        "WHERE day BETWEEN ? AND ? AND {filters} GROUP BY 2"
    )
    sql = " UNION ALL ".join(
        branch.format(
            side=side,
            key=key.format(day=day),
            label=label,
            figures=figures,
            filters=filters,
        )
        for side, day in (("now", "day"), ("last", "(day + INTERVAL 1 YEAR)"))
    )
    rows = con.execute(
        sql,
        [scope.date_from, scope.date_to, *params, scope.last_from, scope.last_to, *params],
    ).fetchall()
    out: dict = {}
    zero = dict.fromkeys(measures, 0)
    for side, key_value, label_value, *values in rows:
        entry = out.setdefault(
            key_value, {"label": label_value, "now": dict(zero), "last": dict(zero)}
        )
        entry[side] = dict(zip(measures, values, strict=True))
        if entry["label"] is None:
            entry["label"] = label_value
    return out


def customers(con, scope: Scope, by: str) -> dict:
    """Customers at the end of each period, ``{key: (now, last)}``; ``by`` total/region/area/feeder.

    A customer counts in every area its sites are in, once in the total.
    """
    column = {"total": "'all'", "region": "region_id", "area": "area_id", "feeder": "feeder_id"}[by]
    terms, params = [], []
    for attribute, name in _FILTERS[2:]:
        value = getattr(scope, attribute)
        if value is not None:
            terms.append(f"{name} = ?")
            params.append(value)
    if not terms:
        # No place filter: the per-day rollup answers without counting a million rows.
        rows = con.execute(
            "SELECT key, sum(customers) FILTER (WHERE created_day <= ?), "
            "sum(customers) FILTER (WHERE created_day <= ?) "
            "FROM customer_rollup WHERE grain = ? GROUP BY key",
            [scope.date_to, scope.last_to, by],
        ).fetchall()
        return {
            (key if by == "total" else int(key)): (int(now or 0), int(last or 0))
            for key, now, last in rows
        }
    filters = " AND ".join(terms)
    sql = (
        f"SELECT {column} AS key, "
        "count(DISTINCT customer_id) FILTER (WHERE created_day <= ?), "
        "count(DISTINCT customer_id) FILTER (WHERE created_day <= ?) "
        f"FROM customers WHERE {filters} GROUP BY 1"
    )
    rows = con.execute(sql, [scope.date_to, scope.last_to, *params]).fetchall()
    return {key: (now, last) for key, now, last in rows}
