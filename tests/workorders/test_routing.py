"""Routing: club desk, type and region, skill, least loaded; and the claim race."""

import threading

import pytest
from django.db import close_old_connections

from voltdesk.core import roles
from voltdesk.workorders.models import DeskAgent, Queue, Transition, WorkOrder
from voltdesk.workorders.routing import claim
from voltdesk.workorders.services import open_work_order, transition


def agent_in(queue, make_user, name, skills=()):
    user = make_user(roles.AGENT, username=name)
    queue.agents.add(user)
    DeskAgent.objects.create(user=user, skills=list(skills))
    return user


def test_default_queues_route_by_type_and_members_to_the_club_desk(utility, make_customer, member):
    vip = make_customer()
    member(vip)
    route = {
        kind: open_work_order(channel="hotline", order_type=kind).queue.code
        for kind in ["fault", "complaint", "business", "consultation", "suggestion"]
    }
    assert route == {
        "fault": "faults",
        "complaint": "complaints",
        "business": "business",
        "consultation": "general",
        "suggestion": "general",
    }
    assert open_work_order(channel="hotline", order_type="fault", customer=vip).queue.code == "club"


def test_a_regional_queue_takes_its_regions_orders_only(utility, network):
    south = Queue.objects.create(
        code="south-faults",
        name="South faults",
        order_types=["fault"],
        region=network["south"],
        rank=60,
    )
    assert (
        open_work_order(channel="hotline", order_type="fault", feeder=network["fp"]).queue == south
    )
    assert (
        open_work_order(channel="hotline", order_type="fault", feeder=network["f1"]).queue.code
        == "faults"
    )


def test_least_loaded_agent_with_the_skill_gets_the_order(utility, make_user):
    queue = Queue.objects.get(code="complaints")
    queue.skill = "complaints"
    queue.save()
    busy = agent_in(queue, make_user, "busy", ["complaints"])
    idle = agent_in(queue, make_user, "idle", ["complaints"])
    agent_in(queue, make_user, "untrained")  # no skill: never chosen
    away = agent_in(queue, make_user, "away", ["complaints"])
    DeskAgent.objects.filter(user=away).update(available=False)
    first = open_work_order(channel="hotline", order_type="complaint").order
    assert first.assignee == busy  # a tie: the first registered
    second = open_work_order(channel="hotline", order_type="complaint").order
    assert second.assignee == idle
    # busy's order is closed: busy is least loaded again.
    for action in ["accept", "start", "resolve", "close"]:
        first = transition(first, action)
    third = open_work_order(channel="hotline", order_type="complaint").order
    assert third.assignee == busy
    assert Transition.objects.filter(work_order=third, action="assign", actor=None).exists()


def test_with_nobody_available_the_order_waits_and_a_claim_takes_it_once(utility, make_user):
    order = open_work_order(channel="hotline", order_type="consultation").order
    assert order.assignee is None
    a, b = make_user(roles.AGENT), make_user(roles.AGENT)
    assert claim(order, a) is True
    assert claim(order, b) is False
    assert WorkOrder.objects.get(pk=order.pk).assignee == a


@pytest.mark.django_db(transaction=True)
def test_two_agents_claiming_at_the_same_moment_exactly_one_wins(utility, make_user):
    order = open_work_order(channel="hotline", order_type="consultation").order
    agents = [make_user(roles.AGENT, username=f"racer{i}") for i in range(2)]
    start = threading.Barrier(2)
    results = {}

    def race(agent):
        try:
            start.wait()
            results[agent.username] = claim(order, agent)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=race, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, True]
    winner = next(name for name, won in results.items() if won)
    assert WorkOrder.objects.get(pk=order.pk).assignee.username == winner
    assert Transition.objects.filter(work_order=order, action="assign").count() == 1
