"""Account managers and their portfolios of club members, with the history of who held whom."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountManager(models.Model):
    """A personal account manager (מנהל תיק לקוח / 客户经理): a desk user with a region."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="account_manager",
        verbose_name=_("user"),
    )
    region = models.ForeignKey(
        "core.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("takes new members"), default=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("account manager")
        verbose_name_plural = _("account managers")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class PortfolioAssignment(models.Model):
    """A member in a manager's portfolio for [start, end); reassignment closes and opens one."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="manager_assignments",
        verbose_name=_("customer"),
    )
    manager = models.ForeignKey(
        AccountManager,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("account manager"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )

    class Meta:
        ordering = ["customer", "-start"]
        verbose_name = _("portfolio assignment")
        verbose_name_plural = _("portfolio assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(end__isnull=True),
                name="one_manager_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.manager}"
