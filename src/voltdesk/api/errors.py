"""One error shape for the whole API, and handlers so bad input never becomes a 500.

Every error answer is JSON: ``{"detail": message}``, and for invalid input also
``"errors": [{"field", "code", "message"}, ...]`` naming each field and why.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from voltdesk.core.services import UtilityNotConfigured
from voltdesk.metering.services import ConsumptionError

logger = logging.getLogger(__name__)


class InvalidInput(Exception):
    """A request value that parsed but makes no sense (a range backwards, a bad date)."""

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


def _pydantic_message(error: dict) -> str:
    """Our translated wording for pydantic's common error types, else pydantic's own."""
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind == "missing":
        return _("This field is required.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit)s.") % {
            "limit": ctx.get("ge")
        }
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "string_too_long":
        return _("Ensure this value has at most %(limit)s characters.") % {
            "limit": ctx.get("max_length")
        }
    if kind.startswith("date") or kind.startswith("datetime"):
        return _("Enter a valid date as YYYY-MM-DD.")
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return str(error.get("msg", _("Invalid value.")))


def _field_name(loc) -> str:
    # loc starts with where the value came from ("query", "path", "body"); the rest names it.
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    # A JSON body is one schema parameter named "payload": its fields are what the client sent.
    if len(parts) > 1 and parts[0] == "payload":
        parts = parts[1:]
    return ".".join(parts)


def invalid_response(api: NinjaAPI, request, errors: list[dict], status: int = 422):
    return api.create_response(
        request, {"detail": _("The request is invalid."), "errors": errors}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the API-wide handlers; ninja looks them up by the exception's class."""

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors = [
            {
                "field": _field_name(e.get("loc", ())),
                "code": e.get("type", "invalid"),
                "message": _pydantic_message(e),
            }
            for e in exc.errors
        ]
        return invalid_response(api, request, errors)

    @api.exception_handler(InvalidInput)
    def invalid_input(request, exc: InvalidInput):
        return invalid_response(
            api, request, [{"field": exc.field, "code": exc.code, "message": exc.message}]
        )

    @api.exception_handler(ConsumptionError)
    def consumption_error(request, exc: ConsumptionError):
        # A question the metering rules cannot answer as asked; the message is translated.
        return invalid_response(
            api, request, [{"field": "", "code": "invalid", "message": str(exc)}]
        )

    @api.exception_handler(DjangoValidationError)
    def domain_validation_error(request, exc: DjangoValidationError):
        # A domain validator (identifiers, phone numbers) rejected a value we passed on.
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": field, "code": err.code or "invalid", "message": msg}
                for field, errs in exc.error_dict.items()
                for err in errs
                for msg in err.messages
            ]
        else:
            code = exc.code or "invalid"
            errors = [{"field": "", "code": code, "message": m} for m in exc.messages]
        return invalid_response(api, request, errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        response = api.create_response(
            request,
            {"detail": _("Authentication required: send an API key or log in.")},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="voltdesk"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    @api.exception_handler(Http404)
    @api.exception_handler(ObjectDoesNotExist)
    def not_found(request, exc):
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return api.create_response(
            request, {"detail": _("You do not have permission to do this.")}, status=403
        )

    @api.exception_handler(DataError)
    def data_error(request, exc: DataError):
        # The database refused a value (out of range, NUL byte): bad input, not a crash.
        logger.warning("API input refused by the database: %s", exc)
        return api.create_response(
            request,
            {"detail": _("A value in the request is out of range or malformed.")},
            status=400,
        )

    @api.exception_handler(UtilityNotConfigured)
    def not_configured(request, exc):
        return api.create_response(
            request, {"detail": _("The utility is not set up yet.")}, status=503
        )
