"""``voltdesk prepaid_month --month YYYY-MM``: credit and settle every package's month."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from voltdesk.prepaid.settlement import settle_month


class Command(BaseCommand):
    help = "Credit each active prepaid package's month and pay the month's bill from it."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="the billing month, YYYY-MM")

    def handle(self, *args, month, **options):
        try:
            first = dt.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise CommandError(f"--month must be YYYY-MM, e.g. 2026-11 (got {month!r})") from None
        figures = settle_month(first)
        self.stdout.write(
            "{month}: {packages_credited} packages credited, {allocations} allocations, "
            "{shortfalls} shortfalls ({auto_debits} auto-debits, {sms} SMS), "
            "{packages_completed} packages completed".format(**figures)
        )
