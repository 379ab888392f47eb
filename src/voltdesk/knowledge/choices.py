"""Fixed vocabularies of the knowledge base."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.TextChoices):
    OUTAGES_FAULTS = "outages_faults", _("Outages and faults")
    SAFETY = "safety", _("Safety")
    BILLING_PAYMENTS = "billing_payments", _("Bills and payments")
    TARIFFS = "tariffs", _("Tariffs")
    METERS = "meters", _("Meters and readings")
    NEW_CONNECTION = "new_connection", _("New connections")
    CHANGE_OF_USE = "change_of_use", _("Change of use and capacity")
    NAME_TRANSFER = "name_transfer", _("Name transfer and moving")
    PREPAID = "prepaid", _("Prepaid packages")
    KEY_ACCOUNTS = "key_accounts", _("Business club and key accounts")
    DEMAND_EVENTS = "demand_events", _("Excess demand and load shedding")
    SELF_SERVICE = "self_service", _("Online self-service")
    COMPLAINTS = "complaints", _("Complaints")
    GENERATION = "generation", _("Own generation and solar")
    GENERAL = "general", _("General")


class ArticleKind(models.TextChoices):
    ANSWER = "answer", _("Unified answer")
    NOTICE = "notice", _("One-time notice")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    REJECTED = "rejected", _("Sent back")
