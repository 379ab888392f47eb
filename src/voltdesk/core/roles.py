"""Roles as Django groups with their permissions.

Staff roles see every customer (subject to their permissions); customer users see
only their own customer (``core.access``).
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

CUSTOMER = "customer"
AGENT = "agent"
ACCOUNT_MANAGER = "account_manager"
DISPATCHER = "dispatcher"
SUPERVISOR = "supervisor"
KNOWLEDGE_EDITOR = "knowledge_editor"
DEMAND_MANAGER = "demand_manager"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    CUSTOMER: _("Customer user"),
    AGENT: _("Hotline / hall agent"),
    ACCOUNT_MANAGER: _("Account manager"),
    DISPATCHER: _("Dispatcher"),
    SUPERVISOR: _("Supervisor / analyst"),
    KNOWLEDGE_EDITOR: _("Knowledge editor"),
    DEMAND_MANAGER: _("Demand manager"),
    ADMINISTRATOR: _("Administrator"),
}

STAFF_ROLES = [r for r in ROLE_LABELS if r != CUSTOMER]

# Customer data every desk role reads; edits by role. Later issues add their own.
_DESK_READ = [
    "customers.view_customer",
    "customers.view_site",
    "customers.view_contract",
    "customers.view_contact",
    "customers.view_meter",
    "metering.view_reading",
    "core.view_region",
    "core.view_area",
    "core.view_feeder",
]

# The business club: account managers read the club and work on meetings and
# tasks; supervisors also run evaluations, see their history and reassign members.
_CLUB_READ = [
    "keyaccounts.view_accountmanager",
    "keyaccounts.view_portfolioassignment",
    "keyaccounts.view_membership",
    "keyaccounts.view_membershipdecision",
    "keyaccounts.view_membershipperiod",
    "keyaccounts.view_meeting",
    "keyaccounts.view_task",
    "keyaccounts.view_surveyresponse",
]
_CLUB_WORK = ["keyaccounts.change_meeting", "keyaccounts.change_task"]
_CLUB_SUPERVISE = [
    "keyaccounts.view_eligibilityrun",
    "keyaccounts.add_eligibilityrun",
    "keyaccounts.add_portfolioassignment",
    "keyaccounts.change_portfolioassignment",
    "keyaccounts.change_accountmanager",
    "keyaccounts.change_membership",
]

# Work orders: every desk role reads them; agents, managers and dispatchers work
# them; dispatchers also run incidents and crews; supervisors see it all.
_WO_READ = [
    "workorders.view_workorder",
    "workorders.view_transition",
    "workorders.view_deadline",
    "workorders.view_comment",
    "workorders.view_attachment",
    "workorders.view_incident",
    "workorders.view_queue",
    "workorders.view_crew",
    "workorders.view_slapolicy",
]
_WO_WORK = [
    "workorders.add_workorder",
    "workorders.change_workorder",
    "workorders.add_comment",
    "workorders.add_attachment",
]
_WO_DISPATCH = [
    "workorders.add_incident",
    "workorders.change_incident",
    "workorders.change_crew",
]

# Billing: the desk reads bills, payments and debts to answer callers; account
# managers and supervisors also take payments and agree arrangements; supervisors
# run billing and issue credit notes; tariffs are the administrator's.
_BILL_READ = [
    "billing.view_tariff",
    "billing.view_tariffversion",
    "billing.view_bill",
    "billing.view_billline",
    "billing.view_payment",
    "billing.view_paymentallocation",
    "billing.view_paymentarrangement",
    "billing.view_instalment",
    "billing.view_onlinepayment",
]
_BILL_COLLECT = ["billing.add_payment", "billing.add_paymentarrangement"]
_BILL_RUN = ["billing.view_billingrun", "billing.add_billingrun", "billing.change_bill"]

# The knowledge base: every desk role that talks to callers reads the articles
# (agents only what is published); knowledge editors write, review and publish them.
_KNOWLEDGE_MODELS = ["article", "articleversion", "articletext"]
_KNOWLEDGE_READ = [f"knowledge.view_{m}" for m in _KNOWLEDGE_MODELS]
_KNOWLEDGE_EDIT = [f"knowledge.{p}_{m}" for p in ("add", "change") for m in _KNOWLEDGE_MODELS]

# Answer-quality review: supervisors sample and review handled orders and follow the
# corrections up; knowledge editors (the articles' owners) work their correction tasks.
_REVIEW_SUPERVISE = [
    "knowledge.add_answerreview",
    "knowledge.view_answerreview",
    "knowledge.view_correctiontask",
]
_CORRECTIONS_WORK = ["knowledge.view_correctiontask", "knowledge.change_correctiontask"]

# Work-order analytics: supervisors see dashboards, root causes, forecasts and the
# staffing plan, and train the classifier; agents get its suggestions while typing.
_ANALYTICS = [
    "analytics.view_analytics",
    "analytics.view_classifiermodel",
    "analytics.add_classifiermodel",
    "analytics.view_staffingassumptions",
]

# Excess-demand events: demand managers declare them; every desk role reads them;
# account managers work their call lists; supervisors see who has not been reached.
_DEMAND_READ = [
    "demand.view_demandevent",
    "demand.view_sheddingwindow",
    "demand.view_calllistentry",
    "demand.view_eventwarning",
]
_DEMAND_DECLARE = [
    "demand.add_demandevent",
    "demand.change_demandevent",
    "demand.declare_demandevent",
]
_DEMAND_CALL = ["demand.change_calllistentry"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CUSTOMER: [],
    AGENT: _DESK_READ
    + ["customers.change_customer", "customers.add_contact", "customers.change_contact"]
    + _WO_READ
    + _WO_WORK
    + _BILL_READ
    + _KNOWLEDGE_READ,
    ACCOUNT_MANAGER: _DESK_READ
    + ["customers.change_customer", "customers.add_contact", "customers.change_contact"]
    + _CLUB_READ
    + _CLUB_WORK
    + _WO_READ
    + _WO_WORK
    + _BILL_READ
    + _BILL_COLLECT
    + _DEMAND_READ
    + _DEMAND_CALL
    + _KNOWLEDGE_READ,
    DISPATCHER: _DESK_READ + _WO_READ + _WO_WORK + _WO_DISPATCH + _DEMAND_READ + _KNOWLEDGE_READ,
    SUPERVISOR: _DESK_READ
    + ["notifications.view_message"]
    + _CLUB_READ
    + _CLUB_WORK
    + _CLUB_SUPERVISE
    + _WO_READ
    + _WO_WORK
    + _WO_DISPATCH
    + _BILL_READ
    + _BILL_COLLECT
    + _BILL_RUN
    + _REVIEW_SUPERVISE
    + _ANALYTICS
    + _DEMAND_READ
    + _KNOWLEDGE_READ,
    KNOWLEDGE_EDITOR: _DESK_READ + _WO_READ + _CORRECTIONS_WORK + _KNOWLEDGE_READ + _KNOWLEDGE_EDIT,
    DEMAND_MANAGER: _DESK_READ
    + ["notifications.view_message"]
    + _WO_READ
    + _DEMAND_READ
    + _DEMAND_DECLARE,
    ADMINISTRATOR: "__all__",
}


@transaction.atomic
def ensure_roles() -> None:
    """Create the role groups and grant their permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        if perms == "__all__":
            group.permissions.set(Permission.objects.all())
            continue
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(user.groups.values_list("name", flat=True))


def is_staff_user(user) -> bool:
    """Desk users: anyone in a staff role (or a superuser)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(user_roles(user) & set(STAFF_ROLES))
