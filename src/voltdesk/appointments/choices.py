"""Fixed vocabularies of service-hall appointments and online applications.

The codes are the interface (URLs, the API, the admin); the labels are translated.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessKindCode(models.TextChoices):
    """Business a customer can book a hall visit for (the notices' ``business_kind``)."""

    NEW_CONNECTION = "new_connection", _("New connection")
    CHANGE_OF_USE = "change_of_use", _("Change of use")
    CAPACITY_INCREASE = "capacity_increase", _("Capacity increase")
    METER_TEST = "meter_test", _("Meter test")
    NAME_TRANSFER = "name_transfer", _("Name transfer")
    TEMPORARY_SUPPLY = "temporary_supply", _("Temporary supply")
    OTHER = "other", _("Other business")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Moved to another time")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


# A booking that still holds its place in the slot.
HOLDING = [BookingStatus.BOOKED]


class RemindBy(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class ApplicationKind(models.TextChoices):
    NEW_CONNECTION = "new_connection", _("New connection")
    CHANGE_OF_USE = "change_of_use", _("Change of use")


class Supply(models.TextChoices):
    """The supply a new connection asks for: it chooses the service commitment."""

    RESIDENTIAL = "residential", _("Household")
    LOW_VOLTAGE = "low_voltage", _("Low voltage, non-residential")
    HIGH_VOLTAGE = "high_voltage", _("High voltage, single supply")
    HIGH_VOLTAGE_DUAL = "high_voltage_dual", _("High voltage, dual supply")


class UseChange(models.TextChoices):
    """What a change of use changes."""

    CAPACITY_INCREASE = "capacity_increase", _("More capacity")
    CAPACITY_REDUCTION = "capacity_reduction", _("Less capacity or a pause")
    CATEGORY = "category", _("Another use (tariff category)")
    CLOSURE = "closure", _("Close the account")
