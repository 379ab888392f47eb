"""Follow-up (回访) after a resolved order: a survey by the customer's channel, its answer kept.

An order with a known customer gets the satisfaction survey of the club's
survey model (e-mail, else SMS, else it waits in the portal) as soon as it is
resolved; the order moves to follow-up. The answer's satisfaction (1–5) is
written on the order. Anonymous callers get no survey: there is nobody to ask.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import Action, Status
from .models import WorkOrder

logger = logging.getLogger(__name__)


def after_resolution(order: WorkOrder) -> None:
    """Send the survey and move the order to follow-up (customers only)."""
    if not order.customer_id:
        return
    from voltdesk.keyaccounts.choices import SurveyContext
    from voltdesk.keyaccounts.surveys import SurveyError, send_survey

    from .lifecycle import transition

    with transaction.atomic():
        try:
            send_survey(
                order.customer, context=SurveyContext.WORK_ORDER, work_order_ref=order.number
            )
        except SurveyError as exc:  # an unreachable customer must not undo the repair
            logger.warning("no follow-up survey for work order %s: %s", order.pk, exc)
            return
        if WorkOrder.objects.filter(pk=order.pk, status=Status.RESOLVED).exists():
            transition(order, Action.FOLLOW_UP, note=_("Satisfaction survey sent"))


def record_satisfaction(work_order_ref: str, customer_id: int, csat: int) -> None:
    """Keep a survey's satisfaction on the order it was about (the same customer's only)."""
    if not work_order_ref.isdigit():
        return
    WorkOrder.objects.filter(pk=int(work_order_ref), customer_id=customer_id).update(
        # .update() skips auto_now: stamp it, so analytics' incremental refresh sees it.
        satisfaction=csat,
        updated_at=timezone.now(),
    )
