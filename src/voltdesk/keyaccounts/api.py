"""The fault line's routing question over the API: the telephony system asks on every call.

The route only checks who asks and what was sent; ``keyaccounts.routing`` decides.
"""

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Body, Field, Router, Schema
from ninja.errors import HttpError

from voltdesk.api.auth import acting_user
from voltdesk.api.errors import InvalidInput
from voltdesk.api.params import PRINTABLE, REF_MAX
from voltdesk.core.access import customer_of

from .routing import MATCHED_BY, RoutingInputError, route_call

router = Router(tags=["calls"])

# Routing shows who a number belongs to, their club standing and their sites: a
# desk (staff) permission, never a customer user's, whatever its own permissions.
ROUTING_PERMISSIONS = ("customers.view_customer", "customers.view_site")
CALLER_MAX = 40


# Separate body fields (not one schema parameter) so that errors name "caller", not
# "payload.caller".
Caller = Annotated[
    str,
    Body(
        max_length=CALLER_MAX,
        pattern=PRINTABLE,
        description=(
            "The calling number as dialled in the utility's country (e.g. 03-5551234, "
            "021-5555 1234) or in E.164 (+97235551234)."
        ),
    ),
]
CustomerRefIn = Annotated[
    str | None,
    Body(
        max_length=REF_MAX,
        pattern=PRINTABLE,
        description="Customer number keyed in by the caller; wins over the number.",
    ),
]
SiteRefIn = Annotated[
    str | None,
    Body(
        max_length=REF_MAX,
        pattern=PRINTABLE,
        description=(
            "Site number keyed in by the caller; identifies the site's current holder "
            "unless customer_ref is given."
        ),
    ),
]


class CustomerCardOut(Schema):
    ref: str
    name: str
    kind: str
    language: str = Field(..., description="The customer's language, else the utility's.")


class ManagerCardOut(Schema):
    name: str
    phone: str
    email: str


class RouteOut(Schema):
    caller: str = Field(..., description="The calling number in E.164.")
    queue: str = Field(..., description="`vip` for current club members, else `general`.")
    priority: int = Field(
        ...,
        description=(
            "Higher is answered sooner: 0 by default, +1 for a club member, +2 when the "
            "call concerns a critical-load site (the given site_ref, else any current site)."
        ),
    )
    matched_by: str = Field(
        ...,
        description="How the caller was identified: " + " | ".join(MATCHED_BY) + ".",
    )
    club_member: bool
    customer: CustomerCardOut | None
    account_manager: ManagerCardOut | None = Field(
        ..., description="The member's account manager; null for non-members."
    )
    sites: list[str] = Field(..., description="Numbers of the sites the customer holds now.")
    critical_sites: list[str] = Field(..., description="Those of them with a critical load.")
    open_work_orders: list = Field(
        ...,
        description=(
            "The customer's open work orders (up to 10, newest first): number, type, "
            "status, created_at."
        ),
    )
    current_events: list = Field(
        ...,
        description=(
            "Open outage incidents on the feeders or areas of the customer's sites (kind "
            "`outage`, id, feeder, area, since). Excess-demand events join when they exist."
        ),
    )


def require_routing(request):
    """The acting user if it is staff allowed to route calls, else 403."""
    user = acting_user(request)
    if customer_of(user) is not None or not all(user.has_perm(p) for p in ROUTING_PERMISSIONS):
        raise HttpError(403, _("You do not have permission to route calls."))
    return user


@router.post(
    "/calls/route",
    response=RouteOut,
    summary="Route a call to the fault line",
    description=(
        "Called by the telephony system on every call: the queue (`vip` for current club "
        "members, `general` otherwise, including unknown callers), the priority, and what "
        "the agent's screen shows. The number is read in the utility's country and matched "
        "against customers' numbers, then their contacts'; a customer_ref or site_ref wins. "
        "When several customers share a number, a club member comes first, then the most "
        "recent customer. An unknown caller is not an error. The answer lists the "
        "customer's open work orders and current outages at its sites. Staff API keys with "
        "customers.view_customer and customers.view_site only; customer users get 403."
    ),
)
def route(request, caller: Caller, customer_ref: CustomerRefIn = None, site_ref: SiteRefIn = None):
    require_routing(request)
    try:
        return route_call(caller=caller, customer_ref=customer_ref, site_ref=site_ref)
    except RoutingInputError as exc:
        raise InvalidInput(exc.field, exc.message, code=exc.code) from None
