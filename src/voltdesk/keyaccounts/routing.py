"""Routing a call to the fault line: which queue, how urgent, and what the agent sees.

The telephony system asks on every call, so an answer costs a fixed handful of
indexed queries whatever the size of the customer base:

1. the utility (its country reads the dialled number, its language is the fallback);
2. the customer: by ``customer_ref`` (unique), else the holder of ``site_ref``
   (unique), else by ``Customer.phone``, then ``Contact.phone`` (both indexed,
   E.164), each with its membership joined in;
3. a member's account manager (``portfolio.current_manager``, its user joined in);
4. the customer's current sites.

Who wins when several customers share a number: a current club member first,
then the most recently created customer. An unknown caller is not an error: it
goes to the general queue.
"""

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility
from voltdesk.customers.identifiers import InvalidValue, normalise_phone
from voltdesk.customers.models import Customer, Site

from .choices import MembershipStatus
from .portfolio import current_manager

QUEUE_VIP = "vip"
QUEUE_GENERAL = "general"

# Higher is answered sooner. A club member adds one; a critical-load site (hospital,
# life support) adds two, so it outranks membership alone.
PRIORITY_GENERAL = 0
PRIORITY_MEMBER_BONUS = 1
PRIORITY_CRITICAL_BONUS = 2

MATCHED_BY_CUSTOMER_REF = "customer_ref"
MATCHED_BY_SITE_REF = "site_ref"
MATCHED_BY_CUSTOMER_PHONE = "customer_phone"
MATCHED_BY_CONTACT_PHONE = "contact_phone"
MATCHED_BY_NONE = "none"
MATCHED_BY = (
    MATCHED_BY_CUSTOMER_REF,
    MATCHED_BY_SITE_REF,
    MATCHED_BY_CUSTOMER_PHONE,
    MATCHED_BY_CONTACT_PHONE,
    MATCHED_BY_NONE,
)


class RoutingInputError(ValueError):
    """A request value routing cannot use; names the field, the message is translated."""

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CustomerCard:
    ref: str
    name: str
    kind: str
    language: str


@dataclass(frozen=True)
class ManagerCard:
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class RouteDecision:
    caller: str  # E.164
    queue: str
    priority: int
    matched_by: str
    club_member: bool
    customer: CustomerCard | None = None
    account_manager: ManagerCard | None = None
    sites: list[str] = field(default_factory=list)
    critical_sites: list[str] = field(default_factory=list)
    open_work_orders: list = field(default_factory=list)
    current_events: list = field(default_factory=list)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _customers():
    """Customers with their membership joined in, current members first, newest next."""
    member_first = Case(
        When(membership__status=MembershipStatus.MEMBER, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Customer.objects.select_related("membership")
        .annotate(member_first=member_first)
        .order_by("member_first", "-created_at", "-pk")
    )


def _is_member(customer: Customer) -> bool:
    membership = getattr(customer, "membership", None)  # a reverse one-to-one may be absent
    return membership is not None and membership.status == MembershipStatus.MEMBER


def _identify(
    e164: str, customer_ref: str, site_ref: str
) -> tuple[Customer | None, Site | None, str]:
    site = None
    if site_ref:
        site = (
            Site.objects.filter(ref=site_ref)
            .only("pk", "ref", "critical_load", "customer_id")
            .first()
        )
        if site is None:
            raise RoutingInputError(
                "site_ref",
                _("No site has the number %(ref)s.") % {"ref": site_ref},
                code="not_found",
            )
    if customer_ref:
        customer = _customers().filter(ref=customer_ref).first()
        if customer is None:
            raise RoutingInputError(
                "customer_ref",
                _("No customer has the number %(ref)s.") % {"ref": customer_ref},
                code="not_found",
            )
        return customer, site, MATCHED_BY_CUSTOMER_REF
    if site is not None:
        # The site's holder now; its contracts keep who held it before.
        customer = _customers().filter(pk=site.customer_id).first()
        return customer, site, MATCHED_BY_SITE_REF
    customer = _customers().filter(phone=e164).first()
    if customer is not None:
        return customer, None, MATCHED_BY_CUSTOMER_PHONE
    customer = _customers().filter(contacts__phone=e164).first()
    if customer is not None:
        return customer, None, MATCHED_BY_CONTACT_PHONE
    return None, None, MATCHED_BY_NONE


def _manager_of(customer: Customer) -> ManagerCard | None:
    manager = current_manager(customer)  # one query, its user joined in
    if manager is None:
        return None
    user = manager.user
    return ManagerCard(
        name=user.get_full_name() or user.get_username(),
        phone=manager.phone,
        email=manager.email or user.email,
    )


def route_call(*, caller: str, customer_ref: str | None = None, site_ref: str | None = None):
    """Decide the queue and priority of a call to the fault line, and what the agent sees.

    ``caller`` is the number as dialled (read in the utility's country) or E.164;
    a ``customer_ref`` or ``site_ref`` the caller keyed in wins over the number
    (``customer_ref`` over ``site_ref``). With a ``site_ref`` of the customer's, that
    site alone decides whether the call is about a critical load; otherwise any of
    the customer's current sites does. Raises ``RoutingInputError`` for a missing or unusable
    number and for refs that name nothing.
    """
    caller, customer_ref, site_ref = _clean(caller), _clean(customer_ref), _clean(site_ref)
    if not caller:
        raise RoutingInputError("caller", _("This field is required."), code="missing")
    utility = get_utility()
    try:
        e164 = normalise_phone(caller, utility.country)
    except InvalidValue as exc:
        raise RoutingInputError("caller", str(exc), code="invalid_phone") from None

    customer, site, matched_by = _identify(e164, customer_ref, site_ref)
    if customer is None:
        return RouteDecision(
            caller=e164,
            queue=QUEUE_GENERAL,
            priority=PRIORITY_GENERAL,
            matched_by=matched_by,
            club_member=False,
        )

    member = _is_member(customer)
    held = list(
        Site.objects.filter(customer=customer).order_by("ref").values_list("ref", "critical_load")
    )
    critical_sites = [ref for ref, critical in held if critical]
    if site is not None and site.customer_id == customer.pk:
        critical = site.critical_load
    else:
        critical = bool(critical_sites)
    priority = PRIORITY_GENERAL
    if member:
        priority += PRIORITY_MEMBER_BONUS
    if critical:
        priority += PRIORITY_CRITICAL_BONUS
    return RouteDecision(
        caller=e164,
        queue=QUEUE_VIP if member else QUEUE_GENERAL,
        priority=priority,
        matched_by=matched_by,
        club_member=member,
        customer=CustomerCard(
            ref=customer.ref,
            name=customer.name,
            kind=customer.kind,
            language=customer.language or utility.default_language,
        ),
        account_manager=_manager_of(customer) if member else None,
        sites=[ref for ref, _critical in held],
        critical_sites=critical_sites,
        open_work_orders=_open_work_orders(customer),
        current_events=_current_outages(customer),
    )


def _open_work_orders(customer) -> list[dict]:
    """The customer's orders still being worked: what the agent asks about first."""
    from voltdesk.workorders.services import open_orders_of

    return [
        {
            "number": o.number,
            "type": o.order_type,
            "status": o.status,
            "created_at": o.created_at.isoformat(),
        }
        for o in open_orders_of(customer)[:10]
    ]


def _current_outages(customer) -> list[dict]:
    """Open outage incidents on the feeders (else areas) of the customer's sites."""
    from django.db.models import Q

    from voltdesk.workorders.choices import IncidentStatus
    from voltdesk.workorders.models import Incident

    sites = Site.objects.filter(customer=customer)
    incidents = Incident.objects.filter(
        Q(feeder_id__in=sites.values("feeder_id")) | Q(area_id__in=sites.values("area_id")),
        status=IncidentStatus.OPEN,
    ).order_by("opened_at")[:10]
    return [
        {
            "kind": "outage",
            "id": i.pk,
            "feeder": i.feeder.name if i.feeder_id else "",
            "area": i.area.name,
            "since": i.opened_at.isoformat(),
        }
        for i in incidents.select_related("feeder", "area")
    ]
