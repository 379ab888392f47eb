"""E-invoices for paid bills, sealed with the utility's certificate; and e-bills by e-mail or SMS.

E-invoices:

* ``issue_einvoices`` numbers an e-invoice for every paid bill that has none,
  in one set-based step: the series is "E2026-000001" (the year of issue in the
  utility's time zone, then a count), gap-free because numbers are given under
  the utility row's lock, as bill numbers are. The date the bill was paid (the
  last payment allocated to it) is kept on the row.
* ``seal_einvoice`` renders the PDF in the customer's language (WeasyPrint,
  from ``billing/einvoice_pdf.html``: seller and buyer, the buyer's tax id for a
  business, the lines, VAT, the total and the day it was paid) and seals it
  (``seal.seal_pdf``: PAdES). The bytes are stored once with their SHA-256;
  ``einvoice_pdf`` hands out exactly those bytes, every time.
* ``einvoice_for_bill`` is what the portal and the desk call: a paid bill gets
  its e-invoice (issued and sealed on the spot if the batch has not reached it);
  an unpaid one is refused with the amount still open.

E-bills:

* ``choose_bill_delivery``: the customer picks paper, e-mail or an SMS link.
* ``send_ebills`` queues, for every issued bill of an e-bill customer, one
  e-mail or SMS (outbox, once per bill) with a signed link to the bill's PDF.
  It runs after ``runs.issue_bills`` (the ``send_ebills`` task, on beat) and
  may run any number of times: the outbox's dedupe key keeps it to one message.
* ``bill_link_token`` / ``bill_for_token``: the link names one bill of one
  customer, signed and valid for ``LINK_MAX_AGE``; anything else is no bill.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Max, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from voltdesk.core.models import AuditEntry, Utility
from voltdesk.core.services import get_utility, log_action
from voltdesk.customers.choices import IdentifierKind

from . import seal
from .choices import BillKind, BillStatus
from .display import bill_context, bill_for_display, bill_language, format_money
from .models import Bill, BillDelivery, EInvoice, PaymentAllocation

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/pdf"
LINK_MAX_AGE = timedelta(days=90)
_SALT = "voltdesk.billing.ebill"
# Only a business's identifier belongs on its invoice; a household's ID number stays private.
BUYER_TAX_IDS = {IdentifierKind.IL_COMPANY, IdentifierKind.CN_USCC}
CHUNK = 1_000


class EInvoiceError(Exception):
    """An e-invoice or e-bill action refused; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = "bill"):
        super().__init__(message)
        self.message = message
        self.field = field


# Which bills get an e-invoice


def paid_bills_without_einvoice(qs=None):
    """Issued bills (and late fees) paid in full that have no e-invoice yet."""
    qs = Bill.objects.all() if qs is None else qs
    return qs.filter(
        kind__in=[BillKind.BILL, BillKind.LATE_FEE],
        status=BillStatus.ISSUED,
        total__gt=0,
        paid__gte=F("total"),
    ).exclude(Exists(EInvoice.objects.filter(bill=OuterRef("pk"))))


def refusal(bill: Bill) -> str | None:
    """Why ``bill`` has no e-invoice, in words for the customer; None when it may have one."""
    if bill.kind not in (BillKind.BILL, BillKind.LATE_FEE):
        return _("A credit note has no e-invoice: it cancels bill %(bill)s.") % {
            "bill": bill.corrects.number if bill.corrects_id else "?"
        }
    if bill.status == BillStatus.CREDITED:
        return _("This bill was cancelled by a credit note, so it has no e-invoice.")
    if bill.status != BillStatus.ISSUED:
        return _("This bill is not issued yet.")
    if bill.total <= 0 or bill.paid < bill.total:
        return _(
            "The e-invoice is issued once the bill is paid in full; %(open)s is still open."
        ) % {"open": format_money(bill.open_amount, bill.currency)}
    return None


# Numbering (set-based)


def _zone(utility: Utility) -> ZoneInfo:
    return ZoneInfo(utility.time_zone)


def issue_einvoices(bill_ids: list[int] | None = None, *, user=None) -> list[int]:
    """Number an e-invoice for every paid bill without one (or those of ``bill_ids``).

    Returns the new e-invoices' ids, in number order; they still need sealing
    (``seal_einvoices``). Safe to run twice: a bill never gets two. A month of a
    million paid bills is two INSERT ... SELECT statements (invoices, audit rows).
    """
    if bill_ids is not None and not bill_ids:
        return []
    with transaction.atomic():
        # The same lock as bill numbering: two issuers cannot hand out one number twice.
        utility = Utility.objects.select_for_update().get(pk=get_utility().pk)
        now = timezone.now()
        prefix = f"E{timezone.localtime(now, _zone(utility)):%Y}-"
        offset = EInvoice.objects.filter(number__startswith=prefix).count()
        before = EInvoice.objects.aggregate(last=Max("pk"))["last"] or 0
        known = [code for code, _name in settings.LANGUAGES]
        fallback = utility.default_language if utility.default_language in known else "en"
        for i in range(0, len(bill_ids or [None]), CHUNK):
            chunk = None if bill_ids is None else bill_ids[i : i + CHUNK]
            offset += _insert_numbered(prefix, offset, now, known, fallback, chunk)
        ids = list(
            EInvoice.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True)
        )
        if ids:
            _audit_issued(before, user)
    return ids


def _insert_numbered(prefix, offset, now, known, fallback, bill_ids) -> int:
    """One INSERT ... SELECT: the next numbers, in bill order, for paid bills without one."""
    pg = connection.vendor == "postgresql"
    tables = {
        "inv": EInvoice._meta.db_table,
        "bill": Bill._meta.db_table,
        "cust": Bill._meta.get_field("customer").related_model._meta.db_table,
        "alloc": PaymentAllocation._meta.db_table,
        "pay": PaymentAllocation._meta.get_field("payment").related_model._meta.db_table,
    }
    if pg:
        number = "%s || lpad((x.n + %s)::text, greatest(6, length((x.n + %s)::text)), '0')"
        number_params = [prefix, offset, offset]
        moment = now
    else:
        number = "%s || printf('%%06d', x.n + %s)"
        number_params = [prefix, offset]
        moment = connection.ops.adapt_datetimefield_value(now)
    only, only_params = "", []
    if bill_ids is not None:
        only = f"AND b.id IN ({', '.join(['%s'] * len(bill_ids))})"
        only_params = list(bill_ids)
    marks = ", ".join(["%s"] * len(known))
    sql = f"""
        INSERT INTO {tables["inv"]}
            (number, bill_id, customer_id, status, issued_at, paid_at, language,
             sealed_at, sha256, pdf, size)
        SELECT {number}, x.id, x.customer_id, 'numbered', %s, x.paid_at, x.language,
               NULL, '', '', 0
        FROM (
            SELECT b.id, b.customer_id,
                   (SELECT MAX(p.received_at) FROM {tables["alloc"]} a
                    JOIN {tables["pay"]} p ON p.id = a.payment_id
                    WHERE a.bill_id = b.id) AS paid_at,
                   CASE WHEN c.language IN ({marks}) THEN c.language ELSE %s END AS language,
                   row_number() OVER (ORDER BY b.id) AS n
            FROM {tables["bill"]} b JOIN {tables["cust"]} c ON c.id = b.customer_id
            WHERE b.kind IN ('bill', 'late_fee') AND b.status = 'issued'
              AND b.total > 0 AND b.paid >= b.total
              AND NOT EXISTS (SELECT 1 FROM {tables["inv"]} e WHERE e.bill_id = b.id)
              {only}
        ) x
        ORDER BY x.n
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*number_params, moment, *known, fallback, *only_params])
        return max(cursor.rowcount, 0)


def _audit_issued(after_pk: int, user) -> None:
    """One audit row per new e-invoice, written set-based like the invoices."""
    pg = connection.vendor == "postgresql"
    data = (
        "jsonb_build_object('number', e.number, 'bill', e.bill_id)"
        if pg
        else "json_object('number', e.number, 'bill', e.bill_id)"
    )
    at = timezone.now()
    sql = f"""
        INSERT INTO {AuditEntry._meta.db_table}
            (at, actor_id, action, object_type, object_id, data)
        SELECT %s, %s, 'einvoice.issued', %s, CAST(e.id AS varchar(64)), {data}
        FROM {EInvoice._meta.db_table} e WHERE e.id > %s ORDER BY e.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                at if pg else connection.ops.adapt_datetimefield_value(at),
                user.pk if getattr(user, "pk", None) else None,
                EInvoice._meta.label_lower,
                after_pk,
            ],
        )


# The PDF and its seal


def _buyer_tax_id(customer) -> dict | None:
    if customer.id_kind in BUYER_TAX_IDS and customer.id_number:
        return {"label": str(IdentifierKind(customer.id_kind).label), "value": customer.id_number}
    return None


def einvoice_pdf_html(invoice: EInvoice, utility: Utility) -> str:
    """The HTML an e-invoice is laid out from, in the invoice's language (``dir="rtl"`` for he)."""
    bill = bill_for_display(Bill.objects.filter(pk=invoice.bill_id)).get()
    zone = _zone(utility)
    with translation.override(invoice.language):
        issued_on = timezone.localtime(invoice.issued_at, zone).date()
        paid_on = timezone.localtime(invoice.paid_at, zone).date() if invoice.paid_at else None
        context = bill_context(bill, utility, today=issued_on)
        return render_to_string(
            "billing/einvoice_pdf.html",
            {
                "bill": context,
                "invoice": {
                    "number": invoice.number,
                    "issued_on": issued_on,
                    "paid_on": paid_on,
                    "bill_number": bill.number,
                },
                "seller": {
                    "name": utility.name,
                    "tax_id": getattr(settings, "VOLTDESK_SELLER_TAX_ID", ""),
                    "service_line": utility.service_line,
                },
                "buyer_tax_id": _buyer_tax_id(bill.customer),
                "language": invoice.language,
                "bidi": translation.get_language_bidi(),
            },
        )


def render_einvoice_pdf(invoice: EInvoice, utility: Utility) -> bytes:
    """The unsealed PDF (WeasyPrint is imported here: pages without PDFs never load it)."""
    from weasyprint import HTML

    return HTML(string=einvoice_pdf_html(invoice, utility)).write_pdf()


def seal_einvoice(invoice_id: int) -> EInvoice:
    """Render and seal one numbered e-invoice and store it; a sealed one is left as it is.

    Rendering and sealing happen outside any transaction (they take a tenth of a
    second); the row is then switched to sealed only if it still is numbered, so
    two workers sealing the same invoice store one file.
    """
    invoice = EInvoice.objects.get(pk=invoice_id)
    if invoice.status == EInvoice.Status.SEALED:
        return invoice
    utility = get_utility()
    with translation.override(invoice.language):
        reason = _("E-invoice %(number)s") % {"number": invoice.number}
    sealed = seal.seal_pdf(
        render_einvoice_pdf(invoice, utility),
        reason=reason,
        location=utility.name,
        name=utility.name,
        invoice_number=invoice.number,
    )
    digest = hashlib.sha256(sealed).hexdigest()
    now = timezone.now()
    stored = default_storage.save(
        f"einvoices/{now:%Y/%m}/{invoice.number}.pdf", ContentFile(sealed)
    )
    with transaction.atomic():
        won = EInvoice.objects.filter(pk=invoice.pk, status=EInvoice.Status.NUMBERED).update(
            status=EInvoice.Status.SEALED,
            sealed_at=now,
            sha256=digest,
            pdf=stored,
            size=len(sealed),
        )
        if won:
            log_action(None, "einvoice.sealed", invoice, {"sha256": digest})
    if not won:
        default_storage.delete(stored)  # another worker sealed it first: keep theirs
    invoice.refresh_from_db()
    return invoice


def seal_einvoices(ids: list[int]) -> int:
    """Seal each numbered e-invoice of ``ids``; returns how many were sealed now.

    One failure (a missing font, a full disk) is logged and leaves that row
    numbered for the next sweep; the others go on.
    """
    done = 0
    for pk in ids:
        try:
            if seal_einvoice(pk).status == EInvoice.Status.SEALED:
                done += 1
        except Exception:
            logger.exception("e-invoice %s could not be sealed; the next sweep tries again", pk)
    return done


def unsealed_ids(limit: int | None = None) -> list[int]:
    qs = EInvoice.objects.filter(status=EInvoice.Status.NUMBERED).order_by("pk")
    qs = qs.values_list("pk", flat=True)
    return list(qs[:limit] if limit else qs)


def einvoice_for_bill(bill: Bill, *, user=None) -> EInvoice:
    """The sealed e-invoice of a paid bill, issuing and sealing it now if need be."""
    why = refusal(bill)
    if why:
        raise EInvoiceError(why)
    invoice = EInvoice.objects.filter(bill=bill).first()
    if invoice is None:
        issue_einvoices([bill.pk], user=user)
        invoice = EInvoice.objects.get(bill=bill)
    if invoice.status != EInvoice.Status.SEALED:
        invoice = seal_einvoice(invoice.pk)
    return invoice


def einvoice_pdf(invoice: EInvoice) -> bytes:
    """The stored bytes of a sealed e-invoice, checked against the hash written when sealed."""
    if invoice.status != EInvoice.Status.SEALED or not invoice.pdf:
        raise EInvoiceError(_("This e-invoice is not sealed yet; try again in a minute."))
    with invoice.pdf.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != invoice.sha256:
        logger.error("stored e-invoice %s does not match its hash", invoice.number)
        raise EInvoiceError(
            _("The stored copy of e-invoice %(number)s is damaged; the utility has been told.")
            % {"number": invoice.number}
        )
    return data


def pdf_filename(invoice: EInvoice) -> str:
    return f"{invoice.number}.pdf"


# E-bills: the delivery choice


@dataclass(frozen=True)
class DeliveryChoice:
    channel: str
    address: str
    chosen: bool  # False: nobody chose yet, paper is the default


def bill_delivery(customer) -> DeliveryChoice:
    found = BillDelivery.objects.filter(customer=customer).first()
    if found is None:
        return DeliveryChoice(BillDelivery.Channel.PAPER, "", False)
    return DeliveryChoice(found.channel, found.address, True)


def _checked_address(channel: str, address: str) -> str:
    import phonenumbers

    address = (address or "").strip()
    if channel == BillDelivery.Channel.PAPER:
        return ""
    if not address:
        raise EInvoiceError(
            _("address: give the e-mail address bills go to.")
            if channel == BillDelivery.Channel.EMAIL
            else _("address: give the mobile number the SMS goes to."),
            "address",
        )
    if channel == BillDelivery.Channel.EMAIL:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise EInvoiceError(
                _("address: %(value)s is not an e-mail address.") % {"value": address}, "address"
            ) from exc
        return address
    try:
        region = get_utility().country or None
        number = phonenumbers.parse(address, region)
    except phonenumbers.NumberParseException as exc:
        raise EInvoiceError(
            _("address: %(value)s is not a phone number.") % {"value": address}, "address"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise EInvoiceError(
            _("address: %(value)s is not a phone number.") % {"value": address}, "address"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def choose_bill_delivery(customer, channel: str, address: str = "", *, user=None) -> BillDelivery:
    """Record how the customer wants its bills; e-mail and SMS need an address that works."""
    if channel not in BillDelivery.Channel.values:
        raise EInvoiceError(
            _("channel: choose paper, e-mail or SMS."),
            "channel",
        )
    address = _checked_address(channel, address)
    with transaction.atomic():
        delivery, _created = BillDelivery.objects.update_or_create(
            customer=customer,
            defaults={"channel": channel, "address": address, "changed_by": user or None},
        )
        log_action(user, "bill_delivery.chosen", customer, {"channel": channel})
    return delivery


# E-bills: the signed link


def bill_link_token(bill: Bill) -> str:
    """A signed, URL-safe token naming one bill of one customer."""
    return signing.dumps({"b": bill.pk, "c": bill.customer_id}, salt=_SALT, compress=True)


def bill_for_token(token: str) -> Bill | None:
    """The issued bill a token names, or None when forged, expired, altered or not issued."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict):
        return None
    return (
        Bill.objects.filter(
            pk=data.get("b"),
            customer_id=data.get("c"),
            status__in=[BillStatus.ISSUED, BillStatus.CREDITED],
        )
        .select_related("customer")
        .first()
    )


def public_bill_url(bill: Bill) -> str:
    """The absolute link for a message (``VOLTDESK_PUBLIC_URL``, else the bare path)."""
    path = reverse("portal:ebill_link", args=[bill_link_token(bill)])
    return getattr(settings, "VOLTDESK_PUBLIC_URL", "").rstrip("/") + path


# E-bills: sending


TEMPLATE = "ebill"
EBILL_KEY = "billing:ebill:"  # + the bill's id: one message per bill, whatever the channel


def _ebill_key(bill_pk):
    """The dedupe key of a bill's e-bill message, as a database expression."""
    return Concat(Value(EBILL_KEY), Cast(bill_pk, CharField()), output_field=CharField())


def _ebill_message(bill: Bill, delivery: BillDelivery, utility: Utility):
    from voltdesk.notifications.services import prepare_message

    language = bill_language(bill, utility)
    with translation.override(language):
        payload = {
            "name": bill.customer.name,
            "number": bill.number,
            "period": formats.date_format(bill.period_start, "YEAR_MONTH_FORMAT"),
            "total": format_money(bill.total, bill.currency),
            "due_date": formats.date_format(bill.due_date, "DATE_FORMAT") if bill.due_date else "",
            "link": public_bill_url(bill),
            "valid_days": LINK_MAX_AGE.days,
        }
    return prepare_message(
        channel=delivery.channel,
        template=TEMPLATE,
        payload=payload,
        dedupe_key=f"{EBILL_KEY}{bill.pk}",
        customer=bill.customer,
        address=delivery.address,
        language=language,
    )


def send_ebills(*, since=None, bill_ids: list[int] | None = None) -> int:
    """Queue an e-mail or SMS with a signed link for each new bill of an e-bill customer.

    ``since`` (default: three days ago) bounds the bills looked at by their issue
    time, so the sweep reads the latest run only; a bill already told about is
    skipped by the outbox's dedupe key. Returns how many messages were queued.
    """
    from voltdesk.notifications.models import Message
    from voltdesk.notifications.services import NotificationError, queue_messages

    since = since or timezone.now() - timedelta(days=3)
    bills = Bill.objects.filter(
        kind__in=[BillKind.BILL, BillKind.LATE_FEE],
        status=BillStatus.ISSUED,
        issued_at__gte=since,
        customer__bill_delivery__channel__in=[
            BillDelivery.Channel.EMAIL,
            BillDelivery.Channel.SMS,
        ],
    ).exclude(
        Exists(
            Message.objects.filter(
                dedupe_key=_ebill_key(OuterRef("pk")),
            )
        )
    )
    if bill_ids is not None:
        bills = bills.filter(pk__in=bill_ids)
    utility = get_utility()
    queued = 0
    batch = []
    for bill in (
        bills.select_related("customer", "customer__bill_delivery")
        .order_by("pk")
        .iterator(chunk_size=CHUNK)
    ):
        try:
            batch.append(_ebill_message(bill, bill.customer.bill_delivery, utility))
        except NotificationError as exc:
            # The address was good when chosen; a bad one now is logged, the others go on.
            logger.warning("e-bill for %s not queued: %s", bill.number, exc)
        if len(batch) >= CHUNK:
            queued += queue_messages(batch)
            batch = []
    if batch:
        queued += queue_messages(batch)
    return queued


# The demo


def seed_demo_einvoices(customer) -> dict:
    """The demo household: a seal certificate, e-bills by e-mail, e-invoices of its paid bills.

    Called by ``demo.services.seed_demo`` after the year of bills and payments:
    makes the utility's seal unless one exists, switches ``customer`` to e-bills
    (its e-mail, else a made-up example.com address), seals the e-invoices of
    its paid bills and puts the e-bill message of its latest bill in the outbox.
    """
    utility = get_utility()
    if not seal.seal_exists():
        seal.make_seal_certificate(utility.name, country=utility.country)
    address = customer.email or f"{customer.ref.lower()}@example.com"
    choose_bill_delivery(customer, BillDelivery.Channel.EMAIL, address)
    paid = list(
        paid_bills_without_einvoice().filter(customer=customer).values_list("pk", flat=True)
    )
    sealed = seal_einvoices(issue_einvoices(paid))
    latest = (
        Bill.objects.filter(customer=customer, kind=BillKind.BILL, status=BillStatus.ISSUED)
        .order_by("-period_start")
        .values_list("pk", flat=True)
        .first()
    )
    sent = (
        send_ebills(since=timezone.now() - timedelta(days=3650), bill_ids=[latest]) if latest else 0
    )
    return {"einvoices": sealed, "ebills": sent}
