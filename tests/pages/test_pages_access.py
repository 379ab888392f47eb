"""Who may open which page: every desk and portal page, from one table.

The table must name every URL pattern of desk/ and portal/; a new page without
a row here fails ``test_every_page_is_in_the_access_table``.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, reverse

from voltdesk.desk import urls as desk_urls
from voltdesk.portal import urls as portal_urls

# url name -> how to build its arguments from the ``world`` fixture
PAGES = {
    "desk:home": lambda w: {},
    "desk:customer": lambda w: {"ref": w.a.ref},
    "portal:home": lambda w: {},
    "portal:sites": lambda w: {},
    "portal:site": lambda w: {"ref": w.a_site.ref},
    "portal:consumption": lambda w: {},
}
DESK = [name for name in PAGES if name.startswith("desk:")]
PORTAL = [name for name in PAGES if name.startswith("portal:")]


def url(name, world):
    return reverse(name, kwargs=PAGES[name](world))


def _names(patterns, namespace):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}"


def test_every_page_is_in_the_access_table():
    existing = set(_names(desk_urls.urlpatterns, "desk")) | set(
        _names(portal_urls.urlpatterns, "portal")
    )
    assert existing == set(PAGES), "add the new page to PAGES (and so to every access test)"


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_log_in(name, world, client_for):
    target = url(name, world)

    response = client_for(None).get(target)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={target}"


@pytest.mark.parametrize("name", DESK)
def test_customer_user_may_not_open_desk_pages(name, world, client_for):
    response = client_for(world.a_user).get(url(name, world))

    assert response.status_code == 403
    assert world.b.name not in response.content.decode()


@pytest.mark.parametrize("name", DESK)
def test_staff_with_a_role_opens_desk_pages(name, world, client_for):
    response = client_for(world.agent).get(url(name, world))

    assert response.status_code == 200


@pytest.mark.parametrize("name", PORTAL)
def test_customer_user_opens_own_portal_pages(name, world, client_for):
    response = client_for(world.a_user).get(url(name, world))

    assert response.status_code == 200
    assert world.a_user.username in response.content.decode()  # the user menu


@pytest.mark.parametrize("name", PORTAL)
def test_staff_are_sent_from_the_portal_to_the_desk(name, world, client_for):
    response = client_for(world.agent).get(url(name, world))

    assert response.status_code == 302
    assert response.url == reverse("desk:home")


@pytest.mark.parametrize("name", PAGES)
def test_user_without_role_or_customer_is_refused(name, world, client_for):
    nobody = User.objects.create_user("nobody", password="pw-nobody")

    response = client_for(nobody).get(url(name, world))

    assert response.status_code == 403


@pytest.mark.parametrize("name", PORTAL)
def test_portal_pages_show_nothing_of_another_customer(name, world, client_for):
    html = client_for(world.a_user).get(url(name, world)).content.decode()

    assert world.b.name not in html
    assert world.b.ref not in html
    assert world.b_site.ref not in html
    assert "5,555" not in html  # B's monthly figure


def test_customer_cannot_open_another_customers_site(world, client_for):
    response = client_for(world.a_user).get(reverse("portal:site", args=[world.b_site.ref]))

    assert response.status_code == 404
    assert world.b.name not in response.content.decode()


def test_unknown_customer_on_the_desk_is_not_found(world, client_for):
    response = client_for(world.agent).get(reverse("desk:customer", args=["NO-SUCH"]))

    assert response.status_code == 404
