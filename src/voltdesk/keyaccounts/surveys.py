"""Satisfaction surveys after meetings and closed work orders: send, answer, report.

* A survey has a random token; the customer answers at ``/portal/survey/<token>/``
  (linked by e-mail or SMS, and listed in the portal). Sending twice for the
  same meeting or work order returns the first survey.
* CSAT is 1–5, NPS 0–10; a survey is answered once. A low score (CSAT ≤ 2 or
  NPS ≤ 6) opens a recovery task for the customer's account manager, due in
  2 working days.
* Results: surveys sent in a period grouped by manager, region or month, with
  the average CSAT and NPS = % promoters (9–10) − % detractors (0–6) among
  the answers, aggregated in the database.
"""

import logging
import secrets
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.models import Region
from voltdesk.core.services import log_action, utility_zone
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.services import NotificationError, queue_message

from .choices import SurveyContext, TaskKind
from .models import AccountManager, SurveyResponse
from .portfolio import _manager_contact, _public_url, _tell_customer, current_manager
from .tasks_service import add_working_days, create_task, local_today, manager_language

logger = logging.getLogger(__name__)

RECOVERY_WORKING_DAYS = 2
LOW_CSAT = 2
LOW_NPS = 6
MAX_COMMENT = 4000


class SurveyError(ValueError):
    """A survey input or action refused; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def survey_path(token: str) -> str:
    return f"/portal/survey/{token}/"


def send_survey(
    customer,
    *,
    context: str,
    meeting=None,
    work_order_ref: str = "",
    channel: str | None = None,
) -> SurveyResponse:
    """Create a survey and send the customer its link.

    ``channel`` None sends by e-mail, else by SMS, else not at all (the survey
    still waits in the portal). A named channel the customer cannot be reached
    on is refused.
    """
    if context not in SurveyContext.values:
        raise SurveyError("context", _("Unknown survey occasion."))
    if channel is not None and channel not in Channel.values:
        raise SurveyError("channel", _("Unknown channel."))
    with transaction.atomic():
        earlier = None
        if meeting is not None:
            earlier = SurveyResponse.objects.filter(meeting=meeting).first()
        elif work_order_ref:
            earlier = SurveyResponse.objects.filter(
                customer=customer, context=context, work_order_ref=work_order_ref
            ).first()
        if earlier is not None:
            return earlier
        manager = meeting.manager if meeting is not None else current_manager(customer)
        survey = SurveyResponse.objects.create(
            customer=customer,
            context=context,
            meeting=meeting,
            work_order_ref=work_order_ref[:40],
            manager=manager,
            token=secrets.token_urlsafe(24),
        )
        log_action(
            None,
            "club.survey_sent",
            survey,
            {
                "context": context,
                "meeting": getattr(meeting, "pk", None),
                "work_order": work_order_ref,
            },
        )
        payload = {
            "name": customer.name,
            "context": context,
            "work_order_ref": work_order_ref,
            "survey_url": _public_url(survey_path(survey.token)),
            **_manager_contact(manager),
        }
        key = f"club:survey:{survey.pk}"
        if channel is None:
            _tell_customer(customer, "survey_invitation", payload, key)
        else:
            try:
                queue_message(
                    channel=channel,
                    template="survey_invitation",
                    payload=payload,
                    dedupe_key=f"{key}:{channel}",
                    customer=customer,
                )
            except NotificationError as exc:
                raise SurveyError("channel", str(exc)) from exc
    return survey


def _score(value, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool):
        raise SurveyError(field, message)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SurveyError(field, message) from None
    if not low <= number <= high:
        raise SurveyError(field, message)
    return number


def answer_survey(token: str, *, csat: int, nps: int, comment: str = "") -> SurveyResponse:
    """Record the customer's answer, once; a low score opens a recovery task."""
    csat = _score(csat, "csat", 1, 5, _("Satisfaction must be a whole number from 1 to 5."))
    nps = _score(
        nps, "nps", 0, 10, _("Likelihood to recommend must be a whole number from 0 to 10.")
    )
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise SurveyError(
            "comment",
            _("The comment is too long: at most %(limit)s characters.") % {"limit": MAX_COMMENT},
        )
    with transaction.atomic():
        survey = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("customer", "manager__user")
            .filter(token=token or "")
            .first()
        )
        if survey is None:
            raise SurveyError("token", _("This survey link is not valid."))
        if survey.answered_at is not None:
            raise SurveyError("token", _("This survey has already been answered."))
        survey.csat, survey.nps, survey.comment = csat, nps, comment
        survey.answered_at = timezone.now()
        survey.save(update_fields=["csat", "nps", "comment", "answered_at"])
        low = csat <= LOW_CSAT or nps <= LOW_NPS
        log_action(None, "club.survey_answered", survey, {"csat": csat, "nps": nps, "low": low})
        if low:
            _open_recovery(survey)
        if survey.work_order_ref:
            from voltdesk.workorders.followup import record_satisfaction

            record_satisfaction(survey.work_order_ref, survey.customer_id, csat)
    return survey


def _open_recovery(survey: SurveyResponse) -> None:
    manager = current_manager(survey.customer) or survey.manager
    if manager is None:
        logger.warning("low survey score of customer %s: no account manager", survey.customer_id)
        log_action(None, "club.recovery_unassigned", survey, {})
        return
    with translation.override(manager_language(manager)):
        title = _(
            "Call %(customer)s back: satisfaction %(csat)s of 5, recommendation %(nps)s of 10"
        ) % {"customer": survey.customer.name, "csat": survey.csat, "nps": survey.nps}
    create_task(
        manager,
        survey.customer,
        kind=TaskKind.RECOVERY,
        title=title,
        due_on=add_working_days(local_today(), RECOVERY_WORKING_DAYS),
    )


# Results


def _bounds(date_from: date | None, date_to: date | None) -> Q:
    zone = utility_zone()
    q = Q()
    if date_from:
        q &= Q(sent_at__gte=datetime.combine(date_from, time(), zone))
    if date_to:
        q &= Q(sent_at__lt=datetime.combine(date_to + timedelta(days=1), time(), zone))
    return q


def survey_results(
    *, group_by: str, date_from: date | None = None, date_to: date | None = None
) -> list[dict]:
    """Surveys sent from ``date_from`` to ``date_to`` (local days, inclusive), grouped.

    ``group_by``: ``manager`` (the manager the survey was about), ``region``
    (of the customer's sites) or ``month`` (when sent, local time). Each row:
    ``key``, ``label``, ``sent``, ``answered``, ``csat_avg`` (2 decimals, None
    without answers), ``promoters``, ``passives``, ``detractors`` and ``nps``
    (−100…100, 1 decimal, None without answers).
    """
    from .portfolio import customer_region_id

    surveys = SurveyResponse.objects.filter(_bounds(date_from, date_to))
    if group_by == "manager":
        surveys = surveys.annotate(key_id=F("manager_id")).values("key_id")
    elif group_by == "region":
        surveys = surveys.annotate(key_id=customer_region_id("customer_id")).values("key_id")
    elif group_by == "month":
        surveys = surveys.annotate(key_id=TruncMonth("sent_at", tzinfo=utility_zone())).values(
            "key_id"
        )
    else:
        raise ValueError(f"group_by must be manager, region or month, not {group_by!r}")
    rows = surveys.annotate(
        sent=Count("pk"),
        answered=Count("answered_at"),
        csat_avg=Avg("csat"),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        passives=Count("pk", filter=Q(nps__gte=7, nps__lte=8)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
    ).order_by()
    results = [_result(row, group_by) for row in rows]
    _label(results, group_by)
    return sorted(results, key=lambda r: (r["key"] is None, r["sort"]))


def _result(row: dict, group_by: str) -> dict:
    key = row["key_id"]
    if group_by == "month" and isinstance(key, datetime):
        key = key.astimezone(utility_zone()).date() if timezone.is_aware(key) else key.date()
    scored = row["promoters"] + row["passives"] + row["detractors"]
    nps = None
    if scored:
        nps = round((row["promoters"] - row["detractors"]) * 100 / scored, 1)
    csat = row["csat_avg"]
    return {
        "key": key,
        "label": "",
        "sort": "",
        "sent": row["sent"],
        "answered": row["answered"],
        "csat_avg": round(float(csat), 2) if csat is not None else None,
        "promoters": row["promoters"],
        "passives": row["passives"],
        "detractors": row["detractors"],
        "nps": nps,
    }


def _label(results: list[dict], group_by: str) -> None:
    """Readable labels in the active language (names looked up once, not per row)."""
    keys = [r["key"] for r in results if r["key"] is not None]
    if group_by == "manager":
        names = {
            m.pk: str(m) for m in AccountManager.objects.filter(pk__in=keys).select_related("user")
        }
    elif group_by == "region":
        names = dict(Region.objects.filter(pk__in=keys).values_list("pk", "name"))
    else:
        names = {k: formats.date_format(k, "YEAR_MONTH_FORMAT") for k in keys}
    for r in results:
        if r["key"] is None:
            r["label"] = _("No account manager") if group_by == "manager" else _("No region")
            r["sort"] = ""
        else:
            r["label"] = names.get(r["key"], str(r["key"]))
            r["sort"] = r["key"] if group_by == "month" else r["label"]
