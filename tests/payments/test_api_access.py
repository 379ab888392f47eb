"""Who may see and do what on the billing routes: every route, every kind of caller."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from voltdesk.api.services import issue_token
from voltdesk.billing.models import OnlinePayment, Payment
from voltdesk.core import roles

DUE = dt.date(2026, 3, 1)


@pytest.fixture
def world(make_customer, make_bill, make_user):
    a, b = make_customer(name="Alpha"), make_customer(name="Beta")
    bills = {"A": make_bill(a, "100.00", DUE), "B": make_bill(b, "70.00", DUE)}
    users = {
        "customer_a": make_user(roles.CUSTOMER, customer=a, company_role="finance"),
        "energy_a": make_user(roles.CUSTOMER, customer=a, company_role="energy_manager"),
        "agent": make_user(roles.AGENT),  # reads bills, takes no payments
        "supervisor": make_user(roles.SUPERVISOR),
        "nobody": User.objects.create_user("nobody", password="pw"),
    }
    keys = {name: issue_token(user, "t").key for name, user in users.items()}
    return {"customers": {"A": a, "B": b}, "bills": bills, "keys": keys}


def send(client, world, actor, method, path, body=None, idem="k1"):
    headers = {"Authorization": f"Bearer {world['keys'][actor]}"} if actor else {}
    if method == "GET":
        return client.get(path, headers=headers)
    headers["Idempotency-Key"] = idem
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def routes(world, owner):
    customer, bill = world["customers"][owner], world["bills"][owner]
    return [
        ("GET", f"/api/v1/customers/{customer.ref}/balance", None),
        ("GET", f"/api/v1/bills/{bill.number}", None),
        ("POST", "/api/v1/payments/online", {"customer_ref": customer.ref, "bills": [bill.number]}),
    ]


def nothing_changed():
    return not (Payment.objects.exists() or OnlinePayment.objects.exists())


@pytest.mark.django_db
def test_anonymous_gets_401_everywhere(client, world):
    for method, path, body in [
        *routes(world, "A"),
        ("GET", "/api/v1/bills", None),
        ("POST", "/api/v1/payments", {"customer_ref": "x", "amount": "1", "method": "cash"}),
    ]:
        assert send(client, world, None, method, path, body).status_code == 401, path
    assert nothing_changed()


@pytest.mark.django_db
def test_a_customer_user_sees_its_own_and_gets_404_for_another_customers(client, world):
    for method, path, body in routes(world, "B"):
        answer = send(client, world, "customer_a", method, path, body)
        assert answer.status_code == 404, path
        assert answer.json() == {"detail": "Not found."}
    assert nothing_changed()
    for method, path, body in routes(world, "A"):
        assert send(client, world, "customer_a", method, path, body).status_code in (200, 201)


@pytest.mark.django_db
def test_a_customer_user_may_not_pay_another_customers_bill_under_its_own_name(client, world):
    body = {"bills": [world["bills"]["B"].number]}

    answer = send(client, world, "customer_a", "POST", "/api/v1/payments/online", body)

    assert answer.status_code == 404 and nothing_changed()


@pytest.mark.django_db
def test_the_bill_list_shows_a_customer_only_its_own(client, world):
    rows = send(client, world, "customer_a", "GET", "/api/v1/bills").json()
    staff = send(client, world, "agent", "GET", "/api/v1/bills").json()

    assert [r["number"] for r in rows["items"]] == [world["bills"]["A"].number]
    assert staff["count"] == 2
    filtered = client.get(
        "/api/v1/bills",
        {"customer_ref": world["customers"]["B"].ref, "overdue": "true"},
        headers={"Authorization": f"Bearer {world['keys']['agent']}"},
    ).json()
    assert [r["number"] for r in filtered["items"]] == [world["bills"]["B"].number]


@pytest.mark.django_db
def test_a_company_role_without_money_gets_403(client, world):
    for method, path, body in [*routes(world, "A"), ("GET", "/api/v1/bills", None)]:
        assert send(client, world, "energy_a", method, path, body).status_code == 403, path
    assert nothing_changed()


@pytest.mark.django_db
def test_staff_without_permission_get_403(client, world):
    for method, path, body in [
        *routes(world, "A"),
        ("GET", "/api/v1/bills", None),
        ("POST", "/api/v1/payments", {"customer_ref": "x", "amount": "1", "method": "cash"}),
    ]:
        assert send(client, world, "nobody", method, path, body).status_code == 403, path
    assert nothing_changed()


@pytest.mark.django_db
def test_staff_with_permission_see_every_customer(client, world):
    for owner in "AB":
        balance = send(client, world, "agent", "GET", routes(world, owner)[0][1])
        bill = send(client, world, "agent", "GET", routes(world, owner)[1][1])
        assert balance.status_code == bill.status_code == 200
    assert balance.json()["open_debt"] == "70.00"
    assert bill.json()["total"] == "70.00"


@pytest.mark.django_db
def test_only_staff_who_take_payments_record_them(client, world):
    body = {
        "customer_ref": world["customers"]["B"].ref,
        "amount": "100.00",
        "method": "cash",
        "reference": "Hall 3",
    }

    assert send(client, world, "customer_a", "POST", "/api/v1/payments", body).status_code == 403
    assert send(client, world, "agent", "POST", "/api/v1/payments", body).status_code == 403
    answer = send(client, world, "supervisor", "POST", "/api/v1/payments", body)

    assert answer.status_code == 201, answer.content
    # 70.00 settles B's bill; 30.00 stays as credit.
    assert answer.json()["allocations"] == [{"bill": world["bills"]["B"].number, "amount": "70.00"}]
    assert answer.json()["credit_left"] == "30.00"
    balance = send(client, world, "agent", "GET", routes(world, "B")[0][1]).json()
    assert (balance["open_debt"], balance["credit"], balance["balance"]) == (
        "0.00",
        "30.00",
        "-30.00",
    )
    assert Payment.objects.get().amount == Decimal("100.00")


@pytest.mark.django_db
def test_bad_payment_input_is_422_naming_the_field(client, world):
    ref = world["customers"]["A"].ref
    for body, field in [
        ({"customer_ref": ref, "amount": "abc", "method": "cash"}, "amount"),
        ({"customer_ref": ref, "amount": "10", "method": "gold"}, "method"),
        (
            {"customer_ref": ref, "amount": "10", "method": "cash", "received_at": "x"},
            "received_at",
        ),
        ({"customer_ref": ref, "method": "cash"}, "amount"),
    ]:
        answer = send(client, world, "supervisor", "POST", "/api/v1/payments", body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["field"] == field
    missing = {"customer_ref": "NOPE", "amount": "1", "method": "cash"}
    assert send(client, world, "supervisor", "POST", "/api/v1/payments", missing).status_code == 404
    assert nothing_changed()
