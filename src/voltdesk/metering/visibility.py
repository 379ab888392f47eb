"""Consumption as a given user may see it: the access rule applied to the figures.

Staff see a site's whole consumption; a customer user sees only the whole local
days its own contracts of the site were in force (``core.access.visible_days``).
Pages and the API both read consumption through here, so they always agree.
"""

from datetime import date
from decimal import Decimal

from voltdesk.core.access import visible_days

from .periods import first_of_month, next_month
from .services import site_consumption


def month_starts(date_from: date, date_to: date) -> list[date]:
    """First days of the months that meet [date_from, date_to)."""
    months, month = [], first_of_month(date_from)
    while month < date_to:
        months.append(month)
        month = next_month(month)
    return months


def consumption_seen_by(user, site, date_from: date, date_to: date):
    """Total and (month, kWh) pairs of a site in [date_from, date_to), as the user may see it."""
    by_month = dict.fromkeys(month_starts(date_from, date_to), Decimal(0))
    for lo, hi in visible_days(user, site, date_from, date_to):
        for month, kwh in site_consumption(site, lo, hi).months:
            by_month[month] += kwh
    return sum(by_month.values(), Decimal(0)), sorted(by_month.items())


def partial_months_held(contract, zone, months: list[date]) -> list[tuple[date, date, date]]:
    """(month, first day, end day) of the months in ``months`` a contract held only in part.

    Monthly rollups cover whole months; these are the months where the contract
    began or ended mid-month, whose exact share comes from readings.
    """
    from voltdesk.core.access import held_days

    first, end = held_days(contract, zone)
    wanted = set(months)
    parts = []
    if first is not None and first.day != 1 and first_of_month(first) in wanted:
        stop = next_month(first)
        if end is not None and end < stop:
            stop = end
        if first < stop:
            parts.append((first_of_month(first), first, stop))
    if end is not None and end.day != 1 and first_of_month(end) in wanted:
        begin = first_of_month(end)
        if first is None or first <= begin:
            parts.append((begin, begin, end))
    return parts
