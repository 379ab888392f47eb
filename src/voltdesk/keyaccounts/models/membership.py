"""Club membership: each evaluation run, the decisions it took, and the periods in and out.

Only changes are stored as decisions (a join or a leave, with the figures and
the part of the rule that decided it), so a monthly run over millions of
customers writes rows for the few thousand that matter.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import DecisionKind, DecisionReason, EligibilityRule, MembershipStatus

KWH = {"max_digits": 18, "decimal_places": 6}


class EligibilityRun(models.Model):
    """One evaluation of every customer as of a date, with the rule and bars it used."""

    as_of = models.DateField(_("as of"))
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    rule = models.CharField(_("rule"), max_length=16, choices=EligibilityRule.choices)
    single_site_kwh = models.DecimalField(_("single-site bar (kWh)"), **KWH)
    multi_site_kwh = models.DecimalField(_("group bar (kWh)"), **KWH)
    exit_after = models.PositiveSmallIntegerField(_("leave after evaluations below the bar"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    customers = models.PositiveIntegerField(_("customers evaluated"), default=0)
    joined = models.PositiveIntegerField(_("joined"), default=0)
    left = models.PositiveIntegerField(_("left"), default=0)
    stayed = models.PositiveIntegerField(_("stayed"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )

    class Meta:
        ordering = ["-as_of", "-pk"]
        # A date is evaluated once: a repeated run (a retried task) finds it and stops.
        constraints = [models.UniqueConstraint(fields=["as_of"], name="one_run_per_date")]
        verbose_name = _("eligibility run")
        verbose_name_plural = _("eligibility runs")

    def __str__(self) -> str:
        return f"{self.as_of} ({self.joined}+ {self.left}-)"


class Membership(models.Model):
    """A customer's standing in the club: member now, or former member.

    The figures are those of the latest evaluation that looked at the customer
    (members and changers are refreshed on every run).
    """

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("customer"),
    )
    status = models.CharField(_("status"), max_length=8, choices=MembershipStatus.choices)
    since = models.DateField(_("member since"), help_text=_("start of the current or last period"))
    annual_kwh = models.DecimalField(_("annual consumption (kWh)"), **KWH)
    site_count = models.PositiveIntegerField(_("sites"))
    largest_site_kwh = models.DecimalField(_("largest site (kWh)"), **KWH, default=0)
    runs_below_bar = models.PositiveSmallIntegerField(
        _("evaluations below the bar in a row"), default=0
    )
    last_run = models.ForeignKey(
        EligibilityRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last evaluation"),
    )

    class Meta:
        ordering = ["customer__ref"]
        indexes = [models.Index(fields=["status"])]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.customer} ({self.status})"


class MembershipDecision(models.Model):
    """A join or a leave, with the figures and the part of the rule that decided it."""

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="decisions",
        verbose_name=_("membership"),
    )
    run = models.ForeignKey(
        EligibilityRun,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("evaluation"),
    )
    kind = models.CharField(_("change"), max_length=8, choices=DecisionKind.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=DecisionReason.choices)
    annual_kwh = models.DecimalField(_("annual consumption (kWh)"), **KWH)
    site_count = models.PositiveIntegerField(_("sites"))
    largest_site_kwh = models.DecimalField(_("largest site (kWh)"), **KWH, default=0)
    threshold_kwh = models.DecimalField(_("bar applied (kWh)"), **KWH)
    flagged_sites = models.JSONField(
        _("sites with too few reads"),
        default=list,
        blank=True,
        help_text=_("site numbers whose reads cover too little of the window"),
    )

    class Meta:
        ordering = ["-run__as_of", "-pk"]
        verbose_name = _("membership decision")
        verbose_name_plural = _("membership decisions")

    def __str__(self) -> str:
        return f"{self.membership.customer} {self.kind} {self.run.as_of}"


class MembershipPeriod(models.Model):
    """A period in the club [joined_on, left_on), opened and closed by decisions."""

    membership = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        related_name="periods",
        verbose_name=_("membership"),
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    joined_by = models.ForeignKey(
        MembershipDecision,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("joining decision"),
    )
    left_by = models.ForeignKey(
        MembershipDecision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("leaving decision"),
    )

    class Meta:
        ordering = ["membership", "joined_on"]
        verbose_name = _("membership period")
        verbose_name_plural = _("membership periods")
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(left_on__isnull=True),
                name="one_open_period_per_membership",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership.customer} {self.joined_on}–{self.left_on or ''}"
