"""E-mail over SMTP through Django's mail backend and EMAIL_* settings."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .base import Outgoing, PermanentDeliveryError, SendResult, TransientDeliveryError


def message_id_for(message: Outgoing) -> str:
    """A Message-ID fixed per message, so a resend after a crash is recognisably the same mail."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "voltdesk.invalid"
    return f"<{message.idempotency_key[:40]}@{domain}>"


class EmailDriver:
    name = "smtp"

    def send(self, message: Outgoing) -> SendResult:
        message_id = message_id_for(message)
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"Message-ID": message_id, "Content-Language": message.language},
        )
        try:
            with get_connection(fail_silently=False) as connection:
                connection.send_messages([mail])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error_class = (
                TransientDeliveryError
                if all(400 <= c < 500 for c in codes)
                else PermanentDeliveryError
            )
            raise error_class(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            # SMTP 4xx means "not now", 5xx means "never" (RFC 5321 section 4.2.1).
            error_class = (
                PermanentDeliveryError if 500 <= exc.smtp_code < 600 else TransientDeliveryError
            )
            raise error_class(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
            raise TransientDeliveryError(f"SMTP unavailable: {exc}") from exc
        return SendResult(provider_message_id=message_id)
