"""Levels offered from a household's last 12 months under the 2,160 / 4,200 kWh annual tiers."""

from datetime import date
from decimal import Decimal

import pytest

from voltdesk.prepaid.services import PrepaidError, offer_levels

D = Decimal
AS_OF = date(2026, 12, 3)


def test_levels_from_a_year_of_history(household):
    # 12 months x 250 kWh = 3,000 kWh a year; levels 80/100/120/150 % = 2,400/3,000/3,600/4,500.
    # 2,400: 2,160 x 0.4883 = 1,054.73 + 240 x 0.5383 = 129.19 -> 1,183.92 / 12 = 98.66 -> 100
    # 3,000: 1,054.73 + 840 x 0.5383 = 452.17 -> 1,506.90 / 12 = 125.58 -> 130
    # 3,600: 1,054.73 + 1,440 x 0.5383 = 775.15 -> 1,829.88 / 12 = 152.49 -> 155
    # 4,500: 1,054.73 + 2,040 x 0.5383 = 1,098.13 + 300 x 0.7883 = 236.49 -> 2,389.35
    #        / 12 = 199.11 -> 200 (monthly amounts rounded up to 5.00; VAT included in cn)
    offer = offer_levels(household([250] * 12), AS_OF)
    assert offer.usual.kwh == 3000 and offer.usual.months == 12 and not offer.typical
    got = [(lv.percent, lv.annual_kwh, lv.priced_at, lv.monthly_amount) for lv in offer.levels]
    assert got == [
        (80, 2400, D("1183.92"), D("100.00")),
        (100, 3000, D("1506.90"), D("130.00")),
        (120, 3600, D("1829.88"), D("155.00")),
        (150, 4500, D("2389.35"), D("200.00")),
    ]
    assert [lv.annual_price for lv in offer.levels] == [D("1200.00"), D(1560), D(1860), D(2400)]
    # Bonus 1 % of the monthly amount: 1.00, 1.30, 1.55, 2.00.
    assert [lv.monthly_bonus for lv in offer.levels] == [D("1.00"), D("1.30"), D("1.55"), D("2")]


def test_half_a_year_is_scaled_to_a_year(household):
    # 6 months x 250 = 1,500 kWh -> x 12 / 6 = 3,000 kWh a year: the same levels.
    offer = offer_levels(household([250] * 6), AS_OF)
    assert offer.usual.kwh == 3000 and offer.usual.months == 6
    assert offer.levels[0].monthly_amount == D("100.00")


def test_no_history_offers_the_typical_household(household):
    # Typical 2,400 kWh; 80 % = 1,920 kWh x 0.4883 = 937.54 / 12 = 78.13 -> 80.00.
    offer = offer_levels(household([]), AS_OF)
    assert offer.typical and offer.usual.kwh == 2400
    assert offer.levels[0].annual_kwh == 1920 and offer.levels[0].monthly_amount == D("80.00")


def test_business_customers_are_not_offered_packages(household):
    with pytest.raises(PrepaidError) as err:
        offer_levels(household([250] * 12, kind="business"), AS_OF)
    assert err.value.code == "not_residential"


def test_unknown_level_names_the_levels(household):
    offer = offer_levels(household([250] * 12), AS_OF)
    with pytest.raises(PrepaidError, match="80 %, 100 %, 120 %, 150 %"):
        offer.level("90")
