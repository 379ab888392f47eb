from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.keyaccounts.services import EligibilityError, evaluate_club


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--as-of %(value)r is not a date (YYYY-MM-DD)") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Evaluate every customer for the business club as of a date (default today, in the "
        "utility's time zone) and print how many joined, left and stayed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", metavar="DATE")

    def handle(self, *args, as_of=None, **options):
        try:
            result = evaluate_club(_date(as_of) if as_of else None)
        except EligibilityError as exc:
            raise CommandError(str(exc)) from exc
        run = result.run
        if not result.created:
            self.stdout.write(
                _("The club was already evaluated as of %(date)s; nothing changed.")
                % {"date": run.as_of.isoformat()}
            )
        self.stdout.write(
            _(
                "Club as of %(date)s: %(joined)s joined, %(left)s left, %(stayed)s stayed "
                "(%(customers)s customers evaluated)."
            )
            % {
                "date": run.as_of.isoformat(),
                "joined": run.joined,
                "left": run.left,
                "stayed": run.stayed,
                "customers": run.customers,
            }
        )
