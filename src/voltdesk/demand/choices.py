"""Fixed vocabularies of excess-demand events and planned outages."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    EXCESS_DEMAND = "excess_demand", _("Excess demand")
    PLANNED_OUTAGE = "planned_outage", _("Planned maintenance outage")
    TEMPORARY_OUTAGE = "temporary_outage", _("Temporary maintenance outage")


class Severity(models.TextChoices):
    # Advisory: customers are asked to save; no feeder is switched off.
    ADVISORY = "advisory", _("Advisory: please reduce consumption")
    # Shedding: feeders are switched off in turn by the schedule.
    SHEDDING = "shedding", _("Load shedding")


class EventStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    DECLARED = "declared", _("Declared")
    CANCELLED = "cancelled", _("Cancelled")


class WarningChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    CALL = "call", _("Call by the account manager")
    OPENADR = "openadr", _("OpenADR")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached, acknowledged")
    MESSAGE = "message", _("Left a message")
    UNREACHABLE = "unreachable", _("Could not reach")


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    DECLARED = "declared", _("Declared")
    DISMISSED = "dismissed", _("Dismissed")


class ProposalReason(models.TextChoices):
    # What crossed the utility's margin (core.Utility.demand_*).
    HOT_DAY = "hot_day", _("Hot day forecast")
    COLD_DAY = "cold_day", _("Cold day forecast")
    LOAD = "load", _("Load forecast over the reserve margin")
