"""INSERTs built once per model and row count, for rows written on every request.

What ``bulk_create`` does, without the ORM building the same statement on every
call (most of a work-order intake's time went there): plain SQL that PostgreSQL
and SQLite both run, with table and column names taken from the models and
every value a parameter.
"""

from django.db import connection
from django.db.models.fields import AutoFieldMixin

_INSERTS: dict[tuple[type, int], tuple[str, list]] = {}


def insert(rows: list) -> None:
    """Write new rows of one model with one INSERT, giving each its primary key.

    Each field's value is prepared as ``save()`` prepares it (``auto_now`` is
    stamped, foreign keys written by id). No signals are sent; nothing here
    listens for them.
    """
    if not rows:
        return
    model = type(rows[0])
    key = (model, len(rows))
    if key not in _INSERTS:
        fields = _written(model)
        sql = _insert_sql(model, fields, ["(" + _marks(len(fields)) + ")"] * len(rows))
        _INSERTS[key] = (sql, fields)
    sql, fields = _INSERTS[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in _values(row, fields)])
        _saved(rows, [pk for (pk,) in cursor.fetchall()])


_INSERTS_WITH: dict[tuple, tuple[str, list, list]] = {}


def insert_with(parent, children: list, *, link: str) -> None:
    """Write a new row and new rows that point at it through ``link`` (an order, its
    first transition and its deadlines), giving each its primary key.

    On PostgreSQL this is one statement: the parent's INSERT ... RETURNING, and
    the children's INSERTs as CTEs that take the parent's new id. One round trip
    instead of one per table. Elsewhere, one INSERT per table.
    """
    groups: dict[type, list] = {}
    for child in children:
        groups.setdefault(type(child), []).append(child)
    if connection.vendor != "postgresql":
        insert([parent])
        for rows in groups.values():
            for row in rows:
                setattr(row, link, parent)
            insert(rows)
        return
    key = (type(parent), tuple((model, len(rows)) for model, rows in groups.items()), link)
    if key not in _INSERTS_WITH:
        _INSERTS_WITH[key] = _insert_with_sql(type(parent), key[1], link)
    sql, parent_fields, child_fields = _INSERTS_WITH[key]
    params = _values(parent, parent_fields)
    for rows, fields in zip(groups.values(), child_fields, strict=True):
        params += [value for row in rows for value in _values(row, fields)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    _saved([parent], [pk for tag, pk in keys if tag == 0])
    for tag, rows in enumerate(groups.values(), 1):
        for row in rows:
            setattr(row, link, parent)
        _saved(rows, [pk for t, pk in keys if t == tag])


def _insert_with_sql(parent_model, groups, link: str) -> tuple[str, list, list]:
    # Names come from the models; every value is a parameter.
    quote = connection.ops.quote_name
    parent_fields = _written(parent_model)
    parent_pk = quote(parent_model._meta.pk.column)
    first = _insert_sql(parent_model, parent_fields, ["(" + _marks(len(parent_fields)) + ")"])
    parts = [f"new_0 AS ({first})"]
    answer = [f"SELECT 0, {parent_pk} FROM new_0"]  # noqa: S608
    child_fields = []
    for tag, (model, count) in enumerate(groups, 1):
        link_field = model._meta.get_field(link)
        # The link comes first, as the parent's new id; the rest are parameters.
        fields = [f for f in _written(model) if f is not link_field]
        child_fields.append(fields)
        row = f"((SELECT {parent_pk} FROM new_0), {_marks(len(fields))})"  # noqa: S608
        parts.append(f"new_{tag} AS ({_insert_sql(model, [link_field, *fields], [row] * count)})")
        pk = quote(model._meta.pk.column)
        answer.append(f"SELECT {tag}, {pk} FROM new_{tag}")  # noqa: S608
    sql = "WITH " + ", ".join(parts) + " " + " UNION ALL ".join(answer)
    return sql, parent_fields, child_fields


def _written(model) -> list:
    """The fields an INSERT writes: all but an auto-incremented key."""
    return [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def _insert_sql(model, fields, rows: list[str]) -> str:
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join(rows)} RETURNING {pk}"  # noqa: S608


def _values(row, fields) -> list:
    # As save() prepares them: auto_now stamped, foreign keys by id, JSON adapted.
    return [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]


def _saved(rows, keys) -> None:
    # Both backends return new keys in the order of the VALUES (as bulk_create relies on).
    for row, pk in zip(rows, keys, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
