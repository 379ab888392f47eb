"""Tariff arithmetic with hand-computed examples: flat, tiers, versions, capacity, VAT."""

from datetime import date
from decimal import Decimal as D

from voltdesk.billing.rating import PricedVersion, VersionPart, rate_month

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
MID = date(2026, 11, 16)


def part(version, kwh, covers_from=NOV, covers_to=DEC, period=("", "all")):
    return VersionPart(
        version, covers_from, covers_to, (covers_to - covers_from).days, {period: D(kwh)}
    )


def amounts(rating):
    return [(ln.kind, ln.tier, ln.quantity, ln.unit_price, ln.amount) for ln in rating.lines]


def test_flat_with_fixed_charge_and_vat():
    v = PricedVersion(1, "flat", prices={("", "all"): D("0.5425")}, fixed_charge=D("14.50"))
    r = rate_month(
        [part(v, "350")], days_in_month=30, contracted_kva=None, default_vat_rate=D("0.18")
    )
    # 350 x 0.5425 = 189.875 -> 189.88 (half-up); net 204.38; VAT 36.7884 -> 36.79.
    assert amounts(r) == [
        ("energy", None, D("350"), D("0.5425"), D("189.88")),
        ("fixed", None, D("1"), D("14.50"), D("14.50")),
    ]
    assert (r.net, r.vat, r.total) == (D("204.38"), D("36.79"), D("241.17"))


def test_rounding_is_half_up_on_lines_and_vat():
    v = PricedVersion(1, "flat", prices={("", "all"): D("0.835")})
    r = rate_month(
        [part(v, "3")], days_in_month=30, contracted_kva=None, default_vat_rate=D("0.17")
    )
    # 3 x 0.835 = 2.505 -> 2.51 (banker's rounding would give 2.50);
    # VAT 2.51 x 0.17 = 0.4267 -> 0.43.
    assert (r.net, r.vat, r.total) == (D("2.51"), D("0.43"), D("2.94"))
    half = PricedVersion(2, "flat", prices={("", "all"): D("0.50")})
    r = rate_month(
        [part(half, "1")], days_in_month=30, contracted_kva=None, default_vat_rate=D("0.17")
    )
    # 0.50 x 0.17 = 0.085 -> 0.09.
    assert r.vat == D("0.09")


def test_monthly_tiers():
    v = PricedVersion(
        1, "tiered", tiers=((D("100"), D("0.50")), (D("300"), D("0.60")), (None, D("0.80")))
    )
    r = rate_month([part(v, "450")], days_in_month=30, contracted_kva=None, default_vat_rate=D(0))
    # 100 x 0.50 + 200 x 0.60 + 150 x 0.80 = 50 + 120 + 120.
    assert amounts(r) == [
        ("energy", 1, D("100"), D("0.50"), D("50.00")),
        ("energy", 2, D("200"), D("0.60"), D("120.00")),
        ("energy", 3, D("150"), D("0.80"), D("120.00")),
    ]
    assert r.total == D("290.00")


def test_version_change_mid_month_prorates_tiers_and_fixed_charge():
    old = PricedVersion(
        1, "tiered", tiers=((D("100"), D("0.50")), (None, D("0.80"))), fixed_charge=D("30.00")
    )
    new = PricedVersion(
        2, "tiered", tiers=((D("100"), D("0.60")), (None, D("0.90"))), fixed_charge=D("30.00")
    )
    r = rate_month(
        [part(old, "80", NOV, MID), part(new, "60", MID, DEC)],
        days_in_month=30,
        contracted_kva=None,
        default_vat_rate=D(0),
    )
    # 15 of 30 days each: tier bound 100 -> 50 kWh, fixed charge half a month.
    assert amounts(r) == [
        ("energy", 1, D("50"), D("0.50"), D("25.00")),
        ("energy", 2, D("30"), D("0.80"), D("24.00")),
        ("fixed", None, D("0.5"), D("30.00"), D("15.00")),
        ("energy", 1, D("50"), D("0.60"), D("30.00")),
        ("energy", 2, D("10"), D("0.90"), D("9.00")),
        ("fixed", None, D("0.5"), D("30.00"), D("15.00")),
    ]
    assert [ln.version_id for ln in r.lines] == [1, 1, 1, 2, 2, 2]
    assert r.net == D("118.00")


def test_tier_bound_prorated_over_an_odd_number_of_days():
    v = PricedVersion(1, "tiered", tiers=((D("100"), D("0.50")), (None, D("0.80"))))
    # 17 of 30 days: bound 100 x 17/30 = 56.666667 kWh.
    r = rate_month(
        [part(v, "60", date(2026, 11, 14), DEC)],
        days_in_month=30,
        contracted_kva=None,
        default_vat_rate=D(0),
    )
    assert amounts(r) == [
        ("energy", 1, D("56.666667"), D("0.50"), D("28.33")),
        ("energy", 2, D("3.333333"), D("0.80"), D("2.67")),
    ]


def test_annual_tiers_on_top_of_the_year_so_far():
    v = PricedVersion(
        1,
        "tiered",
        tier_basis="annual",
        tiers=((D("2160"), D("0.4883")), (D("4200"), D("0.5383")), (None, D("0.7883"))),
        vat_rate=D(0),
    )
    r = rate_month(
        [part(v, "500")],
        days_in_month=30,
        contracted_kva=None,
        default_vat_rate=D("0.13"),
        year_to_date_kwh=D("2000"),
    )
    # 160 x 0.4883 = 78.128 -> 78.13; 340 x 0.5383 = 183.022 -> 183.02; no VAT on top.
    assert amounts(r) == [
        ("energy", 1, D("160"), D("0.4883"), D("78.13")),
        ("energy", 2, D("340"), D("0.5383"), D("183.02")),
    ]
    assert r.total == D("261.15")
    r = rate_month(
        [part(v, "300")],
        days_in_month=30,
        contracted_kva=None,
        default_vat_rate=D("0.13"),
        year_to_date_kwh=D("4100"),
    )
    # 100 x 0.5383 = 53.83; 200 x 0.7883 = 157.66.
    assert [(ln.tier, ln.amount) for ln in r.lines] == [(2, D("53.83")), (3, D("157.66"))]


def test_capacity_charge_full_month():
    v = PricedVersion(1, "flat", prices={("", "all"): D("0.30")}, capacity_charge=D("14.80"))
    r = rate_month([part(v, "0")], days_in_month=30, contracted_kva=D("250"), default_vat_rate=D(0))
    # 250 kVA x 14.80 = 3,700.00; no kWh, no energy line.
    assert amounts(r) == [("capacity", None, D("250"), D("14.80"), D("3700.00"))]


def test_time_of_use_lines_by_season_and_period():
    v = PricedVersion(
        1,
        "tou",
        prices={("winter", "peak"): D("1.159"), ("winter", "off_peak"): D("0.4347")},
        season_order=("summer", "winter"),
    )
    p = VersionPart(
        v, NOV, DEC, 30, {("winter", "off_peak"): D("700"), ("winter", "peak"): D("120.5")}
    )
    r = rate_month([p], days_in_month=30, contracted_kva=None, default_vat_rate=D("0.18"))
    # 120.5 x 1.159 = 139.6595 -> 139.66; 700 x 0.4347 = 304.29; net 443.95; VAT 79.911 -> 79.91.
    assert [(ln.period, ln.amount) for ln in r.lines] == [
        ("peak", D("139.66")),
        ("off_peak", D("304.29")),
    ]
    assert (r.net, r.vat, r.total) == (D("443.95"), D("79.91"), D("523.86"))
    assert r.energy_kwh == D("820.5")
