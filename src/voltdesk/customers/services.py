"""Customers, sites and contracts: identifiers, phone numbers and changes of holder."""

from .models import Supplier


def ensure_utility_supplier(utility) -> Supplier:
    """The utility itself is always a supplier (the default one)."""
    supplier, _created = Supplier.objects.get_or_create(
        name=utility.name, defaults={"is_utility": True}
    )
    return supplier
