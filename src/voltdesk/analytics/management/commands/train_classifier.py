"""``voltdesk train_classifier``: train, evaluate and activate the work-order classifier."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from voltdesk.analytics import classifier


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("--since %(value)r is not a date (e.g. 2026-01-31).") % {"value": value}
        ) from None


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


class Command(BaseCommand):
    help = (
        "Train the work-order type/subtype classifier on the utility's own history, "
        "print its evaluation on held-out orders and make it the active model."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", help="only orders created on or after this local day (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--max-orders",
            type=int,
            default=classifier.MAX_ORDERS,
            help="read at most the newest N orders (default %(default)s)",
        )
        parser.add_argument(
            "--test-share",
            type=float,
            default=classifier.TEST_SHARE,
            help="share of each type's newest orders held out for the evaluation "
            "(default %(default)s)",
        )

    def handle(self, *args, since=None, max_orders, test_share, **options):
        say = self.stdout.write
        try:
            model = classifier.train_classifier(
                since=_date(since) if since else None,
                max_orders=max_orders,
                test_share=test_share,
                progress=say,
            )
        except classifier.ClassifierError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        report = model.report
        say(
            _("Macro-F1 on %(held)s held-out orders: type %(type)s, subtype %(subtype)s.")
            % {
                "held": model.orders_held_out,
                "type": _percent(model.macro_f1_type),
                "subtype": _percent(model.macro_f1_subtype),
            }
        )
        for part in ("type", "subtype"):
            for row in report[part]["classes"]:
                say(
                    f"  {row['label']:<34} P {row['precision']:.2f}  R {row['recall']:.2f}"
                    f"  F1 {row['f1']:.2f}  n {row['support']}"
                )
        if report["rare_types"] or report["rare_subtypes"]:
            rare = {**report["rare_types"], **report["rare_subtypes"]}
            say(
                _("Not learnt (fewer than %(min)s orders): %(classes)s")
                % {
                    "min": report["min_class_orders"],
                    "classes": ", ".join(f"{k} ({n})" for k, n in sorted(rare.items())),
                }
            )
        say(
            self.style.SUCCESS(
                _("Classifier %(id)s is active (trained on %(count)s orders).")
                % {"id": model.pk, "count": model.orders_trained}
            )
        )
