"""The demo: deterministic, every role can log in, the club has interesting cases."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from voltdesk.core.services import get_utility
from voltdesk.customers.models import Contract, Customer, CustomerUser, Site
from voltdesk.demo.services import CUSTOMER_USERS, DEMO_PASSWORD, STAFF_USERS, seed_demo
from voltdesk.metering.models import MonthlyRollup, Reading

AS_OF = date(2026, 7, 15)  # history: 2024-07 .. 2026-06


def fingerprint():
    return (
        list(Customer.objects.order_by("ref").values_list("ref", "name", "phone", "id_number")),
        list(Site.objects.order_by("ref").values_list("ref", "feeder__name", "voltage_level")),
        Reading.objects.aggregate(total=Sum("kwh"))["total"],
        Reading.objects.count(),
    )


@pytest.fixture
def demo(db):
    return seed_demo("il", 120, 7, as_of=AS_OF)


def last_year_kwh(customer):
    return MonthlyRollup.objects.filter(
        site__customer=customer, month__gte=date(2025, 7, 1), month__lt=date(2026, 7, 1)
    ).aggregate(total=Sum("kwh"))["total"]


def test_seed_is_deterministic(django_db_reset_sequences):
    seed_demo("cn", 60, 3, as_of=AS_OF)
    first = fingerprint()
    from django.core.management import call_command as cc

    cc("flush", interactive=False, verbosity=0)
    seed_demo("cn", 60, 3, as_of=AS_OF)
    assert fingerprint() == first


def test_planted_customers_sit_on_both_sides_of_both_thresholds(demo):
    by_name = {c.name: c for c in Customer.objects.filter(kind="business")}
    assert last_year_kwh(by_name["קירור צפון בע״מ"]) == Decimal("1010000")
    assert last_year_kwh(by_name["מאפיית הגליל בע״מ"]) == Decimal("990000")
    assert last_year_kwh(by_name["מלונות הים בע״מ"]) == Decimal("5050000")
    assert last_year_kwh(by_name["מרכזי קניות בע״מ"]) == Decimal("4950000")
    assert by_name["רשת שופרסל הדגמה"].sites.count() == 12


def test_interval_data_replaces_monthly_reads_without_double_counting(demo):
    factory = Customer.objects.get(name="מפעלי הדרום בע״מ")
    site = factory.sites.get()
    quarter_hours = Reading.objects.filter(site=site, start__gte="2026-04-30T21:00Z")
    assert quarter_hours.count() > 5000  # May and June in 15-minute steps
    assert last_year_kwh(factory) == Decimal("2400000")


def test_the_household_that_moved_in_keeps_the_site_history(demo):
    home = CustomerUser.objects.get(user__username="home").customer
    site = home.sites.get()
    contracts = sorted(Contract.objects.filter(site=site), key=lambda c: c.end is None)
    assert len(contracts) == 2
    assert contracts[0].customer != home and contracts[0].end == contracts[1].start
    assert contracts[1].customer == home and contracts[1].end is None


def test_every_demo_login_works(demo, client):
    for username, _role in STAFF_USERS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert client.get("/").url.startswith("/desk/"), username
        client.logout()
    for username, _key, _company_role in CUSTOMER_USERS:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert client.get("/").url.startswith("/portal/"), username
        client.logout()


def test_seeding_twice_is_refused(demo):
    with pytest.raises(Exception, match="already holds customers"):
        call_command("seed_demo", profile="il", customers=30, seed=1)


def test_demo_logins_prints_every_role(demo, capsys):
    call_command("demo_logins")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    for username, _role in STAFF_USERS:
        assert username in out
    for username, _key, _company_role in CUSTOMER_USERS:
        assert username in out


def test_the_demo_club_has_members_of_both_kinds_and_none_just_below(demo):
    from voltdesk.keyaccounts.models import Meeting, Membership, PortfolioAssignment

    members = set(
        Membership.objects.filter(status="member").values_list("customer__name", flat=True)
    )
    assert {"מפעלי הדרום בע״מ", "קירור צפון בע״מ"} <= members  # single site
    assert {"רשת שופרסל הדגמה", "מלונות הים בע״מ"} <= members  # several sites together
    assert not {"מאפיית הגליל בע״מ", "מרכזי קניות בע״מ", "מחלבות העמק בע״מ"} & members
    # Every member has a manager and a meeting this year.
    open_assignments = PortfolioAssignment.objects.filter(end__isnull=True)
    assert open_assignments.count() == len(members)
    assert Meeting.objects.filter(year=AS_OF.year).count() >= len(members)


@pytest.mark.parametrize("profile", ["il", "cn"])
def test_the_demo_month_has_one_planted_joiner_and_one_planted_leaver(db, profile):
    """The supervisor's page shows this month's changes: the seed makes sure there are some."""
    from voltdesk.demo import names
    from voltdesk.keyaccounts.models import MembershipDecision

    seed_demo(profile, 40, 7, as_of=AS_OF)
    this_month = {
        (d.membership.customer.name, d.kind)
        for d in MembershipDecision.objects.filter(run__as_of=date(2026, 7, 1)).select_related(
            "membership__customer"
        )
    }
    planted = names.PLANTED_NAMES[profile]
    assert (planted["newcomer"], "joined") in this_month
    assert (planted["leaver"], "left") in this_month


def test_the_demo_has_a_year_of_work_orders_with_the_summer_peak(demo):
    from collections import Counter

    from voltdesk.workorders.models import Crew, Incident, WorkOrder

    history = WorkOrder.objects.filter(external_ref="demo")
    assert history.count() >= 1500
    by_month = Counter(o.created_at.month for o in history.only("created_at"))
    summer = sum(by_month[m] for m in (6, 7, 8, 9)) / 4
    rest = sum(by_month[m] for m in (1, 2, 3, 4, 5, 10, 11, 12)) / 8
    assert summer > 1.3 * rest
    assert set(history.values_list("order_type", flat=True)) == {
        "fault",
        "consultation",
        "business",
        "complaint",
        "suggestion",
    }
    assert history.values("channel").distinct().count() >= 5
    # Today's desk: open orders routed and timed, an outage with its reports, crews.
    open_orders = WorkOrder.objects.exclude(external_ref="demo")
    assert open_orders.filter(queue__isnull=False).count() == open_orders.count() >= 8
    assert Incident.objects.filter(status="open", work_orders__isnull=False).exists()
    assert Crew.objects.exists()


def test_the_demo_has_a_year_of_bills_paid_as_customers_pay_with_debts_left(demo):
    from voltdesk.billing.models import Bill, Payment
    from voltdesk.billing.payments import customer_balance

    bills = Bill.objects.filter(kind="bill", status="issued")
    months = set(bills.values_list("period_start", flat=True))
    assert months == {date(2025 + (6 + k) // 12, (6 + k) % 12 + 1, 1) for k in range(12)}
    # Each month went out on the 3rd of the next, due after the payment terms.
    june = bills.filter(period_start=date(2026, 6, 1)).first()
    assert june.issued_at.astimezone(ZoneInfo("Asia/Jerusalem")).date() == date(2026, 7, 3)
    terms = get_utility().payment_terms_days
    assert june.due_date == date(2026, 7, 3) + timedelta(days=terms)
    chain = CustomerUser.objects.get(user__username="biz-admin").customer
    chain_bills = bills.filter(customer=chain)
    may = chain_bills.filter(period_start=date(2026, 5, 1))
    june_chain = chain_bills.filter(period_start=date(2026, 6, 1))
    # The chain paid July to April month by month, and owes May (overdue) and June.
    assert Payment.objects.filter(customer=chain).count() == 10
    assert all(b.paid == 0 for b in may) and all(b.paid == 0 for b in june_chain)
    balance = customer_balance(chain, as_of=AS_OF)
    may_total = may.aggregate(t=Sum("total"))["t"]
    june_total = june_chain.aggregate(t=Sum("total"))["t"]
    fees = Bill.objects.filter(customer=chain, kind="late_fee").aggregate(t=Sum("total"))["t"]
    assert balance.overdue >= may_total > 0
    assert balance.open_debt == may_total + june_total + fees
    # Everyone else paid all but the latest month or two: every paid bill is fully paid,
    # but the prepaid household's overrun month, which its package paid only in part.
    home = CustomerUser.objects.get(user__username="home").customer
    partly = bills.filter(paid__gt=0).exclude(paid=F("total"))
    assert set(partly.values_list("customer_id", flat=True)) <= {home.pk}


def test_the_demo_review_loop_corrected_an_article(demo):
    from voltdesk.knowledge.models import AnswerReview, Article, CorrectionTask

    article = Article.objects.get(key="il-bill-late-payment-interest")
    first, second = article.versions.order_by("number")
    assert (first.status, second.status) == ("superseded", "published")
    assert article.published_version == second
    task = CorrectionTask.objects.get(pk=second.correction_task_id)
    assert task.status == "done" and task.resolved_version == second
    assert task.review.verdict == "wrong" and task.review.work_order.status == "closed"
    english = second.texts.get(language="en").answer
    assert english.endswith("a bill paid within them costs no more.")
    assert AnswerReview.objects.filter(verdict="wrong").count() == 1
