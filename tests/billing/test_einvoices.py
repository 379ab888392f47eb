"""Sealed e-invoices of paid bills: issued once, the same bytes every time, checked by the command.

The bill of every test, computed by hand (il: VAT 18 %):

    energy            200 kWh x 0.5000   = 100.00
    fixed charge      1 month x 20.00    =  20.00
    before VAT                             120.00
    VAT 18 %          120.00 x 0.18      =  21.60
    total                                  141.60

It is paid in full by one bank transfer of 141.60 on 5 November 2026, 10:00 Jerusalem time.
"""

import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from voltdesk.billing import einvoices, seal
from voltdesk.billing.einvoice_tasks import issue_einvoices as issue_einvoices_task
from voltdesk.billing.models import Bill, BillLine, EInvoice
from voltdesk.billing.payments import record_payment
from voltdesk.billing.pdf import render_bill_pdf
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.core.services import get_utility

D = Decimal
JERUSALEM = ZoneInfo("Asia/Jerusalem")
PAID_AT = dt.datetime(2026, 11, 5, 10, 0, tzinfo=JERUSALEM)
HEBREW_NAME = "משפחת כהן"
CHINESE_NAME = "王小明家"


def _has_cjk_font() -> bool:
    # WeasyPrint needs Debian's fonts-noto-cjk for Chinese; without it, glyphs are boxes.
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":family=Noto Sans CJK SC"], capture_output=True, text=True)
    return bool(found.stdout.strip())


@pytest.fixture(scope="session")
def seal_dirs(tmp_path_factory):
    """Our seal, and a stranger's, made once: RSA keys take a moment."""
    base = tmp_path_factory.mktemp("seal")
    ours = seal.SealPaths(base / "ours-key.pem", base / "ours-cert.pem", base / "ours-ca.pem")
    theirs = seal.SealPaths(base / "other-key.pem", base / "other-cert.pem", base / "other-ca.pem")
    seal.make_seal_certificate("Israel Electric (demo)", country="IL", paths=ours)
    seal.make_seal_certificate("Some Other Utility", country="IL", paths=theirs)
    return ours, theirs


@pytest.fixture(autouse=True)
def sealed_setup(settings, tmp_path, monkeypatch, seal_dirs):
    ours, _theirs = seal_dirs
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv(seal.KEY_ENV, str(ours.key))
    monkeypatch.setenv(seal.CERT_ENV, str(ours.cert))
    monkeypatch.setenv(seal.CHAIN_ENV, str(ours.chain))


def make_bill(customer, number, *, paid=True, status="issued", month=10):
    start = dt.date(2026, month, 1)
    end = dt.date(2026, month + 1, 1)
    contract = customer.contracts.first()
    bill = Bill.objects.create(
        number=number,
        kind="bill",
        status=status,
        customer=customer,
        contract=contract,
        site=contract.site,
        period_start=start,
        period_end=end,
        currency="ILS",
        energy_kwh=D("200"),
        net_amount=D("120.00"),
        vat_amount=D("21.60"),
        total=D("141.60"),
        issued_at=dt.datetime(2026, month + 1, 3, 9, 0, tzinfo=JERUSALEM),
        due_date=dt.date(2026, month + 1, 18),
    )
    BillLine.objects.bulk_create(
        [
            BillLine(
                bill=bill, position=1, kind="energy", covers_from=start, covers_to=end,
                quantity=D("200"), unit="kWh", unit_price=D("0.5"), amount=D("100.00"),
            ),
            BillLine(
                bill=bill, position=2, kind="fixed", covers_from=start, covers_to=end,
                quantity=D("1"), unit="month", unit_price=D("20.00"), amount=D("20.00"),
            ),
        ]
    )  # fmt: skip
    if paid:
        record_payment(customer, "141.60", "bank", PAID_AT, "TR-1", user=None, first=[bill.pk])
        bill.refresh_from_db()
    return bill


@pytest.fixture
def home(utility, make_customer, make_user):
    customer = make_customer(name="Dana Levi", kind="residential", language="en")
    user = make_user(roles.CUSTOMER, customer=customer, company_role="holder")
    return customer, user


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _verify(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_invoice", str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def _this_year_prefix() -> str:
    return f"E{timezone.localdate(timezone=JERUSALEM):%Y}-"


# Issuing and the command


def test_a_paid_bills_einvoice_is_sealed_and_the_command_says_valid(home, tmp_path):
    customer, _user = home
    bill = make_bill(customer, "B2026-10-000001")

    invoice = einvoices.einvoice_for_bill(bill)

    assert invoice.status == EInvoice.Status.SEALED
    assert invoice.number == _this_year_prefix() + "000001"
    assert invoice.paid_at == PAID_AT  # the day the bank transfer came in
    path = tmp_path / "invoice.pdf"
    path.write_bytes(einvoices.einvoice_pdf(invoice))
    code, out, err = _verify(path)
    assert code == 0, err
    assert "Intact: yes" in out and "Valid: yes" in out and "Trusted: yes" in out
    assert f"Invoice number: {invoice.number}" in out
    assert "Sealed by: Israel Electric (demo) electronic seal" in out
    assert "intact, valid and trusted" in out
    assert AuditEntry.objects.filter(action="einvoice.issued", object_id=str(invoice.pk)).exists()


def test_one_changed_byte_breaks_the_seal(home, tmp_path):
    customer, _user = home
    data = bytearray(einvoices.einvoice_pdf(einvoices.einvoice_for_bill(make_bill(customer, "B1"))))
    data[len(data) // 3] ^= 0x01  # one bit of one byte in the page content
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(data))

    code, out, err = _verify(path)

    assert code == 1
    assert "Intact: no" in out
    assert "changed after it was sealed" in err


def test_anything_appended_after_the_seal_counts_as_a_change(home, tmp_path):
    customer, _user = home
    data = einvoices.einvoice_pdf(einvoices.einvoice_for_bill(make_bill(customer, "B1")))
    path = tmp_path / "appended.pdf"
    path.write_bytes(data + b"\n% a harmless-looking comment\n")

    code, _out, err = _verify(path)

    assert code == 1 and "changed after it was sealed" in err


def test_an_unsigned_pdf_fails(home, tmp_path):
    customer, _user = home
    path = tmp_path / "copy.pdf"
    path.write_bytes(render_bill_pdf(make_bill(customer, "B1"), get_utility()))

    code, _out, err = _verify(path)

    assert code == 1
    assert "carries no electronic seal" in err


def test_a_pdf_sealed_by_another_certificate_fails(home, tmp_path, seal_dirs, monkeypatch):
    customer, _user = home
    bill = make_bill(customer, "B1")
    _ours, theirs = seal_dirs
    # The forger seals a look-alike with their own certificate...
    monkeypatch.setenv(seal.KEY_ENV, str(theirs.key))
    monkeypatch.setenv(seal.CERT_ENV, str(theirs.cert))
    monkeypatch.setenv(seal.CHAIN_ENV, str(theirs.chain))
    forged = seal.seal_pdf(render_bill_pdf(bill, get_utility()), invoice_number="E2026-999999")
    # ...and we check it against ours.
    monkeypatch.setenv(seal.KEY_ENV, str(_ours.key))
    monkeypatch.setenv(seal.CERT_ENV, str(_ours.cert))
    monkeypatch.setenv(seal.CHAIN_ENV, str(_ours.chain))
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)

    code, out, err = _verify(path)

    assert code == 1
    assert "Intact: yes" in out and "Trusted: no" in out
    assert "not with the utility's certificate" in err
    assert "Some Other Utility electronic seal" in err


def test_a_file_that_is_not_a_pdf_fails_with_its_own_code(tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_text("not a pdf at all")

    code, _out, err = _verify(path)

    assert code == 2 and "not a PDF" in err


def test_a_missing_file_is_named(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="missing.pdf cannot be read"):
        call_command("verify_invoice", str(tmp_path / "missing.pdf"))


def test_unpaid_bill_gets_no_einvoice_and_a_clear_message(home):
    customer, user = home
    bill = make_bill(customer, "B2026-10-000001", paid=False)

    with pytest.raises(einvoices.EInvoiceError, match="paid in full; ₪141.60 is still open"):
        einvoices.einvoice_for_bill(bill)
    page = _client(user).get(reverse("portal:einvoice_pdf", args=[bill.number]))

    assert page.status_code == 409
    assert "₪141.60 is still open" in page.content.decode()
    assert not EInvoice.objects.exists()
    # The bill's page offers no e-invoice button either.
    assert (
        'id="einvoice"'
        not in _client(user).get(reverse("portal:bill", args=[bill.number])).content.decode()
    )


def test_the_same_invoice_is_downloaded_every_time(home):
    customer, user = home
    bill = make_bill(customer, "B2026-10-000001")
    client = _client(user)

    page = client.get(reverse("portal:bill", args=[bill.number])).content.decode()
    first = client.get(reverse("portal:einvoice_pdf", args=[bill.number]))
    second = client.get(reverse("portal:einvoice_pdf", args=[bill.number]))

    assert reverse("portal:einvoice_pdf", args=[bill.number]) in page  # the button
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    number = EInvoice.objects.get().number
    assert f'filename="{number}.pdf"' in first["Content-Disposition"]
    assert first.content == second.content
    assert EInvoice.objects.count() == 1


def test_a_stored_copy_that_changed_on_disk_is_refused(home):
    customer, _user = home
    invoice = einvoices.einvoice_for_bill(make_bill(customer, "B1"))
    Path(invoice.pdf.path).write_bytes(b"%PDF-1.7 swapped")

    with pytest.raises(einvoices.EInvoiceError, match="is damaged"):
        einvoices.einvoice_pdf(invoice)


def test_batch_numbers_paid_bills_consecutively_and_runs_twice_harmlessly(utility, make_customer):
    customers = [make_customer(name=f"Home {i}", kind="residential") for i in range(4)]
    paid = [make_bill(c, f"B2026-10-00000{i}") for i, c in enumerate(customers[:3], start=1)]
    unpaid = make_bill(customers[3], "B2026-10-000004", paid=False)
    draft = make_bill(customers[0], "B2026-11-DRAFT", status="draft", paid=False, month=11)

    figures = issue_einvoices_task()
    again = issue_einvoices_task()

    assert figures == {"numbered": 3, "to_seal": 3}
    assert again == {"numbered": 0, "to_seal": 0}
    invoices = list(EInvoice.objects.order_by("number"))
    prefix = _this_year_prefix()
    assert [i.number for i in invoices] == [prefix + f"00000{n}" for n in (1, 2, 3)]
    assert [i.bill_id for i in invoices] == [b.pk for b in paid]  # bill order
    assert all(i.status == EInvoice.Status.SEALED and len(i.sha256) == 64 for i in invoices)
    assert not EInvoice.objects.filter(bill__in=[unpaid, draft]).exists()


def test_a_row_left_numbered_by_a_crashed_worker_is_sealed_by_the_next_sweep(home):
    customer, _user = home
    bill = make_bill(customer, "B1")
    [pk] = einvoices.issue_einvoices()  # numbered; the worker died before sealing

    issue_einvoices_task()

    assert EInvoice.objects.get(pk=pk, bill=bill).status == EInvoice.Status.SEALED


def test_hebrew_einvoice_reads_back_right_to_left_with_the_legal_fields(home):
    customer, _user = home
    customer.language, customer.name = "he", HEBREW_NAME
    customer.save()
    bill = make_bill(customer, "B2026-10-000001")
    invoice = einvoices.einvoice_for_bill(bill)

    html = einvoices.einvoice_pdf_html(invoice, get_utility())
    text = _text(einvoices.einvoice_pdf(invoice))

    assert '<html lang="he" dir="rtl">' in html
    assert HEBREW_NAME in text
    assert "מספר לקוח" in text  # "customer number"
    assert "סה״כ" in text  # "total"
    assert invoice.number in text and "B2026-10-000001" in text
    for figure in ("100.00", "20.00", "120.00", "21.60", "141.60"):
        assert figure in text
    assert "בנובמבר" in text  # paid on 5 November, written in Hebrew


@pytest.mark.skipif(not _has_cjk_font(), reason="Debian's fonts-noto-cjk is not installed")
def test_chinese_einvoice_reads_back_in_chinese(home):
    customer, _user = home
    customer.language, customer.name = "zh-hans", CHINESE_NAME
    customer.save()
    invoice = einvoices.einvoice_for_bill(make_bill(customer, "B2026-10-000001"))

    text = _text(einvoices.einvoice_pdf(invoice))

    assert CHINESE_NAME in text
    assert "客户编号" in text  # "customer number"
    assert "合计" in text  # "total"
    assert "¥" not in text and "₪141.60" in text  # the bill's own currency
    assert "2026年11月5日" in text  # paid on


def test_a_business_buyer_tax_id_is_printed_a_households_is_not(utility, make_customer):
    business = make_customer(
        name="Acme Ltd", kind="business", id_kind="il_company", id_number="516179157"
    )
    household = make_customer(
        name="Dana Levi", kind="residential", id_kind="il_id", id_number="039337423"
    )
    for_business = einvoices.einvoice_for_bill(make_bill(business, "B1"))
    for_household = einvoices.einvoice_for_bill(make_bill(household, "B2"))

    assert "516179157" in _text(einvoices.einvoice_pdf(for_business))
    assert "039337423" not in _text(einvoices.einvoice_pdf(for_household))


# Who may download


def test_another_customers_user_gets_404_and_no_invoice_is_issued(home, make_customer, make_user):
    customer, _user = home
    bill = make_bill(customer, "B2026-10-000001")
    stranger = make_user(
        roles.CUSTOMER, customer=make_customer(name="Other", kind="residential"),
        company_role="holder",
    )  # fmt: skip

    page = _client(stranger).get(reverse("portal:einvoice_pdf", args=[bill.number]))

    assert page.status_code == 404
    assert not EInvoice.objects.exists()


def test_energy_manager_and_anonymous_get_no_einvoice(home, make_customer, make_user):
    business = make_customer(name="Acme")
    bill = make_bill(business, "B1")
    energy = make_user(roles.CUSTOMER, customer=business, company_role="energy_manager")
    url = reverse("portal:einvoice_pdf", args=[bill.number])

    assert _client(energy).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to log in
    assert not EInvoice.objects.exists()


def test_agent_downloads_the_customers_einvoice_staff_without_bills_get_404(home, make_user):
    from voltdesk.desk.bills import bill_einvoice_pdf

    customer, user = home
    bill = make_bill(customer, "B2026-10-000001")
    customer_copy = _client(user).get(reverse("portal:einvoice_pdf", args=[bill.number])).content

    request = RequestFactory().get("/")
    request.user = make_user(roles.AGENT)
    response = bill_einvoice_pdf(request, customer.ref, bill.number)

    assert response.status_code == 200 and response.content == customer_copy
    from django.http import Http404

    request.user = make_user(roles.KNOWLEDGE_EDITOR)
    with pytest.raises(Http404):
        bill_einvoice_pdf(request, customer.ref, bill.number)


# The certificate and the portal's check


def test_make_seal_certificate_refuses_to_overwrite_without_force(utility, tmp_path, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv(seal.KEY_ENV, str(tmp_path / "k.pem"))
    monkeypatch.setenv(seal.CERT_ENV, str(tmp_path / "c.pem"))
    monkeypatch.delenv(seal.CHAIN_ENV)
    out = io.StringIO()
    call_command("make_seal_certificate", stdout=out)
    first = (tmp_path / "c.pem").read_bytes()

    with pytest.raises(CommandError, match="--force"):
        call_command("make_seal_certificate")
    assert (tmp_path / "c.pem").read_bytes() == first
    call_command("make_seal_certificate", "--force", stdout=out)

    assert (tmp_path / "c.pem").read_bytes() != first
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert "Seal certificate written" in out.getvalue()


def test_the_portal_checks_an_uploaded_invoice(home):
    from django.core.files.uploadedfile import SimpleUploadedFile

    customer, user = home
    invoice = einvoices.einvoice_for_bill(make_bill(customer, "B1"))
    data = einvoices.einvoice_pdf(invoice)
    client = _client(user)
    url = reverse("portal:einvoice_verify")

    good = client.post(url, {"file": SimpleUploadedFile("i.pdf", data, "application/pdf")})
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    bad = client.post(url, {"file": SimpleUploadedFile("i.pdf", bytes(changed))})
    empty = client.post(url, {})

    assert good.status_code == 200
    assert (
        'data-verdict="valid"' in good.content.decode() and invoice.number in good.content.decode()
    )
    assert 'data-verdict="tampered"' in bad.content.decode()
    assert empty.status_code == 400


def test_demo_seeding_seals_the_households_paid_bills_and_sends_its_ebill(
    home, tmp_path, monkeypatch
):
    from voltdesk.notifications.models import Message

    customer, _user = home
    # No seal yet at these paths: the demo makes one.
    monkeypatch.setenv(seal.KEY_ENV, str(tmp_path / "demo-key.pem"))
    monkeypatch.setenv(seal.CERT_ENV, str(tmp_path / "demo-cert.pem"))
    monkeypatch.setenv(seal.CHAIN_ENV, str(tmp_path / "demo-ca.pem"))
    make_bill(customer, "B2026-09-000001", month=9)
    make_bill(customer, "B2026-10-000001", month=10)
    latest = make_bill(customer, "B2026-11-000001", month=11, paid=False)

    figures = einvoices.seed_demo_einvoices(customer)

    assert figures == {"einvoices": 2, "ebills": 1}
    assert (tmp_path / "demo-cert.pem").exists()
    assert EInvoice.objects.filter(customer=customer, status="sealed").count() == 2
    message = Message.objects.get(customer=customer)
    assert latest.number in message.subject and message.address.endswith("@example.com")
