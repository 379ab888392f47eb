"""Tariff versions built by hand and readings at local times, for hand-computed bills."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from voltdesk.billing.models import Tariff, TariffRate, TariffVersion, TouSeason, TouWindow
from voltdesk.customers.models import Contract, Customer, Site
from voltdesk.metering.models import Reading

_n = itertools.count(1)


def local(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


@pytest.fixture
def make_version(db):
    """A tariff with one version: ``price`` (flat), ``tiers`` or ``tou`` (seasons and prices)."""

    def make(
        kind="flat",
        *,
        tariff=None,
        valid_from=date(2025, 1, 1),
        valid_to=None,
        price=None,
        tiers=(),
        tier_basis="monthly",
        seasons=(),
        prices=None,
        fixed="0",
        capacity="0",
        vat=None,
    ):
        tariff = tariff or Tariff.objects.create(name=f"Test tariff {next(_n)}", kind=kind)
        version = TariffVersion.objects.create(
            tariff=tariff,
            valid_from=valid_from,
            valid_to=valid_to,
            tier_basis=tier_basis,
            fixed_charge=Decimal(fixed),
            capacity_charge=Decimal(capacity),
            vat_rate=None if vat is None else Decimal(vat),
        )
        if price is not None:
            TariffRate.objects.create(version=version, price=Decimal(price))
        for upper, tier_price in tiers:
            TariffRate.objects.create(
                version=version,
                up_to_kwh=None if upper is None else Decimal(upper),
                price=Decimal(tier_price),
            )
        for name, months, windows in seasons:
            season = TouSeason.objects.create(version=version, name=name, months=months)
            for day_kind, start, end, period in windows:
                TouWindow.objects.create(
                    season=season, day_kind=day_kind, start_hour=start, end_hour=end, period=period
                )
            for (season_name, period), rate in (prices or {}).items():
                if season_name == name:
                    TariffRate.objects.create(
                        version=version, season=season, period=period, price=Decimal(rate)
                    )
        return version

    return make


@pytest.fixture
def make_contract(db):
    """A customer, a site and a contract on ``tariff`` for [start, end) (aware datetimes)."""

    def make(tariff, *, start=None, end=None, kva=None, site=None, name="Customer"):
        n = next(_n)
        customer = Customer.objects.create(ref=f"BC{n:05d}", name=name, kind="business")
        site = site or Site.objects.create(ref=f"BS{n:05d}", customer=customer)
        return Contract.objects.create(
            customer=customer,
            site=site,
            tariff=tariff,
            start=start,
            end=end,
            contracted_kva=None if kva is None else Decimal(kva),
        )

    return make


def add_reading(site, start: datetime, end: datetime, kwh) -> Reading:
    return Reading.objects.create(
        site=site, start=start, end=end, kwh=Decimal(str(kwh)), source="csv"
    )


def add_daily(site, tz: str, first: date, days: int, kwh_per_day) -> None:
    zone = ZoneInfo(tz)
    Reading.objects.bulk_create(
        Reading(
            site=site,
            start=datetime(d.year, d.month, d.day, tzinfo=zone),
            end=datetime(e.year, e.month, e.day, tzinfo=zone),
            kwh=Decimal(str(kwh_per_day)),
            source="csv",
        )
        for d, e in ((first + timedelta(i), first + timedelta(i + 1)) for i in range(days))
    )


def add_hourly(site, tz: str, day: date, kwh_per_hour) -> None:
    """A reading per real hour of a local day (23, 24 or 25 of them)."""
    zone = ZoneInfo(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    rows = []
    while start < end:
        rows.append(
            Reading(
                site=site,
                start=start,
                end=start + timedelta(hours=1),
                kwh=Decimal(str(kwh_per_hour)),
                source="csv",
            )
        )
        start += timedelta(hours=1)
    Reading.objects.bulk_create(rows)
