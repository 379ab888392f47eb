"""Customers, sites and contracts: importing them and changes of holder.

Imports come from the utility's old system, up to millions of rows: a file is
checked whole before anything is written (one transaction per file), look-ups
are loaded in one query per batch, and rows are written with bulk_create /
bulk_update, never a query per row. Importing the same file again changes nothing.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.billing.models import Tariff
from voltdesk.core.choices import Language
from voltdesk.core.importing import ImportProblem, csv_rows, progress
from voltdesk.core.models import Area, Feeder
from voltdesk.core.services import get_utility, log_action

from .choices import CustomerKind
from .identifiers import (
    InvalidValue,
    identifier_kind_for,
    normalise_email,
    normalise_identifier,
    normalise_phone,
)
from .models import Contract, Customer, Site, Supplier

BATCH_SIZE = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class ImportResult:
    """How many records a file created, updated or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def ensure_utility_supplier(utility) -> Supplier:
    """The utility itself is always a supplier (the default one)."""
    # Prefer the flagged row: the administrator may have renamed the utility since.
    supplier = Supplier.objects.filter(is_utility=True).order_by("pk").first()
    if supplier is not None:
        return supplier
    supplier, _created = Supplier.objects.get_or_create(
        name=utility.name, defaults={"is_utility": True}
    )
    return supplier


# --- shared helpers -------------------------------------------------------------


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lookup_size() -> int:
    # SQLite limits bound parameters per statement; PostgreSQL has no such limit.
    return min(BATCH_SIZE, connection.features.max_query_params or BATCH_SIZE)


def _count_lines(path) -> int | None:
    """Data lines in a file, for the progress bar's total (a guess is enough)."""
    try:
        with open(path, "rb") as fh:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")), 1)
    except OSError:
        return None


def _rows(path, required, optional=()):
    total = _count_lines(path)
    return progress(
        csv_rows(path, required, optional),
        total=total - 1 if total else None,
        desc=Path(path).name,
        unit=_("lines"),
    )


def _text(path, line: int, row: dict[str, str], column: str, model, field: str, *, required=False):
    value = row[column]
    if required and not value:
        raise ImportProblem(path, _("%(column)s is empty") % {"column": column}, line=line)
    limit = model._meta.get_field(field).max_length
    if limit and len(value) > limit:
        raise ImportProblem(
            path,
            _("%(column)s is longer than %(limit)s characters")
            % {"column": column, "limit": limit},
            line=line,
        )
    return value


def _refuse_duplicate(path, line: int, seen: dict[str, int], column: str, ref: str) -> None:
    first = seen.setdefault(ref, line)
    if first != line:
        raise ImportProblem(
            path,
            _("%(column)s %(ref)s appears again (first on line %(first)s)")
            % {"column": column, "ref": ref, "first": first},
            line=line,
        )


def _log_import(actor, utility, action: str, path, result: ImportResult) -> None:
    if result.created or result.updated:
        log_action(
            actor,
            action,
            utility,
            {"file": Path(path).name, "created": result.created, "updated": result.updated},
        )


# --- customers ------------------------------------------------------------------

CUSTOMER_COLUMNS = ["customer_ref", "name", "kind", "phone", "email", "language"]
CUSTOMER_OPTIONAL_COLUMNS = ["id_number", "address"]


def import_customers(path: str | Path, *, actor=None) -> ImportResult:
    """Create or update customers from a CSV file, keyed by ``customer_ref``.

    Columns: customer_ref,name,kind,phone,email,language and optionally
    id_number and address. Identifiers are checked for the utility's country
    and the customer's kind and stored compact; phones are stored E.164. An
    optional column the file does not have leaves that field as it is; an empty
    phone, e-mail, language, or (when its column is present) identifier or
    address clears it.
    """
    utility = get_utility()
    fields, rows = _read_customers(path, utility.country)
    with transaction.atomic():
        result = _write_customers(fields, rows)
        _log_import(actor, utility, "customers.imported", path, result)
    return result


def _read_customers(path, country: str) -> tuple[list[str], list[tuple[str, tuple]]]:
    """Check every line; return the fields the file sets and (ref, values) per line."""
    fields = ["name", "kind", "phone", "email", "language"]
    has_id = has_address = False
    languages = set(Language.values)
    kinds = set(CustomerKind.values)
    seen: dict[str, int] = {}
    rows: list[tuple[str, tuple]] = []
    for line, row in _rows(path, CUSTOMER_COLUMNS, CUSTOMER_OPTIONAL_COLUMNS):
        if not seen:
            # The optional columns a file has decide which fields it sets.
            has_id, has_address = "id_number" in row, "address" in row
            fields += ["id_kind", "id_number"] if has_id else []
            fields += ["address"] if has_address else []
        ref = _text(path, line, row, "customer_ref", Customer, "ref", required=True)
        _refuse_duplicate(path, line, seen, "customer_ref", ref)
        name = _text(path, line, row, "name", Customer, "name", required=True)
        kind = _text(path, line, row, "kind", Customer, "kind", required=True).lower()
        if kind not in kinds:
            raise ImportProblem(
                path,
                _("unknown kind %(kind)s; expected one of %(choices)s")
                % {"kind": row["kind"], "choices": ", ".join(CustomerKind.values)},
                line=line,
            )
        language = row["language"].lower()
        if language and language not in languages:
            raise ImportProblem(
                path,
                _("unknown language %(language)s; expected one of %(choices)s")
                % {"language": row["language"], "choices": ", ".join(Language.values)},
                line=line,
            )
        try:
            phone = normalise_phone(row["phone"], country) if row["phone"] else ""
            email = row["email"]
            email = normalise_email(email) if email else ""
            values = [name, kind, phone, email, language]
            if has_id:
                raw_id = row["id_number"]
                if raw_id:
                    id_kind = identifier_kind_for(country, kind)
                    values += [id_kind, normalise_identifier(id_kind, raw_id)]
                else:
                    values += ["", ""]
        except InvalidValue as exc:
            raise ImportProblem(path, str(exc), line=line) from exc
        if has_address:
            values.append(_text(path, line, row, "address", Customer, "address"))
        rows.append((ref, tuple(values)))
    return fields, rows


def _write_customers(fields: list[str], rows: list[tuple[str, tuple]]) -> ImportResult:
    created = updated = unchanged = 0
    chunks = list(_chunks(rows, _lookup_size()))
    for chunk in progress(chunks, desc=_("writing"), unit=_("batches")):
        existing = {
            c.ref: c
            for c in Customer.objects.filter(ref__in=[ref for ref, _v in chunk]).only(
                "pk", "ref", *fields
            )
        }
        new, changed = [], []
        for ref, values in chunk:
            customer = existing.get(ref)
            if customer is None:
                new.append(Customer(ref=ref, **dict(zip(fields, values, strict=True))))
                continue
            if all(getattr(customer, f) == v for f, v in zip(fields, values, strict=True)):
                unchanged += 1
                continue
            for f, v in zip(fields, values, strict=True):
                setattr(customer, f, v)
            changed.append(customer)
        Customer.objects.bulk_create(new, batch_size=BATCH_SIZE)
        Customer.objects.bulk_update(changed, fields, batch_size=500)
        created += len(new)
        updated += len(changed)
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


# --- sites and contracts ----------------------------------------------------------

SITE_COLUMNS = ["site_ref", "customer_ref", "address", "area", "feeder", "supplier", "tariff"]


@dataclass(frozen=True, slots=True)
class _SiteRow:
    line: int
    ref: str
    customer_ref: str
    address: str
    area_id: int | None
    feeder_id: int | None
    supplier: str  # a name; empty means the utility itself
    tariff_id: int | None


def import_sites(path: str | Path, *, at: datetime | None = None, actor=None) -> ImportResult:
    """Create or update sites and their contracts from a CSV file, keyed by ``site_ref``.

    Columns: site_ref,customer_ref,address,area,feeder,supplier,tariff. The
    customer, a named area, feeder and tariff must exist; a feeder alone implies
    its area; a supplier named for the first time is created; no supplier means
    the utility's own. A new site's first contract starts "before our records"
    (empty start). When a known site's holder, supplier or tariff differs from
    its open contract, that contract ends at ``at`` (the moment of the import)
    and a new one starts then, so the site keeps a true history.
    """
    utility = get_utility()
    at = at or timezone.now()
    with transaction.atomic():
        rows, customer_ids = _read_sites(path)
        supplier_ids = _supplier_ids(utility, {row.supplier for row in rows})
        result = _write_sites(path, rows, customer_ids, supplier_ids, at)
        _log_import(actor, utility, "sites.imported", path, result)
    return result


def _read_sites(path) -> tuple[list[_SiteRow], dict[str, int]]:
    """Check every line; return the rows and the ids of the customers they name."""
    # The network and tariffs are small: one query each, then dictionary look-ups.
    areas = dict(Area.objects.values_list("name", "pk"))
    feeders = {
        name: (pk, area_id)
        for name, pk, area_id in Feeder.objects.values_list("name", "pk", "area_id")
    }
    area_names = {pk: name for name, pk in areas.items()}
    tariffs = dict(Tariff.objects.values_list("name", "pk"))

    seen: dict[str, int] = {}
    rows: list[_SiteRow] = []
    for line, row in _rows(path, SITE_COLUMNS):
        ref = _text(path, line, row, "site_ref", Site, "ref", required=True)
        _refuse_duplicate(path, line, seen, "site_ref", ref)
        customer_ref = _text(path, line, row, "customer_ref", Customer, "ref", required=True)
        address = _text(path, line, row, "address", Site, "address")
        supplier = _text(path, line, row, "supplier", Supplier, "name")
        area_id = feeder_id = tariff_id = None
        if row["area"]:
            area_id = areas.get(row["area"])
            if area_id is None:
                raise ImportProblem(
                    path, _("unknown area %(area)s") % {"area": row["area"]}, line=line
                )
        if row["feeder"]:
            feeder = feeders.get(row["feeder"])
            if feeder is None:
                raise ImportProblem(
                    path, _("unknown feeder %(feeder)s") % {"feeder": row["feeder"]}, line=line
                )
            feeder_id, feeder_area_id = feeder
            if area_id is not None and area_id != feeder_area_id:
                raise ImportProblem(
                    path,
                    _("feeder %(feeder)s belongs to area %(feeder_area)s, not %(area)s")
                    % {
                        "feeder": row["feeder"],
                        "feeder_area": area_names[feeder_area_id],
                        "area": row["area"],
                    },
                    line=line,
                )
            area_id = feeder_area_id
        if row["tariff"]:
            tariff_id = tariffs.get(row["tariff"])
            if tariff_id is None:
                raise ImportProblem(
                    path, _("unknown tariff %(tariff)s") % {"tariff": row["tariff"]}, line=line
                )
        rows.append(
            _SiteRow(line, ref, customer_ref, address, area_id, feeder_id, supplier, tariff_id)
        )

    refs = sorted({row.customer_ref for row in rows})
    customer_ids: dict[str, int] = {}
    for chunk in _chunks(refs, _lookup_size()):
        customer_ids.update(Customer.objects.filter(ref__in=chunk).values_list("ref", "pk"))
    for row in rows:
        if row.customer_ref not in customer_ids:
            raise ImportProblem(
                path,
                _("unknown customer %(ref)s (import the customers first)")
                % {"ref": row.customer_ref},
                line=row.line,
            )
    return rows, customer_ids


def _supplier_ids(utility, names: set[str]) -> dict[str, int]:
    """Supplier ids by name, creating the private suppliers named for the first time."""
    own = ensure_utility_supplier(utility)
    names = names - {""}
    known = dict(Supplier.objects.filter(name__in=names).values_list("name", "pk"))
    Supplier.objects.bulk_create(
        [Supplier(name=name, is_utility=False) for name in sorted(names - known.keys())]
    )
    ids = dict(Supplier.objects.filter(name__in=names).values_list("name", "pk"))
    ids[""] = own.pk
    return ids


def _write_sites(path, rows, customer_ids, supplier_ids, at: datetime) -> ImportResult:
    created = updated = unchanged = 0
    site_fields = ["customer_id", "address", "area_id", "feeder_id"]
    chunks = list(_chunks(rows, _lookup_size()))
    for chunk in progress(chunks, desc=_("writing"), unit=_("batches")):
        sites = {
            s.ref: s
            for s in Site.objects.filter(ref__in=[row.ref for row in chunk]).only(
                "pk", "ref", *site_fields
            )
        }
        open_contracts = {
            c.site_id: c
            for c in Contract.objects.filter(
                site_id__in=[s.pk for s in sites.values()], end__isnull=True
            ).only("pk", "site_id", "customer_id", "supplier_id", "tariff_id", "start")
        }
        new_sites, first_contracts, changed_sites, to_close, next_contracts = [], [], [], [], []
        for row in chunk:
            holding = (customer_ids[row.customer_ref], supplier_ids[row.supplier], row.tariff_id)
            values = (holding[0], row.address, row.area_id, row.feeder_id)
            site = sites.get(row.ref)
            if site is None:
                site = Site(ref=row.ref, **dict(zip(site_fields, values, strict=True)))
                new_sites.append(site)
                first_contracts.append((site, holding))
                continue
            site_changed = any(
                getattr(site, f) != v for f, v in zip(site_fields, values, strict=True)
            )
            contract = open_contracts.get(site.pk)
            current = (
                None
                if contract is None
                else (contract.customer_id, contract.supplier_id, contract.tariff_id)
            )
            if not site_changed and current == holding:
                unchanged += 1
                continue
            if site_changed:
                for f, v in zip(site_fields, values, strict=True):
                    setattr(site, f, v)
                changed_sites.append(site)
            if current != holding:
                if contract is not None:
                    if contract.start is not None and contract.start >= at:
                        raise ImportProblem(
                            path,
                            _(
                                "the open contract of site %(site)s starts on %(start)s, "
                                "not before this import"
                            )
                            % {"site": row.ref, "start": contract.start.isoformat()},
                            line=row.line,
                        )
                    to_close.append(contract.pk)
                next_contracts.append(_contract(site, holding, start=at))
            updated += 1

        Site.objects.bulk_create(new_sites, batch_size=BATCH_SIZE)
        # Their ids are known now: the first contract runs from before our records.
        next_contracts += [
            _contract(site, holding, start=None) for site, holding in first_contracts
        ]
        Site.objects.bulk_update(changed_sites, site_fields, batch_size=500)
        # Close before opening: a site has at most one open contract at a time.
        Contract.objects.filter(pk__in=to_close).update(end=at)
        Contract.objects.bulk_create(next_contracts, batch_size=BATCH_SIZE)
        created += len(new_sites)
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _contract(site: Site, holding: tuple, *, start: datetime | None) -> Contract:
    customer_id, supplier_id, tariff_id = holding
    return Contract(
        customer_id=customer_id,
        site_id=site.pk,
        supplier_id=supplier_id,
        tariff_id=tariff_id,
        start=start,
    )
