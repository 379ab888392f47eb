"""Portal pages of packages: the household's own only, businesses refused, bad input 4xx."""

from datetime import date

import pytest
from django.urls import reverse

from voltdesk.prepaid import services
from voltdesk.prepaid.models import DebitMandate, Package

from .conftest import active_package


@pytest.fixture
def two_households(household, portal_user, client):
    mine, theirs = household([250] * 12), household([250] * 12)
    package = active_package(theirs, date(2026, 11, 1))
    client.force_login(portal_user(mine))
    return mine, theirs, package


def test_levels_page_offers_priced_levels(two_households, client):
    response = client.get(reverse("portal:packages"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-level="80"' in body and 'data-level="150"' in body
    # 3,000 kWh a year: 80 % is 100.00 a month (tests/prepaid/test_levels.py).
    assert "100.00" in body
    assert "row-cols-1" in body  # one level per row on a phone-sized screen


def test_other_households_package_pages_are_404(two_households, client):
    _mine, _theirs, package = two_households
    for url in [
        reverse("portal:package", args=[package.pk]),
        reverse("portal:package_move_out", args=[package.pk]),
        reverse("portal:package_sandbox_pay", args=[package.provider_ref]),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("portal:package_move_out", args=[package.pk]), {"move_out_on": "2026-12-20"}
    )
    assert response.status_code == 404
    package.refresh_from_db()
    assert package.status == "active"  # the denial changed nothing


def test_list_shows_only_own_packages(two_households, client):
    _mine, _theirs, package = two_households
    body = client.get(reverse("portal:packages")).content.decode()
    assert f'data-package="{package.pk}"' not in body


def test_business_user_is_refused(household, portal_user, client):
    business = household([250] * 12, kind="business")
    client.force_login(portal_user(business))
    for url in [reverse("portal:packages"), reverse("portal:package", args=[1])]:
        response = client.get(url)
        assert response.status_code == 403
        assert "residential customers only" in response.content.decode()
    assert (
        client.post(reverse("portal:package_buy"), {"level": "80", "key": "k"}).status_code == 403
    )
    assert not Package.objects.exists()


def test_anonymous_goes_to_log_in(cn, client):
    response = client.get(reverse("portal:packages"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_buy_unknown_level_and_double_purchase(household, portal_user, client):
    customer = household([250] * 12)
    client.force_login(portal_user(customer))
    url = reverse("portal:package_buy")
    response = client.post(url, {"level": "90", "key": "k1"})
    assert response.status_code == 400
    assert "Choose one of the levels offered" in response.content.decode()
    assert not Package.objects.exists()
    response = client.post(url, {"level": "80", "key": "k2"})
    assert response.status_code == 302
    package = Package.objects.get()
    assert response["Location"].startswith(
        reverse("portal:package_sandbox_pay", args=[package.provider_ref])
    )
    response = client.post(url, {"level": "100", "key": "k3"})
    assert response.status_code == 409
    assert "already have a package" in response.content.decode()
    assert Package.objects.count() == 1


def test_pay_on_the_sandbox_page_then_statement(
    household, portal_user, client, django_capture_on_commit_callbacks
):
    customer = household([250] * 12)
    client.force_login(portal_user(customer))
    client.post(reverse("portal:package_buy"), {"level": "80", "key": "k1"})
    package = Package.objects.get()
    pay = reverse("portal:package_sandbox_pay", args=[package.provider_ref])
    assert client.post(pay, {"card": "1234"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(pay, {"card": "4242 4242 4242 4242"})
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.status == "active"
    page = client.get(reverse("portal:package", args=[package.pk]))
    assert page.status_code == 200 and 'id="package-status"' in page.content.decode()


def test_bind_and_unbind_card_with_bad_input(household, portal_user, client):
    customer = household([250] * 12)
    client.force_login(portal_user(customer))
    url = reverse("portal:package_card")
    response = client.post(url, {"holder": "Li", "card": "12ab"})
    assert response.status_code == 400 and "12 to 19 digits" in response.content.decode()
    response = client.post(url, {"holder": "", "card": "4242424242424242"})
    assert response.status_code == 400 and "holder" in response.content.decode()
    assert client.post(url, {"holder": "Li", "card": "4242 4242 4242 4242"}).status_code == 302
    mandate = DebitMandate.objects.get()
    assert mandate.card_last4 == "4242" and "4242424242424242" not in mandate.token
    assert client.post(reverse("portal:package_card_unbind")).status_code == 302
    assert client.post(reverse("portal:package_card_unbind")).status_code == 400


def test_move_out_form(household, portal_user, client):
    customer = household([250] * 12)
    package = active_package(customer, date(2026, 11, 1))
    client.force_login(portal_user(customer))
    url = reverse("portal:package_move_out", args=[package.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"move_out_on": "not a date"}).status_code == 400
    assert client.post(url, {"move_out_on": services.today().isoformat()}).status_code == 302
    package.refresh_from_db()
    assert package.status == "ended" and hasattr(package, "refund")
