from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "voltdesk.workorders"
    label = "workorders"
    verbose_name = _("Work orders")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from voltdesk.core.models import Utility

        from . import config
        from .models import Queue, SlaPolicy

        # Not a business rule: keeps this process's copy of the configuration fresh.
        for model in (Queue, SlaPolicy, Utility):
            uid = f"desk-config-{model._meta.label}"
            post_save.connect(config.forget, sender=model, dispatch_uid=uid)
            post_delete.connect(config.forget, sender=model, dispatch_uid=uid + "-deleted")
