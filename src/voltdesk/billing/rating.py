"""Pricing one contract's billing month from its aggregate figures: pure functions, exact Decimals.

Rounding happens in one place each: kWh to 6 decimals when the figures arrive
(``kwh``), prorated quantities to 6 decimals (``quantity``), and every amount
to cents half-up (``cents``). Each line's amount is its shown quantity times
its shown unit price, rounded, so a customer can check every line by hand; the
net is the sum of the lines, VAT is the rounded net times the rate, the total
is net plus VAT.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .choices import LineKind, TariffKind, TierBasis, TouPeriod

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ZERO = Decimal(0)
PERIOD_ORDER = {TouPeriod.PEAK: 0, TouPeriod.SHOULDER: 1, TouPeriod.OFF_PEAK: 2, TouPeriod.ALL: 3}


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def quantity(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_UP)


def kwh(value) -> Decimal:
    """A kWh figure from the database (Decimal on PostgreSQL, float on SQLite) to 6 decimals."""
    if value is None:
        return ZERO
    if not isinstance(value, Decimal):
        value = Decimal(repr(value))
    return value.quantize(MICRO, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedVersion:
    """What rating needs of a TariffVersion, read once per run."""

    id: int
    kind: str  # TariffKind
    tier_basis: str = TierBasis.MONTHLY
    fixed_charge: Decimal = ZERO
    capacity_charge: Decimal = ZERO  # per kVA a month
    vat_rate: Decimal | None = None
    # Flat and time of use: price per (season, period); flat uses ("", "all").
    prices: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # Tiered: (upper bound in kWh or None, price), bounds rising.
    tiers: tuple[tuple[Decimal | None, Decimal], ...] = ()
    season_order: tuple[str, ...] = ()


def priced_version(version) -> PricedVersion:
    """The PricedVersion of a TariffVersion (rates and seasons prefetched or not)."""
    kind = version.tariff.kind
    rates = list(version.rates.all())
    seasons = [s.name for s in version.seasons.all()]
    names = {s.pk: s.name for s in version.seasons.all()}
    if kind == TariffKind.TIERED:
        ordered = sorted(rates, key=lambda r: (r.up_to_kwh is None, r.up_to_kwh or 0))
        tiers = tuple((r.up_to_kwh, r.price) for r in ordered)
        prices = {}
    else:
        tiers = ()
        prices = {(names.get(r.season_id, ""), r.period): r.price for r in rates}
    return PricedVersion(
        id=version.pk,
        kind=kind,
        tier_basis=version.tier_basis,
        fixed_charge=version.fixed_charge,
        capacity_charge=version.capacity_charge,
        vat_rate=version.vat_rate,
        prices=prices,
        tiers=tiers,
        season_order=tuple(seasons),
    )


@dataclass(frozen=True)
class VersionPart:
    """One version's part of a contract's month: the local dates it covers and the kWh in them.

    ``charged_days`` are the days whose fixed and capacity charges this part
    carries (a day belongs to whoever held the site when it began).
    """

    version: PricedVersion
    covers_from: date
    covers_to: date
    charged_days: int
    kwh: dict[tuple[str, str], Decimal]  # (season, period) -> kWh


@dataclass(frozen=True)
class Line:
    kind: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    covers_from: date
    covers_to: date
    version_id: int | None
    period: str = TouPeriod.ALL
    season: str = ""
    tier: int | None = None


@dataclass(frozen=True)
class Rating:
    lines: list[Line]
    energy_kwh: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


def _line(kind, qty, unit, price, part: VersionPart, **extra) -> Line:
    return Line(
        kind=kind,
        quantity=qty,
        unit=unit,
        unit_price=price,
        amount=cents(qty * price),
        covers_from=part.covers_from,
        covers_to=part.covers_to,
        version_id=part.version.id,
        **extra,
    )


def tier_lines(
    consumed: Decimal,
    tiers,
    part: VersionPart,
    *,
    already: Decimal = ZERO,
    scale: Decimal | None = None,
) -> list[Line]:
    """Split ``consumed`` kWh over tiers, on top of ``already`` kWh counted before.

    ``scale`` prorates monthly bounds (days covered / days in month); each
    bound is then rounded to 6 decimals, so the split is exact and shown.
    """
    lines = []
    position = already
    remaining = consumed
    lower = ZERO
    for number, (upper, price) in enumerate(tiers, start=1):
        if remaining <= 0:
            break
        bound = None if upper is None else (quantity(upper * scale) if scale else upper)
        if bound is not None and position >= bound:
            lower = bound
            continue
        room = remaining if bound is None else min(remaining, bound - max(position, lower))
        if room > 0:
            lines.append(_line(LineKind.ENERGY, room, "kWh", price, part, tier=number))
            remaining -= room
            position += room
        lower = bound if bound is not None else lower
    return lines


def rate_month(
    parts: list[VersionPart],
    *,
    days_in_month: int,
    contracted_kva: Decimal | None,
    default_vat_rate: Decimal,
    year_to_date_kwh: Decimal = ZERO,
) -> Rating:
    """Price one contract's month: energy, fixed and capacity lines per version part, then VAT.

    ``year_to_date_kwh`` is the contract's kWh earlier in the calendar year, for
    annual tiers (阶梯电价): this month's kWh fill the tiers on top of it.
    """
    lines: list[Line] = []
    already = year_to_date_kwh
    net_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    energy = ZERO
    for part in parts:
        v = part.version
        part_lines: list[Line] = []
        consumed = sum(part.kwh.values(), ZERO)
        energy += consumed
        if v.kind == TariffKind.TIERED:
            if v.tier_basis == TierBasis.ANNUAL:
                part_lines += tier_lines(consumed, v.tiers, part, already=already)
                already += consumed
            else:
                covered = (part.covers_to - part.covers_from).days
                scale = None if covered >= days_in_month else Decimal(covered) / days_in_month
                part_lines += tier_lines(consumed, v.tiers, part, scale=scale)
        else:
            order = {name: i for i, name in enumerate(v.season_order)}
            keys = sorted(
                (k for k, q in part.kwh.items() if q),
                key=lambda k: (order.get(k[0], 99), PERIOD_ORDER.get(k[1], 9)),
            )
            for season, period in keys:
                price = v.prices[(season, period)]
                part_lines.append(
                    _line(
                        LineKind.ENERGY,
                        part.kwh[(season, period)],
                        "kWh",
                        price,
                        part,
                        season=season,
                        period=period,
                    )
                )
        months = quantity(Decimal(part.charged_days) / days_in_month)
        if v.fixed_charge and months:
            part_lines.append(_line(LineKind.FIXED, months, "month", v.fixed_charge, part))
        if v.capacity_charge and contracted_kva and months:
            part_lines.append(
                _line(
                    LineKind.CAPACITY,
                    quantity(contracted_kva * Decimal(part.charged_days) / days_in_month),
                    "kVA·mo",  # the column holds 8 characters
                    v.capacity_charge,
                    part,
                )
            )
        rate = v.vat_rate if v.vat_rate is not None else default_vat_rate
        net_by_rate[rate] += sum((line.amount for line in part_lines), ZERO)
        lines += part_lines
    net = sum(net_by_rate.values(), ZERO)
    vat = sum((cents(amount * rate) for rate, amount in net_by_rate.items()), ZERO)
    return Rating(lines=lines, energy_kwh=energy, net=net, vat=vat, total=net + vat)
