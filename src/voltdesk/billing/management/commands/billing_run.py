import re
import sys
from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.billing.runs import BillingError, billing_run, issue_bills
from voltdesk.core.services import UtilityNotConfigured

PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(value: str) -> date:
    match = PERIOD.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(
            _("--period %(value)s: expected a month as YYYY-MM, e.g. 2026-11") % {"value": value}
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


class Command(BaseCommand):
    help = (
        "Draft the month's bill of every contract in force from its readings; a re-run "
        "replaces drafts and keeps issued bills. --issue numbers and issues the drafts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, metavar="YYYY-MM")
        parser.add_argument("--issue", action="store_true", help="issue the drafts afterwards")

    def handle(self, *args, period, issue, **options):
        month = parse_period(period)
        bar = None

        def progress(done, total):
            nonlocal bar
            if not sys.stderr.isatty():
                return
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=total, desc=period, unit=" contracts", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            run = billing_run(month, progress=progress)
            issued = issue_bills(month) if issue else None
        except (BillingError, UtilityNotConfigured) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        f = run.figures
        self.stdout.write(
            _(
                "%(period)s: %(billed)d contracts billed, %(skipped)d skipped (no tariff or no "
                "priced version), %(replaced)d drafts replaced, %(kept)d issued bills kept."
            )
            % {
                "period": period,
                "billed": f["billed"],
                "skipped": f["skipped"],
                "replaced": f["drafts_replaced"],
                "kept": f["kept"],
            }
        )
        for note in f.get("notes", []):
            self.stdout.write(note)
        if issued is not None:
            self.stdout.write(_("%(count)d bills issued.") % {"count": issued})
