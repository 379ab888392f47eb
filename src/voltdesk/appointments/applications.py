"""Online applications: a new connection or a change of use, sent from the portal.

Each application becomes a business-handling work order (channel ``web``,
type ``business``) so it is queued, assigned and timed like any other:

* new connection: subtype ``new_connection`` (``new_connection_dual`` for a
  high-voltage dual supply, which the profile times on its own: 32 working days
  in cn); the work order's commitment follows the customer's kind and the
  site's voltage (``workorders.sla.policies_for``). A new supply has no site
  yet: the voltage the customer declared then stands in for it, through the
  same matching (5 / 6 / 22 / 32 working days in cn);
* change of use: subtype ``change_of_use``, on one of the customer's sites.

The documents are checked all before anything is written (at most
``MAX_FILES`` files, PDF, JPEG or PNG, each at most 10 MB, ``MAX_TOTAL`` in
all), then the order, its attachments and the application are written in one
transaction. The customer follows the order's status, due date and history.
"""

import copy
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from voltdesk.core.services import log_action
from voltdesk.customers.choices import CustomerKind, VoltageLevel
from voltdesk.customers.models import Site
from voltdesk.workorders import sla
from voltdesk.workorders.choices import Channel, OrderType, Subtype
from voltdesk.workorders.models import Deadline
from voltdesk.workorders.services import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    WorkOrderError,
    add_attachment,
    open_work_order,
)

from .choices import ApplicationKind, Supply, UseChange
from .models import Application

MAX_FILES = 5
MAX_TOTAL = 25 * 1024 * 1024
DESCRIPTION_MAX = 2000
DUAL_SUBTYPE = "new_connection_dual"
# The voltage a declared supply stands for when there is no site yet.
DECLARED_VOLTAGE = {
    Supply.LOW_VOLTAGE: VoltageLevel.LOW,
    Supply.HIGH_VOLTAGE: VoltageLevel.HIGH,
    Supply.HIGH_VOLTAGE_DUAL: VoltageLevel.HIGH,
}


class ApplicationError(ValueError):
    """An application that cannot be sent; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def _sniff(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return ""


def check_documents(files) -> None:
    """Refuse the whole set, naming the file, before anything is stored."""
    files = list(files or [])
    if not files:
        raise ApplicationError(
            _("Attach at least one document (your ID, and the papers the notice lists)."),
            "documents",
        )
    if len(files) > MAX_FILES:
        raise ApplicationError(
            _("Attach at most %(count)s files; you chose %(given)s.")
            % {"count": MAX_FILES, "given": len(files)},
            "documents",
        )
    total = 0
    for f in files:
        name = getattr(f, "name", "") or _("file")
        size = getattr(f, "size", 0) or 0
        if size == 0:
            raise ApplicationError(_("%(name)s is empty.") % {"name": name}, "documents")
        if size > MAX_ATTACHMENT_BYTES:
            raise ApplicationError(
                _("%(name)s is larger than 10 MB.") % {"name": name}, "documents"
            )
        head = f.read(8)
        f.seek(0)
        sniffed = _sniff(head)
        declared = getattr(f, "content_type", "") or ""
        if sniffed not in ATTACHMENT_TYPES or (declared and declared != sniffed):
            raise ApplicationError(
                _("%(name)s is not a PDF, JPEG or PNG file: only those can be attached.")
                % {"name": name},
                "documents",
            )
        total += size
    if total > MAX_TOTAL:
        raise ApplicationError(
            _("The files are larger than 25 MB together: send fewer or smaller ones."),
            "documents",
        )


def _check(customer, kind, supply, change, site, address, requested_kva, description):
    if kind not in ApplicationKind.values:
        raise ApplicationError(_("Choose a new connection or a change of use."), "kind")
    if site is not None and site.customer_id != customer.pk:
        raise ApplicationError(_("Choose one of your own sites."), "site")
    if kind == ApplicationKind.NEW_CONNECTION:
        if supply not in Supply.values:
            raise ApplicationError(_("Choose the supply you need."), "supply")
        household = customer.kind == CustomerKind.RESIDENTIAL
        if household != (supply == Supply.RESIDENTIAL):
            raise ApplicationError(
                _("A household asks for a household supply; a business for another one."),
                "supply",
            )
        if site is None and not (address or "").strip():
            raise ApplicationError(_("Give the address of the new supply."), "address")
    else:
        if change not in UseChange.values:
            raise ApplicationError(_("Choose what you want to change."), "change")
        if site is None:
            raise ApplicationError(_("Choose the site the change is for."), "site")
    if requested_kva not in (None, ""):
        try:
            kva = Decimal(str(requested_kva))
        except InvalidOperation as exc:
            raise ApplicationError(_("The capacity is a number of kVA."), "requested_kva") from exc
        if not (Decimal("0") < kva <= Decimal("100000")):
            raise ApplicationError(_("The capacity is between 0 and 100,000 kVA."), "requested_kva")
    if len(description or "") > DESCRIPTION_MAX:
        raise ApplicationError(
            _("The description is too long: at most %(limit)s characters.")
            % {"limit": DESCRIPTION_MAX},
            "description",
        )


def _summary(kind, supply, change, site, address, requested_kva, description) -> str:
    """The order's description, for the desk: what is asked and where."""
    lines = [
        _("Online application: %(kind)s") % {"kind": ApplicationKind(kind).label},
    ]
    if supply:
        lines.append(_("Supply: %(supply)s") % {"supply": Supply(supply).label})
    if change:
        lines.append(_("Change: %(change)s") % {"change": UseChange(change).label})
    if site is None and address:
        lines.append(_("Address: %(address)s") % {"address": address.strip()})
    if requested_kva not in (None, ""):
        lines.append(_("Capacity asked for: %(kva)s kVA") % {"kva": requested_kva})
    if description:
        lines += ["", description.strip()]
    return "\n".join(str(line) for line in lines)


def _time_as_declared(order, voltage: str) -> None:
    """Re-time the order as if it had a site of ``voltage`` (a new supply has none yet).

    The policy is chosen by ``sla.policies_for`` itself, on a copy of the order
    with a stand-in site that is never saved, so the matching rule stays in one place.
    """
    probe = copy.copy(order)
    probe.site = Site(pk=-1, voltage_level=voltage)  # truthy id, never saved
    chosen = sla.policies_for(probe)
    for deadline in Deadline.objects.filter(work_order=order).select_related("policy"):
        policy = chosen.get(deadline.clock)
        if policy is None or policy.pk == deadline.policy_id or deadline.due_at is None:
            continue
        deadline.policy = policy
        deadline.due_at = sla.due_time(policy, order.created_at)
        deadline.warn_at = deadline.due_at - timedelta(minutes=policy.warn_before_minutes)
        deadline.save(update_fields=["policy", "due_at", "warn_at"])


def submit_application(
    actor,
    *,
    customer,
    kind: str,
    supply: str = "",
    change: str = "",
    site=None,
    address: str = "",
    requested_kva=None,
    description: str = "",
    files=(),
) -> Application:
    """Check, then open the business work order with the documents; returns the application."""
    if kind == ApplicationKind.CHANGE_OF_USE:
        supply = ""
    else:
        change = ""
    _check(customer, kind, supply, change, site, address, requested_kva, description)
    files = list(files or [])
    check_documents(files)
    subtype = (
        Subtype.CHANGE_OF_USE
        if kind == ApplicationKind.CHANGE_OF_USE
        else DUAL_SUBTYPE
        if supply == Supply.HIGH_VOLTAGE_DUAL
        else Subtype.NEW_CONNECTION
    )
    user_name = (actor.get_full_name() or actor.get_username()) if actor else ""
    try:
        with transaction.atomic():
            order = open_work_order(
                channel=Channel.WEB,
                order_type=OrderType.BUSINESS,
                subtype=subtype,
                description=_summary(
                    kind, supply, change, site, address, requested_kva, description
                ),
                customer=customer,
                site=site,
                caller_name=user_name or customer.name,
                actor=actor,
            ).order
            if site is None and supply in DECLARED_VOLTAGE:
                _time_as_declared(order, DECLARED_VOLTAGE[supply])
            for f in files:
                add_attachment(order, uploaded_by=actor, uploaded_file=f)
            application = Application.objects.create(
                work_order=order,
                customer=customer,
                kind=kind,
                supply=supply,
                change=change,
                site=site,
                address=(address or "").strip(),
                requested_kva=Decimal(str(requested_kva))
                if requested_kva not in (None, "")
                else None,
                submitted_by=actor if getattr(actor, "pk", None) else None,
            )
            log_action(
                actor,
                "appointments.application_submitted",
                application,
                {"order": order.number, "kind": kind, "files": len(files)},
            )
    except WorkOrderError as exc:
        raise ApplicationError(str(exc), "documents" if exc.field == "file" else "") from exc
    return application


def commitment_of(application: Application):
    """The order's completion deadline (the SLA the customer is promised), or None."""
    return (
        Deadline.objects.filter(work_order_id=application.work_order_id, due_at__isnull=False)
        .select_related("policy")
        .order_by("due_at")
        .last()
    )
