from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.core.services import utility_zone
from voltdesk.customers.models import Site
from voltdesk.metering.services import ConsumptionError, site_consumption


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(option)s %(value)r is not a date (YYYY-MM-DD)")
            % {"option": option, "value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Print a site's total kWh and monthly breakdown between two local dates (--to exclusive)."
    )

    def add_arguments(self, parser):
        parser.add_argument("site_ref")
        parser.add_argument("--from", dest="date_from", required=True, metavar="DATE")
        parser.add_argument("--to", dest="date_to", required=True, metavar="DATE")

    def handle(self, *args, site_ref, date_from, date_to, **options):
        start, end = _date("--from", date_from), _date("--to", date_to)
        site = Site.objects.filter(ref=site_ref).first()
        if site is None:
            raise CommandError(_("unknown site %(site)s") % {"site": site_ref})
        try:
            result = site_consumption(site, start, end)
        except ConsumptionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Site %(site)s, %(from)s to %(to)s (exclusive, %(zone)s)")
            % {
                "site": site.ref,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "zone": utility_zone().key,
            }
        )
        for month, kwh in result.months:
            self.stdout.write(f"  {month:%Y-%m}  {kwh:>20} kWh")
        self.stdout.write(_("Total: %(kwh)s kWh") % {"kwh": result.total})
