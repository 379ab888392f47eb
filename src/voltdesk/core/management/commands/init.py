from django.core.management import BaseCommand, CommandError, call_command
from django.utils.translation import gettext as _

from voltdesk.core.profiles import PROFILES
from voltdesk.core.services import init_utility


class Command(BaseCommand):
    help = "Migrate the database and create the utility from a profile (il or cn)."

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, choices=sorted(PROFILES))

    def handle(self, *args, profile, **options):
        call_command("migrate", interactive=False, verbosity=0)
        try:
            result = init_utility(profile)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        utility = result.utility
        if result.created:
            self.stdout.write(
                _("Created utility %(name)s with profile %(profile)s.")
                % {"name": utility.name, "profile": utility.profile}
            )
        else:
            self.stdout.write(
                _("Utility %(name)s (profile %(profile)s) is already set up; nothing changed.")
                % {"name": utility.name, "profile": utility.profile}
            )
