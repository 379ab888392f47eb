from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.api.services import TokenError, revoke_token


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part after 'vd_'); it is refused from then on."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        try:
            token = revoke_token(prefix)
        except TokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("API key %(prefix)s of %(username)s is revoked.")
            % {"prefix": token.prefix, "username": token.user.get_username()}
        )
