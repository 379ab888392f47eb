"""SQL of the work-order desk that runs on every intake, written once instead of built per call.

The ORM would build the same statements anew for every order (most of an
intake's time went there); these are plain SQL that PostgreSQL and SQLite both
run, with table names taken from the models.
"""

import json

from django.contrib.auth import get_user_model
from django.db import connection

from .choices import OPEN_STATUSES, IncidentStatus
from .models import DeskAgent, Incident, Queue, WorkOrder


def membership_in(customer_id: int, status: str) -> bool:
    """Whether the customer's club membership has this status (one indexed lookup)."""
    from voltdesk.keyaccounts.models import Membership

    table = connection.ops.quote_name(Membership._meta.db_table)
    sql = f"SELECT 1 FROM {table} WHERE customer_id = %s AND status = %s"  # noqa: S608 - model's name
    with connection.cursor() as cursor:
        cursor.execute(sql, [customer_id, status])
        return cursor.fetchone() is not None


def _sql_least_loaded() -> str:
    user = get_user_model()._meta.db_table
    members = Queue.agents.through._meta.db_table
    agent = DeskAgent._meta.db_table
    order = WorkOrder._meta.db_table
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    return f"""
        SELECT u.*, a.skills AS agent_skills,
               (SELECT COUNT(*) FROM {order} w
                 WHERE w.assignee_id = u.id AND w.status IN ({statuses})) AS load
          FROM {user} u
          JOIN {members} m ON m.user_id = u.id
          LEFT JOIN {agent} a ON a.user_id = u.id
         WHERE m.queue_id = %s AND u.is_active = %s AND (a.id IS NULL OR a.available = %s)
         ORDER BY load, u.id
    """  # noqa: S608 - names come from the models, values are parameters


_LEAST_LOADED: str | None = None


def agents_by_load(queue_id: int):
    """The queue's active, available agents, fewest open orders first, each with ``skills``.

    Ties go to the agent registered first (the lower id). Lazy: stop at the first that fits.
    """
    global _LEAST_LOADED
    if _LEAST_LOADED is None:
        _LEAST_LOADED = _sql_least_loaded()
    params = [*(status.value for status in OPEN_STATUSES), queue_id, True, True]
    for agent in get_user_model().objects.raw(_LEAST_LOADED, params):
        # A raw column is not read through JSONField: text on both backends, or decoded.
        skills = agent.agent_skills
        agent.skills = (json.loads(skills) if isinstance(skills, str) else skills) or []
        yield agent


_CALLERS: dict[str, str] = {}


def _columns(model, alias: str) -> str:
    return ", ".join(
        f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields
    )


def _caller_sql(by: str) -> str:
    """The caller's site (with its holder, area and feeder) or customer, and club status."""
    from voltdesk.core.models import Area, Feeder
    from voltdesk.customers.models import Customer, Site
    from voltdesk.keyaccounts.models import Membership

    quote = connection.ops.quote_name
    tables = {m: quote(m._meta.db_table) for m in (Site, Customer, Area, Feeder, Membership)}
    member = (
        f"EXISTS (SELECT 1 FROM {tables[Membership]} m"  # noqa: S608 - names from the models
        " WHERE m.customer_id = c.id AND m.status = %s)"
    )
    if by == "customer":
        return (
            f"SELECT {_columns(Customer, 'c')}, {member} "  # noqa: S608 - names from the models
            f"FROM {tables[Customer]} c WHERE c.ref = %s"
        )
    return (
        f"SELECT {_columns(Site, 's')}, {_columns(Customer, 'c')}, "  # noqa: S608 - as above
        f"{_columns(Area, 'a')}, {_columns(Feeder, 'f')}, {member} "
        f"FROM {tables[Site]} s JOIN {tables[Customer]} c ON c.id = s.customer_id "
        f"LEFT JOIN {tables[Area]} a ON a.id = s.area_id "
        f"LEFT JOIN {tables[Feeder]} f ON f.id = s.feeder_id "
        "WHERE s.ref = %s"
    )


_CONVERTERS: dict[type, list] = {}


def _converters(model) -> list:
    """(column, converters) per field: what the ORM applies to each value it reads
    (SQLite's dates and booleans, say; nothing on PostgreSQL for these models)."""
    if model not in _CONVERTERS:
        out = []
        for f in model._meta.concrete_fields:
            col = f.get_col(model._meta.db_table)
            out.append(
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            )
        _CONVERTERS[model] = out
    return _CONVERTERS[model]


def _instances(row, models) -> list:
    # Model.from_db: what the ORM does with a row it read, without building the query.
    out, at = [], 0
    for model in models:
        columns = _converters(model)
        values = list(row[at : at + len(columns)])
        at += len(columns)
        if values[0] is None:  # no area or feeder: the LEFT JOIN gave nulls
            out.append(None)
            continue
        for i, (col, converters) in enumerate(columns):
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        out.append(model.from_db(connection.alias, None, values))
    return out


def caller(*, site_ref: str = "", customer_ref: str = "") -> tuple:
    """(site, customer, is_member) for a caller named by site or customer number, in one
    statement; (None, None, False) when there is no such site or customer.

    Only for users who may see every customer and site (``core.access.sees_every_site``);
    scoped users take the ORM path of ``core.access``. The site comes with its holder,
    area and feeder set.
    """
    from voltdesk.core.models import Area, Feeder
    from voltdesk.customers.models import Customer, Site
    from voltdesk.keyaccounts.choices import MembershipStatus

    by = "site" if site_ref else "customer"
    if by not in _CALLERS:
        _CALLERS[by] = _caller_sql(by)
    with connection.cursor() as cursor:
        cursor.execute(_CALLERS[by], [MembershipStatus.MEMBER, site_ref or customer_ref])
        row = cursor.fetchone()
    if row is None:
        return None, None, False
    if by == "customer":
        (customer,) = _instances(row, [Customer])
        return None, customer, bool(row[-1])
    site, customer, area, feeder = _instances(row, [Site, Customer, Area, Feeder])
    site.customer, site.area, site.feeder = customer, area, feeder
    return site, customer, bool(row[-1])


_INCIDENTS: dict[tuple, str] = {}


def _incident_sql(feeder: bool, area: bool, *, to_join: bool) -> str:
    table = connection.ops.quote_name(Incident._meta.db_table)
    status = f"status = '{IncidentStatus.OPEN.value}'"
    if to_join:
        # The incident a fault report joins: its feeder's, else its area's without a
        # feeder, with a report recent enough; locked until the report is written.
        where = "feeder_id = %s" if feeder else "area_id = %s AND feeder_id IS NULL"
        tail = "AND last_report_at >= %s ORDER BY opened_at DESC, id DESC LIMIT 1"
        if connection.features.has_select_for_update:
            tail += " FOR UPDATE"  # SQLite has none: its writers take the whole file
    else:
        near = [c for c, known in (("feeder_id = %s", feeder), ("area_id = %s", area)) if known]
        where = "(" + " OR ".join(near) + ")"
        tail = "ORDER BY last_report_at DESC, id DESC LIMIT 1"
    return f"SELECT {_columns(Incident, 'i')} FROM {table} i WHERE {status} AND {where} {tail}"  # noqa: S608


def open_incident(*, feeder_id=None, area_id=None, since=None, to_join: bool = False):
    """The open outage incident of a feeder or area, or None (see ``incidents``).

    ``to_join``: the one a fault report at ``since``'s window joins, locked; otherwise
    the latest one on the feeder or in the area, to tell a caller about.
    """
    if to_join:
        key = (feeder_id is not None, False, True)
        params = [feeder_id if feeder_id is not None else area_id, since]
    else:
        key = (feeder_id is not None, area_id is not None, False)
        params = [p for p in (feeder_id, area_id) if p is not None]
    if key not in _INCIDENTS:
        _INCIDENTS[key] = _incident_sql(key[0], key[1], to_join=to_join)
    with connection.cursor() as cursor:
        cursor.execute(_INCIDENTS[key], params)
        row = cursor.fetchone()
    return None if row is None else _instances(row, [Incident])[0]


def report_at(incident, at) -> None:
    """Move the incident's latest report to ``at``."""
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_report_at = %s WHERE id = %s", [at, incident.pk])  # noqa: S608
    incident.last_report_at = at
