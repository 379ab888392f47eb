"""A company's users in the lounge: its administrator adds them, changes roles, deactivates them.

Acme (the ``lounge`` fixture) has one administrator (acme-admin), a finance user
and an energy manager; Blue Bakery's user is its holder. Acme's September bill
B2026-09-000001 is what a money role sees and the energy manager does not.
"""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.customers import company_users
from voltdesk.customers.models import CustomerUser
from voltdesk.notifications.models import Message

SEPTEMBER = "B2026-09-000001"
PASSWORD = "Kilowatt-hours-2026"
LINK = re.compile(r"https://lounge\.example(/reset/\S+/)")


def _add(client, **fields):
    data = {
        "username": "dana",
        "email": "Dana.Levi@ACME.example",
        "first_name": "Dana",
        "last_name": "Levi",
        "company_role": "finance",
        "language": "en",
        **fields,
    }
    return client.post(reverse("portal:company_users"), data)


def _act(client, link, action, **fields):
    return client.post(reverse("portal:company_user", args=[link.pk]), {"action": action, **fields})


def _link_of(user) -> CustomerUser:
    return CustomerUser.objects.select_related("user").get(user=user)


def _state():
    """What a refused request must leave as it was."""
    return (
        User.objects.count(),
        AuditEntry.objects.count(),
        Message.objects.count(),
        sorted(CustomerUser.objects.values_list("pk", "company_role", "user__is_active")),
    )


def _set_password(path: str) -> Client:
    """Follow the e-mail's link as the new user would, anonymous, and choose a password."""
    browser = Client()
    opened = browser.get(path, follow=True)
    assert opened.status_code == 200
    assert 'id="set-password"' in opened.content.decode()
    done = browser.post(
        opened.redirect_chain[-1][0],
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert 'id="password-set"' in done.content.decode()
    return browser


def _log_in(username: str, password: str = PASSWORD) -> Client:
    browser = Client()
    response = browser.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, "log-in refused"
    return browser


# Adding a user ----------------------------------------------------------------------


def test_admin_adds_a_finance_user_who_sets_a_password_and_sees_bills(lounge, client_for, settings):
    settings.VOLTDESK_PUBLIC_URL = "https://lounge.example/"
    response = _add(client_for(lounge.admin), company_role="finance", language="he")

    assert response.status_code == 302
    assert response.url == reverse("portal:company_users")
    dana = User.objects.get(username="dana")
    assert dana.customer_link.customer == lounge.acme
    assert dana.customer_link.company_role == "finance"
    assert dana.groups.filter(name=roles.CUSTOMER).exists()
    assert not dana.has_usable_password()
    assert dana.email == "Dana.Levi@acme.example"  # the domain in lower case
    assert dana.profile.language == "he"
    audit = AuditEntry.objects.get(action="company_user.added")
    assert audit.actor == lounge.admin and audit.data["company_role"] == "finance"

    # One e-mail in the outbox, in Hebrew: the role reads "כספים" (Finance).
    letter = Message.objects.get(template="company_user_invitation")
    assert (letter.channel, letter.language, letter.address) == (
        "email",
        "he",
        "Dana.Levi@acme.example",
    )
    assert "כספים" in letter.body and "dana" in letter.body
    path = LINK.search(letter.body).group(1)

    _set_password(path)
    dana_browser = _log_in("dana")
    bills = dana_browser.get(reverse("portal:bills"))
    assert bills.status_code == 200
    assert SEPTEMBER in bills.content.decode()
    # The link works once.
    again = Client().get(path, follow=True).content.decode()
    assert 'id="link-invalid"' in again and 'id="set-password"' not in again


def test_an_energy_manager_added_sees_consumption_but_no_bills(lounge, client_for, settings):
    settings.VOLTDESK_PUBLIC_URL = "https://lounge.example"
    _add(
        client_for(lounge.admin),
        username="yossi",
        email="yossi@acme.example",
        company_role="energy_manager",
    )
    letter = Message.objects.get(template="company_user_invitation")
    assert letter.language == "en"  # as chosen on the form
    assert "Energy manager" in letter.body

    _set_password(LINK.search(letter.body).group(1))
    yossi = _log_in("yossi")

    assert yossi.get(reverse("portal:bills")).status_code == 403
    assert yossi.get(reverse("portal:consumption")).status_code == 200


def test_the_language_defaults_to_the_customers(lounge, make_user):
    """Acme's language is en; Blue Bakery has none, so the utility's (il: Hebrew) applies."""
    bakery_admin = make_user(roles.CUSTOMER, username="bakery-admin", customer=lounge.bakery)

    link = company_users.add_company_user(
        bakery_admin,
        lounge.bakery,
        username="miri",
        email="miri@bakery.example",
        company_role="finance",
    )

    assert link.user.profile.language == "he"
    assert Message.objects.get(template="company_user_invitation").language == "he"


def test_a_taken_user_name_is_refused_naming_the_field(lounge, client_for):
    before = _state()

    # acme-finance exists; the case does not make it another name.
    response = _add(client_for(lounge.admin), username="ACME-Finance")

    html = response.content.decode()
    assert response.status_code == 200
    assert "User name: The user name ACME-Finance is already taken" in html
    assert 'id="id_username-error"' in html
    assert _state() == before


def test_bad_input_is_named_and_explained(lounge, client_for):
    before = _state()

    response = _add(
        client_for(lounge.admin),
        username="acme-energy",
        email="",
        company_role="superuser",
        language="xx",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "User name: The user name acme-energy is already taken" in html  # all at once
    assert "E-mail: This field is required." in html
    assert "Company role: Choose one of the listed values; superuser is not among them." in html
    assert "Language: Choose one of the listed values; xx is not among them." in html
    assert _state() == before


def test_the_list_shows_each_user_with_role_and_state(lounge, client_for):
    html = client_for(lounge.admin).get(reverse("portal:company_users")).content.decode()

    assert 'data-username="acme-admin" data-role="admin" data-active="1"' in html
    assert 'data-username="acme-finance" data-role="finance" data-active="1"' in html
    assert 'data-username="acme-energy" data-role="energy_manager" data-active="1"' in html
    assert "bakery-owner" not in html and lounge.bakery.name not in html


# Who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["finance", "energy_manager", "bakery_owner"])
def test_a_company_user_who_is_not_its_admin_gets_403_and_changes_nothing(who, lounge, client_for):
    client = client_for(getattr(lounge, who))
    target = _link_of(lounge.energy_manager if who != "energy_manager" else lounge.finance)
    before = _state()

    assert client.get(reverse("portal:company_users")).status_code == 403
    assert _add(client).status_code == 403
    assert client.get(reverse("portal:company_user", args=[target.pk])).status_code == 403
    assert _act(client, target, "role", company_role="admin").status_code == 403
    assert _act(client, target, "deactivate").status_code == 403
    assert _state() == before


def test_the_users_link_is_in_the_menu_of_admins_only(lounge, client_for):
    href = f'href="{reverse("portal:company_users")}"'

    assert href in client_for(lounge.admin).get(reverse("portal:home")).content.decode()
    assert href not in client_for(lounge.finance).get(reverse("portal:home")).content.decode()


def test_another_companys_user_is_not_found_and_nothing_changes(lounge, client_for, make_user):
    bakery_admin = make_user(roles.CUSTOMER, username="bakery-admin", customer=lounge.bakery)
    client = client_for(bakery_admin)
    acme_energy = _link_of(lounge.energy_manager)
    before = _state()

    assert client.get(reverse("portal:company_user", args=[acme_energy.pk])).status_code == 404
    assert _act(client, acme_energy, "role", company_role="admin").status_code == 404
    assert _act(client, acme_energy, "deactivate").status_code == 404
    assert _act(client, acme_energy, "link").status_code == 404
    assert _state() == before
    listed = client.get(reverse("portal:company_users")).content.decode()
    assert "acme-energy" not in listed and lounge.acme.name not in listed


def test_the_service_refuses_an_admin_of_another_company(lounge, make_user):
    bakery_admin = make_user(roles.CUSTOMER, username="bakery-admin", customer=lounge.bakery)
    before = _state()

    with pytest.raises(company_users.NotCompanyAdmin):
        company_users.deactivate_company_user(bakery_admin, _link_of(lounge.energy_manager))
    with pytest.raises(company_users.NotCompanyAdmin):
        company_users.add_company_user(
            bakery_admin, lounge.acme, username="x", email="x@x.example", company_role="admin"
        )
    assert _state() == before


def test_a_household_has_no_company_users_page(make_customer, make_user, client_for):
    """Residential customers: 404, as for the business club page (no company to manage)."""
    home = make_customer(name="The Cohens", kind="residential")
    # Even a household link that says "admin" (data from an import) gets no such page.
    holder = make_user(roles.CUSTOMER, customer=home, company_role="admin")
    client = client_for(holder)

    assert client.get(reverse("portal:company_users")).status_code == 404
    assert client.get(reverse("portal:company_user", args=[_link_of(holder).pk])).status_code == 404
    assert (
        f'href="{reverse("portal:company_users")}"'
        not in client.get(reverse("portal:home")).content.decode()
    )


# Roles and the last administrator -------------------------------------------------------------


def test_admin_changes_a_role_and_the_change_is_audited(lounge, client_for):
    energy = _link_of(lounge.energy_manager)

    response = _act(client_for(lounge.admin), energy, "role", company_role="finance")

    assert response.status_code == 302
    energy.refresh_from_db()
    assert energy.company_role == "finance"
    audit = AuditEntry.objects.get(action="company_user.role_changed")
    assert audit.actor == lounge.admin
    assert audit.data == {
        "user": lounge.energy_manager.pk,
        "from": "energy_manager",
        "to": "finance",
    }
    # Finance now: the bills are open to them.
    assert client_for(lounge.energy_manager).get(reverse("portal:bills")).status_code == 200


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(lounge, client_for):
    client = client_for(lounge.admin)
    own = _link_of(lounge.admin)
    before = _state()

    demoted = _act(client, own, "role", company_role="finance")
    deactivated = _act(client, own, "deactivate")

    for response in (demoted, deactivated):
        assert response.status_code == 200
        assert "acme-admin is the company&#x27;s only administrator" in response.content.decode()
    assert 'id="id_company_role-error"' in demoted.content.decode()  # beside the role
    assert _state() == before
    with pytest.raises(company_users.CompanyUserError, match="only administrator"):
        company_users.change_company_role(lounge.admin, own, "energy_manager")


def test_with_a_second_admin_the_first_may_step_down(lounge, client_for):
    client = client_for(lounge.admin)
    _act(client, _link_of(lounge.finance), "role", company_role="admin")

    response = _act(client, _link_of(lounge.admin), "role", company_role="finance")

    # No longer an administrator: back to the overview, where the menu has no Users link.
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert _link_of(lounge.admin).company_role == "finance"
    assert client.get(reverse("portal:company_users")).status_code == 403
    # Now acme-finance is the only administrator, and stays one.
    response = _act(
        client_for(lounge.finance), _link_of(lounge.finance), "role", company_role="finance"
    )
    assert "only administrator" in response.content.decode()


def test_an_admin_cannot_deactivate_themselves(lounge, client_for):
    client = client_for(lounge.admin)
    _act(client, _link_of(lounge.finance), "role", company_role="admin")
    before = _state()

    response = _act(client, _link_of(lounge.admin), "deactivate")

    assert "You cannot deactivate yourself" in response.content.decode()
    assert _state() == before


def test_an_empty_post_is_explained_and_changes_nothing(lounge, client_for):
    before = _state()

    response = client_for(lounge.admin).post(
        reverse("portal:company_user", args=[_link_of(lounge.finance).pk])
    )

    assert response.status_code == 200
    assert "Choose what to do" in response.content.decode()
    assert _state() == before


# Deactivating -------------------------------------------------------------------------------


def test_a_deactivated_user_is_logged_out_and_can_no_longer_log_in(lounge, client_for):
    energy_browser = _log_in("acme-energy", "pw-acme-energy")
    assert energy_browser.get(reverse("portal:consumption")).status_code == 200

    response = _act(client_for(lounge.admin), _link_of(lounge.energy_manager), "deactivate")

    assert response.status_code == 302
    lounge.energy_manager.refresh_from_db()
    assert not lounge.energy_manager.is_active
    # The open session has ended: the next page asks to log in.
    after = energy_browser.get(reverse("portal:consumption"))
    assert after.status_code == 302 and after.url.startswith(reverse("login"))
    # And the old password no longer opens the lounge.
    refused = Client().post(
        reverse("login"), {"username": "acme-energy", "password": "pw-acme-energy"}
    )
    assert refused.status_code == 200
    assert "didn't match" in refused.content.decode()
    audit = AuditEntry.objects.get(action="company_user.deactivated")
    assert audit.actor == lounge.admin
    listed = client_for(lounge.admin).get(reverse("portal:company_users")).content.decode()
    assert 'data-username="acme-energy" data-role="energy_manager" data-active="0"' in listed


def test_an_unused_link_stops_working_once_the_user_is_deactivated(lounge, client_for, settings):
    settings.VOLTDESK_PUBLIC_URL = "https://lounge.example"
    admin = client_for(lounge.admin)
    _add(admin)
    path = LINK.search(Message.objects.get(template="company_user_invitation").body).group(1)

    _act(admin, _link_of(User.objects.get(username="dana")), "deactivate")

    assert 'id="link-invalid"' in Client().get(path, follow=True).content.decode()


def test_an_admin_sends_a_new_link(lounge, client_for, settings):
    settings.VOLTDESK_PUBLIC_URL = "https://lounge.example"
    lounge.finance.email = "finance@acme.example"
    lounge.finance.save()

    response = _act(client_for(lounge.admin), _link_of(lounge.finance), "link")

    assert response.status_code == 302
    letter = Message.objects.get(template="company_user_invitation")
    assert letter.address == "finance@acme.example" and letter.payload["again"] is True
    _set_password(LINK.search(letter.body).group(1))
    _log_in("acme-finance")
    assert AuditEntry.objects.get(action="company_user.link_sent").actor == lounge.admin
