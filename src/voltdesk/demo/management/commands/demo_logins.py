from django.core.management import BaseCommand
from django.utils.translation import gettext as _

from voltdesk.demo.services import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Print the demo log-ins for every role."

    def handle(self, *args, **options):
        rows = demo_logins()
        if not rows:
            self.stdout.write(_("No demo users here; run seed_demo first."))
            return
        self.stdout.write(
            _("Demo log-ins (password for all: %(password)s)") % {"password": DEMO_PASSWORD}
        )
        width = max(len(u) for u, _r, _c in rows)
        for username, role, customer in rows:
            line = f"  {username.ljust(width)}  {role}"
            if customer:
                line += f" — {customer}"
            self.stdout.write(line)
