"""Fixed vocabularies of the utility and its network."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProfileCode(models.TextChoices):
    IL = "il", _("Israel Electric style")
    CN = "cn", _("State Grid style")


class AreaKind(models.TextChoices):
    """Service commitments (SLA) depend on how built-up an area is."""

    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")
    REMOTE = "remote", _("Remote")


class Language(models.TextChoices):
    EN = "en", _("English")
    HE = "he", _("Hebrew")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class ClubRule(models.TextChoices):
    """How a customer qualifies for the business club; the profile chooses."""

    LITERAL = (
        "literal",
        _("One site at the single-site bar, several sites together at the group bar"),
    )
    ANY_SITE = "any_site", _("As the literal rule, or any one site at the single-site bar")
