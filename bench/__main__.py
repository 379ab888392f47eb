"""Run benchmark scenarios and write their figures as JSON under bench/results/.

Usage (from the repository root, DATABASE_URL pointing at PostgreSQL):
    python -m bench [--scale small|medium|large] [--scenario NAME ...]
``make bench`` starts a throwaway PostgreSQL cluster and runs this.
"""

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voltdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from . import (  # noqa: F401 - importing registers the scenarios
        analytics_classifier,
        analytics_forecast,
        analytics_queries,
        analytics_rootcauses,
        appointments_booking,
        club,
        einvoices,
        knowledge,
        lounge,
        machine,
        prepaid_month,
        scenarios,
        workorders_import,
        workorders_intake,
    )
    from .registry import SCALES, SCENARIOS

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        print("The benchmarks measure PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    scale = SCALES[args.scale]
    names = args.scenario or list(SCENARIOS)
    call_command("migrate", interactive=False, verbosity=0)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": {"name": scale.name, "sites": scale.sites, "days": scale.days},
        "machine": machine.describe(),
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="voltdesk-bench-") as workdir:
        for name in names:
            print(f"== {name} ({scale.name})", flush=True)
            figures = SCENARIOS[name](scale, Path(workdir))
            report["scenarios"][name] = figures
            for key, value in figures.items():
                print(f"   {key}: {value}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{scale.name}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
