"""Customers, their sites (service points) and the contracts that link them.

A contract links one customer, one site, a supplier and a tariff for a period.
Whose consumption a reading is depends on the contract in force when it was
consumed, so a site that changes hands or supplier keeps a true history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from voltdesk.core.choices import Language
from voltdesk.core.models import Area, Feeder

from .choices import CompanyRole, CustomerKind, IdentifierKind, VoltageLevel


class Supplier(models.Model):
    """Who sells the electricity: the utility itself or a private supplier."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_utility = models.BooleanField(_("is the utility"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A business or household that the grid serves, whoever supplies it."""

    ref = models.CharField(_("customer number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices)
    id_kind = models.CharField(
        _("identifier kind"), max_length=16, choices=IdentifierKind.choices, blank=True
    )
    id_number = models.CharField(_("identifier"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164"))
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["ref"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return f"{self.ref} {self.name}"


class Site(models.Model):
    """A service point (the Green Button "usage point"): where electricity is delivered.

    ``customer`` is the holder now; who held it when lives in ``contracts``.
    """

    ref = models.CharField(_("site number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="sites",
        verbose_name=_("customer"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("area"),
    )
    feeder = models.ForeignKey(
        Feeder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("feeder"),
    )
    voltage_level = models.CharField(
        _("voltage level"), max_length=8, choices=VoltageLevel.choices, default=VoltageLevel.LOW
    )
    critical_load = models.BooleanField(
        _("critical load"),
        default=False,
        help_text=_("Hospitals, life support: never scheduled off in load shedding."),
    )

    class Meta:
        ordering = ["ref"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.ref


class Meter(models.Model):
    """A meter at a site: interval meters give 15-minute data, register meters monthly reads."""

    class Kind(models.TextChoices):
        INTERVAL = "interval", _("Interval")
        REGISTER = "register", _("Register")

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="meters", verbose_name=_("site")
    )
    serial = models.CharField(_("serial number"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REGISTER)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)

    class Meta:
        ordering = ["serial"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")

    def __str__(self) -> str:
        return self.serial


class Contract(models.Model):
    """One customer, one site, a supplier and a tariff for a period [start, end).

    ``start`` empty means "since before our records"; ``end`` empty means in force.
    At most one contract of a site is open at a time.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("customer")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("site")
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("supplier"),
    )
    tariff = models.ForeignKey(
        "billing.Tariff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        verbose_name=_("tariff"),
    )
    start = models.DateTimeField(_("start"), null=True, blank=True)
    end = models.DateTimeField(_("end"), null=True, blank=True)
    contracted_kva = models.DecimalField(
        _("contracted capacity (kVA)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("the basis of a capacity charge"),
    )

    class Meta:
        ordering = ["site", "start"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.UniqueConstraint(
                fields=["site"], condition=Q(end__isnull=True), name="one_open_contract_per_site"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True)
                | Q(start__isnull=True)
                | Q(end__gt=models.F("start")),
                name="contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.customer}"


class Contact(models.Model):
    """A person to reach at a customer (the owner, a finance clerk, a site manager)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["customer", "-is_primary", "name"]
        # The fault line looks callers up by number on every call.
        indexes = [models.Index(fields=["phone"])]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class CustomerUser(models.Model):
    """Links a log-in to the one customer it acts for, with its company role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_link"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="users", verbose_name=_("customer")
    )
    company_role = models.CharField(
        _("company role"), max_length=16, choices=CompanyRole.choices, default=CompanyRole.HOLDER
    )

    class Meta:
        verbose_name = _("customer user")
        verbose_name_plural = _("customer users")

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"
