"""Work orders over the API: what a desk system and a customer's system can do, and refusals."""

import json

import pytest

from voltdesk.workorders.models import Comment, WorkOrder


@pytest.fixture
def api(client, world):
    def request(actor, method, path, body=None, **params):
        headers = {"Authorization": f"Bearer {world.keys[actor]}"}
        url = "/api/v1" + path
        if method == "GET":
            return client.get(url, params, headers=headers)
        return client.post(
            url, json.dumps(body or {}), content_type="application/json", headers=headers
        )

    return request


def test_an_agent_opens_a_fault_and_works_it_to_closed(api, world):
    created = api(
        "agent",
        "POST",
        "/workorders",
        {
            "type": "fault",
            "channel": "hotline",
            "site_ref": world.site_a.ref,
            "caller_phone": "052-345-6789",
            "description": "No power in the workshop",
        },
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["customer"], order["site"], order["status"]) == (
        world.a.ref,
        world.site_a.ref,
        "new",
    )
    assert order["caller_phone"] == "+972523456789"
    assert order["allowed_actions"] == ["accept", "escalate", "cancel_duplicate"]
    number = order["number"]
    for action in ["accept", "start", "resolve", "close"]:
        moved = api("agent", "POST", f"/workorders/{number}/transitions", {"action": action})
        assert moved.status_code == 200, moved.content
    final = api("agent", "GET", f"/workorders/{int(number)}").json()
    assert final["status"] == "closed" and final["closed_at"]


def test_an_illegal_transition_answers_409_with_the_reason(api, world):
    number = world.orders["A"].number
    response = api("agent", "POST", f"/workorders/{number}/transitions", {"action": "close"})
    assert response.status_code == 409
    assert "cannot be given the action" in response.json()["detail"]
    assert WorkOrder.objects.get(pk=world.orders["A"].pk).status == "new"


def test_cancel_as_duplicate_needs_the_other_number(api, world):
    number = world.orders["A"].number
    response = api(
        "agent", "POST", f"/workorders/{number}/transitions", {"action": "cancel_duplicate"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "duplicate_of"
    response = api(
        "agent",
        "POST",
        f"/workorders/{number}/transitions",
        {"action": "cancel_duplicate", "duplicate_of": world.orders["B"].number},
    )
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "outage"}, "type"),
        ({"type": "fault", "channel": "fax"}, "channel"),
        ({"type": "fault", "subtype": "new_connection"}, "subtype"),
        ({"type": "fault", "caller_phone": "12"}, "caller_phone"),
        ({"type": "fault", "priority": 7}, "priority"),
        ({}, "type"),
    ],
)
def test_bad_input_names_the_field(api, world, body, field):
    response = api("agent", "POST", "/workorders", body)
    assert response.status_code == 422, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert WorkOrder.objects.count() == 2  # the world's two


def test_a_customer_creates_only_for_itself_and_lists_only_its_own(api, world):
    created = api(
        "customer_a", "POST", "/workorders", {"type": "complaint", "description": "Bill doubled"}
    )
    assert created.status_code == 201
    assert created.json()["customer"] == world.a.ref
    assert created.json()["queue"] is None  # the desk's routing is not the customer's business
    # Another customer's site or number is simply not found.
    assert (
        api(
            "customer_a", "POST", "/workorders", {"type": "fault", "site_ref": world.site_b.ref}
        ).status_code
        == 404
    )
    # A site it held once (X) is not its to report any more.
    assert (
        api(
            "customer_a", "POST", "/workorders", {"type": "fault", "site_ref": world.site_x.ref}
        ).status_code
        == 404
    )
    listed = api("customer_a", "GET", "/workorders").json()
    assert {o["customer"] for o in listed["items"]} == {world.a.ref}
    assert listed["count"] == 2


def test_customers_never_see_internal_comments_nor_write_them(api, world):
    order = world.orders["A"]
    Comment.objects.create(work_order=order, body="VIP, handle with care", internal=True)
    posted = api(
        "customer_a",
        "POST",
        f"/workorders/{order.number}/comments",
        {"body": "Any news?", "internal": True},
    )
    assert posted.json()["internal"] is False
    seen = [
        c["body"]
        for c in api("customer_a", "GET", f"/workorders/{order.number}/comments").json()["items"]
    ]
    assert "VIP, handle with care" not in seen and "Any news?" in seen
    staff = [
        c["body"]
        for c in api("agent", "GET", f"/workorders/{order.number}/comments").json()["items"]
    ]
    assert "VIP, handle with care" in staff


def test_list_filters(api, world):
    api("agent", "POST", "/workorders", {"type": "fault", "customer_ref": world.b.ref})
    faults = api("agent", "GET", "/workorders", type="fault").json()
    assert faults["count"] == 1 and faults["items"][0]["customer"] == world.b.ref
    assert api("agent", "GET", "/workorders", customer_ref=world.a.ref).json()["count"] == 1
    assert api("agent", "GET", "/workorders", created_from="2999-01-01").json()["count"] == 0
    bad = api("agent", "GET", "/workorders", created_from="yesterday")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "created_from"


def test_an_attachment_must_really_be_a_pdf_or_image(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/workorders/{world.orders['A'].number}/attachments"
    headers = {"Authorization": f"Bearer {world.keys['customer_a']}"}
    fake = SimpleUploadedFile("bill.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, {"file": fake}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    pdf = SimpleUploadedFile("bill.pdf", b"%PDF-1.4\n...", content_type="application/pdf")
    assert client.post(url, {"file": pdf}, headers=headers).status_code == 201
