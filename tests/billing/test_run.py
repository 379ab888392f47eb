"""The billing run end to end: readings in, bills and lines out; re-runs, issue, credit notes."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from voltdesk.billing.models import Bill, BillingRun
from voltdesk.billing.runs import BillingError, billing_run, credit_bill, issue_bills
from voltdesk.core.models import AuditEntry

from .conftest import add_daily, add_hourly, add_reading, local

IL = "Asia/Jerusalem"
CN = "Asia/Shanghai"
NOV = date(2026, 11, 1)


def lines_of(bill):
    return [
        (line.kind, line.period, line.tier, line.quantity, line.unit_price, line.amount)
        for line in bill.lines.all()
    ]


@pytest.fixture
def flat(utility, make_version):
    # 0.50 a kWh, 30.00 a month; the utility's VAT (18 %).
    return make_version(price="0.50", fixed="30.00")


def test_flat_month_from_daily_readings(flat, make_contract):
    contract = make_contract(flat.tariff)
    add_daily(contract.site, IL, NOV, 30, "10.5")  # 315 kWh
    run = billing_run(NOV)
    bill = Bill.objects.get(contract=contract)
    assert run.status == BillingRun.Status.DONE
    assert (bill.period_start, bill.period_end) == (NOV, date(2026, 12, 1))
    assert lines_of(bill) == [
        ("energy", "all", None, Decimal("315"), Decimal("0.5"), Decimal("157.50")),
        ("fixed", "all", None, Decimal("1"), Decimal("30"), Decimal("30.00")),
    ]
    # 187.50 net, VAT 18 % = 33.75, total 221.25.
    assert (bill.net_amount, bill.vat_amount, bill.total) == (
        Decimal("187.50"),
        Decimal("33.75"),
        Decimal("221.25"),
    )
    assert bill.energy_kwh == Decimal("315")
    assert bill.status == "draft" and bill.number is None


def test_register_read_over_month_edge_counts_by_time(utility_cn, make_version, make_contract):
    version = make_version(price="0.65")
    contract = make_contract(version.tariff)
    # 15 October to 15 November (Shanghai, no daylight saving): 31 days, 310 kWh.
    add_reading(contract.site, local(CN, 2026, 10, 15), local(CN, 2026, 11, 15), "310")
    billing_run(NOV)
    bill = Bill.objects.get(contract=contract)
    # 14 of its 31 days fall in November: 140 kWh x 0.65 = 91.00; VAT 13 % = 11.83.
    assert lines_of(bill) == [
        ("energy", "all", None, Decimal("140"), Decimal("0.65"), Decimal("91.00"))
    ]
    assert (bill.vat_amount, bill.total) == (Decimal("11.83"), Decimal("102.83"))


def test_site_changing_hands_bills_each_holder_for_its_part(flat, make_contract):
    old = make_contract(flat.tariff, end=local(IL, 2026, 11, 11))
    new = make_contract(flat.tariff, start=local(IL, 2026, 11, 11), site=old.site)
    add_daily(old.site, IL, NOV, 30, "10")
    billing_run(NOV)
    first, second = Bill.objects.get(contract=old), Bill.objects.get(contract=new)
    assert (first.period_start, first.period_end) == (NOV, date(2026, 11, 11))
    assert (second.period_start, second.period_end) == (date(2026, 11, 11), date(2026, 12, 1))
    # 10 days: 100 kWh = 50.00, fixed 0.333333 month x 30.00 = 10.00.
    assert lines_of(first) == [
        ("energy", "all", None, Decimal("100"), Decimal("0.5"), Decimal("50.00")),
        ("fixed", "all", None, Decimal("0.333333"), Decimal("30"), Decimal("10.00")),
    ]
    # 20 days: 200 kWh = 100.00, fixed 0.666667 month x 30.00 = 20.00.
    assert lines_of(second) == [
        ("energy", "all", None, Decimal("200"), Decimal("0.5"), Decimal("100.00")),
        ("fixed", "all", None, Decimal("0.666667"), Decimal("30"), Decimal("20.00")),
    ]
    assert first.customer_id != second.customer_id


def test_contract_ending_mid_month_prorates_capacity(utility, make_version, make_contract):
    version = make_version(price="0.40", capacity="14.80")
    contract = make_contract(version.tariff, kva="250", end=local(IL, 2026, 11, 21))
    add_daily(contract.site, IL, NOV, 30, "100")  # only 20 days are the contract's
    billing_run(NOV)
    bill = Bill.objects.get(contract=contract)
    # 2,000 kWh x 0.40 = 800.00; 250 kVA x 20/30 = 166.666667 kVA·month x 14.80 = 2,466.67.
    assert lines_of(bill) == [
        ("energy", "all", None, Decimal("2000"), Decimal("0.4"), Decimal("800.00")),
        ("capacity", "all", None, Decimal("166.666667"), Decimal("14.8"), Decimal("2466.67")),
    ]
    assert bill.period_end == date(2026, 11, 21)
    # 3,266.67 net; VAT 18 % = 588.0006 -> 588.00.
    assert (bill.net_amount, bill.vat_amount, bill.total) == (
        Decimal("3266.67"),
        Decimal("588.00"),
        Decimal("3854.67"),
    )


def test_time_of_use_on_a_workday_a_weekend_and_a_holiday(utility, make_version, make_contract):
    version = make_version(
        "tou",
        seasons=[
            (
                "summer",
                [6, 7, 8, 9],
                [("workday", 17, 23, "peak"), ("weekend", 17, 23, "shoulder")],
            ),
            ("rest", [1, 2, 3, 4, 5, 10, 11, 12], [("workday", 17, 22, "peak")]),
        ],
        prices={
            ("summer", "peak"): "1.00",
            ("summer", "shoulder"): "0.70",
            ("summer", "off_peak"): "0.40",
            ("rest", "peak"): "0.90",
            ("rest", "off_peak"): "0.35",
        },
    )
    contract = make_contract(version.tariff)
    add_hourly(contract.site, IL, date(2026, 9, 14), "1")  # Monday: 6 peak, 18 off-peak
    add_hourly(contract.site, IL, date(2026, 9, 18), "1")  # Friday: 6 shoulder, 18 off-peak
    add_hourly(contract.site, IL, date(2026, 9, 21), "1")  # Yom Kippur: 24 off-peak
    billing_run(date(2026, 9, 1))
    bill = Bill.objects.get(contract=contract)
    assert [(ln.season, ln.period, ln.quantity, ln.amount) for ln in bill.lines.all()] == [
        ("summer", "peak", Decimal("6"), Decimal("6.00")),
        ("summer", "shoulder", Decimal("6"), Decimal("4.20")),
        ("summer", "off_peak", Decimal("60"), Decimal("24.00")),
    ]
    # 34.20 net; VAT 18 % = 6.156 -> 6.16.
    assert (bill.net_amount, bill.vat_amount, bill.total) == (
        Decimal("34.20"),
        Decimal("6.16"),
        Decimal("40.36"),
    )


def test_annual_tiers_fill_on_top_of_the_year_so_far(utility_cn, make_version, make_contract):
    version = make_version(
        "tiered",
        tier_basis="annual",
        tiers=[("2160", "0.4883"), ("4200", "0.5383"), (None, "0.7883")],
        vat="0",
    )
    contract = make_contract(version.tariff)
    add_reading(contract.site, local(CN, 2026, 1, 1), local(CN, 2026, 2, 1), "1500")
    add_reading(contract.site, local(CN, 2026, 2, 1), local(CN, 2026, 3, 1), "1000")
    billing_run(date(2026, 1, 1))
    billing_run(date(2026, 2, 1))
    jan = Bill.objects.get(contract=contract, period_start=date(2026, 1, 1))
    feb = Bill.objects.get(contract=contract, period_start=date(2026, 2, 1))
    # January: 1,500 kWh in tier 1: 732.45.
    assert [(ln.tier, ln.quantity, ln.amount) for ln in jan.lines.all()] == [
        (1, Decimal("1500"), Decimal("732.45"))
    ]
    # February on top of 1,500: 660 x 0.4883 = 322.278 -> 322.28; 340 x 0.5383 = 183.02.
    assert [(ln.tier, ln.quantity, ln.amount) for ln in feb.lines.all()] == [
        (1, Decimal("660"), Decimal("322.28")),
        (2, Decimal("340"), Decimal("183.02")),
    ]
    assert (feb.vat_amount, feb.total) == (Decimal("0.00"), Decimal("505.30"))


def test_rerun_replaces_drafts_and_keeps_issued_bills(flat, make_contract):
    a = make_contract(flat.tariff)
    b = make_contract(flat.tariff)
    add_daily(a.site, IL, NOV, 30, "1")
    first = billing_run(NOV)
    assert first.figures["billed"] == 2
    add_daily(b.site, IL, NOV, 30, "2")  # late readings: the re-run picks them up
    second = billing_run(NOV)
    assert second.figures["drafts_replaced"] == 2 and second.figures["billed"] == 2
    assert Bill.objects.filter(kind="bill").count() == 2
    assert Bill.objects.get(contract=b).energy_kwh == Decimal("60")

    assert issue_bills(NOV) == 2
    issued = list(Bill.objects.order_by("pk"))
    assert [x.number for x in issued] == ["B2026-11-000001", "B2026-11-000002"]
    assert all(x.status == "issued" and x.issued_at for x in issued)
    # Israel's profile: 19 days to pay.
    assert (issued[0].due_date - issued[0].issued_at.date()).days in (19, 18, 20)
    third = billing_run(NOV)
    assert (third.figures["kept"], third.figures["billed"]) == (2, 0)
    assert Bill.objects.count() == 2
    assert AuditEntry.objects.filter(action="bill.issued").count() == 2


def test_credit_note_cancels_an_issued_bill_and_the_next_run_bills_again(
    flat, make_contract, make_user
):
    contract = make_contract(flat.tariff)
    add_daily(contract.site, IL, NOV, 30, "10")
    billing_run(NOV)
    issue_bills(NOV)
    bill = Bill.objects.get(contract=contract)
    clerk = make_user("supervisor")
    note = credit_bill(bill, reason="meter misread", user=clerk)
    bill.refresh_from_db()
    assert bill.status == "credited"
    assert note.kind == "credit_note" and note.corrects == bill and note.number.startswith("CN")
    assert note.total == -bill.total == Decimal("-212.40")
    assert [ln.amount for ln in note.lines.all()] == [Decimal("-150.00"), Decimal("-30.00")]
    assert sum(ln.amount for ln in note.lines.all()) == note.net_amount
    with pytest.raises(BillingError):
        credit_bill(bill, reason="again")
    run = billing_run(NOV)
    assert run.figures["billed"] == 1
    new = Bill.objects.get(contract=contract, status="draft")
    assert new.total == Decimal("212.40")
    assert issue_bills(NOV) == 1
    new.refresh_from_db()
    assert new.number == "B2026-11-000002"
    assert AuditEntry.objects.filter(action="bill.credited", object_id=str(bill.pk)).exists()


def test_credit_note_needs_a_reason_and_an_issued_bill(flat, make_contract):
    contract = make_contract(flat.tariff)
    billing_run(NOV)
    draft = Bill.objects.get(contract=contract)
    with pytest.raises(BillingError):
        credit_bill(draft, reason="")
    with pytest.raises(BillingError):
        credit_bill(draft, reason="not issued yet")
    draft.refresh_from_db()
    assert draft.status == "draft" and Bill.objects.count() == 1


def test_contracts_without_tariff_or_priced_version_are_skipped(flat, make_contract):
    make_contract(flat.tariff)
    make_contract(None)
    from voltdesk.billing.models import Tariff

    make_contract(Tariff.objects.create(name="Unpriced", kind="flat"))
    run = billing_run(NOV)
    assert (run.figures["billed"], run.figures["skipped"]) == (1, 2)
    assert run.figures["skipped_without_tariff"] == 1


def test_command_prints_figures(flat, make_contract):
    contract = make_contract(flat.tariff)
    add_daily(contract.site, IL, NOV, 30, "1")
    out = StringIO()
    call_command("billing_run", "--period", "2026-11", stdout=out)
    assert "1 contracts billed, 0 skipped" in out.getvalue()
    out = StringIO()
    call_command("billing_run", "--period", "2026-11", "--issue", stdout=out)
    text = out.getvalue()
    assert "1 drafts replaced, 0 issued bills kept" in text and "1 bills issued" in text
    assert Bill.objects.get().number == "B2026-11-000001"


@pytest.mark.parametrize("period", ["2026-13", "11-2026", "2026-1", "soon"])
def test_command_refuses_a_bad_period(flat, period):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("billing_run", "--period", period)
    assert not BillingRun.objects.exists()
