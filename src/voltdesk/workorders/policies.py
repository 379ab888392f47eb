"""The service commitments each profile ships, and the queues a new utility starts with.

cn follows State Grid's published commitments (DESIGN.md). il has no published
equivalent for every item; its figures are this project's reasonable defaults
for the administrator to adjust. Club members get tighter commitments in both.
Where State Grid publishes nothing (remote areas' power-back time), the rural
figure is used.
"""

from django.db import transaction

from voltdesk.core.choices import AreaKind
from voltdesk.customers.choices import CustomerKind, VoltageLevel

from . import config
from .choices import Clock, OrderType, Subtype, TimeBasis
from .models import Queue, SlaPolicy

URBAN, RURAL, REMOTE = AreaKind.URBAN, AreaKind.RURAL, AreaKind.REMOTE
H = 60  # minutes in an hour


def _minutes(name, order_type, clock, minutes, **kw) -> dict:
    return dict(
        name=name,
        order_type=order_type,
        clock=clock,
        basis=TimeBasis.CALENDAR,
        minutes=minutes,
        **kw,
    )


def _days(name, order_type, clock, days, **kw) -> dict:
    return dict(
        name=name,
        order_type=order_type,
        clock=clock,
        basis=TimeBasis.WORKING,
        working_days=days,
        **kw,
    )


def _fault(prefix: str, arrive: dict, restore: dict, *, members: bool = False) -> list[dict]:
    rows = []
    for kind, minutes in arrive.items():
        rows.append(
            _minutes(
                f"{prefix}: crew on site, {kind}",
                OrderType.FAULT,
                Clock.ARRIVE,
                minutes,
                area_kind=kind,
                members_only=members,
                warn_before_minutes=15,
            )
        )
    for kind, minutes in restore.items():
        rows.append(
            _minutes(
                f"{prefix}: power back after arrival, {kind}",
                OrderType.FAULT,
                Clock.RESTORE,
                minutes,
                area_kind=kind,
                after_clock=Clock.ARRIVE,
                members_only=members,
            )
        )
    return rows


def _common(contact_days, reply_days, consult_days, suggestion_days) -> list[dict]:
    return [
        _days("Complaint: contact the customer", OrderType.COMPLAINT, Clock.CONTACT, contact_days),
        _days("Complaint: reply with the outcome", OrderType.COMPLAINT, Clock.REPLY, reply_days),
        _days("Consultation: answer", OrderType.CONSULTATION, Clock.REPLY, consult_days),
        _days("Suggestion: reply", OrderType.SUGGESTION, Clock.REPLY, suggestion_days),
        # Any business request without a more specific commitment.
        _days("Business request: complete", OrderType.BUSINESS, Clock.COMPLETE, 10),
    ]


def _members(contact_minutes: int) -> list[dict]:
    return [
        _minutes(
            "Club member complaint: contact the customer",
            OrderType.COMPLAINT,
            Clock.CONTACT,
            contact_minutes,
            members_only=True,
        ),
        _minutes(
            "Club member consultation: answer",
            OrderType.CONSULTATION,
            Clock.REPLY,
            contact_minutes,
            members_only=True,
        ),
    ]


def _business(new_connection: dict, meter_test: int) -> list[dict]:
    rows = [
        _days(
            "Meter test: results",
            OrderType.BUSINESS,
            Clock.COMPLETE,
            meter_test,
            subtype=Subtype.METER_TEST,
        )
    ]
    for (kind, voltage), days in new_connection.items():
        label = {
            (CustomerKind.RESIDENTIAL, ""): "residential",
            (CustomerKind.BUSINESS, VoltageLevel.LOW): "low-voltage non-residential",
            ("", VoltageLevel.MEDIUM): "medium voltage, single supply",
            ("", VoltageLevel.HIGH): "high voltage, single supply",
        }[(kind, voltage)]
        rows.append(
            _days(
                f"New connection: {label}",
                OrderType.BUSINESS,
                Clock.COMPLETE,
                days,
                subtype=Subtype.NEW_CONNECTION,
                customer_kind=kind,
                voltage_level=voltage,
            )
        )
    return rows


POLICIES: dict[str, list[dict]] = {
    "cn": (
        _fault(
            "Fault",
            {URBAN: 45, RURAL: 90, REMOTE: 120},
            {URBAN: 3 * H, RURAL: 4 * H, REMOTE: 4 * H},
        )
        + _fault(
            "Club member fault",
            {URBAN: 30, RURAL: 60, REMOTE: 90},
            {URBAN: 2 * H, RURAL: 3 * H, REMOTE: 3 * H},
            members=True,
        )
        + _common(contact_days=1, reply_days=7, consult_days=1, suggestion_days=7)
        + _members(contact_minutes=2 * H)
        + _business(
            {
                (CustomerKind.RESIDENTIAL, ""): 5,
                (CustomerKind.BUSINESS, VoltageLevel.LOW): 6,
                ("", VoltageLevel.MEDIUM): 22,
                ("", VoltageLevel.HIGH): 22,
            },
            meter_test=5,
        )
        + [
            # Dual supply is not recorded on a site: agents choose this subtype.
            _days(
                "New connection: high voltage, dual supply",
                OrderType.BUSINESS,
                Clock.COMPLETE,
                32,
                subtype="new_connection_dual",
            )
        ]
    ),
    "il": (
        _fault(
            "Fault",
            {URBAN: 60, RURAL: 120, REMOTE: 180},
            {URBAN: 4 * H, RURAL: 5 * H, REMOTE: 5 * H},
        )
        + _fault(
            "Club member fault",
            {URBAN: 45, RURAL: 90, REMOTE: 120},
            {URBAN: 3 * H, RURAL: 4 * H, REMOTE: 4 * H},
            members=True,
        )
        + _common(contact_days=2, reply_days=14, consult_days=2, suggestion_days=14)
        + _members(contact_minutes=4 * H)
        + _business(
            {
                (CustomerKind.RESIDENTIAL, ""): 10,
                (CustomerKind.BUSINESS, VoltageLevel.LOW): 15,
                ("", VoltageLevel.MEDIUM): 30,
                ("", VoltageLevel.HIGH): 45,
            },
            meter_test=10,
        )
    ),
}

QUEUES = [
    # code, club desk, types, rank
    ("club", True, [], 100),
    ("faults", False, [OrderType.FAULT], 50),
    ("complaints", False, [OrderType.COMPLAINT], 40),
    ("business", False, [OrderType.BUSINESS], 30),
    ("general", False, [], 0),
]
# Queue names are data the administrator may rename; they start in the profile's language.
QUEUE_NAMES = {
    "il": {
        "club": "דסק מועדון העסקים",
        "faults": "מוקד תקלות",
        "complaints": "תלונות",
        "business": "טיפול בבקשות",
        "general": "בירורים כלליים",
    },
    "cn": {
        "club": "大客户专席",
        "faults": "故障报修",
        "complaints": "投诉举报",
        "business": "业务办理",
        "general": "咨询查询",
    },
}


@transaction.atomic
def ensure_default_policies(utility) -> int:
    """Create the profile's commitments and queues if there are none; returns how many policies.

    Run again, it changes nothing: the administrator's edits stay.
    """
    # bulk_create sends no save signals: forget this process's copy explicitly.
    config.forget()
    created = 0
    if not SlaPolicy.objects.exists():
        rows = [SlaPolicy(**row) for row in POLICIES[utility.profile]]
        SlaPolicy.objects.bulk_create(rows)
        created = len(rows)
    if not Queue.objects.exists():
        names = QUEUE_NAMES[utility.profile]
        Queue.objects.bulk_create(
            Queue(
                code=code, name=names[code], is_club_desk=club, order_types=list(types), rank=rank
            )
            for code, club, types, rank in QUEUES
        )
    return created
