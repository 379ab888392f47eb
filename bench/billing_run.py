"""The monthly billing run at national scale on PostgreSQL: bills per hour.

Data is generated inside PostgreSQL (generate_series, no Python loop): N
customers with one site and one contract each, since before the records; 19 in
20 on the Residential flat tariff, 1 in 20 on TAOZ LV time of use with a
contracted capacity; 12 monthly register reads per site on local month
boundaries. ``billing_run`` then bills one month (November 2026) from scratch,
and once more to measure a re-run that replaces every draft.

Contracts per scale: small 30,000, medium and large 3,000,000 (the issue's
figure); set VOLTDESK_BENCH_BILLING_CONTRACTS to override.
"""

import os
import time
from datetime import date

from django.db import connection

from .registry import scenario

CONTRACTS = {"small": 30_000, "medium": 3_000_000, "large": 3_000_000}
PERIOD = date(2026, 11, 1)
PREFIX = "BR"  # customer refs BR00000001..., site refs BRS00000001


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(contracts: int) -> dict:
    from voltdesk.billing.models import Tariff
    from voltdesk.core.services import init_utility, utility_zone
    from voltdesk.metering.periods import local_midnight

    init_utility("il")
    tz = utility_zone()
    residential = Tariff.objects.get(name="Residential").pk
    taoz = Tariff.objects.get(name="TAOZ LV").pk
    # December 2025 to November 2026, and the end of November.
    months = [date(2025 + (11 + k) // 12, (11 + k) % 12 + 1, 1) for k in range(13)]
    bounds = [local_midnight(m, tz) for m in months]
    seconds = {}
    seconds["customers_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT %s || lpad(g::text, 8, '0'), 'Billing bench ' || g,
               CASE WHEN g %% 20 = 0 THEN 'business' ELSE 'residential' END,
               '', '', '', '', '', '', now()
        FROM generate_series(1, %s) g
        """,
        [PREFIX, contracts],
    )
    seconds["sites_s"] = _exec(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
        SELECT 'BRS' || substr(c.ref, 3), c.id, '', 'low', false
        FROM customers_customer c WHERE c.ref LIKE 'BR0%%'
        """
    )
    seconds["contracts_s"] = _exec(
        """
        INSERT INTO customers_contract
            (customer_id, site_id, tariff_id, start, "end", contracted_kva)
        SELECT s.customer_id, s.id,
               CASE WHEN s.id %% 20 = 0 THEN %s ELSE %s END, NULL, NULL,
               CASE WHEN s.id %% 20 = 0 THEN 40 + s.id %% 400 END
        FROM customers_site s WHERE s.ref LIKE 'BRS%%'
        """,
        [taoz, residential],
    )
    _exec("ALTER TABLE metering_reading DROP CONSTRAINT IF EXISTS one_reading_per_interval")
    seconds["readings_s"] = _exec(
        """
        INSERT INTO metering_reading (site_id, start, "end", kwh, source, quality)
        SELECT s.id, b.ws, b.we,
               round((150 + (s.id * 2654435761 %% 1000) / 2.0 + 20 * ((s.id + b.k) %% 7))
                     * CASE WHEN s.id %% 20 = 0 THEN 40 ELSE 1 END, 3),
               'meter', 'actual'
        FROM customers_site s
        CROSS JOIN unnest(%s::timestamptz[], %s::timestamptz[], %s::int[]) AS b(ws, we, k)
        WHERE s.ref LIKE 'BRS%%'
        """,
        [bounds[:-1], bounds[1:], list(range(12))],
    )
    seconds["unique_index_s"] = _exec(
        "ALTER TABLE metering_reading ADD CONSTRAINT one_reading_per_interval "
        'UNIQUE (site_id, start, "end")'
    )
    began = time.perf_counter()
    for table in ("metering_reading", "customers_contract", "customers_site", "customers_customer"):
        _exec(f"VACUUM (ANALYZE) {table}")
    seconds["vacuum_analyze_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in seconds.items()}


@scenario("billing_run")
def billing_run_scenario(scale, workdir) -> dict:
    """``billing_run`` for one month over every contract, first run and re-run."""
    from voltdesk.billing.models import Bill, BillLine
    from voltdesk.billing.runs import billing_run
    from voltdesk.customers.models import Customer

    contracts = int(os.environ.get("VOLTDESK_BENCH_BILLING_CONTRACTS", CONTRACTS[scale.name]))
    generation = {}
    if not Customer.objects.filter(ref=f"{PREFIX}{contracts:08d}").exists():
        began = time.perf_counter()
        generation = _generate(contracts)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    _exec(f"TRUNCATE {BillLine._meta.db_table}")
    _exec(f"DELETE FROM {Bill._meta.db_table} WHERE kind = 'bill' AND status = 'draft'")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metering_reading")
        readings = cursor.fetchone()[0]

    began = time.perf_counter()
    first = billing_run(PERIOD)
    first_s = time.perf_counter() - began
    began = time.perf_counter()
    second = billing_run(PERIOD)
    rerun_s = time.perf_counter() - began
    billed = first.figures["billed"]
    return {
        "contracts": contracts,
        "readings": readings,
        "generation": generation or "reused",
        "billed": billed,
        "skipped": first.figures["skipped"],
        "bill_lines": BillLine.objects.count(),
        "first_run_s": round(first_s, 1),
        "bills_per_hour": round(billed / first_s * 3600),
        "rerun_s": round(rerun_s, 1),
        "rerun_drafts_replaced": second.figures["drafts_replaced"],
        "rerun_bills_per_hour": round(second.figures["billed"] / rerun_s * 3600),
        "goal_bills_per_hour": 1_000_000,
        "anchor": "10 million accounts in 4.5 h on a cloud cluster (2.2 million an hour)",
    }
