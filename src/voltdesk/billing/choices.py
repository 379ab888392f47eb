"""Fixed vocabularies of billing: tariff kinds, time-of-use periods, bill and payment states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TariffKind(models.TextChoices):
    FLAT = "flat", _("Flat")
    TIERED = "tiered", _("Tiered")
    TIME_OF_USE = "tou", _("Time of use")


class TierBasis(models.TextChoices):
    """Over which consumption a tier's bounds are counted (China's 阶梯电价 is annual)."""

    MONTHLY = "monthly", _("Monthly tiers")
    ANNUAL = "annual", _("Annual tiers")


class TouPeriod(models.TextChoices):
    """A time-of-use period; ``all`` prices every hour alike (flat and tiered tariffs)."""

    ALL = "all", _("All hours")
    PEAK = "peak", _("Peak")
    SHOULDER = "shoulder", _("Shoulder")
    OFF_PEAK = "off_peak", _("Off-peak")


class DayKind(models.TextChoices):
    """Which days a time-of-use window applies to; holidays follow the profile's calendar."""

    WORKDAY = "workday", _("Working days")
    WEEKEND = "weekend", _("Weekends")
    HOLIDAY = "holiday", _("Holidays")


class BillKind(models.TextChoices):
    """Every document that moves a customer's balance."""

    BILL = "bill", _("Bill")
    CREDIT_NOTE = "credit_note", _("Credit note")
    LATE_FEE = "late_fee", _("Late fee")


class BillStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    CREDITED = "credited", _("Credited")  # an issued bill cancelled by a credit note


class LineKind(models.TextChoices):
    ENERGY = "energy", _("Energy")
    FIXED = "fixed", _("Fixed charge")
    CAPACITY = "capacity", _("Capacity charge")
    CREDIT = "credit", _("Credit")
    LATE_FEE = "late_fee", _("Late fee")


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("Online (card)")
    BANK_TRANSFER = "bank", _("Bank transfer")
    DIRECT_DEBIT = "debit", _("Direct debit")
    CASH = "cash", _("Cash at a service hall")
    PREPAID = "prepaid", _("Prepaid credit")


class OnlinePaymentStatus(models.TextChoices):
    """An online payment's life at the gateway: only a signed confirmation settles it."""

    CREATED = "created", _("Created")
    PENDING = "pending", _("Waiting for the bank")
    SUCCEEDED = "succeeded", _("Paid")
    DECLINED = "declined", _("Declined")
    TIMED_OUT = "timed_out", _("Timed out")


class ArrangementStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    BROKEN = "broken", _("Broken")
