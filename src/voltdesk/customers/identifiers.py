"""National identifiers, phone numbers and e-mail addresses of customers.

Which identifier a customer carries depends on the utility's country and the
customer's kind (a company number for a business, a personal ID for a household);
each is checked with python-stdnum and stored compact. Phone numbers are read in
the utility's country and stored E.164.
"""

from types import ModuleType

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc
from stdnum.il import hp, idnr

from .choices import CustomerKind, IdentifierKind


class InvalidValue(ValueError):
    """A value a customer record cannot hold; the message is translated and says why."""


# (country, customer kind) -> the identifier such a customer carries.
IDENTIFIER_KINDS: dict[tuple[str, str], str] = {
    ("IL", CustomerKind.BUSINESS): IdentifierKind.IL_COMPANY,
    ("IL", CustomerKind.RESIDENTIAL): IdentifierKind.IL_ID,
    ("CN", CustomerKind.BUSINESS): IdentifierKind.CN_USCC,
    ("CN", CustomerKind.RESIDENTIAL): IdentifierKind.CN_RIC,
}

_VALIDATORS: dict[str, ModuleType] = {
    IdentifierKind.IL_COMPANY: hp,
    IdentifierKind.IL_ID: idnr,
    IdentifierKind.CN_USCC: uscc,
    IdentifierKind.CN_RIC: ric,
}


def identifier_kind_for(country: str, customer_kind: str) -> str:
    """The identifier kind a customer of this kind carries in this country."""
    try:
        return IDENTIFIER_KINDS[(country.upper(), customer_kind)]
    except KeyError:
        raise InvalidValue(
            _("no national identifier is known for %(kind)s customers in country %(country)s")
            % {"kind": customer_kind, "country": country}
        ) from None


def _stdnum_reason(exc: stdnum_errors.ValidationError) -> str:
    # stdnum's own messages are English only; name the kind of fault in the user's language.
    if isinstance(exc, stdnum_errors.InvalidChecksum):
        return _("the check digit is wrong")
    if isinstance(exc, stdnum_errors.InvalidLength):
        return _("it has the wrong length")
    if isinstance(exc, stdnum_errors.InvalidComponent):
        return _("a part of it (such as a date or region code) is not valid")
    return _("it has the wrong format")


def normalise_identifier(id_kind: str, value: str) -> str:
    """The identifier in its compact form, or ``InvalidValue`` naming its kind and the fault."""
    module = _VALIDATORS[id_kind]
    try:
        return module.validate(value)
    except stdnum_errors.ValidationError as exc:
        raise InvalidValue(
            _("%(value)s is not a valid %(kind)s: %(reason)s")
            % {
                "value": value,
                "kind": IdentifierKind(id_kind).label,
                "reason": _stdnum_reason(exc),
            }
        ) from exc


def normalise_phone(value: str, country: str) -> str:
    """A phone number in E.164, read as dialled in the utility's country."""
    try:
        number = phonenumbers.parse(value, country.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(_("%(value)s is not a phone number") % {"value": value}) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(
            _("%(value)s is not a valid phone number in %(country)s")
            % {"value": value, "country": country.upper()}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """An e-mail address as written, with its domain in lower case (domains ignore case)."""
    try:
        validate_email(value)
    except ValidationError as exc:
        raise InvalidValue(_("%(value)s is not a valid e-mail address") % {"value": value}) from exc
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"
