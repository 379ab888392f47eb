"""The scenarios. Each is ``fn(scale, workdir) -> dict`` of figures, registered by name."""

import time
from datetime import UTC, datetime, timedelta

from django.db import connection

from .data import ensure_sites, write_readings_csv
from .registry import scenario

FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC)


def _raw_copy(path) -> tuple[int, float]:
    """COPY the same CSV into an UNLOGGED table without indexes: the ceiling."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_readings")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_raw_readings (site_ref text, start timestamptz, "
            '"end" timestamptz, kwh numeric(18, 6))'
        )
        began = time.perf_counter()
        copy_sql = (
            'COPY bench_raw_readings (site_ref, start, "end", kwh) '
            "FROM STDIN WITH (FORMAT csv, HEADER true)"
        )
        with cursor.cursor.copy(copy_sql) as copy, open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        connection.commit() if not connection.get_autocommit() else None
        elapsed = time.perf_counter() - began
        cursor.execute("SELECT count(*) FROM bench_raw_readings")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_raw_readings")
    return rows, elapsed


@scenario("readings_import")
def readings_import(scale, workdir) -> dict:
    """The real ``import_readings`` service end to end against a raw COPY of the same rows."""
    from voltdesk.metering.models import DailyRollup, MonthlyRollup, Reading
    from voltdesk.metering.services import import_readings

    refs = ensure_sites(scale.sites)
    path = workdir / f"readings-{scale.name}.csv"
    began = time.perf_counter()
    rows = write_readings_csv(path, refs, scale.days, start=FIRST_DAY)
    generated = time.perf_counter() - began
    size_mib = path.stat().st_size / 2**20

    raw_rows, raw_seconds = _raw_copy(path)
    assert raw_rows == rows, (raw_rows, rows)

    # A fresh table: the import is the first load of these readings.
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {Reading._meta.db_table}, {DailyRollup._meta.db_table}, "
            f"{MonthlyRollup._meta.db_table}"
        )
        cursor.execute(f"ANALYZE {Reading._meta.db_table}")
    began = time.perf_counter()
    result = import_readings(path)
    import_seconds = time.perf_counter() - began
    assert result.inserted == rows, (result.inserted, rows)

    raw_rate = raw_rows / raw_seconds
    import_rate = rows / import_seconds

    # The next period of the same sites, into the table that now holds the first:
    # each site's new readings go after its stored ones, in the middle of the key
    # index, where the first load only ever appended at its right end.
    following = workdir / f"readings-{scale.name}-next.csv"
    write_readings_csv(following, refs, scale.days, start=FIRST_DAY + timedelta(days=scale.days))
    next_raw_rows, next_raw_seconds = _raw_copy(following)
    began = time.perf_counter()
    result = import_readings(following)
    next_seconds = time.perf_counter() - began
    assert result.inserted == next_raw_rows, (result.inserted, next_raw_rows)
    next_ratio = (next_raw_rows / next_seconds) / (next_raw_rows / next_raw_seconds)
    return {
        "rows": rows,
        "sites": scale.sites,
        "csv_mib": round(size_mib, 1),
        "csv_generation_s": round(generated, 2),
        "raw_copy_s": round(raw_seconds, 2),
        "raw_copy_rows_per_s": round(raw_rate),
        "import_s": round(import_seconds, 2),
        "import_rows_per_s": round(import_rate),
        "import_vs_raw_copy": round(import_rate / raw_rate, 3),
        "goal_vs_raw_copy": 0.25,
        "next_period_raw_copy_s": round(next_raw_seconds, 2),
        "next_period_import_s": round(next_seconds, 2),
        "next_period_import_rows_per_s": round(next_raw_rows / next_seconds),
        "next_period_import_vs_raw_copy": round(next_ratio, 3),
        "anchor_rows_per_s": 150_000,
        "daily_rollups": DailyRollup.objects.count(),
        "monthly_rollups": MonthlyRollup.objects.count(),
    }


# Importing registers the scenarios: the billing run, the warnings fan-out.
from . import billing_run, demand_fanout  # noqa: E402, F401
