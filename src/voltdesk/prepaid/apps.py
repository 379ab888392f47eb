from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrepaidConfig(AppConfig):
    name = "voltdesk.prepaid"
    label = "prepaid"
    verbose_name = _("Prepaid packages")

    def ready(self):
        # billing does not import prepaid: the late-fee rule asks the holds registered here.
        from voltdesk.billing import debts

        from .settlement import late_fee_held_until

        debts.register_late_fee_hold(late_fee_held_until)
