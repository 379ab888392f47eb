"""The business lounge's consumption pages for a large customer: server time per page.

Data is generated inside PostgreSQL (generate_series, no Python loop): one
business customer with N sites on IEC's TAOZ LV time-of-use tariff, each with a
year of 15-minute readings (N x 35,040), written day by day for all sites as a
daily meter-data feed would (a site's readings are spread over the table, not
side by side). One site in 25 came to the customer on the 16th of a month from a
previous holder, so the pages take their exact path for months held in part.
Daily and monthly rollups come from the project's own ``refresh_rollups``.

Then the customer's user opens ``portal:home``, ``portal:consumption`` and
``portal:site`` (one site: monthly chart, daily figures, the newest day's
15-minute readings and the time-of-use breakdown) through Django's test Client
in-process: no network, no browser, the whole server side (middleware, view,
queries, template). Figures per page: median and 95th percentile over the
timed requests, SQL queries per request and their time.

Sites per scale: small 30, medium and large 300 (the issue's figure); set
VOLTDESK_BENCH_LOUNGE_SITES to override.
"""

import os
import statistics
import time
from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from .registry import scenario

SITES = {"small": 30, "medium": 300, "large": 300}
DAYS = 365
REQUESTS = int(os.environ.get("VOLTDESK_BENCH_LOUNGE_REQUESTS", "20"))
WARM_UP = 3
PREFIX = "LG"  # customer LG0000001, sites LGS-0001...
USERNAME = "lounge-bench"
ANCHOR_MS = 300
HANDOVER_EVERY = 25


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(sites: int, first_day: date) -> dict:
    """The customer, its sites, contracts and readings, set-based; seconds per step."""
    from voltdesk.billing.models import Tariff
    from voltdesk.core.services import utility_zone
    from voltdesk.metering.periods import local_midnight

    tz = utility_zone()
    taoz = Tariff.objects.get(name="TAOZ LV").pk
    start = local_midnight(first_day, tz)
    # The 16th of a month half a year in: where the handed-over sites changed hands.
    change_day = (first_day + timedelta(days=182)).replace(day=16)
    change = local_midnight(change_day, tz)
    seconds = {}
    seconds["customers_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        VALUES (%s, 'Lounge Bench Industries', 'business', '', '', '', '', 'en', '', now()),
               (%s, 'Lounge Bench Previous Holder', 'business', '', '', '', '', 'en', '', now())
        """,
        [f"{PREFIX}0000001", f"{PREFIX}0000002"],
    )
    seconds["sites_s"] = _exec(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
        SELECT 'LGS-' || lpad(g::text, 4, '0'), c.id, g || ' Industrial Park Rd', 'high', false
        FROM customers_customer c CROSS JOIN generate_series(1, %s) g
        WHERE c.ref = %s
        """,
        [sites, f"{PREFIX}0000001"],
    )
    # Every site on TAOZ LV since before the records, except one in 25 that the
    # customer took over on the change day from the previous holder.
    seconds["contracts_s"] = _exec(
        """
        INSERT INTO customers_contract (customer_id, site_id, tariff_id, start, "end")
        SELECT s.customer_id, s.id, %s, CASE WHEN s.n %% %s = 0 THEN %s END, NULL
        FROM (SELECT id, customer_id, substr(ref, 5)::int AS n FROM customers_site
              WHERE ref LIKE 'LGS-%%') s
        UNION ALL
        SELECT p.id, s.id, %s, NULL, %s
        FROM (SELECT id, substr(ref, 5)::int AS n FROM customers_site
              WHERE ref LIKE 'LGS-%%') s
        CROSS JOIN customers_customer p
        WHERE p.ref = %s AND s.n %% %s = 0
        """,
        [taoz, HANDOVER_EVERY, change, taoz, change, f"{PREFIX}0000002", HANDOVER_EVERY],
    )
    _exec("ALTER TABLE metering_reading DROP CONSTRAINT IF EXISTS one_reading_per_interval")
    # Quarter k of the year for every site, time first (a daily feed of all sites).
    # kWh: a base per site, more in working hours (local hour from UTC+2, close
    # enough for made-up data), and a hash for noise.
    seconds["readings_s"] = _exec(
        """
        INSERT INTO metering_reading (site_id, start, "end", kwh, source, quality)
        SELECT s.id, %s + k * interval '15 minutes', %s + (k + 1) * interval '15 minutes',
               round((2 + s.id %% 7
                      + CASE WHEN (k / 4 + 2) %% 24 BETWEEN 7 AND 18 THEN 6 ELSE 0 END
                      + ((k * 7919 + s.id * 31) %% 1000) / 1000.0)::numeric, 3),
               'meter', 'actual'
        FROM generate_series(0, %s - 1) k
        CROSS JOIN (SELECT id FROM customers_site WHERE ref LIKE 'LGS-%%' ORDER BY id) s
        ORDER BY k, s.id
        """,
        [start, start, DAYS * 96],
    )
    seconds["unique_index_s"] = _exec(
        "ALTER TABLE metering_reading ADD CONSTRAINT one_reading_per_interval "
        'UNIQUE (site_id, start, "end")'
    )
    began = time.perf_counter()
    _exec("VACUUM (ANALYZE) metering_reading")
    seconds["vacuum_analyze_s"] = time.perf_counter() - began
    return seconds


def _rollups() -> float:
    from voltdesk.customers.models import Site
    from voltdesk.metering.services import refresh_rollups

    began = time.perf_counter()
    refresh_rollups(list(Site.objects.filter(ref__startswith="LGS-").values_list("pk", flat=True)))
    for table in ("metering_dailyrollup", "metering_monthlyrollup", "customers_contract"):
        _exec(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - began


def _user():
    from django.contrib.auth.models import Group, User

    from voltdesk.core import roles
    from voltdesk.customers.models import Customer, CustomerUser

    user, created = User.objects.get_or_create(username=USERNAME)
    if created:
        user.groups.add(Group.objects.get(name=roles.CUSTOMER))
        CustomerUser.objects.create(
            user=user, customer=Customer.objects.get(ref=f"{PREFIX}0000001"), company_role="admin"
        )
    return user


def _measure(client, url: str, requests: int) -> dict:
    for _ in range(WARM_UP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "queries": len(captured.captured_queries),
        "sql_ms": round(sql_ms, 1),
        "html_kib": round(len(response.content) / 1024, 1),
    }


@scenario("lounge_consumption")
def lounge_consumption(scale, workdir) -> dict:
    """Server time of the lounge's consumption pages for one customer with many sites."""
    from django.test import Client
    from django.urls import reverse

    from voltdesk.core.models import Utility
    from voltdesk.core.services import init_utility
    from voltdesk.customers.models import Site
    from voltdesk.portal import consumption

    sites = int(os.environ.get("VOLTDESK_BENCH_LOUNGE_SITES", SITES[scale.name]))
    if not Utility.objects.exists():
        init_utility("il")
    today = consumption.today()
    first_day = today - timedelta(days=DAYS)
    generation = "reused"
    last_ref = f"LGS-{sites:04d}"
    if not Site.objects.filter(ref=last_ref).exists():
        if Site.objects.filter(ref__startswith="LGS-").exists():
            raise SystemExit("lounge bench data of another size is in the database; drop it first")
        began = time.perf_counter()
        generation = {k: round(v, 1) for k, v in _generate(sites, first_day).items()}
        generation["rollups_s"] = round(_rollups(), 1)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM metering_reading r JOIN customers_site s ON s.id = r.site_id "
            "WHERE s.ref LIKE 'LGS-%%'"
        )
        readings = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('metering_reading'))")
        table_size = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM metering_dailyrollup d JOIN customers_site s ON s.id = d.site_id "
            "WHERE s.ref LIKE 'LGS-%%'"
        )
        daily = cursor.fetchone()[0]

    client = Client()
    client.force_login(_user())
    one_site = "LGS-0001"
    handed = f"LGS-{HANDOVER_EVERY:04d}"
    pages = {
        "portal:home": reverse("portal:home"),
        "portal:consumption": reverse("portal:consumption"),
        "portal:site": reverse("portal:site", args=[one_site]),
        "portal:site (handed over)": reverse("portal:site", args=[handed]),
    }
    load_before = os.getloadavg()
    figures = {name: _measure(client, url, REQUESTS) for name, url in pages.items()}
    load_after = os.getloadavg()
    return {
        "sites": sites,
        "readings": readings,
        "daily_rollups": daily,
        "reading_table_size": table_size,
        "generation": generation,
        "requests_per_page": REQUESTS,
        "pages": figures,
        "site_page_site": one_site,
        "handed_over_site": handed,
        "anchor_ms": ANCHOR_MS,
        "slowest_median_ms": max(f["median_ms"] for f in figures.values()),
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
    }
