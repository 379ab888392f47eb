import csv
from datetime import date

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.analytics import staffing


def _week(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--week: “%(value)s” is not a date; give it as YYYY-MM-DD.") % {"value": value}
        ) from None


class Command(BaseCommand):
    help = (
        "Print the staffing plan of a week (docs/staffing.md): agents per half hour by "
        "Erlang C (Erlang A when a caller patience is set) and crews per region and day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--week", metavar="DATE", help="a day of the week to plan (default: next week)"
        )
        parser.add_argument("--format", choices=["table", "csv"], default="table")
        parser.add_argument(
            "--crews", action="store_true", help="with --format csv: crews instead of agents"
        )
        parser.add_argument(
            "--asa", type=float, metavar="SECONDS", help="average speed of answer target"
        )

    def handle(self, *args, week, format, crews, asa, **options):
        if asa is not None and not 0 < asa <= 3600:
            raise CommandError(_("--asa: give a number of seconds from 1 to 3600."))
        try:
            plan = staffing.plan_week(_week(week) if week else None, asa_seconds=asa)
        except staffing.StaffingError as exc:
            prefix = f"--{exc.field}: " if exc.field else ""
            raise CommandError(prefix + exc.message) from exc
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            if crews:
                writer.writerow(staffing.CREW_CSV_HEADER)
                writer.writerows(staffing.crew_rows(plan))
            else:
                writer.writerow(staffing.CSV_HEADER)
                writer.writerows(staffing.plan_rows(plan))
            return
        self._table(plan)

    def _table(self, plan):
        out = self.stdout
        out.write(
            _("Staffing plan for the week of %(start)s (history up to %(until)s)")
            % {"start": plan.start.isoformat(), "until": plan.history_until.isoformat()}
        )
        out.write(
            _(
                "Calls %(calls).0f · answered in time %(sl).1f %% · average speed of answer "
                "%(asa).1f s · agent-hours %(hours).1f · scheduled %(scheduled).1f"
            )
            % {
                "calls": plan.calls,
                "sl": 100 * plan.service_level,
                "asa": plan.asa_seconds,
                "hours": plan.agent_hours,
                "scheduled": plan.scheduled_hours,
            }
        )
        header = [_("Half hour")] + [d.day.strftime("%a %m-%d") for d in plan.days]
        out.write("  ".join(f"{h:>9}" for h in header))
        for index in range(staffing.SLOTS_PER_DAY):
            cells = [plan.days[0].slots[index].start.strftime("%H:%M")] + [
                str(d.slots[index].agents) for d in plan.days
            ]
            out.write("  ".join(f"{c:>9}" for c in cells))
        totals = [_("Hours")] + [f"{d.agent_hours:.1f}" for d in plan.days]
        out.write("  ".join(f"{c:>9}" for c in totals))
        out.write("")
        out.write(_("Crews per region (peak day in brackets)"))
        for region, days in plan.crews_by_region():
            cells = [f"{c.crews} ({c.peak_crews})" for c in days]
            out.write(f"{region[:24]:<24}  " + "  ".join(f"{c:>9}" for c in cells))
