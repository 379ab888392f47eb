"""Service halls, their opening hours and closures, bookings and online applications.

* A **hall** opens on weekdays at set hours (``OpeningHours``, several spans a
  day for a lunch break), is closed on the profile's public holidays (the
  ``holidays`` package) and on its own ``HallClosure`` days, and opens on the
  calendar's make-up working days (China's 调休) with its working-day hours.
  Slots are computed from this, never stored one by one.
* A slot holds ``capacity`` visitors (counters). What is taken is counted in
  ``SlotCounter``: one row per hall and slot start, written only when someone
  books; a conditional UPDATE on it is what keeps two customers from taking the
  last place at once.
* A **booking** has a reference code the customer quotes at the hall; moving it
  to another time writes a new booking and marks the old one ``rescheduled``.
* An **application** (new connection, change of use) is a business-handling
  work order with the customer's documents attached; its status and due date
  are the order's.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    ApplicationKind,
    BookingStatus,
    BusinessKindCode,
    RemindBy,
    Supply,
    UseChange,
)

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class BusinessKind(models.Model):
    """A kind of business customers may book a hall visit for."""

    code = models.CharField(_("code"), max_length=40, unique=True, choices=BusinessKindCode.choices)
    notice_key = models.SlugField(
        _("one-time notice"),
        max_length=100,
        blank=True,
        help_text=_(
            "Key of the knowledge-base notice sent with the reminder; empty: the first "
            "published notice of this kind of business"
        ),
    )
    business_notice_key = models.SlugField(
        _("one-time notice for businesses"),
        max_length=100,
        blank=True,
        help_text=_("Key of the notice sent to business customers; empty: the one above"),
    )
    active = models.BooleanField(_("bookable"), default=True)
    rank = models.PositiveSmallIntegerField(_("order in lists"), default=0)

    class Meta:
        ordering = ["rank", "code"]
        verbose_name = _("bookable business")
        verbose_name_plural = _("bookable business")

    def __str__(self) -> str:
        return str(self.get_code_display())


class ServiceHall(models.Model):
    """A service hall (营业厅) customers visit, with its slots' length and capacity."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    area = models.ForeignKey(
        "core.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"), default=30, help_text=_("from 5 to 240")
    )
    capacity = models.PositiveSmallIntegerField(
        _("visitors a slot"), default=2, help_text=_("counters serving appointments at once")
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("bookable days ahead"), default=30, help_text=_("from 1 to 365")
    )
    kinds = models.ManyToManyField(
        BusinessKind,
        verbose_name=_("bookable business"),
        blank=True,
        related_name="halls",
        help_text=_("empty: every bookable business"),
    )
    active = models.BooleanField(_("takes bookings"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service hall")
        verbose_name_plural = _("service halls")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="hall_slot_minutes",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="hall_capacity"),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1, horizon_days__lte=365), name="hall_horizon"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """One span of opening on a weekday; a lunch break is two spans."""

    hall = models.ForeignKey(
        ServiceHall, on_delete=models.CASCADE, related_name="hours", verbose_name=_("hall")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["hall", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="hours_span"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class HallClosure(models.Model):
    """A day one hall is closed beyond the public holidays (works, staff training)."""

    hall = models.ForeignKey(
        ServiceHall, on_delete=models.CASCADE, related_name="closures", verbose_name=_("hall")
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["hall", "day"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [models.UniqueConstraint(fields=["hall", "day"], name="closure_once")]

    def __str__(self) -> str:
        return f"{self.hall} {self.day}"


class SlotCounter(models.Model):
    """How many places of one slot are taken; the row exists once someone booked it."""

    hall = models.ForeignKey(
        ServiceHall, on_delete=models.CASCADE, related_name="+", verbose_name=_("hall")
    )
    starts_at = models.DateTimeField(_("starts at"))
    taken = models.PositiveSmallIntegerField(_("places taken"), default=0)

    class Meta:
        verbose_name = _("slot counter")
        verbose_name_plural = _("slot counters")
        constraints = [
            models.UniqueConstraint(fields=["hall", "starts_at"], name="slot_counter_once"),
            models.CheckConstraint(condition=Q(taken__gte=0), name="slot_counter_taken"),
        ]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.starts_at:%Y-%m-%d %H:%M} ({self.taken})"


class Booking(models.Model):
    """A customer's visit to a hall for one kind of business, in one slot."""

    reference = models.CharField(_("reference"), max_length=12, unique=True)
    hall = models.ForeignKey(
        ServiceHall, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("hall")
    )
    kind = models.ForeignKey(
        BusinessKind, on_delete=models.PROTECT, related_name="+", verbose_name=_("business")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("customer"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    remind_by = models.CharField(
        _("remind by"), max_length=8, choices=RemindBy.choices, default=RemindBy.SMS
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    rescheduled_to = models.OneToOneField(
        "self",
        verbose_name=_("moved to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rescheduled_from",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("status set at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("status set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(fields=["hall", "starts_at"], name="booking_hall_start"),
            models.Index(fields=["customer", "starts_at"], name="booking_customer_start"),
            models.Index(fields=["status", "starts_at"], name="booking_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_span"),
        ]

    def __str__(self) -> str:
        return self.reference


class Application(models.Model):
    """An online application; the work order carries its status, SLA and documents."""

    work_order = models.OneToOneField(
        "workorders.WorkOrder",
        on_delete=models.PROTECT,
        related_name="application",
        verbose_name=_("work order"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("application"), max_length=20, choices=ApplicationKind.choices)
    supply = models.CharField(_("supply"), max_length=20, choices=Supply.choices, blank=True)
    change = models.CharField(_("change"), max_length=20, choices=UseChange.choices, blank=True)
    site = models.ForeignKey(
        "customers.Site",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField(_("address of the supply"), max_length=300, blank=True)
    requested_kva = models.DecimalField(
        _("capacity asked for (kVA)"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("online application")
        verbose_name_plural = _("online applications")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.work_order_id}"
