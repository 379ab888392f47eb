from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, as_command_error
from voltdesk.core.services import UtilityNotConfigured
from voltdesk.customers.services import import_customers


class Command(BaseCommand):
    help = (
        "Import customers from a CSV file (customer_ref,name,kind,phone,email,language; "
        "optional id_number, address). A bad file is refused whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8")

    def handle(self, *args, path, **options):
        try:
            result = import_customers(path)
        except ImportProblem as problem:
            raise as_command_error(problem) from problem
        except UtilityNotConfigured as exc:
            raise CommandError(
                _("No utility is set up yet; run: voltdesk init --profile il|cn")
            ) from exc
        self.stdout.write(
            _("Customers: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )
