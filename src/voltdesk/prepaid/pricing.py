"""Pricing a package level: what a year's kWh would bill under the contract's tariff. Pure.

A level is a share of the household's usual year (80 %, 100 %, 120 %, 150 % by
default). Its kWh are priced as one year under the tariff version in force:
annual tiers are filled from zero (阶梯电价: 2,160 kWh at tier 1, up to 4,200
at tier 2, the rest at tier 3); monthly tiers are filled month by month with a
twelfth of the year each; a flat tariff is kWh x price. Every tier's amount is
rounded to cents as on a bill, then the fixed charge of 12 months and VAT. The
monthly amount is that year's price / 12 rounded **up** to the administrator's
step (5.00 by default), so the package covers the consumption it was priced on;
the price of the year is 12 x the monthly amount.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from voltdesk.billing.choices import TariffKind, TierBasis, TouPeriod
from voltdesk.billing.rating import PricedVersion, cents

ZERO = Decimal("0.00")
MONTHS = 12


class PricingError(ValueError):
    """The tariff cannot price a package (time of use, no rate)."""


@dataclass(frozen=True)
class Level:
    percent: int
    annual_kwh: Decimal
    priced_at: Decimal  # what that year bills under the tariff
    monthly_amount: Decimal
    annual_price: Decimal
    bonus_rate: Decimal

    @property
    def monthly_bonus(self) -> Decimal:
        return monthly_bonus(self.monthly_amount, self.bonus_rate)

    @property
    def annual_bonus(self) -> Decimal:
        return self.monthly_bonus * MONTHS


def monthly_bonus(amount: Decimal, rate: Decimal) -> Decimal:
    return cents(amount * rate)


def _tiers_cost(kwh: Decimal, tiers) -> Decimal:
    total, lower = ZERO, Decimal(0)
    for upper, price in tiers:
        if kwh <= lower:
            break
        room = kwh - lower if upper is None else min(kwh, upper) - lower
        total += cents(room * price)
        if upper is None:
            break
        lower = upper
    return total


def year_cost(version: PricedVersion, annual_kwh: Decimal, default_vat_rate: Decimal) -> Decimal:
    """What ``annual_kwh`` spread over a year bills under ``version``, VAT included."""
    if version.kind == TariffKind.TIERED:
        if version.tier_basis == TierBasis.ANNUAL:
            energy = _tiers_cost(annual_kwh, version.tiers)
        else:
            monthly = (annual_kwh / MONTHS).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            energy = _tiers_cost(monthly, version.tiers) * MONTHS
    elif version.kind == TariffKind.FLAT:
        price = version.prices.get(("", TouPeriod.ALL))
        if price is None:
            raise PricingError("flat tariff without a price")
        energy = cents(annual_kwh * price)
    else:
        raise PricingError("time-of-use tariffs are not offered packages")
    net = energy + cents(version.fixed_charge * MONTHS)
    rate = version.vat_rate if version.vat_rate is not None else default_vat_rate
    return net + cents(net * rate)


def round_up(amount: Decimal, step: Decimal) -> Decimal:
    """Up to the next multiple of ``step`` (a clean amount the customer remembers)."""
    if step <= 0:
        return cents(amount)
    return ((amount / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(
        Decimal("0.01")
    )


def price_levels(
    version: PricedVersion,
    usual_kwh: Decimal,
    percents: list[int],
    *,
    step: Decimal,
    bonus_rate: Decimal,
    default_vat_rate: Decimal,
) -> list[Level]:
    """The levels offered around ``usual_kwh`` (a year's consumption)."""
    levels = []
    for percent in sorted(set(percents)):
        annual = (usual_kwh * percent / 100).quantize(Decimal("1"), ROUND_HALF_UP)
        priced = year_cost(version, annual, default_vat_rate)
        monthly = round_up(priced / MONTHS, step)
        if monthly <= 0:
            continue
        levels.append(
            Level(
                percent=percent,
                annual_kwh=annual,
                priced_at=priced,
                monthly_amount=monthly,
                annual_price=monthly * MONTHS,
                bonus_rate=bonus_rate,
            )
        )
    return levels
