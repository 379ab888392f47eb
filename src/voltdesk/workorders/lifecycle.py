"""The life of a work order as a state machine.

    new → accepted → dispatched → in progress → resolved → follow-up → closed
                   ↘──────────────↗                    ↘─────────────↗

``accept``, ``dispatch`` (to a crew), ``start`` (the crew is on site, or the
desk starts work itself), ``resolve``, ``follow_up``, ``close`` (straight from
resolved when no follow-up is wanted); ``reopen`` takes a resolved, followed-up
or closed order back to accepted; ``escalate`` raises the level without moving
the status; ``cancel_duplicate`` ends an open order as a duplicate of another.
Every change locks the order, writes its transition (who, when, note) and the
timestamps in one transaction; anything else is refused with a message.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core import inserts

from . import sla
from .choices import Action, Status
from .models import Transition, WorkOrder

S = Status
MOVES: dict[str, dict[str, str]] = {
    Action.ACCEPT: {S.NEW: S.ACCEPTED},
    Action.DISPATCH: {S.ACCEPTED: S.DISPATCHED},
    Action.START: {S.ACCEPTED: S.IN_PROGRESS, S.DISPATCHED: S.IN_PROGRESS},
    Action.RESOLVE: {S.IN_PROGRESS: S.RESOLVED},
    Action.FOLLOW_UP: {S.RESOLVED: S.FOLLOW_UP},
    Action.CLOSE: {S.RESOLVED: S.CLOSED, S.FOLLOW_UP: S.CLOSED},
    Action.REOPEN: {S.RESOLVED: S.ACCEPTED, S.FOLLOW_UP: S.ACCEPTED, S.CLOSED: S.ACCEPTED},
}
FINAL = {S.CLOSED, S.CANCELLED}
OPEN = {S.NEW, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS}
ACTIONS = [*MOVES, Action.ESCALATE, Action.CANCEL_DUPLICATE]


class WorkOrderError(ValueError):
    """A request about a work order that cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def allowed_actions(order: WorkOrder) -> list[str]:
    """The actions the order's status allows now (for buttons and API hints)."""
    actions = [action for action, moves in MOVES.items() if order.status in moves]
    if order.status not in FINAL:
        actions.append(Action.ESCALATE)
    if order.status in OPEN:
        actions.append(Action.CANCEL_DUPLICATE)
    return actions


def _refuse(order: WorkOrder, action: str) -> WorkOrderError:
    return WorkOrderError(
        _("Work order %(number)s is %(status)s: it cannot be given the action “%(action)s”.")
        % {
            "number": order.number,
            "status": Status(order.status).label,
            "action": Action(action).label if action in Action.values else action,
        },
        field="action",
    )


def record(order, action, from_status, to_status, *, actor=None, note="", at=None) -> Transition:
    row = new_transition(order, action, from_status, to_status, actor=actor, note=note, at=at)
    inserts.insert([row])  # every change writes one: the plain INSERT, built once
    return row


def new_transition(
    order, action, from_status, to_status, *, actor=None, note="", at=None
) -> Transition:
    """The transition row of a change, not yet written (intake writes it with the order)."""
    return Transition(
        work_order=order,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note,
        at=at or timezone.now(),
    )


def transition(
    order: WorkOrder, action: str, *, actor=None, note: str = "", at: datetime | None = None
) -> WorkOrder:
    """Apply one action to the order; returns the order as saved."""
    if action == Action.CANCEL_DUPLICATE:
        raise WorkOrderError(_("Name the order this one duplicates."), field="duplicate_of")
    if action not in MOVES and action != Action.ESCALATE:
        raise WorkOrderError(_("Unknown action %(action)r.") % {"action": action}, field="action")
    at = at or timezone.now()
    with transaction.atomic():
        order = WorkOrder.objects.select_for_update().get(pk=order.pk)
        before = order.status
        if action == Action.ESCALATE:
            if before in FINAL:
                raise _refuse(order, action)
            order.escalation_level += 1
            order.save(update_fields=["escalation_level", "updated_at"])
            record(order, action, before, before, actor=actor, note=note, at=at)
            return order
        after = MOVES[action].get(before)
        if after is None:
            raise _refuse(order, action)
        order.status = after
        fields = ["status", "updated_at"]
        if action == Action.ACCEPT:
            order.accepted_at = at
            fields.append("accepted_at")
        elif action == Action.START and before == S.DISPATCHED:
            order.arrived_at = at
            fields.append("arrived_at")
        elif action == Action.RESOLVE:
            order.resolved_at = at
            fields.append("resolved_at")
        elif action == Action.CLOSE:
            order.closed_at = at
            fields.append("closed_at")
        elif action == Action.REOPEN:
            order.resolved_at = order.closed_at = None
            fields += ["resolved_at", "closed_at"]
            sla.reopen_clocks(order)
        order.save(update_fields=fields)
        record(order, action, before, after, actor=actor, note=note, at=at)
        sla.meet_clocks(order, action, at)
    if action == Action.RESOLVE:
        from .followup import after_resolution

        after_resolution(order)
    return order


def cancel_as_duplicate(
    order: WorkOrder, duplicate_of: WorkOrder, *, actor=None, note: str = ""
) -> WorkOrder:
    """End an open order as a duplicate of another (which stays as it is)."""
    if duplicate_of.pk == order.pk:
        raise WorkOrderError(_("A work order cannot duplicate itself."), field="duplicate_of")
    with transaction.atomic():
        order = WorkOrder.objects.select_for_update().get(pk=order.pk)
        if order.status not in OPEN:
            raise _refuse(order, Action.CANCEL_DUPLICATE)
        before = order.status
        order.status = S.CANCELLED
        order.duplicate_of = duplicate_of
        order.closed_at = timezone.now()
        order.save(update_fields=["status", "duplicate_of", "closed_at", "updated_at"])
        note = note or _("Duplicate of %(number)s") % {"number": duplicate_of.number}
        record(order, Action.CANCEL_DUPLICATE, before, S.CANCELLED, actor=actor, note=note)
    return order
