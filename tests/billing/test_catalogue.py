"""The profiles' demo tariffs come priced, once."""

from decimal import Decimal

import pytest

from voltdesk.billing.models import TariffRate, TariffVersion
from voltdesk.billing.tariff_catalogue import ensure_tariff_catalogue
from voltdesk.core.services import init_utility


@pytest.mark.parametrize(("profile", "tariffs"), [("il", 4), ("cn", 3)])
def test_init_prices_every_profile_tariff_once(db, profile, tariffs):
    init_utility(profile)
    assert TariffVersion.objects.count() == tariffs
    rates = TariffRate.objects.count()
    assert ensure_tariff_catalogue(profile) == 0
    assert init_utility(profile).created is False
    assert (TariffVersion.objects.count(), TariffRate.objects.count()) == (tariffs, rates)


def test_israeli_and_chinese_prices(db):
    init_utility("il")
    residential = TariffVersion.objects.get(tariff__name="Residential")
    assert residential.rates.get().price == Decimal("0.5425")
    taoz = TariffVersion.objects.get(tariff__name="TAOZ LV")
    assert sorted(s.name for s in taoz.seasons.all()) == ["summer", "transition", "winter"]
    assert taoz.seasons.get(name="summer").months == [6, 7, 8, 9]


def test_chinese_residential_annual_tiers(db):
    init_utility("cn")
    version = TariffVersion.objects.get(tariff__name="Residential tiered")
    assert version.tier_basis == "annual"
    assert [(r.up_to_kwh, r.price) for r in version.rates.order_by("price")] == [
        (Decimal("2160"), Decimal("0.4883")),
        (Decimal("4200"), Decimal("0.5383")),
        (None, Decimal("0.7883")),
    ]
