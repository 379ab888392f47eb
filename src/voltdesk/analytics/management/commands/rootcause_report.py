"""``voltdesk rootcause_report --month YYYY-MM [--output FILE.pdf] [--language he|zh-hans|en]``."""

from pathlib import Path

from django.core.management import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from voltdesk.analytics import rootcauses
from voltdesk.core.choices import Language
from voltdesk.core.services import get_utility


class Command(BaseCommand):
    help = (
        "Write a month's root-cause report as PDF (abnormal feeders and areas, complaint "
        "themes, chains of repeated contacts, answer errors) and print its summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, metavar="YYYY-MM")
        parser.add_argument(
            "--output", metavar="FILE.pdf", help="default: root-causes-YYYY-MM.pdf here"
        )
        parser.add_argument(
            "--language",
            choices=Language.values,
            help="the report's language (default: the utility's)",
        )

    def handle(self, *args, month, output, language, **options):
        try:
            period = rootcauses.month_period(month)
        except rootcauses.RootCauseError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from exc
        language = language or get_utility().default_language
        report = rootcauses.monthly_report(period)
        path = Path(output or rootcauses.pdf_filename(period))
        try:
            path.write_bytes(rootcauses.render_report_pdf(report, language=language))
        except OSError as exc:
            raise CommandError(f"--output: {exc}") from exc
        with translation.override(language):
            self.stdout.write(
                _(
                    "%(month)s: %(feeders)s abnormal feeders, %(areas)s abnormal areas, "
                    "%(themes)s complaint themes, %(chains)s chains of repeated contacts."
                )
                % {
                    "month": period.month_code,
                    "feeders": len(report.feeders.abnormal),
                    "areas": len(report.areas.abnormal),
                    "themes": len(report.themes.themes),
                    "chains": sum(s.chains for s in report.chains.values()),
                }
            )
            for unit in report.feeders.abnormal:
                self.stdout.write(
                    f"  {unit.name}: {unit.observed} / {unit.expected:.1f} "
                    f"(p={unit.p_value:.1e}) {unit.recommendation}"
                )
            self.stdout.write(_("Written to %(path)s") % {"path": path})
