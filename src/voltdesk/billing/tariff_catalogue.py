"""Priced versions of the profiles' demo tariffs, at about their 2025 level.

Figures follow the published structure of each utility (IEC's TAOZ seasons and
peak hours, State Grid's annual residential tiers and 峰平谷 industrial periods)
with rounded demo prices; the administrator enters the real ones as new
versions. ``ensure_tariff_catalogue`` adds a version only where the tariff has
none starting that day, so running it again changes nothing.
"""

from datetime import date
from decimal import Decimal as D

from django.db import transaction

from .choices import DayKind, TierBasis, TouPeriod
from .models import Tariff, TariffRate, TariffVersion, TouSeason, TouWindow

PEAK, SHOULDER, OFF = TouPeriod.PEAK, TouPeriod.SHOULDER, TouPeriod.OFF_PEAK
WORK, WEEKEND, HOLIDAY = DayKind.WORKDAY, DayKind.WEEKEND, DayKind.HOLIDAY

# IEC's TAOZ: peak hours on working days only; Friday, Saturday and holidays are
# off-peak all day. Prices per kWh before VAT.
_IEC_SEASONS = [
    ("summer", [6, 7, 8, 9], [(WORK, 17, 23, PEAK)]),
    ("winter", [12, 1, 2], [(WORK, 17, 22, PEAK)]),
    ("transition", [3, 4, 5, 10, 11], [(WORK, 17, 22, PEAK)]),
]


def _taoz(peak: dict, off: dict, fixed: str, capacity: str) -> dict:
    return {
        "fixed_charge": D(fixed),
        "capacity_charge": D(capacity),
        "seasons": _IEC_SEASONS,
        "prices": {
            (season, period): D(table[season])
            for period, table in ((PEAK, peak), (OFF, off))
            for season in table
        },
        "note": "TAOZ (demo figures, about 2025)",
    }


# China's 峰平谷 for large industry, every day alike: 峰 8-11 and 18-23,
# 平 7-8 and 11-18, 谷 23-7.
_CN_WINDOWS = [
    (kind, start, end, period)
    for kind in (WORK, WEEKEND, HOLIDAY)
    for start, end, period in ((7, 8, SHOULDER), (8, 11, PEAK), (11, 18, SHOULDER), (18, 23, PEAK))
]

CATALOGUE: dict[str, dict[str, dict]] = {
    "il": {
        "Residential": {
            "price": D("0.5425"),  # 0.6402 with 18 % VAT
            "fixed_charge": D("14.50"),
            "note": "Household tariff (demo figures, about 2025)",
        },
        "General LV": {
            "price": D("0.5610"),
            "fixed_charge": D("24.00"),
            "note": "General low voltage (demo figures, about 2025)",
        },
        "TAOZ LV": _taoz(
            peak={"summer": "1.6036", "winter": "1.1590", "transition": "0.4787"},
            off={"summer": "0.4863", "winter": "0.4347", "transition": "0.4225"},
            fixed="62.00",
            capacity="0",
        ),
        "TAOZ HV": _taoz(
            peak={"summer": "1.2519", "winter": "0.8914", "transition": "0.3570"},
            off={"summer": "0.3325", "winter": "0.3014", "transition": "0.2925"},
            fixed="250.00",
            capacity="14.80",
        ),
    },
    "cn": {
        "Residential tiered": {
            "tier_basis": TierBasis.ANNUAL,
            "tiers": [(D("2160"), D("0.4883")), (D("4200"), D("0.5383")), (None, D("0.7883"))],
            # Published household prices include VAT.
            "vat_rate": D("0"),
            "note": "阶梯电价, annual tiers 2,160 / 4,200 kWh (prices include VAT)",
        },
        "Commercial LV": {
            "price": D("0.6500"),
            "note": "General commercial, low voltage (demo figures)",
        },
        "Industrial TOU": {
            "capacity_charge": D("32.00"),  # 基本电费 by contracted capacity
            "seasons": [("all year", list(range(1, 13)), _CN_WINDOWS)],
            "prices": {
                ("all year", PEAK): D("1.0215"),
                ("all year", SHOULDER): D("0.6530"),
                ("all year", OFF): D("0.3108"),
            },
            "note": "峰平谷 large industry (demo figures)",
        },
    },
}

VALID_FROM = date(2025, 1, 1)


@transaction.atomic
def ensure_tariff_catalogue(profile: str) -> int:
    """Give the profile's tariffs their demo versions where missing; returns how many were added."""
    added = 0
    for name, spec in CATALOGUE.get(profile, {}).items():
        tariff = Tariff.objects.filter(name=name).first()
        if tariff is None:
            continue
        version, created = TariffVersion.objects.get_or_create(
            tariff=tariff,
            valid_from=VALID_FROM,
            defaults={
                "tier_basis": spec.get("tier_basis", TierBasis.MONTHLY),
                "fixed_charge": spec.get("fixed_charge", D(0)),
                "capacity_charge": spec.get("capacity_charge", D(0)),
                "vat_rate": spec.get("vat_rate"),
                "note": spec.get("note", ""),
            },
        )
        if not created:
            continue
        added += 1
        if "price" in spec:
            TariffRate.objects.create(version=version, price=spec["price"])
        for upper, price in spec.get("tiers", []):
            TariffRate.objects.create(version=version, up_to_kwh=upper, price=price)
        for season_name, months, windows in spec.get("seasons", []):
            season = TouSeason.objects.create(version=version, name=season_name, months=months)
            TouWindow.objects.bulk_create(
                TouWindow(season=season, day_kind=k, start_hour=a, end_hour=b, period=p)
                for k, a, b, p in windows
            )
            for (priced_season, period), price in spec["prices"].items():
                if priced_season == season_name:
                    TariffRate.objects.create(
                        version=version, season=season, period=period, price=price
                    )
    return added
