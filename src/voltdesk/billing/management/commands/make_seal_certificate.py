"""``voltdesk make_seal_certificate``: the utility's seal CA and seal certificate.

Written under ``VAR_DIR/seal`` (or at ``VOLTDESK_SEAL_KEY`` / ``VOLTDESK_SEAL_CERT``
/ ``VOLTDESK_SEAL_CHAIN``); refuses to overwrite an existing one without ``--force``,
because invoices sealed with the old one would no longer validate.
"""

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.billing.seal import SealError, make_seal_certificate
from voltdesk.core.services import UtilityNotConfigured, get_utility


class Command(BaseCommand):
    help = (
        "Make the utility's self-signed seal CA and seal certificate for e-invoices; "
        "--force replaces an existing one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="replace an existing seal")

    def handle(self, *args, force, **options):
        try:
            utility = get_utility()
        except UtilityNotConfigured as exc:
            raise CommandError(
                _("No utility yet: run “voltdesk init --profile il|cn” first.")
            ) from exc
        try:
            paths = make_seal_certificate(utility.name, country=utility.country, force=force)
        except SealError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Seal certificate written: %(cert)s (key %(key)s).")
                % {"cert": paths.cert, "key": paths.key}
            )
        )
