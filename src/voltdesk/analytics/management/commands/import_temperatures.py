from django.utils.translation import gettext as _

from voltdesk.analytics.temperatures import import_temperatures
from voltdesk.core.importing import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import daily temperatures from a CSV file (day,celsius[,region]); "
        "a bad file is refused whole."
    )

    def run_import(self, path):
        return import_temperatures(path)

    def summary(self, result) -> str:
        return _("Temperatures: %(created)s new days, %(updated)s updated.") % {
            "created": result.created,
            "updated": result.updated,
        }
