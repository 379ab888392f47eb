"""Work-order classification: training on 300,000 orders and suggestions as agents type.

In a database of its own (created and dropped here, so other scenarios' rows
stay out of it): N work orders over a year in Hebrew, Chinese and English, a
third each, from the test history (``tests/analytics/classifier_history.py``:
the demo's caller phrases with the subtype each describes, English ones, a
greeting, a street, a closing word and one typo in seven), written with COPY.

Timed, in this process:

* ``train_classifier`` over all of them: reading (``values_list`` in chunks), the
  held-out evaluation (fit on each type's older 80 %, score the newest 20 %),
  the refit on every order, pickling and the save; the size of the stored model
  and the macro-F1 of type and subtype;
* 300 suggestions (100 per language, texts varied from the same phrases with
  another seed) through the route (``desk:analytics:classify``) with Django's
  test ``Client`` signed in as an agent: middleware, session, view, the model
  (loaded once, then cached) and the template; the first request (which loads
  the model) is timed apart.

Figures: seconds, and median / 95th / 99th percentile in milliseconds. Set
VOLTDESK_BENCH_CLASSIFIER_ORDERS to change N.
"""

import os
import random
import resource
import statistics
import time

from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from .registry import scenario

ORDERS = {"small": 20_000, "medium": 300_000, "large": 300_000}
SUGGESTIONS_PER_LANGUAGE = 100
DATABASE = "voltdesk_bench_classifier"
ANCHOR_MS = 100  # typing feels instant below a tenth of a second


def _populate(count: int) -> float:
    from tests.analytics.classifier_history import history_rows
    from voltdesk.core.services import init_utility

    init_utility("il")
    began = time.perf_counter()
    now = timezone.now()
    columns = (
        "channel, order_type, subtype, status, priority, description, created_at, "
        "resolved_at, closed_at, external_ref, caller_name, caller_phone, caller_email, "
        "is_member, escalation_level, updated_at"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY workorders_workorder ({columns}) FROM STDIN") as copy:
            for created, order_type, subtype, text in history_rows(count, seed=11):
                copy.write_row(
                    ("hotline", order_type, subtype, "closed", 2, text, created, created)
                    + (created, "bench-classifier", "", "", "", False, 0, now)
                )
        cursor.execute("ANALYZE workorders_workorder")
    return time.perf_counter() - began


def _percentiles(times_ms: list[float]) -> dict:
    times = sorted(times_ms)
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 1),
    }


def _texts() -> list[str]:
    from tests.analytics.classifier_history import phrases, vary

    rng = random.Random(2026)
    texts = []
    for language in ("il", "cn", "en"):
        bank = [t for said in phrases(language).values() for t in said]
        texts += [vary(rng.choice(bank), language, rng) for _n in range(SUGGESTIONS_PER_LANGUAGE)]
    rng.shuffle(texts)
    return texts


def _measure(count: int) -> dict:
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from voltdesk.analytics import classifier
    from voltdesk.core import roles

    figures = {"orders": count, "insert_s": round(_populate(count), 1)}
    began = time.perf_counter()
    model = classifier.train_classifier()
    figures["train_s"] = round(time.perf_counter() - began, 1)
    figures["train_parts_s"] = model.report["seconds"]
    figures["model_mib"] = round(len(bytes(model.pipeline)) / 2**20, 1)
    # Peak memory of this process so far (kB on Linux): the training's high-water mark.
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["held_out"] = model.orders_held_out
    figures["macro_f1_type"] = round(model.macro_f1_type, 3)
    figures["macro_f1_subtype"] = round(model.macro_f1_subtype, 3)

    agent = User.objects.create_user("bench-classifier-agent")
    agent.groups.add(Group.objects.get(name=roles.AGENT))
    client = Client()
    client.force_login(agent)
    url = reverse("desk:analytics:classify")
    classifier._loaded.clear()
    texts = _texts()
    began = time.perf_counter()
    first = client.get(url, {"description": texts[0]}, headers={"HX-Request": "true"})
    figures["first_request_ms"] = round((time.perf_counter() - began) * 1000, 1)
    assert first.status_code == 200, first.status_code
    times = []
    for text in texts:
        began = time.perf_counter()
        response = client.get(url, {"description": text}, headers={"HX-Request": "true"})
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    figures["suggest_route"] = _percentiles(times)
    # The same route with a text too short to classify: Django's share of the time.
    times = []
    for _text in texts:
        began = time.perf_counter()
        client.get(url, {"description": "ab"}, headers={"HX-Request": "true"})
        times.append((time.perf_counter() - began) * 1000)
    figures["route_without_model"] = _percentiles(times)
    times = []
    for text in texts:
        began = time.perf_counter()
        classifier.suggest(text)
        times.append((time.perf_counter() - began) * 1000)
    figures["suggest_function"] = _percentiles(times)
    figures["suggest_anchor_ms"] = ANCHOR_MS
    return figures


@scenario("analytics_classifier")
def analytics_classifier(scale, workdir) -> dict:
    count = int(os.environ.get("VOLTDESK_BENCH_CLASSIFIER_ORDERS", ORDERS[scale.name]))
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
        return _measure(count)
    finally:
        default.close()
        default.settings_dict["NAME"] = original
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
