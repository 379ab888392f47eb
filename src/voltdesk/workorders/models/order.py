"""A work order: one contact of any channel, with its transitions, deadlines and papers."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import Action, Channel, Clock, OrderType, Priority, Status


class WorkOrder(models.Model):
    """What a caller, visitor or system asked for, worked from intake to closed.

    ``number`` (the primary key, zero-padded) is what staff and customers quote.
    ``is_member`` is the club status at intake: it chose the queue and the
    service commitments and must not change when the customer later leaves.
    """

    # Empty only for imported history whose channel the source did not record.
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, blank=True)
    order_type = models.CharField(_("type"), max_length=12, choices=OrderType.choices)
    # Known codes are in choices.Subtype; imported history may carry its own.
    subtype = models.CharField(_("subtype"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("customer"),
    )
    site = models.ForeignKey(
        "customers.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("site"),
    )
    caller_name = models.CharField(_("caller's name"), max_length=200, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True)
    caller_email = models.EmailField(_("caller's e-mail"), blank=True)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(
        "core.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("area"),
    )
    feeder = models.ForeignKey(
        "core.Feeder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("feeder"),
    )
    is_member = models.BooleanField(_("club member at intake"), default=False)
    queue = models.ForeignKey(
        "workorders.Queue",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("queue"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
        verbose_name=_("assigned to"),
    )
    crew = models.ForeignKey(
        "workorders.Crew",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("crew"),
    )
    incident = models.ForeignKey(
        "workorders.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("incident"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("crew on site at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_work_orders",
        verbose_name=_("created by"),
    )
    # Where an imported order came from (file and line, or the other system's number).
    external_ref = models.CharField(_("reference in the source system"), max_length=80, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "queue"], name="wo_queue_status"),
            models.Index(fields=["assignee", "status"], name="wo_assignee_status"),
            models.Index(fields=["customer", "created_at"], name="wo_customer_created"),
            models.Index(fields=["site", "created_at"], name="wo_site_created"),
            models.Index(fields=["created_at"], name="wo_created"),
            models.Index(fields=["feeder", "created_at"], name="wo_feeder_created"),
            models.Index(fields=["area", "created_at"], name="wo_area_created"),
            # Analytics' incremental refresh reads the orders changed since its last run.
            models.Index(fields=["updated_at"], name="wo_updated"),
        ]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.pk:08d}" if self.pk else ""


class Deadline(models.Model):
    """One service commitment of an order: when it is due and when it was met."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="deadlines", verbose_name=_("work order")
    )
    clock = models.CharField(_("commitment"), max_length=8, choices=Clock.choices)
    policy = models.ForeignKey(
        "workorders.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deadlines",
        verbose_name=_("service commitment"),
    )
    # Null while it waits for the clock it counts from (power back counts from arrival).
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    # due_at minus the policy's warning lead: the SLA watch compares it with now.
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "clock"], name="wo_deadline_once")
        ]
        # The SLA watch: open deadlines by due time.
        indexes = [
            models.Index(fields=["met_at", "due_at"], name="wo_deadline_open"),
            models.Index(fields=["met_at", "warn_at"], name="wo_deadline_warn"),
        ]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.clock} {self.due_at}"


class Transition(models.Model):
    """Who did what to an order, when, with a note: written with the change itself."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("work order"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["work_order", "at"], name="wo_transition_order")]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.action} {self.at}"


class Comment(models.Model):
    """A note on an order; internal notes are for staff only."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="comments", verbose_name=_("work order")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("text"))
    internal = models.BooleanField(_("staff only"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.body[:60]


class Attachment(models.Model):
    """A file sent with an order (a photo of the meter, a signed form)."""

    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("work order"),
    )
    file = models.FileField(_("file"), upload_to="workorders/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class HistoryImport(models.Model):
    """One imported file of past work orders; the same file is never imported twice."""

    file_name = models.CharField(_("file name"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    orders = models.PositiveIntegerField(_("work orders"), default=0)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("work-order history import")
        verbose_name_plural = _("work-order history imports")

    def __str__(self) -> str:
        return self.file_name


__all__ = ["HistoryImport", "Attachment", "Comment", "Deadline", "Transition", "WorkOrder"]
