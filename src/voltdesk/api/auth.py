"""How a request proves who it acts for.

Integrations send an API key (``Authorization: Bearer <key>`` or ``X-API-Key``);
the pages' own calls ride on the Django session, with CSRF checked for unsafe
methods. Whatever the method, ``request.auth`` is the user, and every route scopes
its data by that user through ``core.access``.
"""

import copy
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from voltdesk.core.access import customer_of
from voltdesk.customers.models import CustomerUser

from .models import ApiToken
from .services import hash_key, verify_key

# Held per process, because an integration calls many times a second and these
# change rarely:
# * a verified key's user, for KEY_TTL: a revoked key or a deactivated user is
#   refused at once by the process that made the change, and within KEY_TTL by
#   the others;
# * what the user may do (its permissions, the customer it acts for), for
#   ACCESS_TTL: seen at once by the process that made the change, within
#   ACCESS_TTL by the others.
# A key that does not verify is never held: every try is checked against the database.
KEY_TTL = 2.0
ACCESS_TTL = 30.0
HELD_KEYS_MAX = 1000  # more distinct keys than this in a process: start afresh

# hash of the key -> (expires, the user as verify_key returned it)
_keys: dict[str, tuple[float, object]] = {}
# user id -> (expires, permission names, (link id, customer id, company role) or None)
_access: dict[int, tuple[float, frozenset, tuple | None]] = {}


def forget_access(**_signal) -> None:
    """Drop every held key and access; the next call of each reads them again."""
    _keys.clear()
    _access.clear()


# Not a business rule: keeps this process's copy of who may do what fresh.
_User = get_user_model()
for _model in (ApiToken, _User, Group, Permission, CustomerUser):
    _uid = f"api-access-{_model._meta.label}"
    post_save.connect(forget_access, sender=_model, dispatch_uid=_uid)
    post_delete.connect(forget_access, sender=_model, dispatch_uid=_uid + "-deleted")
for _model in (_User.groups.through, _User.user_permissions.through, Group.permissions.through):
    _uid = f"api-access-{_model._meta.label}"
    m2m_changed.connect(forget_access, sender=_model, dispatch_uid=_uid)


def _verified(key: str):
    """``verify_key``, its answer held for KEY_TTL when the key is good."""
    digest = hash_key(key)
    now = time.monotonic()
    held = _keys.get(digest)
    if held is not None and now < held[0]:
        return copy.copy(held[1])  # each request gets its own instance
    user = verify_key(key)
    if user is None:
        _keys.pop(digest, None)
        return None
    if len(_keys) >= HELD_KEYS_MAX:
        _keys.clear()
    _keys[digest] = (now + KEY_TTL, copy.copy(user))
    return user


def _with_access(user):
    """The key's user with its permissions and customer link in hand (held, or read now)."""
    now = time.monotonic()
    held = _access.get(user.pk)
    if held is None or held[0] <= now:
        link = CustomerUser.objects.filter(user=user).first()
        held = (
            now + ACCESS_TTL,
            frozenset(ModelBackend().get_all_permissions(user)),
            (link.pk, link.customer_id, link.company_role) if link is not None else None,
        )
        _access[user.pk] = held
    # ModelBackend keeps a user's permissions on the instance for the request: give it ours.
    user._perm_cache = set(held[1])
    link = None
    if held[2] is not None:
        link_id, customer_id, role = held[2]
        # The customer itself is read when needed (``customer_of``): its data stay fresh.
        link = CustomerUser(pk=link_id, user=user, customer_id=customer_id, company_role=role)
    _User.customer_link.related.set_cached_value(user, link)
    return user


def _key_user(request, key: str):
    user = _verified(key)
    if user is None:
        return None
    # Django code reading request.user must see the key's user, not a browser session's.
    request.user = _with_access(user)
    return user


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        return _key_user(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _key_user(request, key or "")


class Session(SessionAuth):
    """The logged-in user of the pages; CSRF is checked for unsafe methods."""

    def _get_key(self, request):
        # Only a request that would authenticate by its session needs the CSRF check;
        # otherwise an integration with a bad key would get "CSRF failed" instead of 401.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


# Keys first: a request that carries a key is an integration even if a browser
# session cookie happens to ride along.
api_auth = [BearerKey(), HeaderKey(), Session(csrf=True)]


def acting_user(request):
    """The user the request acts for (the key's user or the session's)."""
    return request.auth


def require_view(request, perm: str):
    """The acting user, or 403 if it may see nothing of this kind at all.

    Customer users always pass (``core.access`` narrows them to their own rows);
    staff need the model's view permission. Rows of another customer are then
    simply not found (404), so their existence is not revealed.
    """
    user = acting_user(request)
    if customer_of(user) is None and not user.has_perm(perm):
        raise HttpError(403, _("You do not have permission to view this."))
    return user
