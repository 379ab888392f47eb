"""Delivery channels behind one small driver interface (see ``base.Driver``)."""

from ..choices import Channel
from .base import (
    DeliveryError,
    Driver,
    Outgoing,
    PermanentDeliveryError,
    SendResult,
    TransientDeliveryError,
)
from .email import EmailDriver
from .sms import gateway_driver_from_settings

__all__ = [
    "DeliveryError",
    "Driver",
    "Outgoing",
    "PermanentDeliveryError",
    "SendResult",
    "TransientDeliveryError",
    "get_driver",
]


def get_driver(channel: str) -> Driver:
    """The driver for a channel, chosen from settings at call time (tests override them)."""
    if channel == Channel.EMAIL:
        return EmailDriver()
    if channel == Channel.SMS:
        return gateway_driver_from_settings()
    raise ValueError(f"no driver for channel {channel!r}")
