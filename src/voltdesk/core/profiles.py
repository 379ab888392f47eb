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
    },
}
