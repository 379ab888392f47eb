"""A business's own users: its administrator adds them, changes their role, deactivates them.

* Only an active administrator (``CompanyRole.ADMIN``) of that very customer may
  do any of it, and only for a business: a household has its holder, no company.
* A company always keeps at least one active administrator: demoting or
  deactivating the last one is refused. Changes of one company are serialised by
  locking the customer's row, so two administrators demoting each other at the
  same moment cannot both succeed.
* A new user gets no password: an e-mail through the outbox, in the user's
  language, carries a one-time link to set one (Django's password-reset token,
  valid for ``PASSWORD_RESET_TIMEOUT``; it stops working once a password is set).
* A deactivated user cannot log in, and its open sessions end: Django refuses an
  inactive user's session, and the password is made unusable, which also changes
  the session's hash and voids any set-password link still in the mailbox.
* User names are unique across the whole system, whatever the case ("Dana" and
  "dana" would be two people no one can tell apart at the log-in).
* Every change writes an audit row with its actor, in the change's transaction.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from voltdesk.core import roles
from voltdesk.core.choices import Language
from voltdesk.core.models import UserProfile
from voltdesk.core.services import get_utility, log_action
from voltdesk.notifications.choices import Channel
from voltdesk.notifications.services import NotificationError, queue_message

from .choices import CompanyRole, CustomerKind
from .identifiers import InvalidValue, normalise_email
from .models import Customer, CustomerUser

INVITATION_TEMPLATE = "company_user_invitation"
# A business's users; ``holder`` is the household's own role.
COMPANY_ROLES = [CompanyRole.ADMIN, CompanyRole.FINANCE, CompanyRole.ENERGY_MANAGER]


class CompanyUserError(ValueError):
    """A company-user change refused; ``field`` names the input at fault (None: the whole)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotCompanyAdmin(CompanyUserError):
    """The actor is not an active administrator of the company concerned."""

    def __init__(self):
        super().__init__(None, _("Only an administrator of this company may manage its users."))


def manages_users(user, customer: Customer | None = None) -> bool:
    """Whether ``user`` is an active administrator of a business (``customer``, if named)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    link = getattr(user, "customer_link", None)
    if link is None or link.company_role != CompanyRole.ADMIN:
        return False
    if customer is not None and link.customer_id != customer.pk:
        return False
    return link.customer.kind == CustomerKind.BUSINESS


def _lock_as_admin(actor, customer: Customer) -> Customer:
    """The customer's row, locked until the transaction ends, once ``actor`` proves its admin.

    The lock makes the changes of one company's users one at a time; the role is
    read again under it, since another administrator may just have changed it.
    """
    if not manages_users(actor, customer):
        raise NotCompanyAdmin
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    still = CustomerUser.objects.filter(
        user=actor, customer=customer, company_role=CompanyRole.ADMIN, user__is_active=True
    )
    if customer.kind != CustomerKind.BUSINESS or not still.exists():
        raise NotCompanyAdmin
    return customer


def _only_admin(username: str) -> str:
    return _(
        "%(username)s is the company's only administrator: make another user "
        "administrator first, so the company is never left without one."
    ) % {"username": username}


def _deactivated(username: str) -> str:
    return _("%(username)s is deactivated: their user can no longer be changed.") % {
        "username": username
    }


def _active_admins(customer: Customer) -> int:
    return CustomerUser.objects.filter(
        customer=customer, company_role=CompanyRole.ADMIN, user__is_active=True
    ).count()


def list_company_users(customer: Customer) -> QuerySet:
    """The customer's users with their log-ins: active ones first, then by user name."""
    return (
        CustomerUser.objects.filter(customer=customer)
        .select_related("user", "user__profile")
        .order_by("-user__is_active", "user__username")
    )


def _role(value: str) -> str:
    if value not in COMPANY_ROLES:
        raise CompanyUserError(
            "company_role", _("Choose a company role: administrator, finance or energy manager.")
        )
    return value


def check_username(value: str) -> str:
    """The user name stripped, if well formed and free (whatever the case); else refused."""
    User = get_user_model()
    username = (value or "").strip()
    if not username:
        raise CompanyUserError("username", _("Enter a user name."))
    field = User._meta.get_field(User.USERNAME_FIELD)
    if len(username) > field.max_length:
        raise CompanyUserError(
            "username",
            _("The user name may have at most %(max)s characters.") % {"max": field.max_length},
        )
    try:
        User.username_validator(username)
    except ValidationError:
        raise CompanyUserError(
            "username",
            _("A user name may contain only letters, digits and the characters @ . + - _"),
        ) from None
    if User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
        raise CompanyUserError("username", _taken(username))
    return username


def _taken(username: str) -> str:
    return _("The user name %(username)s is already taken: choose another user name.") % {
        "username": username
    }


def _email(value: str) -> str:
    if not (value or "").strip():
        raise CompanyUserError(
            "email", _("Enter an e-mail address: the link to set a password goes there.")
        )
    try:
        return normalise_email(value.strip())
    except InvalidValue as exc:
        raise CompanyUserError("email", str(exc)) from None


def _language(value: str, customer: Customer) -> str:
    language = value or customer.language or get_utility().default_language
    if language not in Language.values:
        raise CompanyUserError("language", _("Choose one of the listed languages."))
    return language


def set_password_path(user, token: str) -> str:
    """The one-time link's path: Django's password-reset confirmation with the token."""
    return reverse(
        "password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token},
    )


def _public_url(path: str) -> str:
    # The same setting as the club's letters: the lounge's address as customers reach it.
    return getattr(settings, "VOLTDESK_PUBLIC_URL", "").rstrip("/") + path


def add_company_user(
    actor,
    customer: Customer,
    *,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    company_role: str,
    language: str = "",
) -> CustomerUser:
    """A new log-in for the company, in the customer group, with a link to set its password.

    The user has no usable password until it follows the link in the e-mail,
    which is queued in the outbox in the user's language (default: the
    customer's, else the utility's).
    """
    User = get_user_model()
    with transaction.atomic():
        customer = _lock_as_admin(actor, customer)
        username = check_username(username)
        role = _role(company_role)
        email = _email(email)
        first_name, last_name = (first_name or "").strip()[:150], (last_name or "").strip()[:150]
        language = _language(language, customer)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username, email=email, first_name=first_name, last_name=last_name
                )
        except IntegrityError:
            # Taken by someone else between our check and the insert.
            raise CompanyUserError("username", _taken(username)) from None
        user.groups.add(Group.objects.get(name=roles.CUSTOMER))
        UserProfile.objects.update_or_create(user=user, defaults={"language": language})
        link = CustomerUser.objects.create(user=user, customer=customer, company_role=role)
        log_action(
            actor,
            "company_user.added",
            link,
            {"user": user.pk, "username": username, "company_role": role, "language": language},
        )
        _queue_link(actor, link, again=False)
    return link


def send_set_password_link(actor, link: CustomerUser) -> CustomerUser:
    """A new one-time link to set the password, by e-mail to the user (expired link, forgotten one).

    The link goes to the user's own address, never to the administrator, so an
    administrator cannot take over a colleague's log-in.
    """
    with transaction.atomic():
        _lock_as_admin(actor, link.customer)
        link = CustomerUser.objects.select_related("user__profile", "customer").get(pk=link.pk)
        if not link.user.is_active:
            raise CompanyUserError(None, _deactivated(link.user.get_username()))
        log_action(actor, "company_user.link_sent", link, {"user": link.user_id})
        _queue_link(actor, link, again=True)
    return link


def _queue_link(actor, link: CustomerUser, *, again: bool) -> None:
    """Queue the e-mail with the set-password link, in the user's language."""
    user, customer = link.user, link.customer
    profile = getattr(user, "profile", None)
    language = _language(getattr(profile, "language", ""), customer)
    with translation.override(language):
        role_label = str(CompanyRole(link.company_role).label)
    token = default_token_generator.make_token(user)
    try:
        queue_message(
            channel=Channel.EMAIL,
            template=INVITATION_TEMPLATE,
            payload={
                "name": user.get_full_name() or user.get_username(),
                "username": user.get_username(),
                "company": customer.name,
                "role": role_label,
                "invited_by": actor.get_full_name() or actor.get_username(),
                "set_password_url": _public_url(set_password_path(user, token)),
                "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                "again": again,
            },
            # One per link: the token changes with every second and every password set.
            dedupe_key=f"company-user:set-password:{user.pk}:{token}",
            customer=customer,
            address=user.email,
            language=language,
        )
    except NotificationError as exc:
        raise CompanyUserError("email", str(exc)) from None


def change_company_role(actor, link: CustomerUser, company_role: str) -> CustomerUser:
    """Give a company user another role; the last active administrator keeps theirs."""
    with transaction.atomic():
        _lock_as_admin(actor, link.customer)
        role = _role(company_role)
        link = CustomerUser.objects.select_related("user", "customer").get(pk=link.pk)
        if not link.user.is_active:
            raise CompanyUserError(None, _deactivated(link.user.get_username()))
        if link.company_role == role:
            return link
        if link.company_role == CompanyRole.ADMIN and _active_admins(link.customer) <= 1:
            raise CompanyUserError("company_role", _only_admin(link.user.get_username()))
        before = link.company_role
        link.company_role = role
        link.save(update_fields=["company_role"])
        log_action(
            actor,
            "company_user.role_changed",
            link,
            {"user": link.user_id, "from": before, "to": role},
        )
    return link


def deactivate_company_user(actor, link: CustomerUser) -> CustomerUser:
    """End a company user's access: no more log-in, open sessions end; the history stays."""
    with transaction.atomic():
        _lock_as_admin(actor, link.customer)
        link = CustomerUser.objects.select_related("user", "customer").get(pk=link.pk)
        user = link.user
        if not user.is_active:
            raise CompanyUserError(None, _deactivated(user.get_username()))
        if link.company_role == CompanyRole.ADMIN and _active_admins(link.customer) <= 1:
            raise CompanyUserError(None, _only_admin(user.get_username()))
        if user.pk == actor.pk:
            # Locking oneself out by a slip of the mouse: another administrator does it.
            raise CompanyUserError(
                None, _("You cannot deactivate yourself: ask another administrator of the company.")
            )
        user.is_active = False
        # A new password hash ends every session (their hash no longer matches) and
        # voids any set-password link not yet used.
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
        log_action(
            actor,
            "company_user.deactivated",
            link,
            {"user": user.pk, "company_role": link.company_role},
        )
    return link
