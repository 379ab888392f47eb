"""Real defaults of the two utility profiles (DESIGN.md); the administrator edits them later."""

from decimal import Decimal

PROFILES: dict[str, dict] = {
    "il": {
        "name": "Israel Electric (demo)",
        "currency": "ILS",
        "time_zone": "Asia/Jerusalem",
        "default_language": "he",
        "country": "IL",
        "holiday_country": "IL",
        "fault_line": "103",
        "service_line": "*103",
        "vip_single_site_kwh": Decimal("1000000"),
        "vip_multi_site_kwh": Decimal("5000000"),
        "vip_window_months": 12,
        "vat_rate": Decimal("0.18"),
        # Demo defaults in IEC's manner (the administrator sets the real ones): 19 days to
        # pay, then a week's grace before interest on arrears.
        "payment_terms_days": 19,
        "late_fee_grace_days": 7,
        "late_fee_daily_rate_residential": Decimal("0.00015"),
        "late_fee_daily_rate_business": Decimal("0.00020"),
        # Excess-demand margins: a coastal summer's 35 °C, a rare 3 °C winter day.
        "demand_hot_day_celsius": Decimal("35"),
        "demand_cold_day_celsius": Decimal("3"),
        "demand_reserve_margin_pct": Decimal("5"),
    },
    "cn": {
        "name": "State Grid (demo)",
        "currency": "CNY",
        "time_zone": "Asia/Shanghai",
        "default_language": "zh-hans",
        "country": "CN",
        "holiday_country": "CN",
        "fault_line": "95598",
        "service_line": "95598",
        "vip_single_site_kwh": Decimal("1000000"),
        "vip_multi_site_kwh": Decimal("5000000"),
        "vip_window_months": 12,
        "vat_rate": Decimal("0.13"),
        # 供用电合同: 违约金 from the day after the due date, households 0.1 % a day,
        # other users 0.2 % a day (0.3 % on arrears of earlier years, not modelled).
        "payment_terms_days": 15,
        "late_fee_grace_days": 0,
        "late_fee_daily_rate_residential": Decimal("0.00100"),
        "late_fee_daily_rate_business": Decimal("0.00200"),
        # 有序用电 margins: the Yangtze's 37 °C heat-wave days and -5 °C cold waves.
        "demand_hot_day_celsius": Decimal("37"),
        "demand_cold_day_celsius": Decimal("-5"),
        "demand_reserve_margin_pct": Decimal("5"),
    },
}

# Tariff names that contracts refer to, created with the utility; their priced
# versions (rates, tiers, time-of-use periods) come with billing.
TARIFFS: dict[str, list[tuple[str, str, str]]] = {
    "il": [
        ("Residential", "flat", "Household general tariff"),
        ("General LV", "flat", "General low-voltage tariff"),
        ("TAOZ LV", "tou", "Time-of-use, low voltage"),
        ("TAOZ HV", "tou", "Time-of-use, high voltage"),
    ],
    "cn": [
        ("Residential tiered", "tiered", "Residential tiered tariff (annual tiers)"),
        ("Commercial LV", "flat", "General commercial, low voltage"),
        ("Industrial TOU", "tou", "Large industry, time of use"),
    ],
}
