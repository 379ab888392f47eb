"""Dashboards over millions of work orders: store build, incremental refresh, each view.

In a database of its own (created and dropped here, so other scenarios' rows
stay out of it): 6 regions, 60 areas, 1,000 feeders, 1,000,000 customers with
a site each, and N work orders over three years (December 2023 to November
2026) with the June–September peak (a quarter of the orders fall in those
months on top of an even spread), a realistic mix of types and channels,
callers that call again, commitments for faults, complaints and business
orders (some met late), 2 % reopened and a third with a satisfaction score.
All inserted with ``INSERT ... SELECT generate_series`` in PostgreSQL.

Timed: the full store build (COPY out of PostgreSQL, through Arrow, into
DuckDB), an incremental refresh after 10,000 orders changed, and every
dashboard view (``dashboards.build_view``, all of its tables) without filters
and with a type and area filter, cold (a new DuckDB connection) and warm
(median and 95th percentile over repeats).
"""

import statistics
import time

from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import override_settings

from .registry import scenario

ORDERS = {"small": 100_000, "medium": 2_000_000, "large": 10_000_000}
CUSTOMERS = {"small": 20_000, "medium": 300_000, "large": 1_000_000}
CHANGED = 10_000
REPEATS = 9
DATABASE = "voltdesk_bench_analytics"


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _populate(orders: int, customers: int) -> dict:
    from voltdesk.core.services import init_utility

    init_utility("il")
    took = {}
    began = time.perf_counter()
    # A bulk load: no per-row foreign-key triggers (every reference is made valid here).
    _sql("SET session_replication_role = replica")
    _sql("INSERT INTO core_region (name) SELECT 'Bench region ' || g FROM generate_series(1, 6) g")
    _sql(
        """
        INSERT INTO core_area (region_id, name, kind)
        SELECT r.id, 'Bench area ' || g,
               (ARRAY['urban', 'urban', 'rural', 'remote'])[1 + g % 4]
        FROM generate_series(1, 60) g
        JOIN core_region r ON r.name = 'Bench region ' || (1 + g % 6)
        """
    )
    _sql(
        """
        INSERT INTO core_feeder (area_id, name)
        SELECT a.id, 'Bench feeder ' || lpad(g::text, 4, '0')
        FROM generate_series(1, 1000) g
        JOIN core_area a ON a.name = 'Bench area ' || (1 + g % 60)
        """
    )
    _sql(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT 'A' || lpad(g::text, 8, '0'), 'Bench ' || g,
               CASE WHEN g %% 20 = 0 THEN 'business' ELSE 'residential' END, '', '',
               '+9725' || lpad(g::text, 8, '0'), '', 'he', '',
               timestamptz '2020-01-01' + (g %% 2000) * interval '1 day'
        FROM generate_series(1, %s) g
        """,
        [customers],
    )
    _sql(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load,
                                    area_id, feeder_id)
        SELECT 'AS' || substr(c.ref, 2), c.id, '', 'low', false, f.area_id, f.id
        FROM customers_customer c
        JOIN core_feeder f ON f.name = 'Bench feeder ' || lpad((1 + c.id % 1000)::text, 4, '0')
        """
    )
    took["customers_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    # Callers: two thirds name a customer, skewed so some call often; the rest anonymous.
    _sql(
        """
        WITH feeders AS (SELECT array_agg(id ORDER BY id) AS ids FROM core_feeder),
        s AS (
            SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                   random() AS r5
            FROM generate_series(1, %(n)s) g
        ),
        o AS (
            SELECT s.*,
                   CASE WHEN r1 < 0.25
                        THEN timestamptz '2024-06-01 00:00+03'
                             + floor(r5 * 3) * interval '1 year' + r2 * interval '122 days'
                        ELSE timestamptz '2023-12-01 00:00+02' + r2 * interval '1096 days'
                   END AS created,
                   CASE WHEN r3 < 0.40 THEN 'fault' WHEN r3 < 0.70 THEN 'consultation'
                        WHEN r3 < 0.85 THEN 'business' WHEN r3 < 0.95 THEN 'complaint'
                        ELSE 'suggestion' END AS kind,
                   CASE WHEN r4 < 0.67 THEN 1 + floor(power(r4 / 0.67, 2) * %(c)s)::int END
                       AS customer,
                   (SELECT ids FROM feeders)[1 + floor(r5 * 1000)::int] AS feeder
            FROM s
        )
        INSERT INTO workorders_workorder
            (channel, order_type, subtype, status, priority, customer_id, site_id, caller_name,
             caller_phone, caller_email, description, area_id, feeder_id, is_member,
             escalation_level, created_at, resolved_at, closed_at, updated_at, external_ref,
             satisfaction)
        SELECT (ARRAY['hotline', 'hotline', 'hotline', 'web', 'app', 'hall', 'onsite'])
                   [1 + g %% 7],
               kind,
               CASE kind WHEN 'fault' THEN (ARRAY['power_out', 'partial_power', 'line_down',
                                                  'meter_fault'])[1 + g %% 4]
                         WHEN 'consultation' THEN (ARRAY['bill_query', 'outage_query',
                                                         'service_query'])[1 + g %% 3]
                         WHEN 'business' THEN (ARRAY['new_connection', 'change_of_use',
                                                     'meter_test'])[1 + g %% 3]
                         WHEN 'complaint' THEN 'complaint' ELSE 'suggestion' END,
               CASE WHEN created > now() - interval '3 days' THEN 'accepted' ELSE 'closed' END,
               2, customer, customer, '',
               CASE WHEN customer IS NOT NULL THEN '+9725' || lpad(customer::text, 8, '0')
                    ELSE '+9726' || lpad((g %% 3000000)::text, 8, '0') END,
               '', '', f.area_id, f.id, false, 0, created,
               created + (1 + r1 * 40) * interval '1 hour',
               created + (2 + r1 * 60) * interval '1 hour',
               least(now() - interval '1 day', created + (2 + r1 * 60) * interval '1 hour'), '',
               CASE WHEN g %% 3 = 0 THEN least(5, 1 + floor(r4 * 5.6)::int) END
        FROM o JOIN core_feeder f ON f.id = o.feeder
        """,
        {"n": orders, "c": customers},
    )
    took["orders_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    # Commitments: faults (crew on site in 45 min..2 h), complaints (contact), business.
    _sql(
        """
        INSERT INTO workorders_deadline (work_order_id, clock, due_at, met_at)
        SELECT id,
               CASE order_type WHEN 'fault' THEN 'arrive' WHEN 'complaint' THEN 'contact'
                    ELSE 'complete' END,
               created_at + CASE order_type WHEN 'fault' THEN interval '90 minutes'
                                 WHEN 'complaint' THEN interval '1 day'
                                 ELSE interval '5 days' END,
               CASE WHEN status = 'closed' THEN created_at
                    + CASE order_type WHEN 'fault' THEN interval '100 minutes'
                           WHEN 'complaint' THEN interval '30 hours'
                           ELSE interval '6 days' END * (0.3 + random() * 0.9) END
        FROM workorders_workorder WHERE order_type IN ('fault', 'complaint', 'business')
        """
    )
    _sql(
        """
        INSERT INTO workorders_transition (work_order_id, action, from_status, to_status, note, at)
        SELECT id, 'reopen', 'closed', 'accepted', '', closed_at
        FROM workorders_workorder WHERE id %% 50 = 0
        """.replace("%%", "%")
    )
    _sql("SET session_replication_role = DEFAULT")
    _sql("ANALYZE")
    took["deadlines_s"] = round(time.perf_counter() - began, 1)
    return took


def _timed(fn, repeats: int) -> dict:
    times = []
    for _i in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"median_s": round(statistics.median(times), 3), "p95_s": round(p95, 3)}


def _measure(orders: int, customers: int, workdir) -> dict:
    from voltdesk.analytics import dashboards, store
    from voltdesk.core.models import Area

    figures = {"orders": orders, "customers": customers}
    figures.update(_populate(orders, customers))
    with override_settings(ANALYTICS_STORE=str(workdir / "analytics" / "workorders.duckdb")):
        store.forget_readers()
        began = time.perf_counter()
        built = store.refresh(full=True)
        figures["full_build_s"] = round(time.perf_counter() - began, 1)
        figures["store_mb"] = round(store.current_file().stat().st_size / 1e6)
        _sql(
            "UPDATE workorders_workorder SET status = 'closed', satisfaction = 2, "
            "updated_at = now() WHERE id IN (SELECT id FROM workorders_workorder "
            "ORDER BY id DESC LIMIT %s)",
            [CHANGED],
        )
        began = time.perf_counter()
        again = store.refresh()
        figures["incremental_refresh_s"] = round(time.perf_counter() - began, 1)
        figures["incremental_rows_read"] = again.changed
        assert built.orders == again.orders == orders, (built, again)

        area = Area.objects.get(name="Bench area 7").pk
        plain = dashboards.parse_filters({"from": "2025-12-01", "to": "2026-11-30"})
        narrow = dashboards.parse_filters(
            {"from": "2025-12-01", "to": "2026-11-30", "type": "fault", "area": str(area)}
        )
        views = {}
        for view in dashboards.VIEWS:
            for name, chosen in (("all", plain), ("filtered", narrow)):
                store.forget_readers()
                began = time.perf_counter()
                dashboards.build_view(view, chosen)
                cold = round(time.perf_counter() - began, 3)
                warm = _timed(lambda v=view, c=chosen: dashboards.build_view(v, c), REPEATS)
                views[f"{view}/{name}"] = {"cold_s": cold, **warm}
        figures["views"] = views
        figures["slowest_view_warm_median_s"] = max(v["median_s"] for v in views.values())
        store.forget_readers()
    return figures


@scenario("analytics_queries")
def analytics_queries(scale, workdir) -> dict:
    default = connections["default"]
    original = default.settings_dict["NAME"]
    default.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    default.close()
    default.settings_dict["NAME"] = DATABASE
    try:
        call_command("migrate", interactive=False, verbosity=0)
        return _measure(ORDERS[scale.name], CUSTOMERS[scale.name], workdir)
    finally:
        default.close()
        default.settings_dict["NAME"] = original
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
