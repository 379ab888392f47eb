"""The analytics store: a columnar copy of the work orders in a DuckDB file.

Dashboards read one flat table, ``orders``, instead of the transactional
tables: one row per work order with its local day, hour, weekday, month and
year (in the utility's time zone), its type, subtype, channel and status, its
place on the network (region, area, feeder: ids and names), customer, site and
caller, club status, satisfaction, one column per service commitment (1 met in
time, 0 breached, empty while not yet due or not owed), whether it was ever
reopened, what it duplicates, and whether it repeats an earlier contact of the
same caller phone or the same site within 30 days. A second table,
``customers``, holds one row per customer and area (through its sites), so
complaints can be counted per 10,000 customers of any part of the network.

Refreshing
    ``refresh(full=True)`` rebuilds everything; ``refresh()`` applies what
    changed since the last refresh: orders whose ``updated_at`` moved, new
    orders, and orders with a commitment that fell due meanwhile (a clock that
    passes its due time changes no row, but turns into a breach). Each refresh
    re-reads a few minutes before the previous one started, so an order
    committed late by a long transaction is not missed; re-reading is harmless.
    An incremental refresh becomes a full one when the store is missing or its
    last full build is more than a day old (that also drops deleted orders).

Reading while refreshing
    A refresh never writes the file readers use: it builds a new file next to
    it (a copy, for an incremental refresh), checkpoints it and points the
    store path (a symbolic link) at it. A reader that opened the old file keeps reading it; the next
    one opens the new. A refresh that fails leaves the old file as it was. One
    refresh runs at a time (a lock file); a second one waits for the first.

Streaming
    On PostgreSQL the orders leave the database as ``COPY (SELECT ...) TO
    STDOUT`` in CSV, read by pyarrow in record batches straight into DuckDB,
    so memory stays flat whatever the number of orders. On SQLite (the demo and
    the tests) a cursor is read in chunks.
"""

# ruff: noqa: S608 - the SQL is put together from fixed fragments and the models' table
# names; every value goes in as a parameter.

import datetime as dt
import fcntl
import io
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

CHUNK_ROWS = 100_000  # rows per batch read from SQLite
OVERLAP = dt.timedelta(minutes=10)  # re-read before the previous refresh: late commits
FULL_EVERY = dt.timedelta(hours=24)  # an incremental refresh older than this rebuilds
REPEAT_WITHIN = 30  # days: a contact again within this many days is a repeat contact

CLOCKS = ["contact", "arrive", "restore", "reply", "complete"]  # choices.Clock, in order

# The columns read from the database, in order, with their Arrow types.
SOURCE_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("id", pa.int64()),
    ("created_at", pa.timestamp("us")),
    ("order_type", pa.string()),
    ("subtype", pa.string()),
    ("channel", pa.string()),
    ("status", pa.string()),
    ("region_id", pa.int64()),
    ("region_name", pa.string()),
    ("area_id", pa.int64()),
    ("area_name", pa.string()),
    ("feeder_id", pa.int64()),
    ("feeder_name", pa.string()),
    ("customer_id", pa.int64()),
    ("site_id", pa.int64()),
    ("caller_phone", pa.string()),
    ("is_member", pa.int8()),
    ("satisfaction", pa.int8()),
    ("resolved_at", pa.timestamp("us")),
    ("closed_at", pa.timestamp("us")),
    ("reopened", pa.int8()),
    ("duplicate_of", pa.int64()),
    *[(f"sla_{clock}", pa.int8()) for clock in CLOCKS],
]
CUSTOMER_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("customer_id", pa.int64()),
    ("created_at", pa.timestamp("us")),
    ("region_id", pa.int64()),
    ("area_id", pa.int64()),
    ("feeder_id", pa.int64()),
]

_DUCK_TYPES = {
    pa.int64(): "BIGINT",
    pa.int8(): "TINYINT",
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
}


class StoreError(RuntimeError):
    """The store could not be built or read."""


@dataclass(frozen=True)
class StoreInfo:
    """What the store holds: when it was taken from the database, and how."""

    as_of: dt.datetime  # aware, UTC: the database as it was then
    last_full: dt.datetime
    mode: str  # "full" or "incremental"
    orders: int
    changed: int  # rows (re)read by the last refresh
    seconds: float


def store_path() -> Path:
    configured = getattr(settings, "ANALYTICS_STORE", None)
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "analytics" / "workorders.duckdb"


# Reading ---------------------------------------------------------------------------------

_readers: dict = {}
_readers_lock = threading.Lock()


def exists() -> bool:
    return store_path().exists()  # False for a link whose file is gone


def current_file(path: Path | None = None) -> Path:
    """The file the store path points at now (the path is a link to the newest build)."""
    path = path or store_path()
    return path.resolve() if path.is_symlink() else path


def reader() -> duckdb.DuckDBPyConnection:
    """A read-only cursor on the current store file (one shared connection per file).

    The connection is kept while the store points at the same file, so its
    cache stays warm; after a refresh links a new file in, the next call opens
    that one. Each build has a file name of its own: DuckDB keeps one open
    database per file name in a process, so a name reused for a new file
    would keep showing the old one.
    """
    path = current_file()
    if not path.exists():
        raise StoreError(f"the analytics store {store_path()} does not exist yet")
    key = str(path)
    with _readers_lock:
        con = _readers.get(key)
        if con is None:
            # Older files' connections close when their last cursor goes.
            _readers.clear()
            con = duckdb.connect(key, read_only=True)
            _readers[key] = con
        return con.cursor()


def forget_readers() -> None:
    """Drop the cached connections (tests that move the store between files)."""
    with _readers_lock:
        _readers.clear()


def info(con: duckdb.DuckDBPyConnection | None = None) -> StoreInfo | None:
    """The store's refresh record, or None when there is no store."""
    if con is None:
        if not exists():
            return None
        con = reader()
    row = con.execute(
        "SELECT as_of, last_full, mode, orders, changed, seconds FROM refresh_info"
    ).fetchone()
    if row is None:
        return None
    as_of, last_full, mode, orders, changed, seconds = row
    return StoreInfo(
        as_of=as_of.replace(tzinfo=dt.UTC),
        last_full=last_full.replace(tzinfo=dt.UTC),
        mode=mode,
        orders=orders,
        changed=changed,
        seconds=seconds,
    )


def ensure() -> None:
    """Build the store on first use (a page opened before any scheduled refresh)."""
    if not exists():
        refresh(full=True)


# Reading the database --------------------------------------------------------------------


def _tables() -> dict:
    from voltdesk.core.models import Area, Feeder, Region
    from voltdesk.customers.models import Customer, Site
    from voltdesk.workorders.models import Deadline, Transition, WorkOrder

    return {
        "order": WorkOrder._meta.db_table,
        "deadline": Deadline._meta.db_table,
        "transition": Transition._meta.db_table,
        "feeder": Feeder._meta.db_table,
        "area": Area._meta.db_table,
        "region": Region._meta.db_table,
        "customer": Customer._meta.db_table,
        "site": Site._meta.db_table,
    }


def _utc(column: str) -> str:
    """A timestamp column as UTC wall time, which CSV and Arrow read without an offset."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')"
    return column  # SQLite keeps UTC text already


def _orders_sql(where: str) -> str:
    t = _tables()
    # 1 met in time, 0 breached (met late, or past due and still open), NULL not yet due.
    state = (
        "CASE WHEN met_at IS NOT NULL THEN CASE WHEN met_at <= due_at THEN 1 ELSE 0 END "
        "WHEN due_at <= %(now)s THEN 0 END"
    )
    # Only the changed orders' deadlines are grouped in an incremental refresh.
    only_changed = (
        f"AND work_order_id IN (SELECT w.id FROM {t['order']} w WHERE {where})"
        if where != "1=1"
        else ""
    )
    clocks = ",\n".join(
        f"MAX(CASE WHEN clock = '{clock}' THEN {state} END) AS sla_{clock}" for clock in CLOCKS
    )
    return f"""
        SELECT w.id, {_utc("w.created_at")}, w.order_type, w.subtype, w.channel, w.status,
               r.id, r.name, a.id, a.name, f.id, f.name,
               w.customer_id, w.site_id, w.caller_phone,
               CASE WHEN w.is_member THEN 1 ELSE 0 END, w.satisfaction,
               {_utc("w.resolved_at")}, {_utc("w.closed_at")},
               CASE WHEN EXISTS (
                   SELECT 1 FROM {t["transition"]} tr
                   WHERE tr.work_order_id = w.id AND tr.action = 'reopen'
               ) THEN 1 ELSE 0 END,
               w.duplicate_of_id,
               {", ".join(f"d.sla_{clock}" for clock in CLOCKS)}
        FROM {t["order"]} w
        LEFT JOIN {t["feeder"]} f ON f.id = w.feeder_id
        LEFT JOIN {t["area"]} a ON a.id = COALESCE(w.area_id, f.area_id)
        LEFT JOIN {t["region"]} r ON r.id = a.region_id
        LEFT JOIN (
            SELECT work_order_id, {clocks}
            FROM {t["deadline"]} WHERE due_at IS NOT NULL
            {only_changed}
            GROUP BY work_order_id
        ) d ON d.work_order_id = w.id
        WHERE {where}
    """


def _customers_sql(where: str) -> str:
    t = _tables()
    # One row per customer and area its sites are in; a customer without sites once.
    return f"""
        SELECT DISTINCT c.id, {_utc("c.created_at")}, a.region_id, s.area_id, s.feeder_id
        FROM {t["customer"]} c
        LEFT JOIN {t["site"]} s ON s.customer_id = c.id
        LEFT JOIN {t["area"]} a ON a.id = s.area_id
        WHERE {where}
    """


def _params(values: dict) -> dict:
    return {
        k: connection.ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v
        for k, v in values.items()
    }


class _CopyStream(io.RawIOBase):
    """The blocks of a psycopg COPY as a file that pyarrow reads."""

    def __init__(self, copy):
        self._blocks = iter(copy)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            try:
                self._rest = bytes(next(self._blocks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def _batches(sql: str, params: dict, columns: list[tuple[str, pa.DataType]]):
    """Record batches of the query's rows, streamed from the database."""
    schema = pa.schema(columns)
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg
        import pyarrow.csv as pacsv

        # COPY cannot take server-side parameters: psycopg binds them in the client.
        with psycopg.ClientCursor(connection.connection) as cursor:
            statement = cursor.mogrify(sql, params) if params else sql
            with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as copy:
                stream = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
                if not stream.peek(1):
                    return  # no rows: pyarrow refuses an empty file
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        column_names=[name for name, _ in columns], block_size=8 << 20
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict(columns),
                        strings_can_be_null=True,  # unquoted empty: NULL; "" stays ""
                        quoted_strings_can_be_null=False,
                    ),
                )
                yield from reader
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(CHUNK_ROWS)
            if not rows:
                break
            arrays = []
            for i, (_name, kind) in enumerate(columns):
                values = [row[i] for row in rows]
                if pa.types.is_timestamp(kind):
                    values = [_naive(v) for v in values]
                arrays.append(pa.array(values, type=kind))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _naive(value):
    """SQLite gives text or datetimes; Arrow wants naive UTC datetimes."""
    if value is None or isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value is not None else None
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)


def _load(con, table: str, sql: str, params: dict, columns) -> int:
    """Stream the query's rows into a new DuckDB table; returns the row count."""
    types = ", ".join(f"{name} {_DUCK_TYPES[kind]}" for name, kind in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({types})")
    count = 0
    for batch in _batches(sql, params, columns):
        con.register("incoming", batch)
        con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
        con.unregister("incoming")
        count += batch.num_rows
    return count


# Shaping ---------------------------------------------------------------------------------


def _shaped(source: str, zone: str) -> str:
    """The store's row from a loaded source row: local calendar fields, SLA totals."""
    counted = " + ".join(f"(sla_{c} IS NOT NULL)::INTEGER" for c in CLOCKS)
    met = " + ".join(f"COALESCE(sla_{c}, 0)" for c in CLOCKS)
    return f"""
        SELECT id, created_at, local::DATE AS day, hour(local)::TINYINT AS hour,
               isodow(local)::TINYINT AS weekday, month(local)::TINYINT AS month,
               year(local)::SMALLINT AS year,
               order_type, NULLIF(subtype, '') AS subtype, NULLIF(channel, '') AS channel, status,
               region_id, region_name, area_id, area_name, feeder_id, feeder_name,
               customer_id, site_id, NULLIF(trim(caller_phone), '') AS caller_phone,
               is_member = 1 AS is_member, satisfaction, resolved_at, closed_at,
               reopened = 1 AS reopened, duplicate_of,
               {", ".join(f"sla_{c}" for c in CLOCKS)},
               ({counted})::TINYINT AS sla_counted, ({met})::TINYINT AS sla_met,
               FALSE AS repeat_phone, FALSE AS repeat_site
        FROM (SELECT *, timezone('{zone}', created_at AT TIME ZONE 'UTC') AS local FROM {source})
    """


def _repeat_flag(key: str) -> str:
    """True on an order that follows a contact of the same ``key`` within 30 days."""
    return f"""COALESCE({key} IS NOT NULL AND created_at - lag(created_at) OVER (
                   PARTITION BY {key} ORDER BY created_at, id
               ) <= INTERVAL {REPEAT_WITHIN} DAY, FALSE)"""


def _customers_shaped(source: str) -> str:
    return (
        "SELECT customer_id, created_at::DATE AS created_day, region_id, area_id, feeder_id "
        f"FROM {source}"
    )


def _roll_up_customers(con) -> None:
    """Distinct customers per place and day they joined: unfiltered pages sum these.

    Counting distinct customers over a million rows on every page view took
    seconds; a customer has one joining day, so per-day distinct counts add up.
    """
    grains = {"total": "'all'", "region": "region_id", "area": "area_id", "feeder": "feeder_id"}
    con.execute(
        "CREATE OR REPLACE TABLE customer_rollup AS "
        + " UNION ALL ".join(
            f"SELECT '{grain}' AS grain, {key}::VARCHAR AS key, created_day, "
            f"count(DISTINCT customer_id) AS customers FROM customers "
            f"{'' if grain == 'total' else f'WHERE {key} IS NOT NULL '}GROUP BY {key}, created_day"
            for grain, key in grains.items()
        )
    )


def _write_info(con, *, as_of, last_full, mode, changed, began) -> None:
    orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    con.execute(
        "CREATE OR REPLACE TABLE refresh_info AS SELECT ?::TIMESTAMP AS as_of, "
        "?::TIMESTAMP AS last_full, ?::VARCHAR AS mode, ?::BIGINT AS orders, "
        "?::BIGINT AS changed, ?::DOUBLE AS seconds",
        [
            as_of.astimezone(dt.UTC).replace(tzinfo=None),
            last_full.astimezone(dt.UTC).replace(tzinfo=None),
            mode,
            orders,
            changed,
            round(time.perf_counter() - began, 3),
        ],
    )


def _zone() -> str:
    from zoneinfo import ZoneInfo

    from voltdesk.core.services import get_utility

    zone = get_utility().time_zone
    ZoneInfo(zone)  # a name the database could not know refuses here, not inside SQL
    return zone.replace("'", "")


# Refreshing ------------------------------------------------------------------------------


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _connect_for_build(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    # Insertion order means nothing here; dropping it lets DuckDB stream with less memory.
    con.execute("SET preserve_insertion_order = false")
    return con


def _new_file(path: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return path.with_name(f"{path.stem}.{stamp}-{os.getpid()}{path.suffix}")


def _finish(con, new: Path, path: Path) -> None:
    """Make the new file complete on disk, then point the store path at it.

    Renaming a link over the old one is atomic: a reader finds the old file or
    the new one, never neither. Older files are removed; a reader that has one
    open keeps reading it until it closes.
    """
    con.execute("CHECKPOINT")
    con.close()
    link = path.with_name(f"{path.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    os.symlink(new.name, link)
    os.replace(link, path)
    for old in path.parent.glob(f"{path.stem}.*{path.suffix}"):
        if old != new:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".wal").unlink(missing_ok=True)


def refresh(full: bool = False) -> StoreInfo:
    """Bring the store up to date with the database (see the module's "Refreshing")."""
    path = store_path()
    with _locked(path):
        previous = None
        if path.exists():
            try:
                previous = _read_info(current_file(path))
            except duckdb.Error:
                logger.warning("analytics store %s unreadable: rebuilding it", path)
        now = timezone.now()
        if full or previous is None or now - previous.last_full > FULL_EVERY:
            return _build_full(path, now)
        return _build_incremental(path, previous, now)


def _build_full(path: Path, now: dt.datetime) -> StoreInfo:
    began = time.perf_counter()
    zone = _zone()
    new = _new_file(path)
    con = _connect_for_build(new)
    try:
        changed = _load(con, "source", _orders_sql("1=1"), _params({"now": now}), SOURCE_COLUMNS)
        con.execute(
            f"""CREATE TABLE orders AS SELECT * REPLACE (
                    {_repeat_flag("caller_phone")} AS repeat_phone,
                    {_repeat_flag("site_id")} AS repeat_site)
                FROM ({_shaped("source", zone)}) ORDER BY day"""
        )
        con.execute("DROP TABLE source")
        _load(con, "customer_source", _customers_sql("1=1"), {}, CUSTOMER_COLUMNS)
        con.execute(f"CREATE TABLE customers AS {_customers_shaped('customer_source')}")
        con.execute("DROP TABLE customer_source")
        _roll_up_customers(con)
        _write_info(con, as_of=now, last_full=now, mode="full", changed=changed, began=began)
        _finish(con, new, path)
    except BaseException:
        con.close()
        new.unlink(missing_ok=True)
        raise
    logger.info("analytics store rebuilt: %s orders", changed)
    return _read_info(new)


def _set_repeats(con, touched: str) -> None:
    """Mark the repeat contacts again in the histories of the phones and sites ``touched``."""
    for column, key in (("repeat_phone", "caller_phone"), ("repeat_site", "site_id")):
        con.execute(
            f"""
            UPDATE orders SET {column} = r.flag
            FROM (
                SELECT id, {_repeat_flag(key)} AS flag FROM orders
                WHERE {key} IN (SELECT {key} FROM {touched} WHERE {key} IS NOT NULL)
            ) r
            WHERE orders.id = r.id AND orders.{column} <> r.flag
            """
        )


def _build_incremental(path: Path, previous: StoreInfo, now: dt.datetime) -> StoreInfo:
    began = time.perf_counter()
    zone = _zone()
    new = _new_file(path)
    shutil.copyfile(current_file(path), new)
    con = _connect_for_build(new)
    try:
        max_id = con.execute("SELECT COALESCE(max(id), 0) FROM orders").fetchone()[0]
        t = _tables()
        since = previous.as_of - OVERLAP
        where = (
            f"(w.updated_at >= %(since)s OR w.id > %(max_id)s OR w.id IN ("
            f"SELECT work_order_id FROM {t['deadline']} "
            f"WHERE met_at IS NULL AND due_at >= %(since)s AND due_at <= %(now)s))"
        )
        params = _params({"since": since, "now": now, "max_id": max_id})
        changed = _load(con, "source", _orders_sql(where), params, SOURCE_COLUMNS)
        con.execute(f"CREATE TEMP TABLE changed AS {_shaped('source', zone)}")
        # The histories the change touches: the phones and sites before and after it.
        con.execute(
            "CREATE TEMP TABLE touched AS SELECT caller_phone, site_id FROM changed "
            "UNION ALL SELECT caller_phone, site_id FROM orders "
            "WHERE id IN (SELECT id FROM changed)"
        )
        con.execute("DELETE FROM orders WHERE id IN (SELECT id FROM changed)")
        con.execute("INSERT INTO orders SELECT * FROM changed")
        _set_repeats(con, "touched")
        customers_where = "c.created_at >= %(since)s"
        _load(
            con,
            "customer_source",
            _customers_sql(customers_where),
            _params({"since": since}),
            CUSTOMER_COLUMNS,
        )
        con.execute(
            "DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM customer_source)"
        )
        con.execute(f"INSERT INTO customers {_customers_shaped('customer_source')}")
        _roll_up_customers(con)
        _write_info(
            con,
            as_of=now,
            last_full=previous.last_full,
            mode="incremental",
            changed=changed,
            began=began,
        )
        _finish(con, new, path)
    except BaseException:
        con.close()
        new.unlink(missing_ok=True)
        raise
    return _read_info(new)


def _read_info(path: Path) -> StoreInfo:
    with duckdb.connect(str(path), read_only=True) as con:
        return info(con)
