from django.utils.translation import gettext as _

from voltdesk.core.importing import CsvImportCommand
from voltdesk.workorders.importing import import_workorders


class Command(CsvImportCommand):
    help = (
        "Import work-order history from a CSV file (created_at,closed_at,channel,type,subtype,"
        "description,area,customer_ref,site_ref). A bad file is refused whole."
    )

    def run_import(self, path):
        return import_workorders(path)

    def summary(self, result) -> str:
        if result.already_imported:
            return _("This file was imported before; nothing changed.")
        return _("Work orders: %(created)s imported.") % {"created": result.created}
