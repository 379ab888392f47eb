import sys
from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.profiles import PROFILES
from voltdesk.demo.services import DemoError, seed_demo


class Command(BaseCommand):
    help = "Set up the utility and fill an empty database with deterministic demo data."

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="the demo's today (YYYY-MM-DD); history ends at the start of its month",
        )

    def handle(self, *args, profile, customers, seed, as_of, **options):
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)

        def progress(done, total):
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{done}/{total}")
                sys.stderr.flush()

        try:
            result = seed_demo(profile, customers, seed, as_of=as_of, progress=progress)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        self.stdout.write(
            _("Demo data: %(customers)s customers, %(sites)s sites, %(readings)s readings.")
            % {"customers": result.customers, "sites": result.sites, "readings": result.readings}
        )
