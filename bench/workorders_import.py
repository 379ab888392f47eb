"""import_workorders on a generated history file: rows per second end to end.

The file has N rows over a year (a mix of types and channels; 80 % name a site,
half of those also the customer), for 20,000 customers with a site each on four
areas. Timed: the whole service call (hash, parse and check every line, resolve
references, bulk insert of orders and their transitions, commit).
"""

import csv
import random
import time
from datetime import UTC, datetime, timedelta

from django.db import connection

from .registry import scenario

ROWS = {"small": 20_000, "medium": 300_000, "large": 1_000_000}
CUSTOMERS = 20_000


@scenario("workorders_import")
def workorders_import(scale, workdir) -> dict:
    from voltdesk.core.models import Area, Region
    from voltdesk.core.services import init_utility
    from voltdesk.workorders.importing import import_workorders

    init_utility("il")
    region = Region.objects.create(name="History")
    areas = [
        Area.objects.create(region=region, name=f"History {i}", kind="urban") for i in range(4)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer
                (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
            SELECT 'H' || lpad(g::text, 7, '0'), 'History ' || g, 'residential', '', '', '',
                   '', 'he', '', now()
            FROM generate_series(1, %s) g
            """,
            [CUSTOMERS],
        )
        cursor.execute(
            """
            INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load,
                                        area_id)
            SELECT 'HS' || substr(c.ref, 2), c.id, '', 'low', false, (%s::int[])[1 + c.id %% 4]
            FROM customers_customer c WHERE c.ref LIKE 'H%%'
            """,
            [[a.pk for a in areas]],
        )
        cursor.execute(
            'INSERT INTO customers_contract (customer_id, site_id, start, "end") '
            "SELECT customer_id, id, NULL, NULL FROM customers_site WHERE ref LIKE 'HS%%'"
        )
    rows = ROWS[scale.name]
    rng = random.Random(7)
    path = workdir / "workorders.csv"
    start = datetime(2025, 7, 1, tzinfo=UTC)
    types = ["fault", "fault", "consultation", "consultation", "business", "complaint"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "created_at",
                "closed_at",
                "channel",
                "type",
                "subtype",
                "description",
                "area",
                "customer_ref",
                "site_ref",
            ]
        )
        for _i in range(rows):
            created = start + timedelta(seconds=rng.randrange(365 * 86400))
            closed = created + timedelta(minutes=rng.randrange(30, 5000))
            n = rng.randrange(1, CUSTOMERS + 1)
            site = f"HS{n:07d}" if rng.random() < 0.8 else ""
            customer = f"H{n:07d}" if site and rng.random() < 0.5 else ""
            out.writerow(
                [
                    created.isoformat(),
                    closed.isoformat() if rng.random() < 0.97 else "",
                    rng.choice(["hotline", "hotline", "web", "app", "hall"]),
                    rng.choice(types),
                    "",
                    "אין חשמל בבית מהבוקר",
                    "" if site else areas[n % 4].name,
                    customer,
                    site,
                ]
            )
    began = time.perf_counter()
    result = import_workorders(path)
    seconds = time.perf_counter() - began
    return {
        "rows": rows,
        "imported": result.created,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }
