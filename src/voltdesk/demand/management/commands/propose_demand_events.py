from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import get_utility, utility_zone
from voltdesk.demand.proposals import explain, propose_events


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--date %(value)r is not a date (YYYY-MM-DD)") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Propose excess-demand events for the next days whose temperature or load forecast "
        "crosses the utility's margin (default: from today, in the utility's time zone)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", metavar="DATE", help="today, as YYYY-MM-DD")

    def handle(self, *args, day=None, **options):
        today = _date(day) if day else timezone.now().astimezone(utility_zone()).date()
        run = propose_events(get_utility(), today)
        for proposal in run.created:
            self.stdout.write(explain(proposal))
        self.stdout.write(
            _(
                "Proposals for %(first)s to %(last)s: %(created)s new, %(updated)s updated, "
                "%(withdrawn)s withdrawn."
            )
            % {
                "first": run.first_day.isoformat(),
                "last": run.last_day.isoformat(),
                "created": len(run.created),
                "updated": run.updated,
                "withdrawn": run.withdrawn,
            }
        )
