from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from voltdesk.analytics import store


class Command(BaseCommand):
    help = (
        "Bring the analytics store (a DuckDB copy of the work orders) up to date: "
        "what changed since the last refresh, or everything with --full."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild from all work orders")

    def handle(self, *args, full=False, **options):
        result = store.refresh(full=full)
        self.stdout.write(
            _(
                "Analytics store %(path)s: %(orders)s work orders, %(changed)s read "
                "(%(mode)s refresh, %(seconds)s s)."
            )
            % {
                "path": store.store_path(),
                "orders": result.orders,
                "changed": result.changed,
                "mode": result.mode,
                "seconds": result.seconds,
            }
        )
