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
