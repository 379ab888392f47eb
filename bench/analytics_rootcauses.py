"""The monthly root-cause report's queries on PostgreSQL, each part timed.

Two years of work orders (August 2024 to July 2026, 100,000 at small scale,
2 million at medium and 5 million at large), generated inside PostgreSQL with
``INSERT ... SELECT generate_series``: 10 areas of 20 feeders, faults more
likely from June to September, callers from 300,000 phone numbers and 50,000
sites (so contacts repeat), complaints written in English, Hebrew and Chinese.
July 2026 carries a planted anomaly (one feeder with three times its faults)
and a theme (smart-meter readings) that the report must find.

Timed, for July 2026: the feeder test, the area test, the complaint themes,
the chains by phone and by site, the answer errors, the whole report, and its
PDF. Run: ``scripts/with-postgres.sh .venv/bin/python -m bench --scale medium
--scenario analytics_rootcauses``.
"""

import time

from django.db import connection

from .registry import scenario

ORDERS = {"small": 100_000, "medium": 2_000_000, "large": 5_000_000}
AREAS, FEEDERS_PER_AREA = 10, 20
SITES = 50_000
PHONES = 300_000
MONTH = "2026-07"

COMPLAINTS = [
    "The bill is too high this month",
    "Your agent was rude on the phone",
    "I waited too long in the service hall",
    "Nobody called me back about the outage",
    "电费太高了，账单有误",
    "营业厅排队时间太长",
    "客服态度不好，说话很冲",
    "停电了没有人通知",
    "החשבון גבוה מדי החודש",
    "הנציג היה גס רוח בטלפון",
    "המתנה ארוכה במרכז השירות",
    "אף אחד לא חזר אליי לגבי ההפסקה",
]
BURST = [
    "The smart meter reading is wrong",
    "智能电表读数不准",
    "הקריאה של המונה החכם שגויה",
]


def _generate(orders: int) -> dict:
    from voltdesk.core.models import Area, Feeder, Region

    region = Region.objects.create(name="Bench")
    areas = [
        Area.objects.create(region=region, name=f"Bench area {i}", kind="urban")
        for i in range(AREAS)
    ]
    feeders = [
        Feeder.objects.create(area=area, name=f"BF-{i:02d}-{j:02d}")
        for i, area in enumerate(areas)
        for j in range(FEEDERS_PER_AREA)
    ]
    hot = feeders[7]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer
                (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
            SELECT 'RC' || lpad(g::text, 7, '0'), 'Bench ' || g, 'residential', '', '', '',
                   '', 'he', '', now()
            FROM generate_series(1, %s) g
            """,
            [SITES],
        )
        cursor.execute(
            """
            INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
            SELECT 'RCS' || substr(c.ref, 3), c.id, '', 'low', false
            FROM customers_customer c WHERE c.ref LIKE 'RC%%'
            """
        )
        cursor.execute("SELECT min(id), max(id) FROM customers_site WHERE ref LIKE 'RCS%%'")
        site_min, site_max = cursor.fetchone()
        started = time.perf_counter()
        cursor.execute("SELECT setseed(0.7)")
        # One row per order: a time over two years, then its type (faults more likely in
        # summer), feeder, caller and site drawn at random.
        cursor.execute(
            """
            INSERT INTO workorders_workorder
                (channel, order_type, subtype, status, priority, caller_name, caller_phone,
                 caller_email, description, area_id, feeder_id, site_id, is_member,
                 escalation_level, created_at, updated_at, external_ref)
            SELECT o.channel, o.order_type,
                   CASE WHEN o.order_type = 'fault'
                        THEN (ARRAY['power_out','partial_power','line_down','meter_fault'])
                             [1 + floor(random() * 4)::int]
                        ELSE '' END,
                   'closed', 2, '', o.phone, '',
                   CASE WHEN o.order_type = 'complaint'
                        THEN (%(complaints)s::text[])[1 + floor(random() * %(n_complaints)s)::int]
                             || ' #' || (random() * 50)::int
                        ELSE '' END,
                   f.area_id, f.id, o.site, false, 0, o.created_at, o.created_at, ''
            FROM (
                SELECT g, created_at,
                       CASE WHEN r < 0.30 + 0.15 * (extract(month FROM created_at)
                                                    BETWEEN 6 AND 9)::int THEN 'fault'
                            WHEN r < 0.62 THEN 'consultation'
                            WHEN r < 0.80 THEN 'business'
                            WHEN r < 0.92 THEN 'complaint'
                            ELSE 'suggestion' END AS order_type,
                       channel, phone, site, feeder_no
                -- Volatile random() in a select list is drawn per row (an uncorrelated
                -- LATERAL would be drawn once).
                FROM (
                    SELECT g, random() AS r,
                           timestamptz '2024-08-01 00:00+03' + random() * interval '730 days'
                               AS created_at,
                           (ARRAY['hotline','hotline','hall','web','app'])
                               [1 + floor(random() * 5)::int] AS channel,
                           '+97250' || lpad(floor(random() * %(phones)s)::text, 7, '0') AS phone,
                           CASE WHEN random() < 0.7
                                THEN %(site_min)s
                                     + floor(random() * (%(site_max)s - %(site_min)s + 1))::int
                                END AS site,
                           1 + floor(random() * %(feeders)s)::int AS feeder_no
                    FROM generate_series(1, %(orders)s) g
                ) drawn
            ) o
            JOIN (SELECT id, area_id, row_number() OVER (ORDER BY id) AS no
                  FROM core_feeder WHERE name LIKE 'BF-%%') f ON f.no = o.feeder_no
            """,
            {
                "complaints": COMPLAINTS,
                "n_complaints": len(COMPLAINTS),
                "phones": PHONES,
                "site_min": site_min,
                "site_max": site_max,
                "feeders": len(feeders),
                "orders": orders,
            },
        )
        # July 2026: one feeder with twice its usual faults again, mostly lines down,
        # and a wave of smart-meter complaints.
        per_feeder_month = max(1, orders * 0.4 // (len(feeders) * 24))
        cursor.execute(
            """
            INSERT INTO workorders_workorder
                (channel, order_type, subtype, status, priority, caller_name, caller_phone,
                 caller_email, description, area_id, feeder_id, is_member, escalation_level,
                 created_at, updated_at, external_ref)
            SELECT 'hotline', 'fault', 'line_down', 'closed', 2, '', '', '', '', %s, %s, false,
                   0, t, t, ''
            FROM (SELECT g, timestamptz '2026-07-01 00:00+03' + random() * interval '30 days' AS t
                  FROM generate_series(1, %s) g) tt
            """,
            [hot.area_id, hot.pk, int(per_feeder_month * 2)],
        )
        cursor.execute(
            """
            INSERT INTO workorders_workorder
                (channel, order_type, subtype, status, priority, caller_name, caller_phone,
                 caller_email, description, is_member, escalation_level,
                 created_at, updated_at, external_ref)
            SELECT 'web', 'complaint', 'complaint', 'closed', 2, '', '', '',
                   (%s::text[])[1 + g %% 3] || ' #' || g, false, 0, t, t, ''
            FROM (SELECT g, timestamptz '2026-07-01 00:00+03' + random() * interval '30 days' AS t
                  FROM generate_series(1, %s) g) tt
            """,
            [BURST, max(30, orders // 2000)],
        )
        cursor.execute("ANALYZE workorders_workorder")
        cursor.execute("SELECT count(*) FROM workorders_workorder")
        total = cursor.fetchone()[0]
    return {"orders": total, "generate_s": round(time.perf_counter() - started, 1), "hot": hot}


def _timed(figures: dict, name: str, fn):
    started = time.perf_counter()
    result = fn()
    figures[f"{name}_s"] = round(time.perf_counter() - started, 3)
    return result


@scenario("analytics_rootcauses")
def analytics_rootcauses(scale, workdir) -> dict:
    from voltdesk.analytics import rootcauses
    from voltdesk.core.services import init_utility

    init_utility("il")
    made = _generate(ORDERS[scale.name])
    period = rootcauses.month_period(MONTH)
    figures = {"orders": made["orders"], "generate_s": made["generate_s"]}
    # jieba's dictionary loads once per process: not part of a report.
    rootcauses.raw_tokens("智能电表")
    import scipy.stats  # noqa: F401 - loaded once per process too

    feeders = _timed(figures, "feeders", lambda: rootcauses.abnormal_units(period, "feeder"))
    areas = _timed(figures, "areas", lambda: rootcauses.abnormal_units(period, "area"))
    themes = _timed(figures, "themes", lambda: rootcauses.complaint_themes(period))
    phone = _timed(figures, "chains_phone", lambda: rootcauses.contact_chains(period, "phone"))
    site = _timed(figures, "chains_site", lambda: rootcauses.contact_chains(period, "site"))
    _timed(figures, "answer_errors", lambda: rootcauses.answer_errors(period))
    report = _timed(figures, "monthly_report", lambda: rootcauses.monthly_report(period))
    pdf = _timed(figures, "pdf_en", lambda: rootcauses.render_report_pdf(report, language="en"))
    figures.update(
        {
            "abnormal_feeders": [u.name for u in feeders.abnormal],
            "planted_feeder_found": made["hot"].name in [u.name for u in feeders.abnormal],
            "abnormal_areas": [u.name for u in areas.abnormal],
            "dispersion": round(feeders.dispersion, 2),
            "complaints_read": themes.complaints + themes.background_complaints,
            "themes": [t.label for t in themes.themes][:5],
            "chains_phone": phone.chains,
            "chains_site": site.chains,
            "pdf_kb": len(pdf) // 1024,
        }
    )
    return figures
