"""What the routes answer: shapes, paging, search, exact kWh, docs that work offline."""

import datetime as dt
import re

from django.contrib.staticfiles import finders

from voltdesk.customers.models import Contract, Customer
from voltdesk.metering.models import Reading


def test_openapi_schema_is_served(client, world):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["info"]["title"] == "VoltDesk API"
    assert "/api/v1/sites/{ref}/consumption" in schema["paths"]


def test_docs_page_loads_nothing_from_outside(client, world):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, "the page should load Swagger UI"
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"{ref} needs the internet"
        assert ref.startswith("/static/")
        assert finders.find(ref.removeprefix("/static/")), f"{ref} is not a static file"
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in refs)


def test_customer_detail_shape(call, world):
    body = call("agent", f"/api/v1/customers/{world.a.ref}").json()

    assert body["ref"] == world.a.ref
    assert body["name"] == "Alpha Plastics"
    assert body["kind"] == "business"
    assert set(body) >= {"language", "phone", "email", "address", "created_at"}


def test_customer_search_by_ref_and_name(call, world):
    def refs(q):
        return [c["ref"] for c in call("agent", "/api/v1/customers", q=q).json()["items"]]

    assert refs("beta") == [world.b.ref]
    assert refs(world.a.ref) == [world.a.ref]
    assert refs("no such customer") == []
    # A customer user's search never reaches beyond its own customer.
    rows = call("customer_a", "/api/v1/customers", q="Beta").json()
    assert rows["count"] == 0


def test_pagination_pages_through_in_order(call, world, make_customer):
    for i in range(5):
        make_customer(name=f"Gamma {i}")
    total = Customer.objects.count()

    first = call("agent", "/api/v1/customers", limit=3).json()
    second = call("agent", "/api/v1/customers", limit=3, offset=3).json()

    assert first["count"] == second["count"] == total
    assert (first["limit"], first["offset"]) == (3, 0)
    refs = [c["ref"] for c in first["items"] + second["items"]]
    assert refs == sorted(refs) and len(set(refs)) == 6


def test_contracts_show_site_and_period(call, world):
    rows = call("agent", f"/api/v1/customers/{world.b.ref}/contracts").json()["items"]

    x = next(r for r in rows if r["site"] == world.site_x.ref)
    handover = Contract.objects.get(customer=world.a, site=world.site_x).end
    assert dt.datetime.fromisoformat(x["start"]) == handover
    assert x["end"] is None


def test_readings_are_exact_decimal_strings_filtered_by_local_dates(call, world):
    url = f"/api/v1/sites/{world.site_a.ref}/readings"

    # The world has six-hour readings from 14 March 00:00 to 16 March 00:00, Jerusalem time.
    day = call("agent", url, **{"from": "2024-03-14", "to": "2024-03-15"}).json()
    naive = call("agent", url, **{"from": "2024-03-14T06:00", "to": "2024-03-14T12:00"}).json()
    utc = call("agent", url, **{"from": "2024-03-14T04:00Z", "to": "2024-03-16"}).json()

    assert day["count"] == 4
    assert day["items"][0]["kwh"] == "1.500000"
    assert isinstance(day["items"][0]["kwh"], str)
    assert dt.datetime.fromisoformat(day["items"][0]["start"]) == dt.datetime(
        2024, 3, 13, 22, tzinfo=dt.UTC
    )
    assert naive["count"] == 1
    assert utc["count"] == 7


def test_consumption_total_and_months(call, world):
    site = world.site_a
    april_2 = dt.datetime(2024, 4, 2, 10, tzinfo=dt.UTC)
    Reading.objects.create(
        site=site, start=april_2, end=april_2 + dt.timedelta(hours=1), kwh="0.000002", source="csv"
    )

    body = call(
        "agent",
        f"/api/v1/sites/{site.ref}/consumption",
        **{"from": "2024-02-15", "to": "2024-04-03"},
    ).json()

    assert body["site"] == site.ref
    assert (body["from"], body["to"]) == ("2024-02-15", "2024-04-03")
    assert body["total_kwh"] == "302.000031"
    assert body["months"] == [
        {"month": "2024-02-01", "kwh": "0.000000"},
        {"month": "2024-03-01", "kwh": "302.000029"},
        {"month": "2024-04-01", "kwh": "0.000002"},
    ]


def test_consumption_end_is_exclusive(call, world):
    body = call(
        "agent",
        f"/api/v1/sites/{world.site_a.ref}/consumption",
        **{"from": "2024-03-01", "to": "2024-03-03"},
    ).json()

    assert body["total_kwh"] == "20.000002"


def test_a_mid_day_handover_day_is_counted_for_neither_holder(call, world, make_customer):
    site = world.site_a
    contract = Contract.objects.get(site=site)
    handover = dt.datetime(2024, 3, 10, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    contract.end = handover
    contract.save()
    Contract.objects.create(customer=world.b, site=site, start=handover)
    url = f"/api/v1/sites/{site.ref}/consumption"
    march = {"from": "2024-03-01", "to": "2024-04-01"}

    a = call("customer_a", url, **march).json()["total_kwh"]
    b = call("customer_b", url, **march).json()["total_kwh"]

    # A: 1-9 March; B: 11-31 March (19 daily reads and 8 six-hour reads of 1.5).
    assert (a, b) == ("90.000009", "202.000019")
