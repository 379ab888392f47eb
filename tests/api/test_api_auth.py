"""API keys and session auth."""

import pytest
from django.core.management import CommandError, call_command
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import path
from ninja import NinjaAPI

from voltdesk.api.auth import acting_user, api_auth
from voltdesk.api.models import ApiToken
from voltdesk.api.services import hash_key, issue_token, revoke_token, verify_key
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry


def test_a_key_is_stored_only_as_its_hash(make_user):
    user = make_user(roles.AGENT)

    issued = issue_token(user, "billing sync")

    token = ApiToken.objects.get()
    assert issued.key.startswith(f"vd_{token.prefix}_")
    assert token.key_hash == hash_key(issued.key)
    assert issued.key not in str(list(ApiToken.objects.values()))
    assert AuditEntry.objects.filter(action="api_token.issued").count() == 1


def test_keys_verify_whatever_their_random_characters(make_user):
    user = make_user(roles.AGENT)
    keys = [issue_token(user).key for _ in range(40)]

    assert all(verify_key(key) == user for key in keys)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1],
        lambda k: k + "x",
        lambda k: k.replace("vd_", "xx_"),
        lambda k: "",
        str.upper,
    ],
)
def test_a_wrong_key_is_refused(make_user, mangle):
    issued = issue_token(make_user(roles.AGENT))

    assert verify_key(mangle(issued.key)) is None


def test_revoked_keys_and_keys_of_inactive_users_are_refused(make_user):
    user = make_user(roles.AGENT)
    revoked, other = issue_token(user), issue_token(user)

    revoke_token(revoked.token.prefix)
    assert verify_key(revoked.key) is None
    assert verify_key(other.key) == user

    user.is_active = False
    user.save()
    assert verify_key(other.key) is None


def test_use_is_recorded(make_user):
    issued = issue_token(make_user(roles.AGENT))

    verify_key(issued.key)

    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_create_and_revoke_commands(make_user, capsys):
    user = make_user(roles.AGENT, username="integration")

    call_command("create_api_token", "integration", name="BI export")
    key = capsys.readouterr().out.strip()
    assert verify_key(key) == user
    assert ApiToken.objects.get().name == "BI export"

    call_command("revoke_api_token", ApiToken.objects.get().prefix)
    assert "revoked" in capsys.readouterr().out
    assert verify_key(key) is None


def test_commands_name_what_is_wrong(utility):
    with pytest.raises(CommandError, match="No user named ghost"):
        call_command("create_api_token", "ghost")
    with pytest.raises(CommandError, match="No API token has the prefix abc"):
        call_command("revoke_api_token", "abc")


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_key_acts_as_its_user(client, world, header):
    key = world.keys["customer_a"]
    value = f"Bearer {key}" if header == "Authorization" else key

    response = client.get("/api/v1/customers", headers={header: value})

    assert response.status_code == 200
    assert [c["ref"] for c in response.json()["items"]] == [world.a.ref]


def test_a_key_wins_over_a_browser_session(client, world):
    client.force_login(world.users["agent"])

    response = client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {world.keys['customer_a']}"}
    )

    assert [c["ref"] for c in response.json()["items"]] == [world.a.ref]


def test_session_auth_serves_the_pages_own_calls(client, world):
    client.force_login(world.users["customer_b"])

    response = client.get(f"/api/v1/customers/{world.b.ref}")

    assert response.status_code == 200
    assert response.json()["name"] == "Beta Foods"


def test_a_401_says_how_to_authenticate(client, world):
    response = client.get("/api/v1/customers", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key" in response.json()["detail"]


# CSRF: the API has no unsafe route yet, so a throwaway API with the same auth proves it.
_csrf_api = NinjaAPI(urls_namespace="csrf-test", auth=api_auth)


@_csrf_api.post("/touch")
def _touch(request):
    return {"user": acting_user(request).get_username()}


urlpatterns = [path("t/", _csrf_api.urls)]


@pytest.fixture
def csrf_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_session_posts_need_a_csrf_token_but_key_posts_do_not(csrf_urls, world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["agent"])

    assert browser.post("/t/touch").status_code == 403

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    assert browser.post("/t/touch", headers={"X-CSRFToken": secret}).status_code == 200

    integration = Client(enforce_csrf_checks=True)
    response = integration.post(
        "/t/touch", headers={"Authorization": f"Bearer {world.keys['agent']}"}
    )
    assert response.status_code == 200
    assert integration.post("/t/touch").status_code == 401
