"""A site's readings and consumption over the API, scoped by ``core.access``.

kWh are exact decimal strings, never JSON floats.
"""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from voltdesk.api.auth import require_view
from voltdesk.api.errors import InvalidInput
from voltdesk.api.pagination import LimitOffset
from voltdesk.api.params import (
    DateFrom,
    DateTo,
    MomentFrom,
    MomentTo,
    SiteRef,
    check_range,
    parse_moment,
)
from voltdesk.core.access import (
    visible_readings,
    visible_sites,
)
from voltdesk.customers.models import Site
from voltdesk.metering.models import KWH
from voltdesk.metering.visibility import consumption_seen_by

router = Router(tags=["metering"])

KWH_QUANTUM = Decimal(1).scaleb(-KWH["decimal_places"])


def kwh_text(value: Decimal | None) -> str | None:
    """Fixed six decimals, so SQLite's and PostgreSQL's sums print the same."""
    return None if value is None else str(Decimal(value).quantize(KWH_QUANTUM))


class ReadingOut(Schema):
    start: dt.datetime
    end: dt.datetime
    kwh: str = Field(..., description="kWh as an exact decimal string.")
    quality: str

    @staticmethod
    def resolve_kwh(obj):
        return kwh_text(obj.kwh)


class MonthOut(Schema):
    month: dt.date = Field(..., description="First day of the month (utility time zone).")
    kwh: str = Field(..., description="kWh in the part of the month within the range.")


class ConsumptionOut(Schema):
    site: str
    date_from: dt.date = Field(..., alias="from")
    date_to: dt.date = Field(..., alias="to")
    total_kwh: str
    months: list[MonthOut]


def get_site(user, ref: str) -> Site:
    return get_object_or_404(visible_sites(user), ref=ref)


@router.get(
    "/sites/{ref}/readings",
    response=list[ReadingOut],
    summary="A site's readings",
    description=(
        "Readings whose start falls in [from, to). `from` and `to` are ISO 8601 dates or "
        "date-times; a date, or a date-time without offset, is in the utility's time zone."
    ),
)
@paginate(LimitOffset)
def list_site_readings(
    request,
    ref: SiteRef,
    date_from: MomentFrom = None,
    date_to: MomentTo = None,
):
    user = require_view(request, "metering.view_reading")
    start = parse_moment("from", date_from)
    end = parse_moment("to", date_to)
    check_range("from", "to", start, end)
    site = get_site(user, ref)
    readings = visible_readings(user).filter(site=site)
    if start is not None:
        readings = readings.filter(start__gte=start)
    if end is not None:
        readings = readings.filter(start__lt=end)
    return readings.order_by("start", "end")


# Consumption ------------------------------------------------------------------


# Outside these years a date is a typo, and local midnight may not convert to UTC.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
# Past this a range is a typo; it also keeps the month list of an answer small.
MAX_CONSUMPTION_DAYS = 366 * 20


@router.get(
    "/sites/{ref}/consumption",
    response=ConsumptionOut,
    by_alias=True,
    summary="A site's consumption",
    description=(
        "Total kWh and a monthly breakdown for local dates in [from, to) in the "
        "utility's time zone (end exclusive)."
    ),
)
def get_site_consumption(
    request,
    ref: SiteRef,
    date_from: DateFrom,
    date_to: DateTo,
):
    user = require_view(request, "metering.view_reading")
    for field, day in (("from", date_from), ("to", date_to)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput(
                field,
                _("Enter a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                code="date_range",
            )
    check_range("from", "to", date_from, date_to)
    if (date_to - date_from).days > MAX_CONSUMPTION_DAYS:
        raise InvalidInput(
            "to",
            _("The range may span at most %(days)s days.") % {"days": MAX_CONSUMPTION_DAYS},
            code="range_too_long",
        )
    site = get_site(user, ref)
    total, months = consumption_seen_by(user, site, date_from, date_to)
    return {
        "site": site.ref,
        "from": date_from,
        "to": date_to,
        "total_kwh": kwh_text(total),
        "months": [{"month": m, "kwh": kwh_text(k)} for m, k in months],
    }
