"""Hall appointments at a province's scale on PostgreSQL: free-slot search, booking, reminders.

Data is generated inside PostgreSQL (generate_series, no Python loop): H halls
open Monday to Friday 09:00-12:00 and 13:30-17:00 in 30-minute slots of 3
places (13 slots a day), 60 days of slot counters from Monday 2027-03-01 with
about 0.7 visitors a slot on average (one slot in ten full), and a booking row
for every place taken (about 100,000 bookings for 300 halls) held by 50,000
households. Then, measured through the services:

* ``free_slots`` for 30 days of a random hall (what the booking page asks),
  latency percentiles over 500 searches;
* ``book`` one after the other for fresh customers (search, then book a random
  free slot): bookings per second;
* the race: 4 threads book the 30 places of one hall's first 10 slots with
  200 attempts; exactly 30 must get in;
* ``send_reminders`` for the next day's visits (reminder + one-time notice per
  booking, rendered in the customer's language and queued in the outbox; the
  hand-over to Celery is left out).

Halls per scale: small 30, medium and large 300 (the brief's figure); set
VOLTDESK_BENCH_HALLS to override.
"""

import os
import random
import statistics
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, connections

from .registry import scenario

HALLS = {"small": 30, "medium": 300, "large": 300}
HOUSEHOLDS = 50_000
FRESH = 3_000
FIRST_DAY = date(2027, 3, 1)  # a Monday
DAYS = 60
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 12, tzinfo=ZONE)


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(halls: int) -> dict:
    from voltdesk.appointments.models import BusinessKind
    from voltdesk.core.services import UtilityNotConfigured, get_utility, init_utility

    try:
        get_utility()
    except UtilityNotConfigured:
        init_utility("cn")
    kind, _created = BusinessKind.objects.get_or_create(code="meter_test")
    seconds = {}
    seconds["halls_s"] = _exec(
        """
        INSERT INTO appointments_servicehall
            (code, name, address, area_id, phone, slot_minutes, capacity, horizon_days, active)
        SELECT 'bench-' || g, 'Bench hall ' || g, g || ' Bench Road', NULL, '', 30, 3, 90, true
        FROM generate_series(1, %s) g
        """,
        [halls],
    )
    seconds["halls_s"] += _exec(
        """
        INSERT INTO appointments_openinghours (hall_id, weekday, opens, closes)
        SELECT h.id, d, t.opens, t.closes
        FROM appointments_servicehall h
        CROSS JOIN generate_series(0, 4) d
        CROSS JOIN (VALUES (TIME '09:00', TIME '12:00'), (TIME '13:30', TIME '17:00'))
            AS t(opens, closes)
        WHERE h.code LIKE 'bench-%%'
        """
    )
    seconds["households_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT 'AB' || lpad(g::text, 8, '0'), 'Appointment bench ' || g, 'residential', '', '',
               '+86139' || lpad(g::text, 8, '0'), 'ab' || g || '@example.cn',
               CASE g %% 3 WHEN 0 THEN 'en' WHEN 1 THEN 'zh-hans' ELSE 'he' END, '', now()
        FROM generate_series(1, %s) g
        """,
        [HOUSEHOLDS + FRESH],
    )
    # Every slot of 60 weekdays-only days, its places taken by a fixed hash.
    seconds["counters_s"] = _exec(
        """
        CREATE TEMP TABLE bench_slots AS
        SELECT h.id AS hall_id, (d::date + s.t) AT TIME ZONE 'Asia/Shanghai' AS starts_at,
               CASE (h.id * 7919 + s.n * 104729 + (d::date - DATE '2027-03-01') * 15485863) %% 10
                   WHEN 0 THEN 3 WHEN 1 THEN 2 WHEN 2 THEN 1 WHEN 3 THEN 1 ELSE 0 END AS taken
        FROM appointments_servicehall h
        CROSS JOIN generate_series(DATE '2027-03-01', DATE '2027-03-01' + %s - 1,
                                   INTERVAL '1 day') d
        CROSS JOIN (
            SELECT row_number() OVER () AS n, t FROM (
                SELECT generate_series(TIMESTAMP '2000-01-01 09:00', '2000-01-01 11:30',
                                       INTERVAL '30 min')::time AS t
                UNION ALL
                SELECT generate_series(TIMESTAMP '2000-01-01 13:30', '2000-01-01 16:30',
                                       INTERVAL '30 min')::time
            ) times
        ) s
        WHERE h.code LIKE 'bench-%%' AND extract(isodow FROM d) <= 5
        """,
        [DAYS],
    )
    seconds["counters_s"] += _exec(
        """
        INSERT INTO appointments_slotcounter (hall_id, starts_at, taken)
        SELECT hall_id, starts_at, taken FROM bench_slots WHERE taken > 0
        """
    )
    seconds["bookings_s"] = _exec(
        """
        WITH places AS (
            SELECT b.hall_id, b.starts_at, row_number() OVER (ORDER BY b.hall_id, b.starts_at, p)
                AS n
            FROM bench_slots b CROSS JOIN LATERAL generate_series(1, b.taken) p
        ), households AS (
            SELECT id, language, row_number() OVER (ORDER BY id) - 1 AS k
            FROM customers_customer
            WHERE ref LIKE 'AB%%' AND ref <= 'AB' || lpad(%s::text, 8, '0')
        )
        INSERT INTO appointments_booking
            (reference, hall_id, kind_id, customer_id, starts_at, ends_at, status, remind_by,
             language, note, rescheduled_to_id, booked_by_id, reminded_at, closed_at,
             closed_by_id, created_at)
        SELECT 'BN' || lpad(p.n::text, 8, '0'), p.hall_id, %s, c.id, p.starts_at,
               p.starts_at + INTERVAL '30 min', 'booked', 'sms', c.language, '', NULL, NULL,
               NULL, NULL, NULL, now()
        FROM places p JOIN households c ON c.k = p.n %% %s
        """,
        [HOUSEHOLDS, kind.pk, HOUSEHOLDS],
    )
    _exec("DROP TABLE bench_slots")
    began = time.perf_counter()
    for table in (
        "appointments_servicehall",
        "appointments_openinghours",
        "appointments_slotcounter",
        "appointments_booking",
        "customers_customer",
    ):
        _exec(f"VACUUM (ANALYZE) {table}")
    seconds["vacuum_analyze_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in seconds.items()}


def _percentiles(values: list[float]) -> dict:
    values = sorted(values)
    q = statistics.quantiles(values, n=100)
    return {
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1),
    }


def _race(hall, kind, customers) -> dict:
    from voltdesk.appointments import calendar, services

    slots = calendar.free_slots(hall, FIRST_DAY, FIRST_DAY + timedelta(days=30), now=NOW)[:10]
    places = sum(s.free for s in slots)
    attempts = 200
    jobs = [(customers[i], slots[i % len(slots)].starts_at) for i in range(attempts)]
    lock = threading.Lock()
    outcome = {"booked": 0, "full": 0, "other": 0}

    def worker(part):
        try:
            for customer, starts_at in part:
                try:
                    services.book(
                        None, customer=customer, hall=hall, kind=kind, starts_at=starts_at, now=NOW
                    )
                    key = "booked"
                except services.AppointmentError as exc:
                    key = "full" if exc.field == "slot" else "other"
                with lock:
                    outcome[key] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(jobs[i::4],)) for i in range(4)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    return {
        "threads": 4,
        "attempts": attempts,
        "places": places,
        **outcome,
        "attempts_per_second": round(attempts / seconds),
        "overbooked": outcome["booked"] > places,
    }


@scenario("appointments_booking")
def appointments_booking_scenario(scale, workdir) -> dict:
    """Free-slot search latency, booking throughput, the last-place race, the reminder run."""
    from voltdesk.appointments import calendar, reminders, services
    from voltdesk.appointments.models import Booking, BusinessKind, ServiceHall
    from voltdesk.customers.models import Customer
    from voltdesk.notifications import services as outbox
    from voltdesk.notifications.models import Message

    halls_wanted = int(os.environ.get("VOLTDESK_BENCH_HALLS", HALLS[scale.name]))
    generation = {}
    if not ServiceHall.objects.filter(code__startswith="bench-").exists():
        began = time.perf_counter()
        generation = _generate(halls_wanted)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    halls = list(ServiceHall.objects.filter(code__startswith="bench-").order_by("pk"))
    kind = BusinessKind.objects.get(code="meter_test")
    rng = random.Random(7)

    # 1. Search: 30 days of one hall, as the booking page asks.
    searches = []
    for _i in range(500):
        hall = rng.choice(halls)
        began = time.perf_counter()
        calendar.free_slots(hall, FIRST_DAY, FIRST_DAY + timedelta(days=30), now=NOW)
        searches.append(time.perf_counter() - began)

    # 2. Book one after the other: fresh households, a random free slot of a random hall.
    fresh = list(
        Customer.objects.filter(
            ref__gt="AB" + str(HOUSEHOLDS).rjust(8, "0"), ref__startswith="AB"
        ).order_by("ref")
    )
    race_customers, fresh = fresh[:200], fresh[200:2200]
    book_times, made = [], 0
    began_all = time.perf_counter()
    for customer in fresh:
        hall = rng.choice(halls)
        free = calendar.free_slots(hall, FIRST_DAY, FIRST_DAY + timedelta(days=30), now=NOW)
        slot = rng.choice(free)
        began = time.perf_counter()
        services.book(
            None, customer=customer, hall=hall, kind=kind, starts_at=slot.starts_at, now=NOW
        )
        book_times.append(time.perf_counter() - began)
        made += 1
    sequential_s = time.perf_counter() - began_all

    # 3. The race for the last places.
    race = _race(halls[0], kind, race_customers)

    # 4. The reminder run for tomorrow's visits, with the notices published.
    from pathlib import Path

    from voltdesk import knowledge
    from voltdesk.knowledge.models import Article
    from voltdesk.knowledge.services import load_articles

    if not Article.objects.filter(key="cn-notice-meter-test").exists():
        load_articles(
            Path(knowledge.__file__).parent / "content" / "cn.json", publish=True, profile="cn"
        )
    Message.objects.filter(template__in=["appointment_reminder", "knowledge_notice"]).delete()
    Booking.objects.filter(reminded_at__isnull=False).update(reminded_at=None)
    start, end = calendar.day_bounds(FIRST_DAY + timedelta(days=1), ZONE)
    due = Booking.objects.filter(status="booked", starts_at__gte=start, starts_at__lt=end).count()
    real_enqueue = outbox._enqueue
    outbox._enqueue = lambda *args, **kwargs: None
    try:
        began = time.perf_counter()
        reminded = reminders.send_reminders(now=NOW)
        reminder_s = time.perf_counter() - began
    finally:
        outbox._enqueue = real_enqueue

    return {
        "halls": len(halls),
        "days": DAYS,
        "bookings": Booking.objects.count(),
        "generation": generation or "reused",
        "search_30_days": {"searches": len(searches), **_percentiles(searches)},
        "book": {
            "bookings": made,
            "bookings_per_second_with_search": round(made / sequential_s),
            **_percentiles(book_times),
        },
        "race": race,
        "reminders": {
            "due": due,
            **reminded,
            "messages": Message.objects.filter(
                template__in=["appointment_reminder", "knowledge_notice"]
            ).count(),
            "seconds": round(reminder_s, 1),
            "bookings_per_second": round(reminded["reminded"] / reminder_s) if reminder_s else 0,
        },
        "goal": "a slot search well under 100 ms; booking never overbooks; reminders in minutes",
    }
