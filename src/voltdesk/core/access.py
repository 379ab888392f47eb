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


def visible_customers(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Customer

    qs = Customer.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(pk=customer.pk)
    if _staff_can(user, "customers.view_customer"):
        return qs
    return qs.none()


def visible_sites(user, qs: QuerySet | None = None) -> QuerySet:
    from voltdesk.customers.models import Site

    qs = Site.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(Q(customer=customer) | Q(contracts__customer=customer)).distinct()
    if _staff_can(user, "customers.view_site"):
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
