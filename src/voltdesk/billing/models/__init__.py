"""Billing: tariffs and their versions, bills and their lines, payments and debts."""

from .bills import Bill, BillingRun, BillLine
from .einvoices import BillDelivery, EInvoice
from .payments import (
    GatewayEvent,
    Instalment,
    OnlinePayment,
    Payment,
    PaymentAllocation,
    PaymentArrangement,
)
from .tariffs import Tariff, TariffRate, TariffVersion, TouSeason, TouWindow

__all__ = [
    "Bill",
    "BillDelivery",
    "BillLine",
    "BillingRun",
    "EInvoice",
    "GatewayEvent",
    "Instalment",
    "OnlinePayment",
    "Payment",
    "PaymentAllocation",
    "PaymentArrangement",
    "Tariff",
    "TariffRate",
    "TariffVersion",
    "TouSeason",
    "TouWindow",
]
