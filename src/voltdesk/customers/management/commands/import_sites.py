from django.utils.translation import gettext as _

from voltdesk.core.importing import CsvImportCommand
from voltdesk.customers.services import import_sites


class Command(CsvImportCommand):
    help = (
        "Import sites and their contracts from a CSV file "
        "(site_ref,customer_ref,address,area,feeder,supplier,tariff). A bad file is refused whole."
    )

    def run_import(self, path):
        return import_sites(path)

    def summary(self, result) -> str:
        return _("Sites: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
