"""How a request proves who it acts for.

Integrations send an API key (``Authorization: Bearer <key>`` or ``X-API-Key``);
the pages' own calls ride on the Django session, with CSRF checked for unsafe
methods. Whatever the method, ``request.auth`` is the user, and every route scopes
its data by that user through ``core.access``.
"""

from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from voltdesk.core.access import customer_of

from .services import verify_key


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        user = verify_key(token)
        if user is not None:
            # Django code reading request.user must see the key's user, not a browser session's.
            request.user = user
        return user


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        user = verify_key(key or "")
        if user is not None:
            request.user = user
        return user


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
