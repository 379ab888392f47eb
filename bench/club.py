"""The club evaluation at national scale, beside a bare GROUP BY over the same readings.

Data is generated inside PostgreSQL with generate_series (no Python loop, no
CSV): N business customers with one site each and a contract since before the
records, 2 % of them with three more sites, 0.5 % of sites with a supplier
change in the middle of the window (two contracts: the slow path of the
evaluation), and 12 monthly register reads per site on local month boundaries.
Consumption is drawn from a hash of the site id so that about 4,000 customers
qualify.

Customers per scale: small 30,000, medium and large 3,000,000; set
VOLTDESK_BENCH_CLUB_CUSTOMERS to override.
"""

import os
import statistics
import time
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from .registry import scenario

CUSTOMERS = {"small": 30_000, "medium": 3_000_000, "large": 3_000_000}
AS_OF = date(2026, 7, 1)
MANAGERS = 20
PREFIX = "K"  # customer refs K00000001..., site refs KS00000001-1...

BARE_SQL = "SELECT site_id, sum(kwh) FROM metering_reading GROUP BY site_id"
BARE_SERVER_SQL = (
    f"SELECT count(*), sum(s) FROM ({BARE_SQL.replace('sum(kwh)', 'sum(kwh) AS s')}) t"
)


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(customers: int) -> dict:
    """Customers, sites, contracts and readings, set-based; returns the seconds per step."""
    from voltdesk.core.services import init_utility, utility_zone
    from voltdesk.metering.periods import local_midnight

    init_utility("il")
    tz: ZoneInfo = utility_zone()
    bounds = [
        local_midnight(date(2025 + (6 + k) // 12, (6 + k) % 12 + 1, 1), tz) for k in range(13)
    ]
    change = local_midnight(date(2026, 1, 1), tz)
    seconds = {}
    seconds["customers_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT %s || lpad(g::text, 8, '0'), 'Club bench ' || g, 'business', '', '', '', '', '',
               '', now()
        FROM generate_series(1, %s) g
        """,
        [PREFIX, customers],
    )
    # One site per customer; every 50th customer has three more.
    seconds["sites_s"] = _exec(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
        SELECT 'KS' || substr(c.ref, 2) || '-' || n, c.id, '', 'low', false
        FROM customers_customer c
        CROSS JOIN generate_series(1, 4) n
        WHERE c.ref LIKE 'K%%' AND (n = 1 OR c.id %% 50 = 0)
        """
    )
    # Contracts since before the records; 1 site in 200 changed supplier on 1 January.
    seconds["contracts_s"] = _exec(
        """
        INSERT INTO customers_contract (customer_id, site_id, start, "end")
        SELECT s.customer_id, s.id, NULL, CASE WHEN s.id %% 200 = 7 THEN %s END
        FROM customers_site s WHERE s.ref LIKE 'KS%%'
        UNION ALL
        SELECT s.customer_id, s.id, %s, NULL
        FROM customers_site s WHERE s.ref LIKE 'KS%%' AND s.id %% 200 = 7
        """,
        [change, change],
    )
    # Bulk load: the unique index is built once afterwards, as a restore would.
    _exec("ALTER TABLE metering_reading DROP CONSTRAINT IF EXISTS one_reading_per_interval")
    # Annual kWh from a hash of the site id, u in [0, 1): 0.1 % of main sites at
    # 1-3 GWh, the rest 1,000-61,000; extra sites of multi-site customers 0-2 GWh.
    seconds["readings_s"] = _exec(
        """
        INSERT INTO metering_reading (site_id, start, "end", kwh, source, quality)
        SELECT s.id, b.ws, b.we,
               round(a.annual / 12 * (0.9 + 0.2 * ((s.id + b.k) %% 12) / 11.0), 3),
               'meter', 'actual'
        FROM customers_site s
        CROSS JOIN LATERAL (
            SELECT ((s.id::bigint * 2654435761) %% 1000000) / 1000000.0 AS u
        ) h
        CROSS JOIN LATERAL (
            SELECT CASE
                WHEN s.ref NOT LIKE '%%-1' THEN h.u * 2000000
                WHEN h.u < 0.001 THEN 1000000 + h.u * 2000000000
                ELSE 1000 + h.u * 60000
            END::numeric AS annual
        ) a
        CROSS JOIN unnest(%s::timestamptz[], %s::timestamptz[], %s::int[]) AS b(ws, we, k)
        WHERE s.ref LIKE 'KS%%'
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


def _bare_scan() -> tuple[float, float]:
    """The bare GROUP BY: aggregated in the server, and fetched whole by the client."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BARE_SERVER_SQL)
        cursor.fetchall()
    server = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BARE_SQL)
        rows = len(cursor.fetchall())
    fetched = time.perf_counter() - began
    assert rows > 0
    return server, fetched


@scenario("club_recompute")
def club_recompute(scale, workdir) -> dict:
    """``recompute_memberships`` end to end against a bare GROUP BY sum over the same table."""
    from voltdesk.customers.models import Customer
    from voltdesk.keyaccounts import eligibility
    from voltdesk.keyaccounts.models import (
        EligibilityRun,
        Membership,
        MembershipDecision,
        MembershipPeriod,
    )

    customers = int(os.environ.get("VOLTDESK_BENCH_CLUB_CUSTOMERS", CUSTOMERS[scale.name]))
    generation = {}
    if not Customer.objects.filter(ref=f"{PREFIX}{customers:08d}").exists():
        began = time.perf_counter()
        generation = _generate(customers)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT site_id) FROM metering_reading")
        readings, sites = cursor.fetchone()
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('metering_reading'))")
        table_size = cursor.fetchone()[0]
    # Account managers to take the new members, so the run includes assignment,
    # welcome letters, tasks and meetings as in production.
    from django.contrib.auth.models import User

    from voltdesk.keyaccounts.models import AccountManager, Meeting, PortfolioAssignment, Task
    from voltdesk.notifications.models import Message

    for i in range(MANAGERS):
        user, _created = User.objects.get_or_create(
            username=f"bench-manager-{i}", defaults={"email": f"m{i}@bench.example"}
        )
        AccountManager.objects.get_or_create(
            user=user, defaults={"email": user.email, "phone": "+97235550000"}
        )
    # A first evaluation: no memberships yet.
    Message.objects.all().delete()
    Meeting.objects.all().delete()
    Task.objects.all().delete()
    PortfolioAssignment.objects.all().delete()
    MembershipPeriod.objects.all().delete()
    MembershipDecision.objects.all().delete()
    Membership.objects.all().delete()
    EligibilityRun.objects.all().delete()

    bare = [_bare_scan(), _bare_scan()]  # the first also warms the cache
    began = time.perf_counter()
    with transaction.atomic():  # as in the evaluation (its SET LOCAL needs a transaction)
        scan = _scan(eligibility)
    scan_seconds = time.perf_counter() - began

    portfolio_seconds = []
    real_apply = eligibility.apply_membership_changes

    def timed_apply(run, *, actor=None):
        began = time.perf_counter()
        real_apply(run, actor=actor)
        portfolio_seconds.append(time.perf_counter() - began)

    portfolio_note = "included"
    # Letters are queued in the outbox (measured); handing them to a Celery broker is
    # left out: without one, tasks run eagerly and would try to deliver by SMTP here.
    from voltdesk.notifications import services as outbox

    real_enqueue = outbox._enqueue
    outbox._enqueue = lambda *args, **kwargs: None
    eligibility.apply_membership_changes = timed_apply
    try:
        began = time.perf_counter()
        try:
            result = eligibility.recompute_memberships(AS_OF)
        except Exception as exc:  # noqa: BLE001 - another team's code; measure ours without it
            portfolio_note = f"excluded: it failed ({exc.__class__.__name__}: {exc})"
            portfolio_seconds.clear()
            eligibility.apply_membership_changes = lambda run, *, actor=None: None
            began = time.perf_counter()
            result = eligibility.recompute_memberships(AS_OF)
        recompute_seconds = time.perf_counter() - began
    finally:
        eligibility.apply_membership_changes = real_apply
        outbox._enqueue = real_enqueue
    bare.append(_bare_scan())

    bare_server = min(b[0] for b in bare)
    bare_fetched = min(b[1] for b in bare)
    return {
        "customers": customers,
        "customers_evaluated": result.customers,
        "sites": sites,
        "readings": readings,
        "reading_table_size": table_size,
        "generation": generation or "reused",
        "joined": result.joined,
        "account_managers": MANAGERS,
        "welcome_letters_queued": Message.objects.count(),
        "candidate_sites_returned": len(scan.sites),
        "bare_group_by_server_s": round(bare_server, 2),
        "bare_group_by_server_runs_s": [round(b[0], 2) for b in bare],
        "bare_group_by_fetch_all_s": round(bare_fetched, 2),
        "bare_group_by_median_server_s": round(statistics.median(b[0] for b in bare), 2),
        "scan_club_query_s": round(scan_seconds, 2),
        "recompute_memberships_s": round(recompute_seconds, 2),
        "of_which_apply_membership_changes_s": round(sum(portfolio_seconds), 2),
        "apply_membership_changes": portfolio_note,
        "recompute_vs_bare_server": round(recompute_seconds / bare_server, 2),
        "recompute_vs_bare_fetch_all": round(recompute_seconds / bare_fetched, 2),
        "goal_vs_bare": 2.0,
    }


def _utility():
    from voltdesk.core.services import get_utility

    return get_utility()


def _scan(eligibility):
    utility = _utility()
    window_start, window_end = eligibility.window_for(AS_OF, utility)
    return eligibility.queries.scan_club(
        window_start,
        window_end,
        single_site_kwh=utility.vip_single_site_kwh,
        multi_site_kwh=utility.vip_multi_site_kwh,
        any_site=False,
    )
