"""Account managers' portfolios: who looks after which club member.

The rules:

* A new member gets a manager at once, balanced: an active manager of the
  customer's region (the region of the areas of its sites; with sites in
  several regions, the one holding most of them) with the fewest current
  members; when the region has no active manager, the active manager with the
  fewest current members overall. Ties go to the manager registered first.
* A supervisor may override: the current assignment is closed and a new one
  opened, so the history of who held whom is kept.
* A member who leaves the club drops out of the portfolio: its assignment is
  closed, its open tasks are closed and its open meetings cancelled.
* The customer is told in its own language through the outbox (a welcome
  letter with the manager's contact, a letter naming a new manager, an exit
  letter with the figures) and the manager gets a note. Every message has a
  dedupe key built from the decision or assignment that caused it, so running
  the same evaluation again never sends anything twice.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.models import AuditEntry
from voltdesk.core.services import get_utility, log_action, utility_zone
from voltdesk.customers.models import Customer, Site
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import (
    NotificationError,
    prepare_message,
    queue_message,
    queue_messages,
)

from .choices import DecisionKind, MeetingStatus, MembershipStatus, TaskKind
from .models import AccountManager, Meeting, Membership, PortfolioAssignment, Task
from .tasks_service import add_working_days, local_today, manager_language

logger = logging.getLogger(__name__)

BATCH = 1000
WELCOME_CALL_WORKING_DAYS = 5


class PortfolioError(ValueError):
    """A portfolio change that cannot be made (the message is translated)."""


# Who holds whom


def current_manager(customer) -> AccountManager | None:
    """The customer's account manager now, or None."""
    assignment = (
        PortfolioAssignment.objects.filter(customer=customer, end__isnull=True)
        .select_related("manager__user")
        .first()
    )
    return assignment.manager if assignment else None


def portfolio_of(manager: AccountManager) -> QuerySet[Membership]:
    """The current members the manager looks after."""
    return (
        Membership.objects.filter(
            status=MembershipStatus.MEMBER,
            customer__manager_assignments__manager=manager,
            customer__manager_assignments__end__isnull=True,
        )
        .select_related("customer")
        .order_by("customer__ref")
    )


def portfolio_sizes() -> dict[int, int]:
    """Current members per account manager (by manager id; every manager, 0 included)."""
    rows = AccountManager.objects.annotate(
        members=Count(
            "assignments",
            filter=Q(
                assignments__end__isnull=True,
                assignments__customer__membership__status=MembershipStatus.MEMBER,
            ),
        )
    ).values_list("pk", "members")
    return dict(rows)


def customer_region_id(outer: str = "pk") -> Subquery:
    """The region of a customer's sites (the most frequent one; ties to the lowest id).

    A subquery on ``outer`` (the customer's id in the outer query), so regions
    of many customers come in one query.
    """
    return Subquery(
        Site.objects.filter(customer_id=OuterRef(outer), area__isnull=False)
        .values("area__region")
        .annotate(n=Count("pk"))
        .order_by("-n", "area__region")
        .values("area__region")[:1]
    )


def _balanced(managers: list[AccountManager], sizes: dict[int, int], region_id):
    """The manager to take a new member (see the module's rules), or None."""
    in_region = [m for m in managers if region_id is not None and m.region_id == region_id]
    candidates = in_region or managers
    if not candidates:
        return None
    return min(candidates, key=lambda m: (sizes.get(m.pk, 0), m.pk))


def balanced_manager(customer) -> AccountManager | None:
    """The active manager a new member of this customer's region would get."""
    region_id = Customer.objects.filter(pk=customer.pk).values_list(
        customer_region_id(), flat=True
    )[0]
    managers = list(
        AccountManager.objects.filter(active=True).select_related("user", "user__profile")
    )
    return _balanced(managers, portfolio_sizes(), region_id)


def assign_manager(
    customer, *, manager: AccountManager | None = None, actor=None, reason: str = ""
) -> PortfolioAssignment:
    """Give a member an account manager; ``manager`` None means the balanced choice.

    With no manager named, a member that already has one keeps it. Naming a
    manager (a supervisor's override) closes the current assignment and opens a
    new one; naming the current manager changes nothing. The customer is told
    of a new manager, and the manager gets a note.
    """
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(customer=customer).first()
        if membership is None or membership.status != MembershipStatus.MEMBER:
            raise PortfolioError(_("Only members of the club have an account manager."))
        current = (
            PortfolioAssignment.objects.select_for_update(of=("self",))
            .filter(customer=customer, end__isnull=True)
            .select_related("manager__user")
            .first()
        )
        if manager is None:
            if current is not None:
                return current
            manager = balanced_manager(customer)
            if manager is None:
                raise PortfolioError(_("No active account manager can take new members."))
        elif not manager.active:
            raise PortfolioError(_("%(manager)s does not take new members.") % {"manager": manager})
        elif current is not None and current.manager_id == manager.pk:
            return current
        now = timezone.now()
        moved_tasks = moved_meetings = 0
        if current is not None:
            current.end = now
            current.save(update_fields=["end"])
            # Open work follows the member to its new manager.
            moved_tasks = Task.objects.filter(
                customer=customer, manager_id=current.manager_id, done_at__isnull=True
            ).update(manager=manager)
            moved_meetings = Meeting.objects.filter(
                customer=customer,
                manager_id=current.manager_id,
                status__in=[MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED],
            ).update(manager=manager)
        assignment = PortfolioAssignment.objects.create(
            customer=customer,
            manager=manager,
            start=now,
            reason=reason[:200],
            assigned_by=actor if getattr(actor, "pk", None) else None,
        )
        log_action(
            actor,
            "club.manager_reassigned" if current else "club.manager_assigned",
            assignment,
            {
                "customer": customer.pk,
                "manager": manager.pk,
                "previous_manager": current.manager_id if current else None,
                "previous_assignment": current.pk if current else None,
                "reason": reason,
                "moved_tasks": moved_tasks,
                "moved_meetings": moved_meetings,
            },
        )
        if current is not None:
            _tell_customer(
                customer,
                "club_manager_changed",
                {"name": customer.name, **_manager_contact(manager)},
                f"club:manager-changed:{assignment.pk}",
            )
        _tell_manager(manager, customer, membership, assignment, reason=reason)
    return assignment


# After an evaluation run


def apply_membership_changes(run, *, actor=None) -> None:
    """After an evaluation run: give new members a manager, drop leavers, send the letters.

    Called by ``recompute_memberships`` inside its transaction. Safe to call
    again for the same run: members that already have a manager keep it,
    closed assignments stay closed and every message is queued once.
    """
    decisions = list(run.decisions.select_related("membership__customer").order_by("pk"))
    joiners = [d for d in decisions if d.kind == DecisionKind.JOINED]
    leavers = [d for d in decisions if d.kind == DecisionKind.LEFT]
    with transaction.atomic():
        if joiners:
            _welcome_joiners(run, joiners, actor)
        if leavers:
            _drop_leavers(run, leavers, actor)


def _welcome_joiners(run, joiners, actor) -> None:
    from .meetings import ensure_meetings_for  # meetings → surveys → back here

    customer_ids = [d.membership.customer_id for d in joiners]
    held = {
        a.customer_id: a
        for a in PortfolioAssignment.objects.filter(
            customer_id__in=customer_ids, end__isnull=True
        ).select_related("manager__user")
    }
    regions = dict(
        Customer.objects.filter(pk__in=customer_ids)
        .annotate(region_id=customer_region_id())
        .values_list("pk", "region_id")
    )
    managers = list(
        AccountManager.objects.filter(active=True).select_related("user", "user__profile")
    )
    sizes = portfolio_sizes()
    now = timezone.now()
    with translation.override(get_utility().default_language):
        reason = _("Joined the club on %(date)s") % {"date": run.as_of.isoformat()}
    created = []
    unassigned = []
    for decision in joiners:
        customer_id = decision.membership.customer_id
        if customer_id in held:
            continue
        manager = _balanced(managers, sizes, regions.get(customer_id))
        if manager is None:
            unassigned.append(customer_id)
            continue
        sizes[manager.pk] = sizes.get(manager.pk, 0) + 1
        created.append(
            PortfolioAssignment(
                customer_id=customer_id,
                manager=manager,
                start=now,
                reason=reason,
                assigned_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    if unassigned:
        # One line, not one per member: a utility without managers yet may admit thousands.
        logger.warning(
            "no active account manager for %d new members (first: %s)",
            len(unassigned),
            ", ".join(map(str, unassigned[:10])),
        )
    PortfolioAssignment.objects.bulk_create(created, batch_size=BATCH)
    _audit(
        actor,
        "club.manager_assigned",
        created,
        lambda a: {"customer": a.customer_id, "manager": a.manager_id, "run": run.pk},
    )
    new = {a.customer_id: a for a in created}
    # A welcome call for each new manager–member pair; titles in the manager's language.
    due = add_working_days(local_today(), WELCOME_CALL_WORKING_DAYS)
    customers = {d.membership.customer_id: d.membership.customer for d in joiners}
    tasks = []
    for assignment in created:
        customer = customers[assignment.customer_id]
        with translation.override(manager_language(assignment.manager)):
            title = _("Welcome call to %(customer)s") % {"customer": customer.name}
        tasks.append(
            Task(
                manager=assignment.manager,
                customer_id=assignment.customer_id,
                kind=TaskKind.WELCOME,
                title=title[:200],
                due_on=due,
            )
        )
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    _audit(
        actor,
        "club.task_created",
        tasks,
        lambda t: {"manager": t.manager_id, "customer": t.customer_id, "kind": t.kind},
    )
    ensure_meetings_for(local_today().year, list(new), actor=actor)
    letters, notes = [], []
    for decision in joiners:
        customer = decision.membership.customer
        assignment = new.get(customer.pk) or held.get(customer.pk)
        manager = assignment.manager if assignment else None
        letters.append(
            (
                customer,
                "club_welcome",
                {
                    "name": customer.name,
                    "annual_kwh": decision.annual_kwh,
                    "as_of": run.as_of,
                    **_manager_contact(manager),
                },
                f"club:welcome:{decision.pk}",
            )
        )
        if customer.pk in new:
            notes.append(
                _note_to_manager(manager, customer, decision.membership, assignment, due=due)
            )
    _send_letters(letters, notes)


def _drop_leavers(run, leavers, actor) -> None:
    customer_ids = [d.membership.customer_id for d in leavers]
    now = timezone.now()
    closing = list(
        PortfolioAssignment.objects.select_for_update().filter(
            customer_id__in=customer_ids, end__isnull=True
        )
    )
    for assignment in closing:
        assignment.end = now
    PortfolioAssignment.objects.bulk_update(closing, ["end"], batch_size=BATCH)
    _audit(
        actor,
        "club.manager_released",
        closing,
        lambda a: {"customer": a.customer_id, "manager": a.manager_id, "run": run.pk},
    )
    # The former member's open work for its manager goes with it.
    tasks = list(Task.objects.filter(customer_id__in=customer_ids, done_at__isnull=True))
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(done_at=now)
    _audit(actor, "club.task_closed", tasks, lambda t: {"kind": t.kind, "run": run.pk})
    meetings = list(
        Meeting.objects.filter(
            customer_id__in=customer_ids,
            status__in=[MeetingStatus.TO_SCHEDULE, MeetingStatus.SCHEDULED],
        )
    )
    Meeting.objects.filter(pk__in=[m.pk for m in meetings]).update(status=MeetingStatus.CANCELLED)
    _audit(
        actor,
        "club.meeting_cancelled",
        meetings,
        lambda m: {"from": m.status, "run": run.pk, "reason": "left the club"},
    )
    window_start = run.window_start.astimezone(utility_zone()).date()
    months = (run.as_of.year - window_start.year) * 12 + run.as_of.month - window_start.month
    letters = [
        (
            decision.membership.customer,
            "club_exit",
            {
                "name": decision.membership.customer.name,
                "annual_kwh": decision.annual_kwh,
                "threshold_kwh": decision.threshold_kwh,
                "as_of": run.as_of,
                "months": max(months, 1),
                "site_count": decision.site_count,
            },
            f"club:exit:{decision.pk}",
        )
        for decision in leavers
    ]
    _send_letters(letters, [])


# Messages


def _manager_contact(manager: AccountManager | None) -> dict:
    if manager is None:
        return {"manager_name": "", "manager_phone": "", "manager_email": ""}
    return {
        "manager_name": str(manager),
        "manager_phone": manager.phone,
        "manager_email": manager.email or manager.user.email,
    }


def _letter(customer, template: str, payload: dict, dedupe_key: str):
    """The letter to a customer prepared for e-mail, else SMS; None without a usable address."""
    for channel, address in ((Channel.EMAIL, customer.email), (Channel.SMS, customer.phone)):
        if not address:
            continue
        try:
            return prepare_message(
                channel=channel,
                template=template,
                payload=payload,
                dedupe_key=f"{dedupe_key}:{channel}",
                customer=customer,
            )
        except NotificationError as exc:
            logger.warning("%s to customer %s over %s: %s", template, customer.pk, channel, exc)
    return None


def _tell_customer(customer, template: str, payload: dict, dedupe_key: str):
    """Queue a letter to the customer by e-mail, else SMS; an undeliverable one is logged.

    A customer without a usable address must not stop an evaluation of the
    whole club: the letter is skipped, with a warning and an audit row.
    """
    for channel in (Channel.EMAIL, Channel.SMS):
        existing = Message.objects.filter(dedupe_key=f"{dedupe_key}:{channel}").first()
        if existing is not None:
            return existing
    letter = _letter(customer, template, payload, dedupe_key)
    if letter is None:
        _record_undeliverable([(customer, dedupe_key)])
        return None
    return queue_message(
        channel=letter.channel,
        template=template,
        payload=payload,
        dedupe_key=letter.dedupe_key,
        customer=customer,
    )


def _send_letters(letters, notes) -> None:
    """Letters ``(customer, template, payload, key)`` and manager notes, queued in bulk.

    After an evaluation that admits thousands of members, one message at a time
    cost two round trips each (issue 3's benchmark); here it is a few queries in all.
    """
    messages, undeliverable = [], []
    for customer, template, payload, key in letters:
        letter = _letter(customer, template, payload, key)
        if letter is None:
            undeliverable.append((customer, key))
        else:
            messages.append(letter)
    queue_messages(messages + [note for note in notes if note is not None])
    _record_undeliverable(undeliverable)


def _record_undeliverable(pairs) -> None:
    """One audit row per letter that could not be sent, once per letter."""
    if not pairs:
        return
    keys = [key for _customer, key in pairs]
    seen = set()
    for i in range(0, len(keys), BATCH):
        seen.update(
            AuditEntry.objects.filter(
                action="club.letter_undeliverable", data__key__in=keys[i : i + BATCH]
            ).values_list("data__key", flat=True)
        )
    fresh = {}
    for customer, key in pairs:
        if key not in seen:
            fresh.setdefault(key, customer)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action="club.letter_undeliverable",
                object_type=customer._meta.label_lower,
                object_id=str(customer.pk),
                data={"key": key},
            )
            for key, customer in fresh.items()
        ],
        batch_size=BATCH,
    )


def _note_to_manager(manager, customer, membership, assignment, *, due=None, reason=""):
    """An e-mail note to the manager about a new member, prepared; None without an address."""
    address = manager.email or manager.user.email
    if not address:
        return None
    try:
        return prepare_message(
            channel=Channel.EMAIL,
            template="club_manager_new_member",
            payload={
                "manager_name": str(manager),
                "customer_name": customer.name,
                "customer_ref": customer.ref,
                "annual_kwh": membership.annual_kwh,
                "since": membership.since,
                "due": due,
                "reason": reason,
            },
            dedupe_key=f"club:manager-note:{assignment.pk}",
            address=address,
            language=manager_language(manager),
        )
    except NotificationError as exc:
        logger.warning("note to manager %s: %s", manager.pk, exc)
        return None


def _tell_manager(manager, customer, membership, assignment, *, due=None, reason=""):
    """Queue the note to the manager about a new member (when the manager has an address)."""
    note = _note_to_manager(manager, customer, membership, assignment, due=due, reason=reason)
    if note is not None:
        queue_messages([note])
    return note


def _public_url(path: str) -> str:
    """An absolute link for a message (``VOLTDESK_PUBLIC_URL``, else the bare path)."""
    return getattr(settings, "VOLTDESK_PUBLIC_URL", "").rstrip("/") + path


def _audit(actor, action: str, objects, data) -> None:
    """One audit row per object, in bulk, as ``log_action`` writes them."""
    if not objects:
        return
    actor = actor if getattr(actor, "pk", None) else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                data=data(obj),
            )
            for obj in objects
        ],
        batch_size=BATCH,
    )
