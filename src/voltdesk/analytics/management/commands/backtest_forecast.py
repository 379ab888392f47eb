"""``voltdesk backtest_forecast [--by ...] [--horizon N] [--until DATE]``: MASE and coverage."""

import csv

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.analytics.forecasting import ForecastError, backtest_workorders
from voltdesk.core.services import UtilityNotConfigured

from .forecast_workorders import add_common_arguments, parse_common


class Command(BaseCommand):
    help = (
        "Rolling-origin backtest of the work-order forecast: MASE of the model and of "
        "seasonal naive, their ratio and the 80 % interval coverage per horizon bucket."
    )

    def add_arguments(self, parser):
        add_common_arguments(parser, horizon_required=False)
        parser.add_argument(
            "--origins", default="13", help="forecast origins, a week apart (default 13)"
        )
        parser.add_argument("--format", default="table", help="table (default) or csv")

    def handle(self, *args, **options):
        if options["format"] not in ("table", "csv"):
            raise CommandError(
                _("--format must be table or csv, not %(value)r") % {"value": options["format"]}
            )
        args = parse_common(options)
        try:
            origins = int(options["origins"])
        except ValueError:
            origins = 0
        if not 1 <= origins <= 52:
            raise CommandError(
                _("--origins must be a whole number from 1 to 52, not %(value)r")
                % {"value": options["origins"]}
            )
        try:
            rows = backtest_workorders(
                args["horizon"],
                by=args["by"],
                until=args["until"],
                order_type=args["order_type"],
                origins=origins,
            )
        except UtilityNotConfigured as exc:
            raise CommandError(
                _("No utility is set up yet; run: voltdesk init --profile il|cn")
            ) from exc
        except ForecastError as exc:
            raise CommandError(str(exc)) from exc
        if options["format"] == "csv":
            out = csv.writer(self.stdout, lineterminator="\n")
            out.writerow(["series", "days", "model_mase", "naive_mase", "ratio", "coverage80"])
            for r in rows:
                out.writerow(
                    [
                        r.series,
                        r.bucket,
                        f"{r.model_mase:.3f}",
                        f"{r.naive_mase:.3f}",
                        f"{r.ratio:.3f}",
                        f"{r.coverage:.3f}",
                    ]
                )
            return
        width = max([len(_("series"))] + [len(r.series) for r in rows])
        self.stdout.write(
            f"{_('series'):<{width}}  {_('days'):>7}  {_('model MASE'):>10}  "
            f"{_('naive MASE'):>10}  {_('ratio'):>6}  {_('coverage'):>13}"
        )
        for r in rows:
            self.stdout.write(
                f"{r.series:<{width}}  {r.bucket:>7}  {r.model_mase:>10.3f}  "
                f"{r.naive_mase:>10.3f}  {r.ratio:>6.3f}  {r.coverage:>13.0%}"
            )
