"""Looking after members: tasks, annual meetings and satisfaction surveys."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import MeetingStatus, SurveyContext, TaskKind


class Task(models.Model):
    """Something an account manager must do for a customer by a date."""

    manager = models.ForeignKey(
        "keyaccounts.AccountManager",
        on_delete=models.PROTECT,
        related_name="tasks",
        verbose_name=_("account manager"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="club_tasks",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        # A manager's open tasks, by due date: the workspace's list.
        indexes = [models.Index(fields=["manager", "done_at", "due_on"], name="ka_task_open")]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return self.title


class Meeting(models.Model):
    """A member's meeting with its account manager; at least one each calendar year."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="club_meetings",
        verbose_name=_("customer"),
    )
    manager = models.ForeignKey(
        "keyaccounts.AccountManager",
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("account manager"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    due_by = models.DateField(_("due by"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=MeetingStatus.choices,
        default=MeetingStatus.TO_SCHEDULE,
    )
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    sequence = models.PositiveIntegerField(
        _("invitation revision"),
        default=0,
        help_text=_("raised on every change sent to the customer (iCalendar SEQUENCE)"),
    )
    invitation_ics = models.TextField(
        _("invitation (iCalendar)"),
        blank=True,
        help_text=_("the .ics last sent to the customer, served by the portal"),
    )
    minutes = models.TextField(_("minutes"), blank=True)
    outcomes = models.TextField(_("outcomes"), blank=True)
    task = models.OneToOneField(
        Task,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meeting",
        verbose_name=_("task"),
    )

    class Meta:
        ordering = ["due_by", "pk"]
        indexes = [models.Index(fields=["status", "due_by"], name="ka_meeting_status_due")]
        constraints = [
            # One meeting to hold per member and year; held or cancelled ones are history.
            models.UniqueConstraint(
                fields=["customer", "year"],
                condition=models.Q(status__in=["to_schedule", "scheduled"]),
                name="one_open_meeting_per_member_year",
            )
        ]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return f"{self.customer} {self.year}"


class SurveyResponse(models.Model):
    """A satisfaction survey sent after a meeting or a closed work order, and its answer."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name=_("customer"),
    )
    context = models.CharField(_("after"), max_length=12, choices=SurveyContext.choices)
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("meeting"),
    )
    work_order_ref = models.CharField(_("work order"), max_length=40, blank=True)
    manager = models.ForeignKey(
        "keyaccounts.AccountManager",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("account manager"),
    )
    token = models.CharField(_("link token"), max_length=64, unique=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("likely to recommend (0–10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["sent_at"], name="ka_survey_sent_at")]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="csat_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__lte=10), name="nps_0_to_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.context} {self.sent_at:%Y-%m-%d}"
