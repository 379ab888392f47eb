"""What a process holds of a key and its user: changes here are seen at once, others in time."""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from voltdesk.api import auth
from voltdesk.api.models import ApiToken
from voltdesk.api.services import hash_key, revoke_token
from voltdesk.core import roles
from voltdesk.customers.models import CustomerUser


@pytest.fixture
def open_order(client, world):
    def post(actor="agent", **body):
        return client.post(
            "/api/v1/workorders",
            json.dumps({"type": "consultation", "customer_ref": world.a.ref, **body}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {world.keys[actor]}"},
        )

    return post


def test_a_key_revoked_in_this_process_is_refused_at_once(open_order, world):
    assert open_order().status_code == 201

    revoke_token(world.keys["agent"])

    assert open_order().status_code == 401


def test_a_permission_taken_from_the_role_is_refused_at_once(open_order):
    assert open_order().status_code == 201

    add = Permission.objects.get(codename="add_workorder", content_type__app_label="workorders")
    Group.objects.get(name=roles.AGENT).permissions.remove(add)

    assert open_order().status_code == 403


def test_a_user_linked_to_a_customer_acts_for_it_at_once(open_order, world):
    assert open_order().json()["queue"] is not None  # staff see the queue

    CustomerUser.objects.create(user=world.users["agent"], customer=world.b)

    # Now a customer user of B: A's number is not found, and no queue is shown.
    assert open_order().status_code == 404


def test_a_change_made_elsewhere_is_seen_once_the_held_copy_expires(open_order, world, monkeypatch):
    assert open_order().status_code == 201
    # Another process revokes the key (no signal reaches this one).
    ApiToken.objects.filter(user=world.users["agent"]).update(revoked_at=timezone.now())
    assert open_order().status_code == 201  # still held here, for at most KEY_TTL

    clock = auth.time.monotonic() + auth.KEY_TTL + 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock)

    assert open_order().status_code == 401


def test_a_wrong_key_is_never_held(client, world):
    wrong = world.keys["agent"] + "x"
    for _ in range(2):
        response = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {wrong}"})
        assert response.status_code == 401
    assert hash_key(wrong) not in auth._keys
