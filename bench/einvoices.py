"""E-invoices on PostgreSQL: numbering a month of paid bills, sealing and checking them.

Data is generated inside PostgreSQL (generate_series, no Python loop): N
households with one site and contract, and October 2026's bill paid in full
(two lines, VAT 18 %, one payment allocated to it), in the three languages.

* Numbering: ``issue_einvoices`` over all N paid bills (one INSERT ... SELECT
  and one for the audit rows): invoices numbered per second.
* Sealing: ``seal_einvoices`` over a sample (render with WeasyPrint, PAdES seal
  with pyHanko, store, hash): invoices sealed per second by one process. This
  is the cost that scales with workers; the anchor (a million residential
  bills a month) is turned into worker-hours from it.
* Checking: ``check_seal`` over the sealed sample: verifications per second.

Bills per scale: small 5,000 (sample 40), medium 100,000 (sample 200), large
1,000,000 (sample 400); VOLTDESK_BENCH_EINVOICES / VOLTDESK_BENCH_EINVOICE_SAMPLE
override them.
"""

import os
import time

from django.db import connection

from .registry import scenario

BILLS = {"small": 5_000, "medium": 100_000, "large": 1_000_000}
SAMPLE = {"small": 40, "medium": 200, "large": 400}
ANCHOR = 1_000_000  # paid residential bills in a month
PREFIX = "EV"


def _exec(sql: str, params=None) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - began


def _generate(count: int) -> dict:
    seconds = {}
    seconds["customers_s"] = _exec(
        """
        INSERT INTO customers_customer
            (ref, name, kind, id_kind, id_number, phone, email, language, address, created_at)
        SELECT %s || lpad(g::text, 8, '0'),
               CASE g %% 3 WHEN 0 THEN 'Household ' || g WHEN 1 THEN '王家 ' || g
                           ELSE 'משפחת כהן ' || g END,
               'residential', '', '', '', '',
               CASE g %% 3 WHEN 0 THEN 'en' WHEN 1 THEN 'zh-hans' ELSE 'he' END,
               g || ' Main St', now()
        FROM generate_series(1, %s) g
        """,
        [PREFIX, count],
    )
    seconds["sites_contracts_s"] = _exec(
        """
        INSERT INTO customers_site (ref, customer_id, address, voltage_level, critical_load)
        SELECT 'EVS' || substr(c.ref, 3), c.id, '', 'low', false
        FROM customers_customer c WHERE c.ref LIKE 'EV0%%'
        """
    )
    seconds["sites_contracts_s"] += _exec(
        """
        INSERT INTO customers_contract (customer_id, site_id, tariff_id, start, "end")
        SELECT s.customer_id, s.id, NULL, NULL, NULL
        FROM customers_site s WHERE s.ref LIKE 'EVS%%'
        """
    )
    # 200 kWh x 0.50 = 100.00, fixed 20.00: 120.00 + 18 % VAT 21.60 = 141.60.
    seconds["bills_s"] = _exec(
        """
        INSERT INTO billing_bill
            (number, kind, status, customer_id, contract_id, site_id, period_start, period_end,
             energy_kwh, net_amount, vat_amount, total, paid, currency, issued_at, due_date,
             created_at)
        SELECT 'EVB2026-10-' || lpad(k.id::text, 8, '0'), 'bill', 'issued', k.customer_id,
               k.id, k.site_id, DATE '2026-10-01', DATE '2026-11-01', 200, 120.00, 21.60,
               141.60, 141.60, 'ILS', TIMESTAMPTZ '2026-11-03 09:00+02', DATE '2026-11-18',
               now()
        FROM customers_contract k
        JOIN customers_site s ON s.id = k.site_id AND s.ref LIKE 'EVS%%'
        """
    )
    seconds["lines_s"] = _exec(
        """
        INSERT INTO billing_billline
            (bill_id, position, kind, period, season, tier, covers_from, covers_to,
             tariff_version_id, quantity, unit, unit_price, amount)
        SELECT b.id, l.position, l.kind, 'all', '', NULL, b.period_start, b.period_end, NULL,
               l.quantity, l.unit, l.price, l.amount
        FROM billing_bill b
        CROSS JOIN (VALUES (1, 'energy', 200, 'kWh', 0.5, 100.00),
                           (2, 'fixed', 1, 'month', 20.00, 20.00))
             AS l(position, kind, quantity, unit, price, amount)
        WHERE b.number LIKE 'EVB%%'
        """
    )
    seconds["payments_s"] = _exec(
        """
        INSERT INTO billing_payment
            (customer_id, amount, currency, method, received_at, reference, allocated,
             created_at)
        SELECT b.customer_id, 141.60, 'ILS', 'bank', TIMESTAMPTZ '2026-11-10 10:00+02',
               b.number, 141.60, now()
        FROM billing_bill b WHERE b.number LIKE 'EVB%%'
        """
    )
    seconds["payments_s"] += _exec(
        """
        INSERT INTO billing_paymentallocation (payment_id, bill_id, amount)
        SELECT p.id, b.id, 141.60
        FROM billing_payment p JOIN billing_bill b ON b.number = p.reference
        WHERE p.reference LIKE 'EVB%%'
        """
    )
    began = time.perf_counter()
    for table in ("customers_customer", "billing_bill", "billing_billline", "billing_payment"):
        _exec(f"VACUUM (ANALYZE) {table}")
    _exec("VACUUM (ANALYZE) billing_paymentallocation")
    seconds["vacuum_analyze_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in seconds.items()}


@scenario("einvoices")
def einvoices_scenario(scale, workdir) -> dict:
    """Number a month of paid bills' e-invoices, seal a sample, check the sample."""
    from django.conf import settings

    from voltdesk.billing import einvoices, seal
    from voltdesk.billing.models import EInvoice
    from voltdesk.core.services import UtilityNotConfigured, get_utility, init_utility

    try:
        utility = get_utility()
    except UtilityNotConfigured:
        utility = init_utility("il").utility
    count = int(os.environ.get("VOLTDESK_BENCH_EINVOICES", BILLS[scale.name]))
    sample = int(os.environ.get("VOLTDESK_BENCH_EINVOICE_SAMPLE", SAMPLE[scale.name]))
    # The seal and the stored PDFs live in the bench's own folder.
    os.environ[seal.KEY_ENV] = str(workdir / "seal" / "key.pem")
    os.environ[seal.CERT_ENV] = str(workdir / "seal" / "cert.pem")
    os.environ[seal.CHAIN_ENV] = str(workdir / "seal" / "ca.pem")
    settings.MEDIA_ROOT = str(workdir / "media")
    began = time.perf_counter()
    seal.make_seal_certificate(utility.name, country=utility.country, force=True)
    certificate_s = time.perf_counter() - began

    generation = {}
    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only"}

    if not EInvoice.objects.exists() and not _bench_bills_exist():
        began = time.perf_counter()
        generation = _generate(count)
        generation["total_s"] = round(time.perf_counter() - began, 1)

    began = time.perf_counter()
    numbered = einvoices.issue_einvoices()
    numbering_s = time.perf_counter() - began
    began = time.perf_counter()
    again = einvoices.issue_einvoices()
    rerun_s = time.perf_counter() - began

    ids = list(
        EInvoice.objects.filter(status="numbered", bill__number__startswith="EVB")
        .order_by("pk")
        .values_list("pk", flat=True)[:sample]
    )
    # Warm up (fonts, the signer) outside the timing, as a long-lived worker is.
    einvoices.seal_einvoice(ids[0])
    timed = ids[1:]
    began = time.perf_counter()
    sealed = einvoices.seal_einvoices(timed)
    sealing_s = time.perf_counter() - began
    per_second = sealed / sealing_s if sealing_s else 0.0

    files = [invoice.pdf.read() for invoice in EInvoice.objects.filter(pk__in=timed).order_by("pk")]
    began = time.perf_counter()
    valid = sum(1 for data in files if seal.check_seal(data).ok)
    checking_s = time.perf_counter() - began
    sizes = sorted(len(data) for data in files)

    # Where the time goes: WeasyPrint's layout and font subsetting, or the seal.
    from voltdesk.billing.models import EInvoice as Invoice

    probe = list(Invoice.objects.filter(pk__in=timed[:10]))
    began = time.perf_counter()
    rendered = [einvoices.render_einvoice_pdf(invoice, utility) for invoice in probe]
    render_each = (time.perf_counter() - began) / max(1, len(probe))
    began = time.perf_counter()
    for data in rendered:
        seal.seal_pdf(data, invoice_number="E0000-000000")
    seal_each = (time.perf_counter() - began) / max(1, len(rendered))

    worker_hours = ANCHOR / per_second / 3600 if per_second else None
    return {
        "paid_bills": count,
        "generation": generation or "reused",
        "certificate_s": round(certificate_s, 2),
        "numbered": len(numbered),
        "numbering_s": round(numbering_s, 2),
        "numbered_per_second": round(len(numbered) / numbering_s) if numbering_s else None,
        "rerun_numbered": len(again),
        "rerun_s": round(rerun_s, 2),
        "sealed_sample": sealed,
        "sealing_s": round(sealing_s, 1),
        "sealed_per_second_one_process": round(per_second, 2),
        "render_s_each": round(render_each, 3),
        "seal_only_s_each": round(seal_each, 3),
        "verified_valid": valid,
        "verified_per_second": round(len(files) / checking_s, 1) if checking_s else None,
        "pdf_bytes_median": sizes[len(sizes) // 2] if sizes else None,
        "anchor": f"{ANCHOR:,} paid residential bills a month",
        "anchor_worker_hours": round(worker_hours, 1) if worker_hours else None,
        "anchor_hours_on_8_workers": round(worker_hours / 8, 1) if worker_hours else None,
    }


def _bench_bills_exist() -> bool:
    from voltdesk.billing.models import Bill

    return Bill.objects.filter(number__startswith="EVB").exists()
