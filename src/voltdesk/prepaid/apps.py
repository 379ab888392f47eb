from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrepaidConfig(AppConfig):
    name = "voltdesk.prepaid"
    label = "prepaid"
    verbose_name = _("Prepaid packages")
