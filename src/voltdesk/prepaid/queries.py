"""The set-based SQL of the monthly run: credit rows, their payments, and allocation.

Each function is one statement (or a few) over every package of the month,
whatever their number, and runs the same on PostgreSQL and SQLite (window
functions, ``UPDATE ... FROM`` and ``ON CONFLICT`` are in both).

Allocation follows ``billing.payments`` exactly: a customer's unallocated money
is spent oldest payment first (by ``received_at``, then id) on its open
documents by due date, then issue date, then number. With running totals of
both, payment P covers [P_from, P_to) of the customer's money and document D
needs [D_from, D_to) of it; P pays D the overlap of the two intervals. That is
the greedy loop of ``payments._allocate`` as one join.
"""

from datetime import date, datetime

from django.db import connection

from voltdesk.billing.models import Bill, Payment, PaymentAllocation, PaymentArrangement
from voltdesk.core.models import AuditEntry
from voltdesk.customers.models import Customer

from .models import AutoDebit, DebitMandate, Package, PackageMonth

ALLOC = "prepaid_alloc"  # temporary table of one run's allocations


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _run(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def analyze(*tables: str) -> None:
    """Fresh planner statistics after a big insert (PostgreSQL; allowed inside a transaction).

    A table that held no rows of this month a moment ago would otherwise be planned
    as empty, and the joins that follow would crawl through nested loops.
    """
    if connection.vendor == "postgresql":
        for table in tables:
            _run(f"ANALYZE {table}")


def _json(pairs: list[tuple[str, str]]) -> str:
    """A JSON object of (key, SQL text expression) pairs in the database's own function."""
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    if connection.vendor == "postgresql":
        return f"jsonb_build_object({args})"
    return f"json_object({args})"


def _money_text(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST({expr} AS text)"
    return f"printf('%%.2f', {expr})"


def insert_credits(month: date, settled_on: date) -> int:
    """One credit row per active package whose year covers ``month`` and has none yet."""
    pm, pkg, bill = _t(PackageMonth), _t(Package), _t(Bill)
    ref = (
        "'PKG-' || CAST(p.id AS text) || '-' || %s"
        if connection.vendor == "postgresql"
        else "'PKG-' || CAST(p.id AS TEXT) || '-' || %s"
    )
    return _run(
        f"""
        INSERT INTO {pm} (package_id, customer_id, month, amount, bonus, reference, bill_id,
                          bill_total, deducted, shortfall, pay_by, settled_on, notified)
        SELECT p.id, p.customer_id, %s, p.monthly_amount, p.monthly_bonus, {ref}, b.id,
               COALESCE(b.total, 0), 0, 0, NULL, %s, %s
        FROM {pkg} p
        LEFT JOIN {bill} b ON b.contract_id = p.contract_id AND b.period_start = %s
             AND b.kind = 'bill' AND b.status = 'issued'
        WHERE p.status = 'active' AND p.first_month <= %s AND p.last_month >= %s
          AND NOT EXISTS (SELECT 1 FROM {pm} m WHERE m.package_id = p.id AND m.month = %s)
        """,  # noqa: S608 - table names from the models
        [month, f"{month:%Y%m}", settled_on, False, month, month, month, month],
    )


def insert_credit_payments(month: date, now: datetime, currency: str) -> int:
    """The credit rows' money on the account: one ``prepaid`` payment each, then linked."""
    pm, pay, audit = _t(PackageMonth), _t(Payment), _t(AuditEntry)
    count = _run(
        f"""
        INSERT INTO {pay} (customer_id, amount, currency, method, received_at, reference,
                           allocated, created_at)
        SELECT m.customer_id, m.amount + m.bonus, %s, 'prepaid', %s, m.reference, 0, %s
        FROM {pm} m WHERE m.month = %s AND m.payment_id IS NULL
        """,  # noqa: S608
        [currency, now, now, month],
    )
    _run(
        f"""
        UPDATE {pm} SET payment_id = p.id
        FROM {pay} p
        WHERE {pm}.month = %s AND {pm}.payment_id IS NULL
          AND p.customer_id = {pm}.customer_id AND p.reference = {pm}.reference
          AND p.method = 'prepaid'
        """,  # noqa: S608
        [month],
    )
    data = _json(
        [
            ("amount", _money_text("p.amount")),
            ("method", "'prepaid'"),
            ("reference", "p.reference"),
        ]
    )
    _run(
        f"""
        INSERT INTO {audit} (at, actor_id, action, object_type, object_id, data)
        SELECT %s, NULL, 'billing.payment_recorded', 'billing.payment', CAST(p.id AS TEXT), {data}
        FROM {pm} m JOIN {pay} p ON p.id = m.payment_id
        WHERE m.month = %s AND p.created_at = %s
        """,  # noqa: S608
        [now, month, now],
    )
    return count


def _scope_sql() -> str:
    """Customers credited this month whose money can be allocated in SQL.

    Those with an open credit note or an active arrangement go through
    ``payments.apply_credit`` instead (credit-note offsets and instalments).
    """
    pm, bill, arr = _t(PackageMonth), _t(Bill), _t(PaymentArrangement)
    return f"""
        SELECT DISTINCT m.customer_id FROM {pm} m
        WHERE m.month = %s
          AND NOT EXISTS (SELECT 1 FROM {bill} n WHERE n.customer_id = m.customer_id
                          AND n.kind = 'credit_note' AND n.status = 'issued' AND n.total < n.paid)
          AND NOT EXISTS (SELECT 1 FROM {arr} a WHERE a.customer_id = m.customer_id
                          AND a.status = 'active')
    """  # noqa: S608


def fallback_customers(month: date) -> list[int]:
    pm = _t(PackageMonth)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT customer_id FROM {pm} WHERE month = %s "  # noqa: S608
            f"AND customer_id NOT IN ({_scope_sql()})",
            [month, month],
        )
        return [row[0] for row in cursor.fetchall()]


def lock_customers(month: date) -> None:
    """Hold the credited customers' rows, as ``record_payment`` does for one (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return  # SQLite writes one transaction at a time anyway
    pm, customer = _t(PackageMonth), _t(Customer)
    _run(
        f"SELECT 1 FROM {customer} WHERE id IN "  # noqa: S608
        f"(SELECT customer_id FROM {pm} WHERE month = %s) ORDER BY id FOR UPDATE",
        [month],
    )


def allocate(month: date, now: datetime) -> int:
    """Spend the credited customers' unallocated money on their open debt; returns allocations."""
    pay, bill, alloc, audit = _t(Payment), _t(Bill), _t(PaymentAllocation), _t(AuditEntry)
    _run(f"DROP TABLE IF EXISTS {ALLOC}")
    least = "CASE WHEN pay.upto < debt.upto THEN pay.upto ELSE debt.upto END"
    greatest = (
        "CASE WHEN pay.upto - pay.free > debt.upto - debt.owed "
        "THEN pay.upto - pay.free ELSE debt.upto - debt.owed END"
    )
    _run(
        f"""
        CREATE TEMPORARY TABLE {ALLOC} AS
        WITH scope AS ({_scope_sql()}),
        pay AS (
            SELECT p.id AS payment_id, p.customer_id, p.amount - p.allocated AS free,
                   SUM(p.amount - p.allocated) OVER (
                       PARTITION BY p.customer_id ORDER BY p.received_at, p.id
                       ROWS UNBOUNDED PRECEDING) AS upto
            FROM {pay} p JOIN scope s ON s.customer_id = p.customer_id
            WHERE p.amount > p.allocated
        ),
        debt AS (
            SELECT b.id AS bill_id, b.customer_id, b.total - b.paid AS owed,
                   SUM(b.total - b.paid) OVER (
                       PARTITION BY b.customer_id ORDER BY b.due_date, b.issued_at, b.number, b.id
                       ROWS UNBOUNDED PRECEDING) AS upto
            FROM {bill} b JOIN scope s ON s.customer_id = b.customer_id
            WHERE b.status IN ('issued', 'credited') AND b.kind <> 'credit_note'
              AND b.total > b.paid
        ),
        overlap AS (
            SELECT pay.payment_id, debt.bill_id, ROUND({least} - ({greatest}), 2) AS amount
            FROM pay JOIN debt ON debt.customer_id = pay.customer_id
             AND pay.upto - pay.free < debt.upto AND debt.upto - debt.owed < pay.upto
        )
        SELECT payment_id, bill_id, amount FROM overlap WHERE amount > 0
        """,  # noqa: S608
        [month],
    )
    analyze(ALLOC)
    count = _run(
        f"""
        INSERT INTO {alloc} (payment_id, bill_id, amount)
        SELECT payment_id, bill_id, amount FROM {ALLOC} WHERE true
        ON CONFLICT (payment_id, bill_id) DO UPDATE SET amount = {alloc}.amount + excluded.amount
        """  # noqa: S608
    )
    _run(
        f"""
        UPDATE {bill} SET paid = {bill}.paid + s.amount
        FROM (SELECT bill_id, SUM(amount) AS amount FROM {ALLOC} GROUP BY bill_id) s
        WHERE {bill}.id = s.bill_id
        """  # noqa: S608
    )
    _run(
        f"""
        UPDATE {pay} SET allocated = {pay}.allocated + s.amount
        FROM (SELECT payment_id, SUM(amount) AS amount FROM {ALLOC} GROUP BY payment_id) s
        WHERE {pay}.id = s.payment_id
        """  # noqa: S608
    )
    data = _json([("bill", "b.number"), ("amount", _money_text("a.amount"))])
    _run(
        f"""
        INSERT INTO {audit} (at, actor_id, action, object_type, object_id, data)
        SELECT %s, NULL, 'billing.payment_allocated', 'billing.payment',
               CAST(a.payment_id AS TEXT), {data}
        FROM {ALLOC} a JOIN {bill} b ON b.id = a.bill_id
        """,  # noqa: S608
        [now],
    )
    return count


def record_deductions(month: date) -> None:
    """What this run's allocations paid of each month's bill, from the run's table."""
    pm = _t(PackageMonth)
    _run(
        f"""
        UPDATE {pm} SET deducted = {pm}.deducted + s.amount
        FROM (SELECT bill_id, SUM(amount) AS amount FROM {ALLOC} GROUP BY bill_id) s
        WHERE {pm}.month = %s AND {pm}.bill_id = s.bill_id
        """,  # noqa: S608
        [month],
    )
    _run(f"DROP TABLE IF EXISTS {ALLOC}")


def record_shortfalls(month: date, pay_by: date) -> int:
    """A month's bill still open after the credit: its shortfall and the day to pay it by."""
    pm, bill = _t(PackageMonth), _t(Bill)
    return _run(
        f"""
        UPDATE {pm} SET shortfall = b.total - b.paid, pay_by = %s
        FROM {bill} b
        WHERE {pm}.month = %s AND {pm}.notified = %s AND {pm}.pay_by IS NULL
          AND b.id = {pm}.bill_id AND b.total > b.paid
        """,  # noqa: S608
        [pay_by, month, False],
    )


def mandate_holders(month: date) -> list[tuple[int, int]]:
    """(PackageMonth id, mandate id) of this month's shortfalls whose customer bound a card."""
    pm, mandate = _t(PackageMonth), _t(DebitMandate)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.id, d.id FROM {pm} m JOIN {mandate} d
              ON d.customer_id = m.customer_id AND d.status = 'active'
            WHERE m.month = %s AND m.shortfall > 0 AND m.notified = %s
            """,  # noqa: S608
            [month, False],
        )
        return cursor.fetchall()


def complete_packages(month: date) -> int:
    """Packages whose last month has been credited are completed."""
    pkg = _t(Package)
    return _run(
        f"UPDATE {pkg} SET status = 'completed' "  # noqa: S608
        "WHERE status = 'active' AND last_month <= %s",
        [month],
    )


# The shortfall SMS, rendered once per language and filled in by the database.

TOKENS = ("package", "month", "shortfall", "currency", "pay_by", "card")


def token(name: str) -> str:
    """A marker the template renders untouched and the database replaces with the value."""
    return f"\u27e6{name}\u27e7"


def insert_shortfall_messages(
    month: date, now: datetime, bodies: dict[tuple[str, bool], str], default_language: str
) -> list[int]:
    """One queued SMS per shortfall of the month not yet told; returns the new messages' ids.

    ``bodies`` holds each (language, card bound) template rendered with ``token``
    markers; a customer's language falls back to the utility's. Only phone
    numbers in E.164 form (``+`` and digits, as customers' phones are kept) are
    written; the others are counted out by the caller.
    """
    from voltdesk.notifications.models import Message

    pm, pkg, cust, debit, mandate, msg = (
        _t(PackageMonth),
        _t(Package),
        _t(Customer),
        _t(AutoDebit),
        _t(DebitMandate),
        _t(Message),
    )
    language = f"COALESCE(NULLIF(c.language, ''), '{default_language}')"
    shortfall = _money_text("m.shortfall")
    pay_by = "CAST(m.pay_by AS TEXT)"
    cases, params = [], []
    for (lang, with_card), body in bodies.items():
        cases.append(f"WHEN {language} = %s AND (d.id IS NOT NULL) = %s THEN %s")
        params += [lang, with_card, body]
    filled = "CASE " + " ".join(cases) + " END"
    for name, expr in [
        ("package", "'PKG-' || CAST(p.id AS TEXT)"),
        ("month", "%s"),
        ("shortfall", shortfall),
        ("currency", "p.currency"),
        ("pay_by", pay_by),
        ("card", "COALESCE(k.card_last4, '')"),
    ]:
        filled = f"REPLACE({filled}, '{token(name)}', {expr})"
        if expr == "%s":
            params.append(f"{month:%Y-%m}")
    template = "CASE WHEN d.id IS NULL THEN 'prepaid_shortfall' ELSE 'prepaid_shortfall_debit' END"
    payload = _json(
        [
            ("package", "'PKG-' || CAST(p.id AS TEXT)"),
            ("month", f"'{month:%Y-%m}'"),
            ("shortfall", shortfall),
            ("currency", "p.currency"),
            ("pay_by", pay_by),
        ]
    )
    phone_ok = (
        "c.phone ~ '^\\+[0-9]{8,15}$'"
        if connection.vendor == "postgresql"
        else "c.phone GLOB '+[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*' "
        "AND NOT substr(c.phone, 2) GLOB '*[^0-9]*' AND length(c.phone) <= 16"
    )
    _run(
        f"""
        INSERT INTO {msg} (customer_id, address, channel, language, template, payload, subject,
                           body, dedupe_key, status, attempts, last_error, next_attempt_at,
                           driver, provider_message_id, created_at)
        SELECT m.customer_id, c.phone, 'sms', {language}, {template}, {payload}, '',
               {filled}, 'prepaid-' || {template} || '-' || CAST(m.id AS TEXT), 'queued', 0, '',
               %s, '', '', %s
        FROM {pm} m
        JOIN {pkg} p ON p.id = m.package_id
        JOIN {cust} c ON c.id = m.customer_id
        LEFT JOIN {debit} d ON d.package_month_id = m.id
        LEFT JOIN {mandate} k ON k.id = d.mandate_id
        WHERE m.month = %s AND m.notified = %s AND m.shortfall > 0 AND {phone_ok}
        ON CONFLICT (dedupe_key) DO NOTHING
        """,  # noqa: S608 - table names from the models, values as parameters
        [*params, now, now, month, False],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {msg} WHERE created_at = %s AND dedupe_key LIKE %s",  # noqa: S608
            [now, "prepaid-prepaid_shortfall%"],
        )
        ids = [row[0] for row in cursor.fetchall()]
    _run(
        f"UPDATE {pm} SET notified = %s WHERE month = %s AND notified = %s AND shortfall > 0",  # noqa: S608
        [True, month, False],
    )
    return ids
