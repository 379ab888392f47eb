import csv
import json

from django.core.management import BaseCommand

from voltdesk.keyaccounts.services import ROSTER_FIELDS, club_roster


class Command(BaseCommand):
    help = (
        "Print every customer that is or has been a club member: "
        "customer_ref,status,annual_kwh,sites,since (status member or former)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=["csv", "json"], default="csv")

    def handle(self, *args, fmt, **options):
        rows = club_roster()
        if fmt == "json":
            self.stdout.write(json.dumps(list(rows), ensure_ascii=False, indent=2))
            return
        writer = csv.DictWriter(self.stdout, fieldnames=ROSTER_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
