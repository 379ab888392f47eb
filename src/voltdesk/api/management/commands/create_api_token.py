from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.api.services import TokenError, issue_token


class Command(BaseCommand):
    help = "Issue an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the key is for, e.g. 'billing sync'.")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(_("No user named %(username)s.") % {"username": username})
        try:
            issued = issue_token(user, name)
        except TokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            _("API key %(prefix)s for %(username)s. Store it now: it cannot be shown again.")
            % {"prefix": issued.token.prefix, "username": username}
        )
        # The key alone on stdout, so scripts can capture it.
        self.stdout.write(issued.key)
