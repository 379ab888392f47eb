"""Fixed vocabularies of the business (VIP) club."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voltdesk.core.choices import ClubRule as EligibilityRule  # noqa: F401  (the profile chooses it)


class MembershipStatus(models.TextChoices):
    MEMBER = "member", _("Member")
    FORMER = "former", _("Former member")


class DecisionKind(models.TextChoices):
    JOINED = "joined", _("Joined")
    LEFT = "left", _("Left")


class DecisionReason(models.TextChoices):
    """Which part of the rule decided a change (shown to staff, and in plain words to customers)."""

    SINGLE_SITE_AT_BAR = "single_site_at_bar", _("Its one site reached the single-site bar")
    GROUP_AT_BAR = "group_at_bar", _("All its sites together reached the group bar")
    ONE_SITE_AT_BAR = "one_site_at_bar", _("One of its sites reached the single-site bar")
    BELOW_BAR = "below_bar", _("Its consumption fell below the bar")
    NO_SITES = "no_sites", _("It no longer holds any site")


class TaskKind(models.TextChoices):
    MEETING = "meeting", _("Annual meeting")
    RECOVERY = "recovery", _("Recover a dissatisfied customer")
    WELCOME = "welcome", _("Welcome call to a new member")
    GENERAL = "general", _("Task")


class MeetingStatus(models.TextChoices):
    TO_SCHEDULE = "to_schedule", _("To be scheduled")
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class SurveyContext(models.TextChoices):
    MEETING = "meeting", _("After a meeting")
    WORK_ORDER = "work_order", _("After a closed work order")
