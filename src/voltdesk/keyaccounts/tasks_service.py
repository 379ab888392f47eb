"""Account managers' tasks: create, list, complete.

A task is something a manager must do for a customer by a date (a welcome
call, the annual meeting, recovering a dissatisfied customer). Its title is
written in the manager's language when it is created, since the manager is
the one who reads it. Named ``tasks_service`` because ``tasks.py`` holds the
app's Celery tasks.
"""

from datetime import date, datetime

import holidays
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from voltdesk.core.services import get_utility, log_action, utility_zone

from .models import AccountManager, Task


def local_today() -> date:
    """Today in the utility's time zone (due dates are the utility's calendar days)."""
    return datetime.now(utility_zone()).date()


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` in the utility's holiday calendar.

    Weekends and holidays follow the profile's country (Friday–Saturday in
    Israel; China's make-up working days count as working days).
    """
    country = get_utility().holiday_country
    calendar = holidays.country_holidays(country, years=range(start.year, start.year + 2))
    return calendar.get_nth_working_day(start, days)


def manager_language(manager: AccountManager) -> str:
    """The language the manager chose for VoltDesk, else the utility's default."""
    profile = getattr(manager.user, "profile", None)
    return getattr(profile, "language", "") or get_utility().default_language


def open_tasks(manager: AccountManager) -> QuerySet[Task]:
    """The manager's tasks not done yet, soonest due first."""
    return (
        Task.objects.filter(manager=manager, done_at__isnull=True)
        .select_related("customer")
        .order_by("due_on", "pk")
    )


def create_task(
    manager: AccountManager, customer, *, kind: str, title, due_on: date, actor=None
) -> Task:
    """Give the manager a task for the customer; ``title`` may be a lazy translation.

    A lazy title is written in the manager's language.
    """
    with translation.override(manager_language(manager)):
        title = str(title)
    with transaction.atomic():
        task = Task.objects.create(
            manager=manager, customer=customer, kind=kind, title=title[:200], due_on=due_on
        )
        log_action(
            actor,
            "club.task_created",
            task,
            {"manager": manager.pk, "customer": customer.pk, "kind": kind, "due_on": str(due_on)},
        )
    return task


def complete_task(task: Task, *, actor) -> Task:
    """Mark a task done; completing a done task changes nothing."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            return task
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
        log_action(actor, "club.task_done", task, {"kind": task.kind})
    return task
