from django.utils.translation import gettext as _

from voltdesk.core.importing import CsvImportCommand
from voltdesk.customers.services import import_customers


class Command(CsvImportCommand):
    help = (
        "Import customers from a CSV file (customer_ref,name,kind,phone,email,language; "
        "optional id_number, address). A bad file is refused whole."
    )

    def run_import(self, path):
        return import_customers(path)

    def summary(self, result) -> str:
        return _(
            "Customers: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."
        ) % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
