"""The one place that decides which rows a user may see.

Every page, API route and export takes its querysets from here:

* an anonymous user sees nothing;
* a customer user sees only its own customer: the sites it holds or held, its
  contracts, and readings of those sites only while its contract was in force
  (a site that changed hands does not show the next holder's consumption);
* staff see what their role's view permission allows (all customers);
* anyone else sees nothing.
"""

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


def visible_rollups(user, qs: QuerySet, *, date_field: str) -> QuerySet:
    """Daily or monthly rollups: a customer user sees those of its periods' sites.

    Rollups are per site and day/month, so for a site that changed hands mid-month
    the customer sees the whole month; pages that need exact figures read readings.
    """
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(site__in=visible_sites(user))
    if _staff_can(user, "metering.view_reading"):
        return qs
    return qs.none()
