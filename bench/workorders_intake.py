"""Work-order intake through the API under gunicorn, beside a bare Django view.

The database gets 100,000 customers with a site each on 40 feeders (set-based
SQL), an il utility with its commitments and queues, and a staff API key.
gunicorn serves the product (sync workers, one per core plus one, persistent
database connections) from a bench-only URLconf that adds a bare view. A load
generator of threads with keep-alive connections (standard library; on the same
2 cores, as the issue asks: app, database and load together) posts realistic
intake requests — callers by customer or site number, a mix of types — for a
fixed time, then requests the bare view the same way. Figures: requests per
second and latency percentiles of each.
"""

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import connection

from .registry import scenario

CUSTOMERS = {"small": 5_000, "medium": 100_000, "large": 100_000}
SECONDS = {"small": 10, "medium": 45, "large": 90}
CLIENTS = int(os.environ.get("VOLTDESK_BENCH_CLIENTS", "24"))
WORKERS = int(os.environ.get("VOLTDESK_BENCH_WORKERS", str((os.cpu_count() or 2) + 1)))
TYPES = ["fault"] * 4 + ["consultation"] * 3 + ["business", "complaint", "suggestion"]


def _seed(customers: int) -> str:
    from django.contrib.auth.models import Group, User

    from voltdesk.api.services import issue_token
    from voltdesk.core import roles
    from voltdesk.core.models import Area, Feeder, Region
    from voltdesk.core.services import init_utility

    init_utility("il")
    region = Region.objects.create(name="Bench")
    areas = [Area.objects.create(region=region, name=f"Bench {i}", kind="urban") for i in range(4)]
    feeders = [Feeder.objects.create(area=areas[i % 4], name=f"BF-{i}") for i in range(40)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer
                (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
            SELECT 'W' || lpad(g::text, 7, '0'), 'Intake bench ' || g, 'business', '', '',
                   '', '', 'he', '', now()
            FROM generate_series(1, %s) g
            """,
            [customers],
        )
        cursor.execute(
            """
            INSERT INTO customers_site
                (ref, customer_id, address, voltage_level, critical_load, area_id, feeder_id)
            SELECT 'WS' || substr(c.ref, 2), c.id, '', 'low', false,
                   (%s::int[])[1 + c.id %% 40], (%s::int[])[1 + c.id %% 40]
            FROM customers_customer c WHERE c.ref LIKE 'W%%'
            """,
            [[f.area_id for f in feeders], [f.pk for f in feeders]],
        )
        cursor.execute(
            'INSERT INTO customers_contract (customer_id, site_id, start, "end") '
            "SELECT customer_id, id, NULL, NULL FROM customers_site WHERE ref LIKE 'WS%%'"
        )
        for table in ("customers_customer", "customers_site", "customers_contract"):
            cursor.execute(f"ANALYZE {table}")
    user = User.objects.create_user("bench-agent")
    user.groups.add(Group.objects.get(name=roles.AGENT))
    return issue_token(user, "bench").key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(port, seconds, make_request) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(n):
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        bad = 0
        while time.perf_counter() < stop:
            method, path, body, headers = make_request(rng)
            began = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - began)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p):
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": round(elapsed, 1),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1),
    }


@scenario("workorders_intake")
def workorders_intake(scale, workdir) -> dict:
    customers = CUSTOMERS[scale.name]
    seconds = SECONDS[scale.name]
    key = _seed(customers)
    connection.close()  # the server's workers take the database from here
    port = _free_port()
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        # Persistent database connections, as a production gunicorn runs: without them
        # every request also pays for a new PostgreSQL backend (about half the cost).
        "VOLTDESK_DB_CONN_MAX_AGE": os.environ.get("VOLTDESK_DB_CONN_MAX_AGE", "60"),
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "voltdesk.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ],
        env=env,
        cwd=root,
        start_new_session=True,
    )
    try:
        for _i in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def intake(rng):
            n = rng.randrange(1, customers + 1)
            body = {
                "type": rng.choice(TYPES),
                "channel": "hotline",
                "description": "No power since the morning, neighbours too",
            }
            if rng.random() < 0.5:
                body["site_ref"] = f"WS{n:07d}"
            else:
                body["customer_ref"] = f"W{n:07d}"
            return "POST", "/api/v1/workorders", json.dumps(body), auth

        def bare(rng):
            return "GET", "/bench/bare/", None, {}

        _load(port, 3, bare)  # warm the workers
        intake_figures = _load(port, seconds, intake)
        bare_figures = _load(port, seconds, bare)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    from voltdesk.workorders.models import WorkOrder

    return {
        "customers": customers,
        "gunicorn_workers": WORKERS,
        "db_conn_max_age": env["VOLTDESK_DB_CONN_MAX_AGE"],
        "load_clients": CLIENTS,
        "intake": intake_figures,
        "bare_view": bare_figures,
        "work_orders_stored": WorkOrder.objects.count(),
        "goal": "500 intakes/s with p99 < 250 ms",
    }
