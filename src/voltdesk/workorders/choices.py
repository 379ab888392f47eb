"""Fixed vocabularies of the work-order desk.

The codes (not the labels) are the interface for integrations, in the API as in
import files: ``type`` is one of fault, consultation, business, complaint,
suggestion; ``channel`` one of hotline, hall, web, app, onsite, email, api.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    HALL = "hall", _("Service hall")
    WEB = "web", _("Web")
    APP = "app", _("App")
    ONSITE = "onsite", _("On site")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")


class OrderType(models.TextChoices):
    FAULT = "fault", _("Fault repair")
    CONSULTATION = "consultation", _("Consultation and query")
    BUSINESS = "business", _("Business handling")
    COMPLAINT = "complaint", _("Complaint and report")
    SUGGESTION = "suggestion", _("Opinion, suggestion and praise")


class Subtype(models.TextChoices):
    """Known subtypes. Imported history may carry others (stored as given)."""

    # fault
    POWER_OUT = "power_out", _("No power")
    PARTIAL_POWER = "partial_power", _("Partial power or low voltage")
    LINE_DOWN = "line_down", _("Line down or danger")
    METER_FAULT = "meter_fault", _("Meter fault")
    # consultation
    BILL_QUERY = "bill_query", _("Bill or tariff query")
    OUTAGE_QUERY = "outage_query", _("Outage information")
    SERVICE_QUERY = "service_query", _("Service procedure query")
    # business
    NEW_CONNECTION = "new_connection", _("New connection")
    CHANGE_OF_USE = "change_of_use", _("Change of use")
    METER_TEST = "meter_test", _("Meter test")
    BILLING_QUESTION = "billing_question", _("Billing question")
    NAME_TRANSFER = "name_transfer", _("Name transfer")
    # complaint
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report of misconduct or theft")
    # suggestion
    OPINION = "opinion", _("Opinion")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


SUBTYPES_OF: dict[str, list[str]] = {
    OrderType.FAULT: [
        Subtype.POWER_OUT,
        Subtype.PARTIAL_POWER,
        Subtype.LINE_DOWN,
        Subtype.METER_FAULT,
    ],
    OrderType.CONSULTATION: [Subtype.BILL_QUERY, Subtype.OUTAGE_QUERY, Subtype.SERVICE_QUERY],
    OrderType.BUSINESS: [
        Subtype.NEW_CONNECTION,
        Subtype.CHANGE_OF_USE,
        Subtype.METER_TEST,
        Subtype.BILLING_QUESTION,
        Subtype.NAME_TRANSFER,
    ],
    OrderType.COMPLAINT: [Subtype.COMPLAINT, Subtype.REPORT],
    OrderType.SUGGESTION: [Subtype.OPINION, Subtype.SUGGESTION, Subtype.PRAISE],
}


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled as duplicate")


OPEN_STATUSES = [
    Status.NEW,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.IN_PROGRESS,
]


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Action(models.TextChoices):
    """What a recorded transition did; most move the status, some do not."""

    CREATE = "create", _("Created")
    ACCEPT = "accept", _("Accept")
    DISPATCH = "dispatch", _("Dispatch")
    START = "start", _("Start work")
    RESOLVE = "resolve", _("Resolve")
    FOLLOW_UP = "follow_up", _("Follow up")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen")
    ESCALATE = "escalate", _("Escalate")
    CANCEL_DUPLICATE = "cancel_duplicate", _("Cancel as duplicate")
    ASSIGN = "assign", _("Assign")
    IMPORT = "import", _("Imported")


class Clock(models.TextChoices):
    """The service commitments an order can be timed against."""

    CONTACT = "contact", _("Contact the customer")
    ARRIVE = "arrive", _("Crew on site")
    RESTORE = "restore", _("Power back")
    REPLY = "reply", _("Reply with the outcome")
    COMPLETE = "complete", _("Complete the request")


class TimeBasis(models.TextChoices):
    CALENDAR = "calendar", _("Calendar time")
    WORKING = "working", _("Working days")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Power back")
