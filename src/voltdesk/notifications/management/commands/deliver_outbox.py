"""Sweep the outbox once: ``voltdesk deliver_outbox`` (what the beat entry does every minute)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from voltdesk.notifications import services


class Command(BaseCommand):
    help = "Enqueue outbox messages that are due or whose worker was lost."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lease-seconds", type=float, default=None, help="reclaim rows sending this long"
        )
        parser.add_argument(
            "--grace-seconds", type=float, default=None, help="re-enqueue rows due this long"
        )

    def handle(self, *args, **options):
        count = services.dispatch_due(
            lease=_seconds(options["lease_seconds"]), grace=_seconds(options["grace_seconds"])
        )
        self.stdout.write(f"{count} message(s) enqueued")


def _seconds(value):
    return None if value is None else timedelta(seconds=value)
