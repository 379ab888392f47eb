"""Builders shared by the answer-quality review and one-time notice tests."""

import datetime as dt
from zoneinfo import ZoneInfo

from voltdesk.knowledge import services
from voltdesk.workorders.models import Transition, WorkOrder

ZONE = ZoneInfo("Asia/Jerusalem")


def at(y, m, d, hh=10, mm=0) -> dt.datetime:
    """A local (Jerusalem) instant."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=ZONE)


def answer_texts(word: str) -> dict:
    return {
        lang: {"question": f"{word} question {lang}", "answer": f"{word} answer {lang}"}
        for lang in ("en", "he", "zh-hans")
    }


def publish(author, approver, *, key, topic="billing_payments", kind="answer", texts=None, **more):
    """An article written by ``author`` (its owner), published by ``approver``."""
    article = services.create_article(
        author, key=key, topic=topic, kind=kind, texts=texts or answer_texts(key), **more
    )
    version = article.versions.get()
    services.submit_for_review(author, version)
    services.approve_and_publish(approver, version)
    article.refresh_from_db()
    return article


def handled_order(
    *,
    resolved_at=None,
    closed_at=None,
    order_type="consultation",
    customer=None,
    assignee=None,
    resolver=None,
    status=None,
    satisfaction=None,
    reopened_at=None,
    created_at=None,
    description="",
):
    """A work order with the transitions of its handling, written as they would be.

    ``reopened_at``: it was resolved at ``created_at`` + 1 hour, reopened then,
    and resolved again at ``resolved_at``.
    """
    created_at = created_at or (resolved_at or closed_at) - dt.timedelta(hours=2)
    order = WorkOrder.objects.create(
        channel="hotline",
        order_type=order_type,
        customer=customer,
        assignee=assignee,
        description=description,
        created_at=created_at,
        status=status or ("closed" if closed_at else "resolved" if resolved_at else "accepted"),
        resolved_at=resolved_at,
        closed_at=closed_at,
        satisfaction=satisfaction,
    )
    moves = [Transition(work_order=order, action="create", to_status="new", at=created_at)]
    if reopened_at:
        first = created_at + dt.timedelta(hours=1)
        moves += [
            Transition(
                work_order=order,
                action="resolve",
                from_status="in_progress",
                to_status="resolved",
                actor=resolver,
                at=first,
            ),
            Transition(
                work_order=order,
                action="reopen",
                from_status="resolved",
                to_status="accepted",
                at=reopened_at,
            ),
        ]
    if resolved_at:
        moves.append(
            Transition(
                work_order=order,
                action="resolve",
                from_status="in_progress",
                to_status="resolved",
                actor=resolver,
                at=resolved_at,
            )
        )
    if closed_at:
        moves.append(
            Transition(
                work_order=order,
                action="close",
                from_status="resolved",
                to_status="closed",
                at=closed_at,
            )
        )
    Transition.objects.bulk_create(moves)
    return order
