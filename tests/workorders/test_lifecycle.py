"""The state machine: every allowed move, refusals with a clear message, history in one go."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voltdesk.core import roles
from voltdesk.workorders.lifecycle import MOVES, allowed_actions
from voltdesk.workorders.models import Transition, WorkOrder
from voltdesk.workorders.services import (
    WorkOrderError,
    cancel_as_duplicate,
    open_work_order,
    transition,
)


@pytest.fixture
def agent(make_user):
    return make_user(roles.AGENT, username="noa")


def new_order(**kw):
    kw.setdefault("channel", "hotline")
    kw.setdefault("order_type", "consultation")
    return open_work_order(**kw).order


def history(order):
    return list(
        Transition.objects.filter(work_order=order).values_list(
            "action", "from_status", "to_status"
        )
    )


def test_a_fault_from_call_to_closed_records_every_step(utility, agent):
    order = new_order(order_type="fault", caller_phone="052-345-6789", actor=agent)
    assert order.caller_phone == "+972523456789"
    for action in ["accept", "dispatch", "start", "resolve", "close"]:
        order = transition(order, action, actor=agent, note=f"step {action}")
    assert order.status == "closed"
    assert history(order) == [
        ("create", "", "new"),
        ("accept", "new", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]
    last = Transition.objects.filter(work_order=order).last()
    assert (last.actor, last.note) == (agent, "step close")
    assert order.accepted_at and order.arrived_at and order.resolved_at and order.closed_at


def test_the_desk_can_start_an_accepted_order_itself_and_follow_up(utility):
    order = new_order()
    for action in ["accept", "start", "resolve", "follow_up", "close"]:
        order = transition(order, action)
    assert order.status == "closed" and order.arrived_at is None


@pytest.mark.parametrize("status", ["resolved", "follow_up", "closed"])
def test_reopen_takes_a_finished_order_back_to_accepted(utility, status):
    order = new_order()
    WorkOrder.objects.filter(pk=order.pk).update(status=status)
    order = transition(order, "reopen", note="still no answer")
    assert order.status == "accepted" and order.closed_at is None


def test_every_pair_not_in_the_table_is_refused_and_nothing_is_written(utility):
    statuses = ["new", "accepted", "dispatched", "in_progress", "resolved", "follow_up", "closed"]
    order = new_order()
    for status in statuses + ["cancelled"]:
        WorkOrder.objects.filter(pk=order.pk).update(status=status)
        for action, moves in MOVES.items():
            if status in moves:
                continue
            before = Transition.objects.count()
            with pytest.raises(WorkOrderError) as err:
                transition(order, action)
            assert err.value.field == "action"
            assert order.number in str(err.value)
            assert Transition.objects.count() == before
            assert WorkOrder.objects.get(pk=order.pk).status == status


def test_the_refusal_names_the_status_and_the_action(utility):
    order = new_order()
    with pytest.raises(WorkOrderError, match="is New: it cannot be given the action “Close”"):
        transition(order, "close")


def test_escalate_raises_the_level_without_moving_and_not_once_closed(utility):
    order = new_order()
    order = transition(order, "escalate", note="caller angry")
    assert (order.status, order.escalation_level) == ("new", 1)
    WorkOrder.objects.filter(pk=order.pk).update(status="closed")
    with pytest.raises(WorkOrderError):
        transition(order, "escalate")


def test_cancel_as_duplicate_links_the_original(utility):
    first, second = new_order(), new_order()
    second = cancel_as_duplicate(second, first)
    assert (second.status, second.duplicate_of) == ("cancelled", first)
    assert history(second)[-1] == ("cancel_duplicate", "new", "cancelled")
    with pytest.raises(WorkOrderError):
        cancel_as_duplicate(first, first)
    with pytest.raises(WorkOrderError) as err:
        transition(first, "cancel_duplicate")
    assert err.value.field == "duplicate_of"


def test_unknown_action_is_refused(utility):
    with pytest.raises(WorkOrderError, match="Unknown action"):
        transition(new_order(), "teleport")


def test_allowed_actions_follow_the_status(utility):
    order = new_order()
    assert allowed_actions(order) == ["accept", "escalate", "cancel_duplicate"]
    order = transition(order, "accept")
    assert set(allowed_actions(order)) == {"dispatch", "start", "escalate", "cancel_duplicate"}


def test_a_transition_locks_and_writes_in_one_transaction(utility):
    order = new_order()
    with CaptureQueriesContext(connection) as queries:
        transition(order, "accept")
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "workorders_transition" in sql and "workorders_workorder" in sql


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("channel", {"channel": "fax"}),
        ("type", {"order_type": "outage"}),
        ("subtype", {"order_type": "fault", "subtype": "new_connection"}),
        ("caller_phone", {"caller_phone": "12"}),
        ("caller_email", {"caller_email": "not-an-address"}),
        ("description", {"description": "x" * 4001}),
        ("priority", {"priority": 9}),
    ],
)
def test_bad_intake_names_the_field_and_writes_nothing(utility, field, kwargs):
    with pytest.raises(WorkOrderError) as err:
        new_order(**kwargs)
    assert err.value.field == field
    assert WorkOrder.objects.count() == 0


def test_a_site_of_another_customer_is_refused(utility, make_customer):
    a, b = make_customer(), make_customer()
    with pytest.raises(WorkOrderError) as err:
        new_order(customer=a, site=b.sites.get())
    assert err.value.field == "site_ref"


def test_the_site_gives_its_holder_area_and_feeder_and_a_critical_site_is_urgent(
    utility, make_customer, place
):
    hospital = make_customer(name="Rambam")
    site = place(hospital, "f1", critical_load=True)
    order = new_order(order_type="fault", site=site)
    assert (order.customer, order.feeder.name, order.area.name) == (hospital, "HF-1", "Haifa")
    assert order.priority == 4
