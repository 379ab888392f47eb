"""Issuing, verifying and revoking API keys.

A key looks like ``vd_<prefix>_<secret>``: the prefix finds the row, the whole key
is hashed and compared in constant time.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import log_action

from .models import ApiToken

KEY_SCHEME = "vd"
# Writing last_used_at on every call would turn each read into a write; once a
# minute is precise enough for "is this integration still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    """A token operation that cannot be done; the message is translated."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = key.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1]


@transaction.atomic
def issue_token(user, name: str = "", *, actor=None) -> IssuedToken:
    """Create a key for ``user``; the caller must show ``key`` now, it cannot be recovered."""
    if not user.is_active:
        raise TokenError(_("User %(username)s is inactive.") % {"username": user.get_username()})
    prefix = secrets.token_hex(6)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=hash_key(key))
    log_action(actor, "api_token.issued", token, {"user": user.get_username(), "name": name})
    return IssuedToken(token=token, key=key)


def verify_key(key: str):
    """The user a key acts for, or None if the key is unknown, revoked or its user inactive."""
    prefix = _split_key(key or "")
    if prefix is None:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A filtered update: concurrent requests never write an older time over a newer one.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gte=now).update(last_used_at=now)
    return token.user


@transaction.atomic
def revoke_token(prefix: str, *, actor=None) -> ApiToken:
    """Revoke the token with this prefix (a full key is accepted too); revoking twice is a no-op."""
    prefix = _split_key(prefix) or prefix
    token = ApiToken.objects.select_for_update().filter(prefix=prefix).first()
    if token is None:
        raise TokenError(_("No API token has the prefix %(prefix)s.") % {"prefix": prefix})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log_action(actor, "api_token.revoked", token, {"user": token.user.get_username()})
    return token
