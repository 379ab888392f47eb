"""``voltdesk forecast_workorders --horizon N [--by type|area|region] [--until DATE]``."""

import csv
from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.analytics.forecasting import MAX_HORIZON, ForecastError, forecast_workorders
from voltdesk.core.services import UtilityNotConfigured
from voltdesk.workorders.choices import OrderType

BY_CHOICES = ("type", "area", "region")


def add_common_arguments(parser, *, horizon_required: bool) -> None:
    parser.add_argument(
        "--horizon",
        required=horizon_required,
        default=None if horizon_required else "90",
        help=f"days to forecast after --until (1 to {MAX_HORIZON})",
    )
    parser.add_argument("--by", default=None, help="one series per type, area or region")
    parser.add_argument(
        "--until",
        default=None,
        help="last local day of history (YYYY-MM-DD); default: the last day with orders",
    )
    parser.add_argument("--type", dest="order_type", default=None, help="only this type")


def parse_common(options) -> dict:
    """The options checked and converted; a bad one is a CommandError naming it."""
    try:
        horizon = int(options["horizon"])
    except (TypeError, ValueError):
        horizon = 0
    if not 1 <= horizon <= MAX_HORIZON:
        raise CommandError(
            _("--horizon must be a whole number of days from 1 to %(max)s, not %(value)r")
            % {"max": MAX_HORIZON, "value": options["horizon"]}
        )
    by = options["by"]
    if by is not None and by not in BY_CHOICES:
        raise CommandError(
            _("--by must be one of %(choices)s, not %(value)r")
            % {"choices": ", ".join(BY_CHOICES), "value": by}
        )
    until = None
    if options["until"] is not None:
        try:
            until = date.fromisoformat(options["until"])
        except ValueError:
            raise CommandError(
                _("--until must be a date as YYYY-MM-DD, not %(value)r")
                % {"value": options["until"]}
            ) from None
    order_type = options["order_type"]
    if order_type is not None and order_type not in OrderType.values:
        raise CommandError(
            _("--type must be one of %(choices)s, not %(value)r")
            % {"choices": ", ".join(OrderType.values), "value": order_type}
        )
    return {"horizon": horizon, "by": by, "until": until, "order_type": order_type}


class Command(BaseCommand):
    help = (
        "Forecast daily work orders for the next N days with 80 % intervals; "
        "--format csv prints date,series,forecast,lo80,hi80."
    )

    def add_arguments(self, parser):
        add_common_arguments(parser, horizon_required=True)
        parser.add_argument("--format", default="table", help="table (default) or csv")

    def handle(self, *args, **options):
        if options["format"] not in ("table", "csv"):
            raise CommandError(
                _("--format must be table or csv, not %(value)r") % {"value": options["format"]}
            )
        args = parse_common(options)
        try:
            rows = forecast_workorders(
                args["horizon"], by=args["by"], until=args["until"], order_type=args["order_type"]
            )
        except UtilityNotConfigured as exc:
            raise CommandError(
                _("No utility is set up yet; run: voltdesk init --profile il|cn")
            ) from exc
        except ForecastError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "csv":
            out = csv.writer(self.stdout, lineterminator="\n")
            out.writerow(["date", "series", "forecast", "lo80", "hi80"])
            for r in rows:
                out.writerow(
                    [
                        r.day.isoformat(),
                        r.series,
                        f"{r.forecast:.1f}",
                        f"{r.lo80:.1f}",
                        f"{r.hi80:.1f}",
                    ]
                )
            return
        width = max([len(_("series"))] + [len(r.series) for r in rows])
        self.stdout.write(
            f"{_('date'):<10}  {_('series'):<{width}}  {_('forecast'):>9}  "
            f"{_('low'):>9}  {_('high'):>9}"
        )
        for r in rows:
            self.stdout.write(
                f"{r.day.isoformat():<10}  {r.series:<{width}}  {r.forecast:>9.1f}  "
                f"{r.lo80:>9.1f}  {r.hi80:>9.1f}"
            )
