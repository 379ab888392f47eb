"""The monthly prepaid-package run at national scale on PostgreSQL: packages per second.

Data is generated inside PostgreSQL (generate_series, no Python loop): N
households with one site, one contract, one active package (monthly amount
80.00-200.00, 1 % bonus) and November 2026's issued bill (40.00-240.00, so
about four in ten overrun their credit); one household in a hundred has a
bound bank card. ``settle_month`` then credits and settles November: N credit
rows and payments, the allocation join, the shortfalls, their SMS (rendered in
the customer's language and queued in the outbox) and the auto-debits. Handing
outbox rows and debits to Celery workers is left out (without a broker tasks
would run eagerly here); everything written in the database is measured.

Packages per scale: small 20,000, medium and large 1,000,000 (the brief's
figure); set VOLTDESK_BENCH_PREPAID_PACKAGES to override.
"""

import os
import time
from datetime import date

from django.db import connection

from .registry import scenario

PACKAGES = {"small": 20_000, "medium": 1_000_000, "large": 1_000_000}
MONTH = date(2026, 11, 1)
SETTLED = date(2026, 12, 5)
PREFIX = "PP"


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(count: int) -> dict:
    from voltdesk.core.services import UtilityNotConfigured, get_utility, init_utility

    try:
        get_utility()
    except UtilityNotConfigured:
        init_utility("cn")
    seconds = {}
    seconds["customers_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT %s || lpad(g::text, 8, '0'), 'Prepaid bench ' || g, 'residential', '', '',
               '+86138' || lpad(g::text, 8, '0'), '',
               CASE g %% 3 WHEN 0 THEN 'en' WHEN 1 THEN 'zh-hans' ELSE 'he' END, '', now()
        FROM generate_series(1, %s) g
        """,
        [PREFIX, count],
    )
    seconds["sites_contracts_s"] = _exec(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
        SELECT 'PPS' || substr(c.ref, 3), c.id, '', 'low', false
        FROM customers_customer c WHERE c.ref LIKE 'PP0%%'
        """
    )
    seconds["sites_contracts_s"] += _exec(
        """
        INSERT INTO customers_contract (customer_id, site_id, tariff_id, start, "end")
        SELECT s.customer_id, s.id, NULL, NULL, NULL
        FROM customers_site s WHERE s.ref LIKE 'PPS%%'
        """
    )
    seconds["packages_s"] = _exec(
        """
        INSERT INTO prepaid_package
            (customer_id, contract_id, status, level_percent, annual_kwh, annual_price,
             monthly_amount, bonus_rate, monthly_bonus, months, first_month, last_month,
             currency, idempotency_key, provider, provider_ref, failure_reason, bought_at,
             paid_at)
        SELECT k.customer_id, k.id, 'active', 100, 3000, m.amount * 12, m.amount, 0.01,
               round(m.amount * 0.01, 2), 12, DATE '2026-06-01', DATE '2027-05-01', 'CNY',
               'bench-' || k.id, 'sandbox', 'sbx_pkg_bench_' || k.id, '', now(), now()
        FROM customers_contract k
        JOIN customers_site s ON s.id = k.site_id AND s.ref LIKE 'PPS%%'
        CROSS JOIN LATERAL (SELECT (80 + (k.id %% 13) * 10)::numeric(14, 2) AS amount) m
        """
    )
    seconds["bills_s"] = _exec(
        """
        INSERT INTO billing_bill
            (number, kind, status, customer_id, contract_id, site_id, period_start, period_end,
             energy_kwh, net_amount, vat_amount, total, paid, currency, issued_at, due_date,
             created_at)
        SELECT 'PB2026-11-' || lpad(k.id::text, 8, '0'), 'bill', 'issued', k.customer_id, k.id,
               k.site_id, DATE '2026-11-01', DATE '2026-12-01', 250, t.total, 0, t.total, 0,
               'CNY', TIMESTAMPTZ '2026-12-02 09:00+08', DATE '2026-12-17', now()
        FROM customers_contract k
        JOIN customers_site s ON s.id = k.site_id AND s.ref LIKE 'PPS%%'
        CROSS JOIN LATERAL (
            SELECT (40 + (k.id * 2654435761 %% 20001) / 100.0)::numeric(14, 2) AS total) t
        """
    )
    seconds["mandates_s"] = _exec(
        """
        INSERT INTO prepaid_debitmandate
            (customer_id, holder, card_last4, bank, token, status, created_at)
        SELECT c.id, c.name, '4242', 'sandbox', 'sbm_success_bench_' || c.id, 'active', now()
        FROM customers_customer c WHERE c.ref LIKE 'PP0%%' AND c.id %% 100 = 0
        """
    )
    began = time.perf_counter()
    for table in (
        "customers_customer",
        "customers_contract",
        "prepaid_package",
        "billing_bill",
        "billing_payment",
        "prepaid_debitmandate",
    ):
        _exec(f"VACUUM (ANALYZE) {table}")
    seconds["vacuum_analyze_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in seconds.items()}


@scenario("prepaid_month")
def prepaid_month_scenario(scale, workdir) -> dict:
    """``settle_month`` for November over every package: credit, settle, shortfalls, SMS."""
    from voltdesk.notifications import services as outbox
    from voltdesk.notifications.models import Message
    from voltdesk.prepaid import settlement, tasks
    from voltdesk.prepaid.models import AutoDebit, Package, PackageMonth

    count = int(os.environ.get("VOLTDESK_BENCH_PREPAID_PACKAGES", PACKAGES[scale.name]))
    generation = {}
    if not Package.objects.filter(idempotency_key__startswith="bench-").exists():
        began = time.perf_counter()
        generation = _generate(count)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    packages = Package.objects.filter(status="active").count()

    steps: dict[str, float] = {}
    timed = ["insert_credits", "insert_credit_payments", "lock_customers", "allocate"]
    timed += ["record_deductions", "record_shortfalls"]
    originals = {name: getattr(settlement.queries, name) for name in timed}
    originals["_tell_shortfalls"] = settlement._tell_shortfalls
    originals["_create_auto_debits"] = settlement._create_auto_debits

    def timing(name, fn):
        def wrapped(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                steps[name + "_s"] = round(time.perf_counter() - began, 2)

        return wrapped

    for name in timed:
        setattr(settlement.queries, name, timing(name, originals[name]))
    settlement._tell_shortfalls = timing("sms", originals["_tell_shortfalls"])
    settlement._create_auto_debits = timing("auto_debits", originals["_create_auto_debits"])
    real_enqueue, real_delay = outbox._enqueue, tasks.request_auto_debit.delay
    outbox._enqueue = lambda *args, **kwargs: None
    tasks.request_auto_debit.delay = lambda *args, **kwargs: None
    try:
        began = time.perf_counter()
        figures = settlement.settle_month(MONTH, as_of=SETTLED)
        seconds = time.perf_counter() - began
    finally:
        for name in timed:
            setattr(settlement.queries, name, originals[name])
        settlement._tell_shortfalls = originals["_tell_shortfalls"]
        settlement._create_auto_debits = originals["_create_auto_debits"]
        outbox._enqueue, tasks.request_auto_debit.delay = real_enqueue, real_delay
    began = time.perf_counter()
    again = settlement.settle_month(MONTH, as_of=SETTLED)
    rerun_seconds = time.perf_counter() - began
    return {
        "packages": packages,
        "generation": generation or "reused",
        "figures": figures,
        "settle_month_s": round(seconds, 1),
        "packages_per_second": round(figures["packages_credited"] / seconds),
        "steps": steps,
        "rerun_s": round(rerun_seconds, 1),
        "rerun_credited": again["packages_credited"],
        "credit_rows": PackageMonth.objects.filter(month=MONTH).count(),
        "sms_queued": Message.objects.filter(template__startswith="prepaid_").count(),
        "auto_debits": AutoDebit.objects.count(),
        "goal": "the whole month's run under 10 minutes (well within a night)",
    }
