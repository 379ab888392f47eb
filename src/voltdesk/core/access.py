"""The one place that decides which rows a user may see.

Every page, API route and export takes its querysets from here:

* an anonymous user sees nothing;
* a customer user sees only its own customer: the sites it holds or held, its
  contracts, and readings of those sites only while its contract was in force
  (a site that changed hands does not show the next holder's consumption);
* staff see what their role's view permission allows (all customers);
* anyone else sees nothing.
"""

from datetime import date, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet


def customer_of(user):
    """The customer a customer user acts for, or None for staff and anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return None
    link = getattr(user, "customer_link", None)
    return link.customer if link is not None else None


def _staff_can(user, perm: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(perm)


def sees_every_customer(user) -> bool:
    """Staff whose role may view customers see them all (what ``visible_customers`` gives)."""
    return customer_of(user) is None and _staff_can(user, "customers.view_customer")


def sees_every_site(user) -> bool:
    """Staff whose role may view sites see them all (what ``visible_sites`` gives)."""
    return customer_of(user) is None and _staff_can(user, "customers.view_site")


def visible_customers(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Customer

    qs = Customer.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(pk=customer.pk)
    if sees_every_customer(user):
        return qs
    return qs.none()


def visible_sites(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Site

    qs = Site.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(Q(customer=customer) | Q(contracts__customer=customer)).distinct()
    if sees_every_site(user):
        return qs
    return qs.none()


def visible_contracts(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Contract

    qs = Contract.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer)
    if _staff_can(user, "customers.view_contract"):
        return qs
    return qs.none()


def visible_readings(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Contract
    from voltdesk.metering.models import Reading

    qs = Reading.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        in_force = Contract.objects.filter(
            customer=customer,
            site=OuterRef("site"),
        ).filter(
            Q(start__isnull=True) | Q(start__lte=OuterRef("start")),
            Q(end__isnull=True) | Q(end__gt=OuterRef("start")),
        )
        return qs.filter(Exists(in_force))
    if _staff_can(user, "metering.view_reading"):
        return qs
    return qs.none()


def held_days(contract, zone) -> tuple[date | None, date | None]:
    """The whole local days [first, end) a contract was in force; None = open-ended.

    A contract that starts or ends mid-day does not hold that day: on the day a
    site changed hands each holder would otherwise see the other's hours. The
    exact readings of that day stay visible through ``visible_readings``.
    """
    first = end = None
    if contract.start is not None:
        local = contract.start.astimezone(zone)
        first = local.date() if local.time() == time(0) else local.date() + timedelta(days=1)
    if contract.end is not None:
        end = contract.end.astimezone(zone).date()
    return first, end


def visible_days(user, site, date_from: date, date_to: date) -> list[tuple[date, date]]:
    """The local-day ranges within [date_from, date_to) of a site's consumption the user may see.

    Staff with the view permission see the whole range; a customer user sees the
    whole days its own contracts of the site were in force; anyone else nothing.
    """
    customer = customer_of(user)
    if customer is None:
        return [(date_from, date_to)] if _staff_can(user, "metering.view_reading") else []
    from voltdesk.core.services import utility_zone

    zone = utility_zone()
    spans = []
    for contract in visible_contracts(user).filter(site=site):
        first, end = held_days(contract, zone)
        lo, hi = max(first or date_from, date_from), min(end or date_to, date_to)
        if lo < hi:
            spans.append((lo, hi))
    merged: list[tuple[date, date]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def rollups_held_by(contracts, qs: QuerySet, *, date_field: str, monthly: bool) -> QuerySet:
    """Rollup rows of the contracts' sites for the days (or whole months) they were in force."""
    from voltdesk.core.services import utility_zone

    zone = utility_zone()
    held = None
    for contract in contracts:
        first, end = held_days(contract, zone)
        if monthly:
            # Only months the contract held from their first to their last day.
            if first is not None and first.day != 1:
                first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            if end is not None:
                end = end.replace(day=1)
        clause = Q(site_id=contract.site_id)
        if first is not None:
            clause &= Q(**{f"{date_field}__gte": first})
        if end is not None:
            clause &= Q(**{f"{date_field}__lt": end})
        held = clause if held is None else held | clause
    return qs.none() if held is None else qs.filter(held)


def visible_rollups(user, qs: QuerySet, *, date_field: str) -> QuerySet:
    """Daily (``date_field="day"``) or monthly (``"month"``) rollups the user may see.

    A customer user sees the days, and the whole months, its contracts held; a
    month in which a site changed hands is left to exact figures from readings
    (``metering.services.consumption_seen_by``).
    """
    customer = customer_of(user)
    if customer is not None:
        contracts = list(visible_contracts(user).only("site_id", "start", "end"))
        return rollups_held_by(contracts, qs, date_field=date_field, monthly=date_field == "month")
    if _staff_can(user, "metering.view_reading"):
        return qs
    return qs.none()


# The business club (keyaccounts).
#
# A customer user sees its own customer's membership, decisions, meetings and
# surveys; account managers and supervisors (the view permission of the model)
# see every member; anyone else nothing. An account manager's "my members" is
# the portfolio (``keyaccounts.portfolio.portfolio_of``) within what it may see.
# Tasks are the staff's own work notes: customers never see them.


def account_manager_of(user):
    """The account-manager record of a desk user, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    from voltdesk.keyaccounts.models import AccountManager

    return AccountManager.objects.filter(user=user).select_related("user", "region").first()


def _club_rows(user, qs: QuerySet, perm: str, customer_field: str | None) -> QuerySet:
    customer = customer_of(user)
    if customer is not None:
        if customer_field is None:
            return qs.none()
        return qs.filter(**{customer_field: customer})
    if _staff_can(user, perm):
        return qs
    return qs.none()


def visible_memberships(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import Membership

    qs = Membership.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_membership", "customer")


def visible_decisions(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import MembershipDecision

    qs = MembershipDecision.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_membershipdecision", "membership__customer")


def visible_periods(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import MembershipPeriod

    qs = MembershipPeriod.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_membershipperiod", "membership__customer")


def visible_eligibility_runs(user, qs: QuerySet | None = None) -> QuerySet:
    """Evaluation runs cover every customer: staff with the permission only."""
    from voltdesk.keyaccounts.models import EligibilityRun

    qs = EligibilityRun.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_eligibilityrun", None)


def visible_meetings(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import Meeting

    qs = Meeting.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_meeting", "customer")


def visible_surveys(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import SurveyResponse

    qs = SurveyResponse.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_surveyresponse", "customer")


def visible_tasks(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.keyaccounts.models import Task

    qs = Task.objects.all() if qs is None else qs
    return _club_rows(user, qs, "keyaccounts.view_task", None)


def own_meetings(user, qs: QuerySet | None = None) -> QuerySet:
    """Meetings the user may act on (schedule, record): those it holds as account manager."""
    if not _staff_can(user, "keyaccounts.change_meeting"):
        return visible_meetings(user, qs).none()
    return visible_meetings(user, qs).filter(manager__user=user)


def own_tasks(user, qs: QuerySet | None = None) -> QuerySet:
    """Tasks the user may complete: its own, as account manager."""
    if not _staff_can(user, "keyaccounts.change_task"):
        return visible_tasks(user, qs).none()
    return visible_tasks(user, qs).filter(manager__user=user)


def survey_for_token(token: str):
    """The survey a link's token opens, or None: the token itself is the credential.

    Survey links are answered without logging in (from an e-mail or an SMS);
    the token is random and long (``keyaccounts.surveys.send_survey``), and the
    answer is taken once.
    """
    from voltdesk.keyaccounts.models import SurveyResponse

    if not token:
        return None
    return (
        SurveyResponse.objects.select_related("meeting", "manager__user", "customer")
        .filter(token=token)
        .first()
    )


# Work orders -----------------------------------------------------------------------------
# A customer user sees the orders opened for its customer (all its sites, every
# channel), never an anonymous caller's report on a site it holds (that caller's
# name and number are someone else's), and never staff-only comments.


def visible_work_orders(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.workorders.models import WorkOrder

    qs = WorkOrder.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer)
    if _staff_can(user, "workorders.view_workorder"):
        return qs
    return qs.none()


def visible_work_order_comments(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.workorders.models import Comment

    qs = Comment.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(work_order__customer=customer, internal=False)
    if _staff_can(user, "workorders.view_workorder"):
        return qs
    return qs.none()


def visible_work_order_attachments(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.workorders.models import Attachment

    qs = Attachment.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(work_order__customer=customer)
    if _staff_can(user, "workorders.view_workorder"):
        return qs
    return qs.none()


def visible_incidents(user, qs: QuerySet | None = None) -> QuerySet:
    """Staff see every incident; a customer sees the open ones on its current sites' feeders."""
    from voltdesk.workorders.models import Incident

    qs = Incident.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        from voltdesk.customers.models import Site

        feeders = Site.objects.filter(customer=customer).values("feeder_id")
        return qs.filter(status="open", feeder_id__in=feeders)
    if _staff_can(user, "workorders.view_incident"):
        return qs
    return qs.none()


# Billing. A customer user sees its own customer's issued and credited documents
# (never a draft, which the next billing run may still replace), and only when its
# company role handles money: a business's energy manager sees consumption, not bills.

MONEY_ROLES = {"admin", "finance", "holder"}


def sees_money(user) -> bool:
    """Whether a customer user's company role covers bills, payments and debts."""
    link = getattr(user, "customer_link", None) if user.is_authenticated else None
    return link is None or link.company_role in MONEY_ROLES


def visible_bills(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.billing.models import Bill

    qs = Bill.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        if not sees_money(user):
            return qs.none()
        return qs.filter(customer=customer, status__in=["issued", "credited"])
    if _staff_can(user, "billing.view_bill"):
        return qs
    return qs.none()


def visible_billed_lines(user, qs: QuerySet | None = None) -> QuerySet:
    """Lines of the documents a user may report on.

    Whoever sees money reads the lines of ``visible_bills``; a company role without
    money (the energy manager) reads only the energy lines (kWh, never amounts) of its
    own customer's issued and credited documents, under its contracts.
    """
    from voltdesk.billing.models import BillLine

    qs = BillLine.objects.all() if qs is None else qs
    if sees_money(user):
        return qs.filter(bill__in=visible_bills(user).values("pk"))
    return qs.filter(
        kind="energy",
        bill__status__in=["issued", "credited"],
        bill__customer__in=visible_customers(user).values("pk"),
        bill__contract__in=visible_contracts(user).values("pk"),
    )


def visible_payments(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.billing.models import Payment

    qs = Payment.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer) if sees_money(user) else qs.none()
    if _staff_can(user, "billing.view_payment"):
        return qs
    return qs.none()


def visible_online_payments(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.billing.models import OnlinePayment

    qs = OnlinePayment.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer) if sees_money(user) else qs.none()
    if _staff_can(user, "billing.view_onlinepayment"):
        return qs
    return qs.none()


# The knowledge base -----------------------------------------------------------------------
# Staff with the view permission read every article; only editors (who may change
# articles) see drafts, versions in review and versions sent back; customer users
# see nothing (they get answers from an agent, never the scripts).


def visible_articles(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.knowledge.models import Article

    qs = Article.objects.all() if qs is None else qs
    if customer_of(user) is None and _staff_can(user, "knowledge.view_article"):
        return qs
    return qs.none()


def visible_article_versions(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.knowledge.models import ArticleVersion

    qs = ArticleVersion.objects.all() if qs is None else qs
    if customer_of(user) is not None or not _staff_can(user, "knowledge.view_articleversion"):
        return qs.none()
    if user.has_perm("knowledge.change_article"):
        return qs
    return qs.filter(status__in=["published", "superseded"])
