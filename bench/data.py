"""Building benchmark data: customers with sites, and a readings CSV."""

from datetime import UTC, datetime, timedelta, timezone

from django.db import transaction

BENCH_PREFIX = "B"


@transaction.atomic
def ensure_sites(count: int) -> list[str]:
    """``count`` sites (one customer each, with a contract); reuse those already made."""
    from voltdesk.core.models import Utility
    from voltdesk.core.services import init_utility
    from voltdesk.customers.models import Contract, Customer, Site

    if not Utility.objects.exists():
        init_utility("il")
    refs = [f"{BENCH_PREFIX}{i:07d}" for i in range(count)]
    have = set(Site.objects.filter(ref__in=refs).values_list("ref", flat=True))
    missing = [r for r in refs if r not in have]
    customers = Customer.objects.bulk_create(
        [Customer(ref=f"C{r}", name=f"Bench {r}", kind="business") for r in missing],
        batch_size=5000,
    )
    sites = Site.objects.bulk_create(
        [Site(ref=r, customer=c) for r, c in zip(missing, customers, strict=True)],
        batch_size=5000,
    )
    Contract.objects.bulk_create(
        [Contract(customer=s.customer, site=s) for s in sites], batch_size=5000
    )
    return refs


def write_readings_csv(path, refs: list[str], days: int, start: datetime | None = None) -> int:
    """15-minute readings for every site, site by site in time order, as a meter export."""
    start = start or datetime(2025, 1, 1, tzinfo=UTC)
    slots = days * 96
    # As an Israeli meter export writes them: local winter time with its offset.
    local = timezone(timedelta(hours=2))
    times = [
        (start + timedelta(minutes=15 * i)).astimezone(local).isoformat() for i in range(slots + 1)
    ]
    values = [f"{(i * 7919) % 4000 / 1000:.3f}" for i in range(997)]
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("site_ref,start,end,kwh\n")
        for k, ref in enumerate(refs):
            lines = [
                f"{ref},{times[i]},{times[i + 1]},{values[(i + k) % 997]}\n" for i in range(slots)
            ]
            fh.writelines(lines)
            n += slots
    return n
