"""``{% club_panel customer %}``: the club panel of the desk's customer 360.

An inclusion tag, so the customer page only includes it; what it reads goes
through ``core.access`` (staff without the club's view permission see nothing).
"""

from django import template

from voltdesk.core.access import visible_decisions, visible_meetings, visible_memberships
from voltdesk.keyaccounts.choices import MeetingStatus, MembershipStatus
from voltdesk.keyaccounts.forms import ReassignForm
from voltdesk.keyaccounts.portfolio import current_manager
from voltdesk.keyaccounts.services import explain_decision, whole_kwh

register = template.Library()

DECISIONS_SHOWN = 12


@register.filter(name="whole_kwh")
def whole_kwh_filter(value):
    """Consumption as the plain words give it: whole kWh, rounded down, grouped."""
    return "" if value is None else whole_kwh(value)


@register.inclusion_tag("keyaccounts/customer_panel.html", takes_context=True)
def club_panel(context, customer):
    request = context["request"]
    user = request.user
    if not user.has_perm("keyaccounts.view_membership"):
        return {"show": False}
    membership = visible_memberships(user).filter(customer=customer).first()
    decisions = list(
        visible_decisions(user)
        .filter(membership__customer=customer)
        .select_related("run")
        .order_by("-run__as_of", "-pk")[:DECISIONS_SHOWN]
    )
    is_member = membership is not None and membership.status == MembershipStatus.MEMBER
    may_reassign = is_member and user.has_perm("keyaccounts.add_portfolioassignment")
    return {
        "show": True,
        "utility": context.get("utility"),
        "csrf_token": context.get("csrf_token"),
        "customer": customer,
        "membership": membership,
        "is_member": is_member,
        "manager": current_manager(customer) if is_member else None,
        "decisions": [(d, explain_decision(d)) for d in decisions],
        "meeting": visible_meetings(user)
        .filter(customer=customer, status__in=[MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED])
        .order_by("due_by")
        .first(),
        "may_reassign": may_reassign,
        "reassign_form": ReassignForm() if may_reassign else None,
        "next": request.get_full_path(),
    }
