"""``voltdesk verify_invoice FILE.pdf``: is this e-invoice's seal intact, valid and ours?

Exit code 0 only when the seal is intact, valid and trusted against the
utility's certificate; 1 when the file was changed, is unsigned or was sealed
by someone else; 2 when it is not a PDF or cannot be read.
"""

from pathlib import Path

from django.core.management import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.billing.seal import SealError, Verdict, check_seal
from voltdesk.core.services import UtilityNotConfigured, get_utility


def _zone():
    """The utility's time zone when there is one: the seal time as the utility's staff read it."""
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(get_utility().time_zone)
    except (UtilityNotConfigured, DatabaseError):
        return None  # checking a file needs no database


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


class Command(BaseCommand):
    help = (
        "Check the electronic seal of an e-invoice PDF against the utility's certificate: "
        "exit 0 when intact, valid and trusted; 1 when changed, unsigned or not ours; "
        "2 when not a PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.pdf")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("%(file)s cannot be read: %(why)s") % {"file": file, "why": exc.strerror}
            ) from exc
        try:
            found = check_seal(data)
        except SealError as exc:
            raise CommandError(str(exc)) from exc
        write = self.stdout.write
        if found.verdict != Verdict.NOT_PDF:
            write(_("File: %(file)s") % {"file": path.name})
            write(_("Invoice number: %(number)s") % {"number": found.invoice_number or "-"})
        if found.verdict not in (Verdict.NOT_PDF, Verdict.UNSIGNED):
            write(_("Intact: %(answer)s") % {"answer": _yes_no(found.intact)})
            write(_("Valid: %(answer)s") % {"answer": _yes_no(found.valid)})
            write(_("Trusted: %(answer)s") % {"answer": _yes_no(found.trusted)})
            write(_("Sealed by: %(signer)s") % {"signer": found.signer or "-"})
            when = timezone.localtime(found.signed_at, _zone()) if found.signed_at else None
            write(_("Sealed at: %(when)s") % {"when": when.isoformat() if when else "-"})
        if found.ok:
            self.stdout.write(self.style.SUCCESS(found.message))
            return
        self.stderr.write(self.style.ERROR(found.message))
        raise SystemExit(2 if found.verdict == Verdict.NOT_PDF else 1)
