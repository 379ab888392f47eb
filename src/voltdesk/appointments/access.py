"""Who sees which bookings and applications, on the rule of ``core.access``.

A customer user sees its own customer's rows only; desk staff with
``workorders.view_workorder`` see all (the hall desk works from the same
permission as the work orders); anyone else sees nothing. Every page of this
app takes its rows from here.
"""

from django.db.models import QuerySet

from voltdesk.core.access import customer_of

STAFF_PERMISSION = "workorders.view_workorder"


def _staff_can(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(STAFF_PERMISSION)


def visible_bookings(user, qs: QuerySet | None = None) -> QuerySet:
    from .models import Booking

    qs = Booking.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer)
    if _staff_can(user):
        return qs
    return qs.none()


def visible_applications(user, qs: QuerySet | None = None) -> QuerySet:
    from .models import Application

    qs = Application.objects.all() if qs is None else qs
    customer = customer_of(user)
    if customer is not None:
        return qs.filter(customer=customer)
    if _staff_can(user):
        return qs
    return qs.none()
