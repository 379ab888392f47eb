"""Fixed vocabularies for customers, sites and contracts."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    RESIDENTIAL = "residential", _("Residential")


class IdentifierKind(models.TextChoices):
    """National identifiers, each validated with python-stdnum."""

    IL_COMPANY = "il_company", _("Israeli company number")
    IL_ID = "il_id", _("Israeli ID number")
    CN_USCC = "cn_uscc", _("Chinese unified social credit code")
    CN_RIC = "cn_ric", _("Chinese resident ID")


class VoltageLevel(models.TextChoices):
    LOW = "low", _("Low voltage")
    MEDIUM = "medium", _("Medium voltage")
    HIGH = "high", _("High voltage")


class CompanyRole(models.TextChoices):
    """What a customer user may do for a business (residential users are ``holder``)."""

    ADMIN = "admin", pgettext_lazy("company role", "Administrator")
    FINANCE = "finance", _("Finance")
    ENERGY_MANAGER = "energy_manager", _("Energy manager")
    HOLDER = "holder", _("Account holder")
