"""The small interface every delivery channel driver implements."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """What a driver needs to send one message; nothing of the database."""

    reference: str  # our message id, echoed back by gateways in receipts
    idempotency_key: str  # the same for every attempt of one message
    address: str
    language: str
    body: str
    subject: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class DeliveryError(Exception):
    """A send that did not go through; ``permanent`` says whether trying again can help."""

    permanent = False


class TransientDeliveryError(DeliveryError):
    """The provider is down, slow or busy: try again later."""


class PermanentDeliveryError(DeliveryError):
    """The provider refused this message for good (bad address, rejected content)."""

    permanent = True


class Driver(Protocol):
    name: str

    def send(self, message: Outgoing) -> SendResult:
        """Hand the message to the provider; raise a ``DeliveryError`` if it was not taken."""
