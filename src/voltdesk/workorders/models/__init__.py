"""Work orders and what times, routes and groups them."""

from .order import Attachment, Comment, Deadline, HistoryImport, Transition, WorkOrder
from .organisation import Crew, DeskAgent, Queue
from .outage import Incident
from .policy import SlaPolicy

__all__ = [
    "Attachment",
    "Comment",
    "Crew",
    "Deadline",
    "HistoryImport",
    "DeskAgent",
    "Incident",
    "Queue",
    "SlaPolicy",
    "Transition",
    "WorkOrder",
]
