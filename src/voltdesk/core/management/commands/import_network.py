from django.utils.translation import gettext as _

from voltdesk.core.importing import CsvImportCommand
from voltdesk.core.network import import_network


class Command(CsvImportCommand):
    help = (
        "Import regions, areas and feeders from a CSV file (region,area,area_kind,feeder). "
        "A bad file is refused whole."
    )

    def run_import(self, path):
        return import_network(path)

    def summary(self, result) -> str:
        return _(
            "Network: %(regions)s regions, %(areas)s areas and %(feeders)s feeders created; "
            "%(unchanged)s lines unchanged."
        ) % {
            "regions": result.regions,
            "areas": result.areas,
            "feeders": result.feeders,
            "unchanged": result.unchanged,
        }
