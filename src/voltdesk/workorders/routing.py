"""Which queue an order lands in, who takes it, and the claim race.

* Club members' orders go to the active club desk.
* Others go to the active queue of highest rank whose types include the
  order's type (empty: any) and whose region is the order's area's region
  (empty: any region).
* Within the queue, the available agent with the queue's skill and the fewest
  open orders takes it (ties: the agent registered first). With nobody
  available the order waits unassigned, and agents claim it.
* A claim is one conditional UPDATE (``... WHERE assignee IS NULL``): of two
  agents claiming at the same moment exactly one gets the order.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import config, queries
from .choices import OPEN_STATUSES, Action
from .models import Queue, WorkOrder


def choose_queue(order: WorkOrder) -> Queue | None:
    queues = config.current().queues  # tens at most, held per process: decided in Python
    if order.is_member:
        club = [q for q in queues if q.is_club_desk]
        if club:
            return club[0]
    region_id = order.area.region_id if order.area_id else None
    for queue in queues:  # ordered by rank, highest first
        if queue.is_club_desk:
            continue
        if queue.order_types and order.order_type not in queue.order_types:
            continue
        if queue.region_id and queue.region_id != region_id:
            continue
        return queue
    return None


def least_loaded_agent(queue: Queue):
    """The queue's available agent with the queue's skill and the fewest open orders."""
    for agent in queries.agents_by_load(queue.pk):
        if not queue.skill or queue.skill in agent.skills:
            return agent
    return None


def assign_least_loaded(order: WorkOrder):
    """Give an unassigned order to the least-loaded agent of its queue; returns the agent."""
    if order.queue_id is None or order.assignee_id is not None:
        return None
    agent = least_loaded_agent(order.queue)
    note = _("Assigned to the least-loaded agent of %(queue)s") % {"queue": order.queue.name}
    if agent is not None and claim(order, agent, note=note, by_system=True):
        return agent
    return None


def claim(order: WorkOrder, user, *, note: str = "", by_system: bool = False) -> bool:
    """Take an unassigned open order; True for exactly one of any number of claimants."""
    from .lifecycle import record

    with transaction.atomic():
        won = (
            WorkOrder.objects.filter(
                pk=order.pk, assignee__isnull=True, status__in=OPEN_STATUSES
            ).update(assignee=user, updated_at=timezone.now())
            == 1
        )
        if won:
            order.assignee = user
            actor = None if by_system else user
            record(order, Action.ASSIGN, order.status, order.status, actor=actor, note=note)
    return won
