"""The excess-demand warning fan-out end to end: declare an event, every customer's SMS sent.

N residential customers (languages en / he / zh-hans in turn, a phone each)
with one site each on 40 feeders of one area are made inside PostgreSQL with
generate_series. Then the real thing runs, all on this machine: a throwaway
``redis-server`` as the Celery broker, two Celery worker processes (``-P
solo``, one per core), and the SMS gateway simulator as its own HTTP server
process (``voltdesk sms_simulator``; no delivery receipts). The event is
declared through ``services.declare_event``; its commit starts the fan-out.

Measured from the declaration: when every message is in the outbox (creation:
the range tasks render and insert), and when every one is ``sent`` (the gateway
took it: the delivery batches). The gateway's own count proves none was lost
or sent twice.

Customers per scale: small 20,000, medium 1,000,000, large 3,000,000; set
VOLTDESK_BENCH_FANOUT_CUSTOMERS to override.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.db import connection
from django.utils import timezone

from .registry import scenario

CUSTOMERS = {"small": 20_000, "medium": 1_000_000, "large": 3_000_000}
FEEDERS = 40
WORKERS = int(os.environ.get("VOLTDESK_BENCH_WORKERS", str(os.cpu_count() or 2)))
SECRET = "bench-gateway-secret"
GOAL_SECONDS_PER_MILLION = 300


def _seed(customers: int):
    from voltdesk.core.models import Area, Feeder, Region
    from voltdesk.core.services import init_utility

    init_utility("il")
    region = Region.objects.create(name="Fan-out bench")
    area = Area.objects.create(region=region, name="Fan-out bench area", kind="urban")
    feeders = [Feeder.objects.create(area=area, name=f"FO-{i:02d}") for i in range(FEEDERS)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer
                (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
            SELECT 'FO' || lpad(g::text, 8, '0'), 'Customer ' || g, 'residential', '', '',
                   '+97254' || lpad(g::text, 7, '0'), '',
                   (ARRAY['en', 'he', 'zh-hans'])[1 + g %% 3], '', now()
            FROM generate_series(1, %s) g
            """,
            [customers],
        )
        cursor.execute(
            """
            INSERT INTO customers_site
                (ref, customer_id, address, voltage_level, critical_load, area_id, feeder_id)
            SELECT 'FS' || substr(c.ref, 3), c.id, '', 'low', false,
                   %s, (%s::bigint[])[1 + c.id %% %s]
            FROM customers_customer c WHERE c.ref LIKE 'FO%%'
            """,
            [area.pk, [f.pk for f in feeders], FEEDERS],
        )
        for table in ("customers_customer", "customers_site"):
            cursor.execute(f"ANALYZE {table}")
    return area


def _simulator(directory: Path, port: int) -> subprocess.Popen:
    log = open(directory / "simulator.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "voltdesk", "sms_simulator", "--port", str(port)]
        + ["--secret", SECRET, "--receipt-delay", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "voltdesk.settings"},
    )


def _stats(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def _count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)  # noqa: S608 - the models' own tables, no input
        return cursor.fetchone()[0]


@scenario("demand_fanout")
def demand_fanout(scale, workdir) -> dict:
    from voltdesk.demand import services
    from voltdesk.demand.models import EventWarning
    from voltdesk.notifications.models import Message
    from voltdesk.notifications.testing import (
        Workers,
        celery_sends_to,
        database_url,
        free_port,
        redis_server,
        wait_until,
    )

    customers = int(os.environ.get("VOLTDESK_BENCH_FANOUT_CUSTOMERS", CUSTOMERS[scale.name]))
    began = time.perf_counter()
    area = _seed(customers)
    seed_s = time.perf_counter() - began

    directory = Path(tempfile.mkdtemp(prefix="voltdesk-fanout-"))
    port = free_port()
    simulator = _simulator(directory, port)
    stats_url = f"http://127.0.0.1:{port}/stats"
    workers = None
    messages_table = Message._meta.db_table
    warnings_table = EventWarning._meta.db_table
    sent_sql = f"SELECT count(*) FROM {messages_table} WHERE status = 'sent'"  # noqa: S608
    try:
        with redis_server(directory) as broker_url:
            wait_until(lambda: _reachable(stats_url), timeout=30, what="the SMS simulator")
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "voltdesk.settings",
                "DATABASE_URL": database_url(),
                "VOLTDESK_DB_CONN_MAX_AGE": "600",
                "CELERY_BROKER_URL": broker_url,
                "VOLTDESK_SMS_GATEWAY_URL": f"http://127.0.0.1:{port}/messages",
                "VOLTDESK_SMS_GATEWAY_SECRET": SECRET,
            }
            workers = Workers(env, directory, loglevel="warning")
            for i in range(WORKERS):
                workers.start(f"fanout{i + 1}")
            time.sleep(3)  # let the workers connect: their start is not the fan-out's cost
            start = timezone.now() + dt.timedelta(days=1)
            with celery_sends_to(broker_url):
                t0 = time.perf_counter()
                event = services.declare_event(
                    services.EventRequest(
                        title="Heat wave",
                        starts_at=start,
                        ends_at=start + dt.timedelta(hours=6),
                        areas=(area,),
                    )
                )
                declared_s = time.perf_counter() - t0
                created_s = taken_s = None
                samples = []
                # Cheap probes while it runs (an index-only count of the warnings, the
                # gateway's counter); the outbox's big table is counted only at the end.
                warned_sql = f"SELECT count(*) FROM {warnings_table} WHERE event_id = {event.pk:d}"
                while True:
                    now = time.perf_counter() - t0
                    if now > 3600:
                        raise RuntimeError(f"fan-out unfinished after an hour: {samples[-1:]}")
                    taken = _stats(stats_url)["sent"]
                    if created_s is None:
                        queued = _count(warned_sql)
                        if queued >= customers:
                            created_s = now
                    samples.append((round(now, 1), queued, taken))
                    if taken >= customers:
                        taken_s = now
                        break
                    time.sleep(1.0)
                # The gateway has them all; the workers' last UPDATEs mark them sent.
                wait_until(lambda: _count(sent_sql) >= customers, timeout=120, what="all sent")
                delivered_s = time.perf_counter() - t0
            gateway = _stats(stats_url + "?full=1")
    finally:
        if workers is not None:
            workers.stop_all()
        simulator.kill()
        simulator.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    warned = EventWarning.objects.filter(event=event).count()
    assert warned == customers, (warned, customers)
    assert gateway["sent"] == customers == gateway["unique_keys"], gateway
    assert gateway["unique_numbers"] == customers, gateway
    batches = len(samples)
    rate = customers / delivered_s
    return {
        "customers": customers,
        "messages": customers,
        "workers": WORKERS,
        "seed_s": round(seed_s, 1),
        "declare_s": round(declared_s, 2),
        "creation_s": round(created_s, 1),
        "creation_msgs_per_s": round(customers / created_s),
        "delivery_after_creation_s": round(delivered_s - created_s, 1),
        "delivery_msgs_per_s": round(customers / max(0.001, delivered_s - created_s)),
        "gateway_took_all_s": round(taken_s, 1),
        "end_to_end_s": round(delivered_s, 1),
        "end_to_end_msgs_per_s": round(rate),
        "goal_msgs_per_s": round(1_000_000 / GOAL_SECONDS_PER_MILLION),
        "million_extrapolated_s": round(1_000_000 / rate),
        "gateway_sent": gateway["sent"],
        "gateway_duplicates_dropped": gateway["duplicates"],
        "gateway_requests": gateway["requests"],
        "progress_samples": batches,
        "progress": samples[:: max(1, len(samples) // 12)],
    }


def _reachable(url: str) -> bool:
    try:
        _stats(url)
        return True
    except OSError:
        return False
