from django.utils.translation import gettext as _

from voltdesk.core.importing import CsvImportCommand
from voltdesk.demand.loadforecasts import import_load_forecasts


class Command(CsvImportCommand):
    help = (
        "Import regions' day-ahead peak-load forecasts from a CSV file "
        "(day,region,peak_mw[,peak_hour]); a bad file is refused whole."
    )

    def run_import(self, path):
        return import_load_forecasts(path)

    def summary(self, result) -> str:
        return _("Load forecasts: %(rows)s region-days imported.") % {"rows": result.rows}
