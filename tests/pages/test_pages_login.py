"""Log-in sends each user where they work; log-out is a POST and ends the session."""

from django.urls import reverse

from voltdesk.core import roles


def log_in(client, username):
    return client.post(
        reverse("login"), {"username": username, "password": "pw-" + username}, follow=True
    )


def test_log_in_page_shows_the_utility_and_its_fault_line(utility, client):
    html = client.get(reverse("login")).content.decode()

    assert utility.name in html
    assert "103" in html
    assert 'name="password"' in html


def test_staff_land_on_the_desk(make_user, client):
    make_user(roles.AGENT, username="agent-7")

    response = log_in(client, "agent-7")

    assert response.redirect_chain[-1][0] == reverse("desk:home")
    assert "Customer search" in response.content.decode()


def test_customer_users_land_in_the_portal(make_user, make_customer, client):
    customer = make_customer(name="Acme Industries")
    make_user(roles.CUSTOMER, username="acme-1", customer=customer)

    response = log_in(client, "acme-1")

    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert "Acme Industries" in response.content.decode()


def test_log_in_returns_to_the_page_asked_for(make_user, make_customer, client):
    customer = make_customer(name="Acme Industries")
    make_user(roles.CUSTOMER, username="acme-2", customer=customer)
    target = reverse("portal:sites")

    response = client.post(
        f"{reverse('login')}?next={target}",
        {"username": "acme-2", "password": "pw-acme-2", "next": target},
    )

    assert response.status_code == 302
    assert response.url == target


def test_wrong_password_is_refused(make_user, client):
    make_user(roles.AGENT, username="agent-8")

    response = client.post(reverse("login"), {"username": "agent-8", "password": "wrong"})

    assert response.status_code == 200
    assert "Please try again" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_log_out_is_a_post_form_and_ends_the_session(make_user, client):
    user = make_user(roles.AGENT, username="agent-9")
    client.force_login(user)
    html = client.get(reverse("desk:home")).content.decode()
    assert f'action="{reverse("logout")}" method="post"' in html

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("desk:home")).status_code == 302  # back to log-in


def test_log_out_by_get_is_not_allowed(make_user, client):
    client.force_login(make_user(roles.AGENT, username="agent-10"))

    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("desk:home")).status_code == 200
