from django.db import models
from django.utils.translation import gettext_lazy as _


class ReadingSource(models.TextChoices):
    CSV = "csv", _("CSV import")
    GREEN_BUTTON = "greenbutton", _("Green Button import")
    METER = "meter", _("Meter data system")
    DEMO = "demo", _("Demo data")


class ReadingQuality(models.TextChoices):
    ACTUAL = "actual", _("Actual")
    ESTIMATED = "estimated", _("Estimated")
    VALIDATED = "validated", _("Validated")
    QUESTIONABLE = "questionable", _("Questionable")
