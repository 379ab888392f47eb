"""Business-club services called by the commands, the monthly task and the pages.

* ``evaluate_club``: evaluate everyone as of a date (default: today in the
  utility's time zone); see ``eligibility`` for the rule.
* ``explain_decision``: a join or a leave in plain words, for the customer.
* ``club_roster``: every customer that is or has been a member, for exports.
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voltdesk.core.services import get_utility

from .choices import DecisionKind, DecisionReason, EligibilityRule
from .eligibility import EligibilityError, RunResult, recompute_memberships
from .models import Membership, MembershipDecision

__all__ = [
    "EligibilityError",
    "RunResult",
    "club_roster",
    "evaluate_club",
    "explain_decision",
    "recompute_memberships",
]


def evaluate_club(as_of: date | None = None, actor=None) -> RunResult:
    """Evaluate every customer for the club as of ``as_of`` (default: today, local time).

    Safe to repeat: a date already evaluated returns that run unchanged.
    """
    if as_of is None:
        as_of = datetime.now(ZoneInfo(get_utility().time_zone)).date()
    return recompute_memberships(as_of, actor=actor)


def whole_kwh(value: Decimal) -> str:
    """Whole kWh with grouped digits, rounded down.

    Down, so the words never contradict the decision: 999,999.6 kWh below a
    1,000,000 kWh bar reads as 999,999, not as the bar itself.
    """
    whole = Decimal(value).to_integral_value(rounding=ROUND_FLOOR)
    return formats.number_format(whole, decimal_pos=0, use_l10n=True, force_grouping=True)


def _months(decision: MembershipDecision) -> int:
    run = decision.run
    tz = ZoneInfo(get_utility().time_zone)
    start = run.window_start.astimezone(tz).date()
    return (run.as_of.year - start.year) * 12 + run.as_of.month - start.month


def explain_decision(decision: MembershipDecision) -> str:
    """The decision in plain words, with its figures, in the active language.

    For example: "Your sites together used 5,050,000 kWh in the 12 months
    before July 1, 2026; the bar for several sites is 5,000,000 kWh, so you
    joined the club."
    """
    run = decision.run
    values = {
        "kwh": whole_kwh(decision.annual_kwh),
        "largest": whole_kwh(decision.largest_site_kwh),
        "bar": whole_kwh(decision.threshold_kwh),
        "single": whole_kwh(run.single_site_kwh),
        "multi": whole_kwh(run.multi_site_kwh),
        "months": _months(decision),
        "date": formats.date_format(run.as_of, "DATE_FORMAT"),
        "count": run.exit_after,
    }
    joined = decision.kind == DecisionKind.JOINED
    reason = decision.reason
    if reason == DecisionReason.SINGLE_SITE_AT_BAR:
        text = _(
            "Your site used %(kwh)s kWh in the %(months)s months before %(date)s; the bar for "
            "a single site is %(bar)s kWh, so you joined the club."
        )
    elif reason == DecisionReason.GROUP_AT_BAR:
        text = _(
            "Your sites together used %(kwh)s kWh in the %(months)s months before %(date)s; "
            "the bar for several sites is %(bar)s kWh, so you joined the club."
        )
    elif reason == DecisionReason.ONE_SITE_AT_BAR:
        text = _(
            "Your largest site used %(largest)s kWh in the %(months)s months before %(date)s "
            "(all your sites together %(kwh)s kWh); the bar for any one site is %(bar)s kWh, "
            "so you joined the club."
        )
    elif reason == DecisionReason.NO_SITES:
        text = _("You held no site in the %(months)s months before %(date)s, so you left the club.")
    elif decision.site_count == 1:
        text = _(
            "Your site used %(kwh)s kWh in the %(months)s months before %(date)s; the bar for "
            "a single site is %(bar)s kWh, so you left the club."
        )
    elif run.rule == EligibilityRule.ANY_SITE:
        text = _(
            "Your sites together used %(kwh)s kWh and your largest site %(largest)s kWh in the "
            "%(months)s months before %(date)s; the bars are %(multi)s kWh for all sites "
            "together and %(single)s kWh for any one site, so you left the club."
        )
    else:
        text = _(
            "Your sites together used %(kwh)s kWh in the %(months)s months before %(date)s; "
            "the bar for several sites is %(bar)s kWh, so you left the club."
        )
    parts = [text % values]
    if not joined and reason == DecisionReason.BELOW_BAR and run.exit_after > 1:
        parts.append(
            ngettext(
                "It was below the bar in %(count)s evaluation in a row.",
                "It was below the bar in %(count)s evaluations in a row.",
                run.exit_after,
            )
            % values
        )
    if decision.flagged_sites:
        parts.append(
            _(
                "Some of your sites had too few meter readings in that period (%(sites)s); "
                "your account manager can check them with you."
            )
            % {"sites": ", ".join(decision.flagged_sites)}
        )
    return " ".join(parts)


ROSTER_FIELDS = ("customer_ref", "status", "annual_kwh", "sites", "since")


def club_roster() -> Iterator[dict]:
    """Every customer that is or has been a member, by customer number.

    ``annual_kwh`` is the exact decimal of the latest evaluation as a string;
    ``since`` the start of the current or last period (ISO date).
    """
    rows = (
        Membership.objects.order_by("customer__ref")
        .values_list("customer__ref", "status", "annual_kwh", "site_count", "since")
        .iterator(chunk_size=2000)
    )
    for ref, status, annual_kwh, sites, since in rows:
        yield {
            "customer_ref": ref,
            "status": status,
            "annual_kwh": f"{Decimal(annual_kwh).quantize(Decimal('0.000001')):f}",
            "sites": sites,
            "since": since.isoformat(),
        }
