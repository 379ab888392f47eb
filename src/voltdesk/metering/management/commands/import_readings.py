from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.importing import ImportProblem, as_command_error
from voltdesk.metering.services import import_readings


class Command(BaseCommand):
    help = (
        "Import meter readings from a CSV (site_ref,start,end,kwh) or a Green Button "
        "(ESPI) XML file, told apart by content."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            metavar="SITE_REF | USAGE_POINT=SITE_REF",
            help=(
                "The site of a CSV without a site_ref column or of a Green Button file's one "
                "electricity usage point; repeat USAGE_POINT=SITE_REF to map several."
            ),
        )

    def handle(self, *args, file, site, **options):
        site_ref, site_map = None, {}
        for value in site:
            if "=" in value:
                point, _sep, ref = value.partition("=")
                if not point.strip() or not ref.strip():
                    raise CommandError(
                        _("--site %(value)s: expected USAGE_POINT=SITE_REF") % {"value": value}
                    )
                site_map[point.strip()] = ref.strip()
            elif site_ref is not None:
                raise CommandError(
                    _("--site SITE_REF can be given once; use USAGE_POINT=SITE_REF for several")
                )
            else:
                site_ref = value.strip()
        if site_ref and site_map:
            raise CommandError(_("give either --site SITE_REF or USAGE_POINT=SITE_REF mappings"))
        try:
            result = import_readings(file, site_ref=site_ref, site_map=site_map or None)
        except ImportProblem as problem:
            raise as_command_error(problem) from problem
        if result.already_imported:
            self.stdout.write(
                _("%(file)s was already imported on %(when)s; nothing changed.")
                % {
                    "file": file,
                    "when": result.batch.imported_at.strftime("%Y-%m-%d %H:%M UTC"),
                }
            )
            return
        for note in result.notes:
            self.stdout.write(note)
        self.stdout.write(
            _(
                "%(file)s: %(inserted)d readings imported for %(sites)d site(s); "
                "%(present)d were already stored."
            )
            % {
                "file": file,
                "inserted": result.inserted,
                "sites": len(result.site_ids),
                "present": result.already_present,
            }
        )
