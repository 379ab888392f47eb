from django.core.management import BaseCommand
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, as_command_error
from voltdesk.core.network import import_network


class Command(BaseCommand):
    help = (
        "Import regions, areas and feeders from a CSV file (region,area,area_kind,feeder). "
        "A bad file is refused whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8")

    def handle(self, *args, path, **options):
        try:
            result = import_network(path)
        except ImportProblem as problem:
            raise as_command_error(problem) from problem
        self.stdout.write(
            _(
                "Network: %(regions)s regions, %(areas)s areas and %(feeders)s feeders created; "
                "%(unchanged)s lines unchanged."
            )
            % {
                "regions": result.regions,
                "areas": result.areas,
                "feeders": result.feeders,
                "unchanged": result.unchanged,
            }
        )
