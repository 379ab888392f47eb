"""The desk: customer search and the customer 360 page."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    "query",
    ["Acme", "acme indus", "{a_ref}", "{a_site}", "03-555-1111", "+97235551111", "050-123-4567"],
    ids=[
        "name",
        "part of name",
        "customer number",
        "site number",
        "local phone",
        "E.164",
        "contact phone",
    ],
)
def test_search_finds_the_customer_by_what_the_caller_gives(query, world, client_for):
    query = query.format(a_ref=world.a.ref, a_site=world.a_site.ref)

    html = client_for(world.agent).get(reverse("desk:home"), {"q": query}).content.decode()

    assert reverse("desk:customer", args=[world.a.ref]) in html
    assert world.b.name not in html


def test_search_without_match_says_so(world, client_for):
    html = client_for(world.agent).get(reverse("desk:home"), {"q": "Nobody here"}).content.decode()

    assert "No customer matches this search." in html


def test_search_needs_two_characters(world, client_for):
    html = client_for(world.agent).get(reverse("desk:home"), {"q": "A"}).content.decode()

    assert world.a.name not in html
    assert "is-invalid" in html


def test_customer_360_shows_identity_contacts_sites_contracts_and_consumption(world, client_for):
    html = (
        client_for(world.agent).get(reverse("desk:customer", args=[world.a.ref])).content.decode()
    )

    assert world.a.name in html and "Business" in html
    assert "1 Herzl St" in html
    assert "Dana Levi" in html and "+972501234567" in html
    for site in world.a.sites.all():
        assert site.ref in html
    assert "Low voltage" in html
    assert "in force" in html
    assert "53,328" in html  # 24 months x 2 sites x 1,111 kWh
    assert 'id="monthly-chart-data"' in html
    assert world.b.name not in html and "5,555" not in html


def test_customer_360_counts_a_former_site_only_for_its_period(handover, make_user, client_for):
    agent = make_user("agent")
    client = client_for(agent)

    old_html = client.get(reverse("desk:customer", args=[handover.old.ref])).content.decode()
    new_html = client.get(reverse("desk:customer", args=[handover.new.ref])).content.decode()

    assert "former site" in old_html and handover.new.ref in old_html
    assert "5,100" in old_html and "490" not in old_html
    assert "490" in new_html and "5,100" not in new_html
