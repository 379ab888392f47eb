"""Demo data of prepaid packages: the demo household bought a package and lived a month over it.

``seed_prepaid_demo(customer, today)`` runs after the demo's billing (its bills of
the last twelve months are issued). The household buys the highest level whose
monthly credit is still below last month's bill, pays it through the sandbox
gateway (a signed confirmation, as in the portal), and the package is dated as
bought the month before last so that its year began last month. Last month is
then credited and settled: the bill exceeds the credit, the SMS with the
difference and the day 15 days on is in the outbox, and no late fee runs before it.
"""

from datetime import date, datetime, time

from django.db import transaction

from voltdesk.billing.models import Bill
from voltdesk.core.services import log_action, utility_zone
from voltdesk.metering.periods import first_of_month

from . import services
from .choices import PackageStatus
from .models import Package
from .settlement import settle_month


@transaction.atomic
def seed_prepaid_demo(customer, today: date) -> Package | None:
    """The demo household's package and last month's settlement; None if it has no bill."""
    last_month = services.add_months(first_of_month(today), -1)
    contract = services.package_contract(customer)
    bill = Bill.objects.filter(
        contract=contract, period_start=last_month, kind="bill", status="issued"
    ).first()
    if bill is None:
        return None
    offer = services.offer_levels(customer, today)
    below = [lv for lv in offer.levels if lv.monthly_amount + lv.monthly_bonus < bill.total]
    level = below[-1] if below else offer.levels[0]
    purchase = services.buy_package(
        customer, level.percent, f"demo-package-{customer.pk}", user=None, as_of=today
    )
    services.deliver_purchase_webhook(purchase.package.pk, "success")
    package = Package.objects.get(pk=purchase.package.pk)
    # Dated back: bought and paid on the 20th of the month before last.
    bought = datetime.combine(
        services.add_months(last_month, -1).replace(day=20), time(10), utility_zone()
    )
    Package.objects.filter(pk=package.pk).update(
        status=PackageStatus.ACTIVE,
        bought_at=bought,
        paid_at=bought,
        first_month=last_month,
        last_month=services.add_months(last_month, package.months - 1),
    )
    log_action(None, "prepaid.demo_dated", package, {"bought": bought.isoformat()})
    settle_month(last_month, as_of=today)
    return Package.objects.get(pk=package.pk)
