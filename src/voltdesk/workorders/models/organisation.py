"""Who works the orders: queues of desk agents, and repair crews in the field."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Queue(models.Model):
    """A line of work: which orders land in it and which agents take them.

    An order goes to the club desk when the customer is a member; otherwise to
    the queue of highest ``rank`` whose types, region and skill match (empty
    means any). Agents in a queue get its orders least-loaded first.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_club_desk = models.BooleanField(_("club members' desk"), default=False)
    order_types = models.JSONField(
        _("work-order types"), default=list, blank=True, help_text=_("empty: every type")
    )
    region = models.ForeignKey(
        "core.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="queues",
        verbose_name=_("region"),
        help_text=_("empty: every region"),
    )
    skill = models.CharField(
        _("skill needed"), max_length=40, blank=True, help_text=_("empty: any agent")
    )
    rank = models.SmallIntegerField(_("rank"), default=0, help_text=_("higher is tried first"))
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="work_queues", verbose_name=_("agents")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-rank", "code"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name


class DeskAgent(models.Model):
    """A desk user's skills (languages, business kinds) and availability for routing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="desk_agent",
        verbose_name=_("user"),
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    available = models.BooleanField(_("available"), default=True)

    class Meta:
        verbose_name = _("desk agent")
        verbose_name_plural = _("desk agents")

    def __str__(self) -> str:
        return str(self.user)


class Crew(models.Model):
    """A repair crew; dispatchers send it to fault and on-site orders in its area."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    area = models.ForeignKey(
        "core.Area",
        on_delete=models.PROTECT,
        related_name="crews",
        verbose_name=_("area"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")

    def __str__(self) -> str:
        return self.name
