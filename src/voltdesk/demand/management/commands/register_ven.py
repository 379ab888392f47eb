from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.demand.openadr import OpenADRError, register_ven


class Command(BaseCommand):
    help = (
        "Register a customer's energy-management system (an OpenADR VEN) for some of its "
        "sites; prints its ven_id and registration id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="The customer number.")
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            help="A site number of that customer (repeat for several sites).",
        )
        parser.add_argument("--name", required=True, help="The name the VEN presents.")
        parser.add_argument(
            "--fingerprint",
            default="",
            help="The VEN's TLS client certificate fingerprint (required when the VTN runs TLS).",
        )

    def handle(self, *args, customer, site, name, fingerprint, **options):
        try:
            ven = register_ven(
                customer_ref=customer, site_refs=site, name=name, fingerprint=fingerprint
            )
        except OpenADRError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            _("VEN %(name)s registered for customer %(customer)s, sites %(sites)s.")
            % {
                "name": ven.ven_name,
                "customer": ven.customer.ref,
                "sites": ", ".join(ven.sites.order_by("ref").values_list("ref", flat=True)),
            }
        )
        # The two ids alone on stdout, so scripts can capture them.
        self.stdout.write(f"ven_id {ven.ven_id}")
        self.stdout.write(f"registration_id {ven.registration_id}")
