"""Setting up the utility, reading its profile, and the audit trail."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from . import inserts
from .models import AuditEntry, Utility
from .profiles import PROFILES, TARIFFS


class UtilityNotConfigured(Exception):
    """Raised when no utility exists yet: run ``voltdesk init --profile il|cn``."""


@dataclass(frozen=True)
class InitResult:
    utility: Utility
    created: bool


@transaction.atomic
def init_utility(profile: str) -> InitResult:
    """Create the utility from a profile's defaults; if one exists, change nothing.

    The administrator edits the profile afterwards; running this again must never
    overwrite those edits.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    existing = Utility.objects.select_for_update().first()
    if existing is not None:
        return InitResult(existing, created=False)
    utility = Utility.objects.create(profile=profile, **PROFILES[profile])
    from voltdesk.customers.services import ensure_utility_supplier

    from .roles import ensure_roles

    ensure_roles()
    ensure_utility_supplier(utility)
    _create_profile_tariffs(profile)
    from voltdesk.workorders.policies import ensure_default_policies

    ensure_default_policies(utility)
    log_action(None, "utility.created", utility, {"profile": profile})
    return InitResult(utility, created=True)


def _create_profile_tariffs(profile: str) -> None:
    from voltdesk.billing.models import Tariff

    for name, kind, description in TARIFFS[profile]:
        Tariff.objects.get_or_create(name=name, defaults={"kind": kind, "description": description})
    # Their priced versions, so a fresh demo can run billing at once.
    from voltdesk.billing.tariff_catalogue import ensure_tariff_catalogue

    ensure_tariff_catalogue(profile)


# Set only inside ``utility_held()``: a batch that reads the utility thousands of
# times (one letter per new member) reads it once.
_held_utility: ContextVar[Utility | None] = ContextVar("held_utility", default=None)


@contextmanager
def utility_held(utility: Utility | None = None):
    """Within the block, ``get_utility()`` returns this one row without a query.

    For batch jobs inside one transaction, where the utility cannot change
    underneath them (they lock it or run alone).
    """
    token = _held_utility.set(utility or get_utility())
    try:
        yield
    finally:
        _held_utility.reset(token)


def get_utility() -> Utility:
    held = _held_utility.get()
    if held is not None:
        return held
    utility = Utility.objects.order_by("pk").first()
    if utility is None:
        raise UtilityNotConfigured("no utility is set up; run: voltdesk init --profile il|cn")
    return utility


def utility_zone() -> ZoneInfo:
    """The utility's time zone: days and months of consumption are counted in it."""
    return ZoneInfo(get_utility().time_zone)


def log_action(actor, action: str, obj, data: dict | None = None) -> AuditEntry:
    """Record a state change with its actor; call inside the change's transaction."""
    entry = AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )
    inserts.insert([entry])  # written on every change: the INSERT is built once
    return entry
