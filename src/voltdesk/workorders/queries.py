"""SQL of the work-order desk that runs on every intake, written once instead of built per call.

The ORM would build the same statements anew for every order (most of an
intake's time went there); these are plain SQL that PostgreSQL and SQLite both
run, with table names taken from the models.
"""

import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.fields import AutoFieldMixin

from .choices import OPEN_STATUSES
from .models import DeskAgent, Queue, WorkOrder


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


_INSERTS: dict[tuple[type, int], tuple[str, list]] = {}


def insert(rows: list) -> None:
    """Write new rows of one model with one INSERT, giving each its primary key.

    What ``bulk_create`` does, without building the statement on every call:
    each field's value is prepared as ``save()`` prepares it (``auto_now`` is
    stamped, foreign keys written by id). No signals are sent; nothing here
    listens for them.
    """
    if not rows:
        return
    model = type(rows[0])
    key = (model, len(rows))
    if key not in _INSERTS:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
        quote = connection.ops.quote_name
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        columns = ", ".join(quote(f.column) for f in fields)
        values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
        sql = f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {pk}"  # noqa: S608
        _INSERTS[key] = (sql, fields)
    sql, fields = _INSERTS[key]
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    # Both backends return the new keys in the order of the VALUES (as bulk_create relies on).
    for row, (pk,) in zip(rows, keys, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
