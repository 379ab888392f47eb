"""Auto-debit of a package's shortfall from a bound bank card, and the sandbox bank.

``BankAdapter`` is what a bank (or a card scheme's mandate service) must do for
us: turn a card into a mandate token when the customer binds it, and take a
debit against that token. The bank answers a debit later (``receive_debit_answer``);
only that answer records money, as a ``direct debit`` payment through
``billing.payments.record_payment`` (settling the month's bill first). A failed
debit sends an SMS; the customer's 15 days without late fee still hold.

``SandboxBank`` behaves like one: the test cards of the payment gateway decide
(4242 4242 4242 4242 is debited, 4000 0000 0000 0002 is declined), and its
answer comes from a Celery task after our transaction commits.
"""

import contextlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.billing.choices import PaymentMethod
from voltdesk.billing.gateway import TEST_CARDS
from voltdesk.billing.payments import record_payment
from voltdesk.core.services import log_action
from voltdesk.notifications.services import NotificationError, queue_messages

from .choices import DebitStatus
from .models import AutoDebit


class BankAdapter:
    name = ""

    def create_mandate(self, card_number: str) -> str:
        """The bank's token for a card the customer authorised (the number is not kept)."""
        raise NotImplementedError

    def request_debit(self, debit: AutoDebit) -> None:
        """Ask the bank to take ``debit.amount``; it answers later."""
        raise NotImplementedError


class SandboxBank(BankAdapter):
    name = "sandbox"

    def create_mandate(self, card_number: str) -> str:
        from .services import PrepaidError

        outcome = TEST_CARDS.get(card_number)
        if outcome not in ("success", "decline"):
            raise PrepaidError(
                _(
                    "Use one of the sandbox's test cards: 4242 4242 4242 4242 or "
                    "4000 0000 0000 0002."
                ),
                "card",
            )
        return f"sbm_{outcome}_{secrets.token_urlsafe(12)}"

    def request_debit(self, debit: AutoDebit) -> None:
        from .tasks import answer_auto_debit

        outcome = "success" if debit.mandate.token.startswith("sbm_success_") else "decline"
        transaction.on_commit(lambda: answer_auto_debit.delay(debit.bank_ref, outcome))


BANKS: dict[str, BankAdapter] = {"sandbox": SandboxBank()}


def sandbox_bank() -> BankAdapter:
    return BANKS["sandbox"]


def new_reference() -> str:
    return "dd_" + secrets.token_urlsafe(16)


def request_auto_debit(debit_id: int) -> None:
    debit = AutoDebit.objects.select_related("mandate").get(pk=debit_id)
    if debit.status == DebitStatus.PENDING:
        BANKS.get(debit.mandate.bank, sandbox_bank()).request_debit(debit)


def receive_debit_answer(bank_ref: str, succeeded: bool, reason: str = "") -> AutoDebit | None:
    """The bank's answer about one debit; a repeated answer changes nothing."""
    from .settlement import shortfall_message

    with transaction.atomic():
        debit = (
            AutoDebit.objects.select_for_update()
            .select_related("package_month__customer", "package_month__package", "mandate")
            .filter(bank_ref=bank_ref)
            .first()
        )
        if debit is None or debit.status != DebitStatus.PENDING:
            return debit
        row = debit.package_month
        debit.answered_at = timezone.now()
        if succeeded:
            debit.status = DebitStatus.SUCCEEDED
            debit.save(update_fields=["status", "answered_at"])
            record_payment(
                row.customer,
                debit.amount,
                PaymentMethod.DIRECT_DEBIT,
                debit.answered_at,
                reference=bank_ref,
                user=None,
                first=[row.bill_id] if row.bill_id else None,
            )
            log_action(None, "prepaid.auto_debit_succeeded", debit, {"amount": str(debit.amount)})
        else:
            debit.status = DebitStatus.FAILED
            debit.reason = reason or _("Declined by the bank.")
            debit.save(update_fields=["status", "answered_at", "reason"])
            log_action(None, "prepaid.auto_debit_failed", debit, {"reason": debit.reason})
            # No phone: the statement shows the failure.
            with contextlib.suppress(NotificationError):
                queue_messages([shortfall_message(row, "prepaid_debit_failed")])
    return debit
