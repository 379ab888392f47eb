"""Work-order history from another system: ``voltdesk import_workorders FILE.csv``.

Columns: created_at,closed_at,channel,type,subtype,description,area,customer_ref,site_ref.
All but created_at and type may be empty. The codes are the integration
interface: type one of fault, consultation, business, complaint, suggestion;
channel one of hotline, hall, web, app, onsite, email, api (empty: not
recorded by the source, stored empty); times ISO 8601 with an offset.

* An order with closed_at is stored closed (resolved at the same time);
  without, it is stored new and open.
* A site names its area and feeder when the area column is empty; without a
  customer_ref, the site's holder at created_at (from its contracts), else its
  holder now. A customer_ref and a site_ref must agree: the customer held a
  contract for that site.
* History is not re-timed: no service-commitment clocks, no routing, no
  messages; club status at intake is not reconstructed (is_member false).
* A bad file is refused whole with its line, column and reason; the same file
  (same SHA-256) imported again changes nothing. Rows go in with COPY on
  PostgreSQL (batched INSERTs elsewhere).
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, csv_rows, file_sha256, progress
from voltdesk.core.models import Area
from voltdesk.core.services import get_utility, log_action
from voltdesk.customers.models import Contract, Customer, Site

from .choices import Action, Channel, OrderType, Priority, Status
from .models import HistoryImport

COLUMNS = [
    "created_at",
    "closed_at",
    "channel",
    "type",
    "subtype",
    "description",
    "area",
    "customer_ref",
    "site_ref",
]
BATCH = 5000


@dataclass(frozen=True)
class HistoryResult:
    created: int
    already_imported: bool = False


def _time(path, line: int, column: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ImportProblem(
            path,
            _("%(column)s %(value)r is not an ISO 8601 time (e.g. 2026-07-01T09:30:00+03:00)")
            % {"column": column, "value": value},
            line=line,
        ) from None
    if moment.tzinfo is None:
        raise ImportProblem(
            path,
            _("%(column)s %(value)r has no UTC offset (e.g. +03:00 or Z)")
            % {"column": column, "value": value},
            line=line,
        )
    return moment


def _holders(site_ids) -> dict[int, list[tuple]]:
    """Each site's contracts (customer, start, end): whose it was when."""
    holders: dict[int, list[tuple]] = {}
    rows = Contract.objects.filter(site_id__in=site_ids).values_list(
        "site_id", "customer_id", "start", "end"
    )
    for site_id, customer_id, start, end in rows:
        holders.setdefault(site_id, []).append((customer_id, start, end))
    return holders


def _holder_at(contracts, current, at) -> int | None:
    for customer_id, start, end in contracts:
        if (start is None or start <= at) and (end is None or at < end):
            return customer_id
    return current


ORDER_COLUMNS = [
    "channel",
    "order_type",
    "subtype",
    "status",
    "priority",
    "customer_id",
    "site_id",
    "description",
    "area_id",
    "feeder_id",
    "created_at",
    "resolved_at",
    "closed_at",
    "external_ref",
]


def _insert_orders(rows: list[tuple]) -> None:
    """The orders in bulk: COPY on PostgreSQL, batched INSERTs elsewhere.

    The ORM's bulk_create spent most of an import building objects and SQL; the
    rows are already checked, so they go in as plain tuples.
    """
    now = timezone.now()
    constant = {
        "caller_name": "",
        "caller_phone": "",
        "caller_email": "",
        "is_member": False,
        "escalation_level": 0,
        "updated_at": now,
    }
    columns = ORDER_COLUMNS + list(constant)
    tail = tuple(constant.values())
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY workorders_workorder ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + tail)
            return
        marks = ", ".join(["%s"] * len(columns))
        # Times as the backend stores them (SQLite keeps naive UTC text).
        adapt = connection.ops.adapt_datetimefield_value
        times = [i for i, c in enumerate(columns) if c.endswith("_at")]

        def stored(row):
            row = list(row + tail)
            for i in times:
                row[i] = adapt(row[i])
            return row

        # Our own column names, no input: not an injection vector.
        sql = f"INSERT INTO workorders_workorder ({names}) VALUES ({marks})"  # noqa: S608
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, [stored(row) for row in rows[start : start + BATCH]])


def import_workorders(path: str | Path, *, actor=None) -> HistoryResult:
    """Load a history file whole, or refuse it whole with the line and the reason."""
    utility = get_utility()
    sha = file_sha256(path) if Path(path).is_file() else ""
    if sha and HistoryImport.objects.filter(sha256=sha).exists():
        return HistoryResult(created=0, already_imported=True)
    areas = dict(Area.objects.values_list("name", "pk"))
    raw = []
    total = None
    try:
        with open(path, "rb") as fh:
            total = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        pass
    for line, row in progress(
        csv_rows(path, COLUMNS), total=total, desc=Path(path).name, unit=_("lines")
    ):
        created = _time(path, line, "created_at", row["created_at"]) if row["created_at"] else None
        if created is None:
            raise ImportProblem(path, _("created_at is empty"), line=line)
        closed = _time(path, line, "closed_at", row["closed_at"]) if row["closed_at"] else None
        if closed is not None and closed < created:
            raise ImportProblem(path, _("closed_at is before created_at"), line=line)
        if not row["type"]:
            raise ImportProblem(path, _("type is empty"), line=line)
        if row["type"] not in OrderType.values:
            raise ImportProblem(
                path,
                _("type %(value)r is not one of %(codes)s")
                % {"value": row["type"], "codes": ", ".join(OrderType.values)},
                line=line,
            )
        if row["channel"] and row["channel"] not in Channel.values:
            raise ImportProblem(
                path,
                _("channel %(value)r is not one of %(codes)s")
                % {"value": row["channel"], "codes": ", ".join(Channel.values)},
                line=line,
            )
        if len(row["subtype"]) > 40:
            raise ImportProblem(path, _("subtype is longer than 40 characters"), line=line)
        area_id = None
        if row["area"]:
            area_id = areas.get(row["area"])
            if area_id is None:
                raise ImportProblem(
                    path, _("unknown area %(area)s") % {"area": row["area"]}, line=line
                )
        raw.append((line, row, created, closed, area_id))

    # References, resolved with one query per chunk, not one per row.
    customer_refs = sorted({r[1]["customer_ref"] for r in raw if r[1]["customer_ref"]})
    site_refs = sorted({r[1]["site_ref"] for r in raw if r[1]["site_ref"]})
    customers: dict[str, int] = {}
    sites: dict[str, tuple] = {}
    for start in range(0, len(customer_refs), 900):
        chunk = customer_refs[start : start + 900]
        customers.update(Customer.objects.filter(ref__in=chunk).values_list("ref", "pk"))
    for start in range(0, len(site_refs), 900):
        chunk = site_refs[start : start + 900]
        for ref, pk, customer_id, area, feeder in Site.objects.filter(ref__in=chunk).values_list(
            "ref", "pk", "customer_id", "area_id", "feeder_id"
        ):
            sites[ref] = (pk, customer_id, area, feeder)
    holders = _holders([s[0] for s in sites.values()])

    orders = []
    for line, row, created, closed, area_id in raw:
        customer_id = None
        if row["customer_ref"]:
            customer_id = customers.get(row["customer_ref"])
            if customer_id is None:
                raise ImportProblem(
                    path,
                    _("unknown customer_ref %(ref)s") % {"ref": row["customer_ref"]},
                    line=line,
                )
        site_id = feeder_id = None
        if row["site_ref"]:
            site = sites.get(row["site_ref"])
            if site is None:
                raise ImportProblem(
                    path, _("unknown site_ref %(ref)s") % {"ref": row["site_ref"]}, line=line
                )
            site_id, current_holder, site_area, feeder_id = site
            contracts = holders.get(site_id, [])
            if customer_id is None:
                customer_id = _holder_at(contracts, current_holder, created)
            elif customer_id != current_holder and all(c[0] != customer_id for c in contracts):
                raise ImportProblem(
                    path,
                    _("site_ref %(site)s never belonged to customer_ref %(customer)s")
                    % {"site": row["site_ref"], "customer": row["customer_ref"]},
                    line=line,
                )
            if area_id is None:
                area_id = site_area
            elif area_id != site_area:
                feeder_id = None  # the file's area wins; the site's feeder is elsewhere
        orders.append(
            (
                row["channel"],
                row["type"],
                row["subtype"],
                (Status.CLOSED if closed else Status.NEW).value,
                int(Priority.NORMAL),
                customer_id,
                site_id,
                row["description"],
                area_id,
                feeder_id,
                created,
                closed,
                closed,
                f"{sha[:12]}:{line}",
            )
        )

    file_name = Path(path).name[-300:]
    with transaction.atomic():
        HistoryImport.objects.create(file_name=file_name, sha256=sha, orders=len(orders))
        _insert_orders(orders)
        # One statement for every order's "imported" transition, whatever their number.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO workorders_transition "
                "(work_order_id, action, from_status, to_status, note, at) "
                "SELECT id, %s, '', status, %s, created_at FROM workorders_workorder "
                "WHERE external_ref LIKE %s",
                [Action.IMPORT.value, file_name, f"{sha[:12]}:%"],
            )
        log_action(actor, "workorders.history_imported", utility, {"file": file_name})
    return HistoryResult(created=len(orders))
