"""Request parameters shared by the apps' routers: refs and ISO dates/times."""

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Path, Query

from voltdesk.core.services import utility_zone

from .errors import InvalidInput

# Control characters can never be part of a ref or a search, and PostgreSQL
# refuses NUL outright: rejecting them here keeps such input a 422, not a 500.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
REF_MAX = 40


def _ref(description: str):
    return Path(min_length=1, max_length=REF_MAX, pattern=PRINTABLE, description=description)


CustomerRef = Annotated[str, _ref("Customer number.")]
SiteRef = Annotated[str, _ref("Site number.")]
Search = Annotated[
    str, Query(max_length=100, pattern=PRINTABLE, description="Number (prefix) or name.")
]
# Dates or date-times, parsed by parse_moment (which knows the utility's time zone).
MomentFrom = Annotated[str | None, Query(alias="from", max_length=40)]
MomentTo = Annotated[str | None, Query(alias="to", max_length=40)]
DateFrom = Annotated[dt.date, Query(alias="from", description="First day (YYYY-MM-DD).")]
DateTo = Annotated[dt.date, Query(alias="to", description="Day after the last (YYYY-MM-DD).")]


def parse_moment(field: str, value: str | None) -> dt.datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime.

    A date means local midnight, and a date-time without offset local time, in the
    utility's time zone: that is how its customers and staff read a day.
    """
    if value is None or value == "":
        return None
    message = _(
        "Enter an ISO 8601 date or date-time, e.g. 2024-01-31 or 2024-01-31T08:00:00+02:00."
    )
    try:
        moment = dt.datetime.fromisoformat(value)  # a bare date gives midnight
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=utility_zone())
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        # OverflowError: a valid date too close to year 1 or 9999 to move to UTC.
        raise InvalidInput(field, message, code="date_parsing") from None


def check_range(field_from: str, field_to: str, start, end) -> None:
    """Ranges are [from, to): ``to`` must come after ``from``."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput(
            field_to,
            _("%(to)s must be later than %(from)s.") % {"to": field_to, "from": field_from},
            code="range",
        )
