"""Root causes: abnormal feeders and areas, complaint themes, repeated contacts, the report."""

import csv
import io
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pypdf import PdfReader

from voltdesk.analytics import rootcauses
from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Customer, Site
from voltdesk.knowledge.models.reviews import AnswerReview
from voltdesk.workorders.models import WorkOrder

ZONE = ZoneInfo("Asia/Jerusalem")  # the il utility's
LA311 = "/work/shared/data/tickets/la311_service_requests_2017-12-27_to_2017-12-31.csv"


def _at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=ZONE)


def _orders(rows):
    """rows: (created_at, fields) -> saved orders, in one INSERT."""
    return WorkOrder.objects.bulk_create(
        [WorkOrder(created_at=at, **fields) for at, fields in rows]
    )


def _faults(feeder, year, month, count, subtype="power_out"):
    return [
        (
            _at(year, month, 1 + i % 28, 8 + i % 12),
            {"order_type": "fault", "subtype": subtype, "feeder": feeder, "area": feeder.area},
        )
        for i in range(count)
    ]


@pytest.fixture
def network(utility):
    north = Area.objects.create(
        region=Region.objects.create(name="Centre"), name="North", kind="urban"
    )
    south = Area.objects.create(region=north.region, name="South", kind="rural")
    return {
        "base1": Feeder.objects.create(area=north, name="N-101"),
        "hot": Feeder.objects.create(area=north, name="N-102"),
        "base2": Feeder.objects.create(area=south, name="S-201"),
        "summer": Feeder.objects.create(area=south, name="S-202"),
        "north": north,
        "south": south,
    }


@pytest.fixture
def seasonal_faults(network):
    """24 months of history (July 2024 to June 2026), then July 2026.

    Every feeder has 10 faults a month, except S-202 (a summer feeder: 60 in July
    and August). July 2026: N-101 10, S-201 10, S-202 60 (its usual summer) and
    N-102 30 (20 lines down, 10 no power) where it always had 10.
    """
    rows = []
    month = date(2024, 7, 1)
    while month < date(2026, 7, 1):
        for name in ("base1", "base2", "hot"):
            rows += _faults(network[name], month.year, month.month, 10)
        rows += _faults(
            network["summer"], month.year, month.month, 60 if month.month in (7, 8) else 10
        )
        month = (month + timedelta(days=32)).replace(day=1)
    rows += _faults(network["base1"], 2026, 7, 10)
    rows += _faults(network["base2"], 2026, 7, 10)
    rows += _faults(network["summer"], 2026, 7, 60, subtype="partial_power")
    rows += _faults(network["hot"], 2026, 7, 20, subtype="line_down")
    rows += _faults(network["hot"], 2026, 7, 10, subtype="power_out")
    # A duplicate is the same fault twice: it does not count.
    rows += [
        (
            _at(2026, 7, 3),
            {"order_type": "fault", "feeder": network["base1"], "status": "cancelled"},
        )
    ]
    _orders(rows)
    return network


JULY = rootcauses.Period(date(2026, 7, 1), date(2026, 7, 31))


def test_a_feeder_too_high_for_its_season_is_flagged_a_seasonal_one_is_not(seasonal_faults):
    test = rootcauses.abnormal_units(JULY, "feeder")
    units = {u.name: u for u in test.units}
    # Same days of 2024 and 2025 (seasonal): N-101 20, S-201 20, S-202 120, N-102 20 = 180.
    # All 24 months (annual): 240, 240, 10*20 + 60*4 = 440, 240 = 1160. July 2026: 110 faults.
    # The all-year share weighs as 10 faults per feeder: 4 * 10 = 40.
    # N-102: prior = (240 + 0.5) / (1160 + 4 * 0.5) = 0.206971;
    #        share = (20 + 40 * 0.206971) / (180 + 40) = 0.128540; expected = 0.128540 * 110 = 14.14
    # S-202: prior = 440.5 / 1162 = 0.379088; share = (120 + 40 * 0.379088) / 220 = 0.614380;
    #        expected = 67.58, observed 60: high, but what its summers always bring.
    assert test.total == 110
    assert units["N-102"].expected == pytest.approx(14.139, abs=0.01)
    assert units["S-202"].expected == pytest.approx(67.582, abs=0.01)
    assert units["N-102"].observed == 30
    assert units["N-102"].abnormal
    assert units["N-102"].p_value < 1e-3  # Poisson(14.14): P(X >= 30) = 0.00016
    assert units["N-102"].ratio == pytest.approx(30 / 14.139, rel=1e-3)
    assert not units["S-202"].abnormal
    assert not units["N-101"].abnormal and not units["S-201"].abnormal
    assert [u.name for u in test.abnormal] == ["N-102"]
    # Two thirds lines down: the recommendation is to inspect the line and vegetation.
    assert units["N-102"].dominant == "line_down"
    assert "vegetation" in units["N-102"].recommendation
    assert units["N-102"].subtypes[0][0] == "line_down" and units["N-102"].subtypes[0][2] == 20
    # A naive test against the all-year share would have flagged the summer feeder:
    # 0.379088 * 110 = 41.7 expected, 60 observed.
    assert rootcauses._upper_tail(60, 0.379088 * 110, 1.0) < 0.01


def test_areas_are_tested_the_same_way(seasonal_faults):
    test = rootcauses.abnormal_units(JULY, "area")
    units = {u.name: u for u in test.units}
    # North: seasonal 40 of 180, annual 480 of 1160; July 40 of 110; weight 2 * 10 = 20.
    # prior = 480.5 / (1160 + 2 * 0.5) = 0.413867; share = (40 + 20 * 0.413867) / 200 = 0.241387;
    # expected = 26.55 against 40 observed.
    assert units["North"].expected == pytest.approx(26.553, abs=0.01)
    assert units["North"].abnormal and not units["South"].abnormal
    assert units["North"].parent == "Centre"


def test_over_dispersed_history_makes_the_test_more_careful():
    # Poisson(10) puts 20 or more in the far tail; a negative binomial with twice the
    # variance less so.
    poisson = rootcauses._upper_tail(20, 10.0, 1.0)
    wider = rootcauses._upper_tail(20, 10.0, 2.0)
    assert poisson == pytest.approx(0.003454, abs=1e-5)
    assert wider > 5 * poisson


def test_recommendation_follows_the_kind_of_fault():
    assert (
        rootcauses.recommendation_for(Counter(partial_power=6, power_out=2))[0] == "partial_power"
    )
    assert rootcauses.recommendation_for(Counter(meter_fault=5, power_out=4))[0] == "meter_fault"
    assert rootcauses.recommendation_for(Counter(power_out=9, line_down=1))[0] == "power_out"
    # Nothing with 40 %: a patrol and a reading of the reports.
    code, text = rootcauses.recommendation_for(
        Counter(power_out=3, line_down=3, meter_fault=2, partial_power=2)
    )
    assert code == "" and "read the reports" in text


# Complaint themes -------------------------------------------------------------------------

BACKGROUND = [
    "The bill is too high this month",
    "Your agent was rude on the phone",
    "I waited too long in the service hall",
    "电费太高了，账单有误",
    "营业厅排队时间太长",
    "客服态度不好，说话很冲",
    "החשבון גבוה מדי החודש",
    "הנציג היה גס רוח בטלפון",
    "המתנה ארוכה במרכז השירות",
]
BURST = [
    "The smart meter shows a wrong reading",
    "Smart meter reading doubled after the replacement",
    "Wrong reading again from the new smart meter",
    "My smart meter reading makes no sense",
    "Smart meter replaced last week and the reading is wrong",
    "智能电表读数不准，比以前高很多",
    "换了智能电表以后读数翻倍",
    "智能电表读数明显错误",
    "新装的智能电表读数不对",
    "智能电表读数有问题，请核查",
    "המונה החכם מראה קריאה שגויה",
    "קריאה שגויה במונה החכם החדש",
    "מונה חכם הותקן והקריאה שגויה",
    "המונה החכם נותן קריאה לא נכונה",
    "אחרי החלפת המונה החכם הקריאה שגויה",
]


def _complaints(texts, year, month):
    return _orders(
        [
            (_at(year, month, 1 + i % 27, 9 + i % 8), {"order_type": "complaint", "description": t})
            for i, t in enumerate(texts)
        ]
    )


@pytest.fixture
def complaints(utility):
    for month in range(1, 6):  # January to May 2026: the everyday complaints
        _complaints(BACKGROUND, 2026, month)
    _complaints([*BACKGROUND, "The smart meter reading looks wrong"], 2026, 6)
    _complaints([*BACKGROUND, *BURST], 2026, 7)
    # Not a complaint, and a cancelled duplicate: neither is read.
    _orders(
        [
            (_at(2026, 7, 2), {"order_type": "consultation", "description": "smart meter reading"}),
            (
                _at(2026, 7, 2),
                {"order_type": "complaint", "status": "cancelled", "description": "smart meter"},
            ),
        ]
    )


def _theme_with(report, word):
    found = [t for t in report.themes if any(word in term for term in t.terms)]
    assert found, f"no theme with {word!r}: {[t.terms for t in report.themes]}"
    return found[0]


def test_themes_in_english_chinese_and_hebrew(complaints):
    report = rootcauses.complaint_themes(JULY)
    assert report.complaints == len(BACKGROUND) + len(BURST)
    assert report.previous_complaints == len(BACKGROUND) + 1

    english = _theme_with(report, "smart")
    assert english.count == 5
    assert english.previous == 1  # June's one smart-meter complaint
    assert english.change == 4 and english.change_percent == pytest.approx(400.0)
    assert len(english.examples) == 3
    july_orders = set(
        WorkOrder.objects.filter(created_at__month=7, description__icontains="smart").values_list(
            "pk", flat=True
        )
    )
    assert {e.pk for e in english.examples} <= july_orders

    chinese = _theme_with(report, "智能电表")
    assert chinese.count == 5 and chinese.previous == 0
    assert any("读数" in term for term in chinese.terms)

    # Hebrew: במונה and המונה are the word מונה with a prefix letter; shown without it.
    hebrew = _theme_with(report, "מונה")
    assert hebrew.count == 5 and hebrew.previous == 0
    assert "במונה" not in hebrew.terms

    # The everyday complaints (a high bill, a rude agent) are no theme of July.
    assert not any("rude" in term or "排队" in term for t in report.themes for term in t.terms)


def test_hebrew_prefixes_come_off_only_when_the_bare_word_is_used():
    stems = rootcauses._hebrew_stems({"במונה", "המונה", "מונה", "מחשב"})
    assert stems == {"במונה": "מונה", "המונה": "מונה"}  # מחשב stays: חשב is not in the text


def test_no_complaints_no_themes(utility):
    report = rootcauses.complaint_themes(JULY)
    assert report.complaints == 0 and report.themes == []


# Chains of repeated contacts ---------------------------------------------------------------

AUGUST = rootcauses.Period(date(2026, 8, 1), date(2026, 8, 31))


@pytest.fixture
def contacts(make_customer):
    site = make_customer("Dizengoff Bakery").sites.get()
    first = _at(2026, 7, 10, 10)
    _orders(
        [
            # 30 days apart: one chain (A -> B); C comes 31 days after B: a new start.
            (first, {"order_type": "fault", "caller_phone": "+972501111111"}),
            (
                first + timedelta(days=30),
                {"order_type": "complaint", "caller_phone": "+972501111111"},
            ),
            (first + timedelta(days=61), {"order_type": "fault", "caller_phone": "+972501111111"}),
            # 31 days apart: no chain.
            (_at(2026, 7, 5, 10), {"order_type": "fault", "caller_phone": "+972502222222"}),
            (_at(2026, 8, 5, 10), {"order_type": "fault", "caller_phone": "+972502222222"}),
            # Three contacts in August, each within 30 days of the one before.
            (_at(2026, 8, 1), {"order_type": "fault", "caller_phone": "+972503333333"}),
            (_at(2026, 8, 10), {"order_type": "consultation", "caller_phone": "+972503333333"}),
            (_at(2026, 8, 20), {"order_type": "complaint", "caller_phone": "+972503333333"}),
            # A cancelled duplicate is not a contact.
            (_at(2026, 8, 21), {"order_type": "fault", "caller_phone": "+972504444444"}),
            (
                _at(2026, 8, 22),
                {"order_type": "fault", "caller_phone": "+972504444444", "status": "cancelled"},
            ),
            # The same site, whoever calls.
            (
                _at(2026, 8, 2),
                {"order_type": "fault", "site": site, "caller_phone": "+972505555555"},
            ),
            (_at(2026, 8, 25), {"order_type": "fault", "site": site}),
        ]
    )
    return site


def test_chains_30_days_in_31_days_out(contacts):
    summary = rootcauses.contact_chains(AUGUST, "phone")
    by_phone = {c.key: c for c in summary.longest}
    assert set(by_phone) == {"+972501111111", "+972503333333"}
    pair = by_phone["+972501111111"]
    assert pair.contacts == 2 and pair.days == 30.0
    assert pair.first_at == _at(2026, 7, 10, 10)
    assert (pair.first_type, pair.last_type) == ("fault", "complaint")
    three = by_phone["+972503333333"]
    assert three.contacts == 3 and three.days == 19.0
    assert summary.longest[0] is three  # the longest first
    assert summary.chains == 2 and summary.contacts == 5
    assert summary.by_length == [(2, 1), (3, 1)]
    # Both began with a fault and ended with a complaint.
    assert summary.by_type == [("Fault repair", "Complaint and report", 2)]

    sites = rootcauses.contact_chains(AUGUST, "site")
    assert [(c.key, c.contacts, c.days) for c in sites.longest] == [(contacts.ref, 2, 23.0)]

    # September: C is 31 days after B, so it starts nothing.
    september = rootcauses.Period(date(2026, 9, 1), date(2026, 9, 30))
    assert rootcauses.contact_chains(september, "phone").chains == 0


@pytest.mark.skipif(not __import__("os").path.exists(LA311), reason="LA 311 data not present")
def test_chains_on_real_la311_requests(utility, tmp_path):
    """Los Angeles 311 requests (27–31 Dec 2017): repeat requests for the same address."""
    with open(LA311, newline="", encoding="utf-8") as fh:
        source = list(csv.DictReader(fh))
    region = Region.objects.create(name="Los Angeles")
    for cd in sorted({r["CD"] for r in source if r["CD"]}):
        Area.objects.create(region=region, name=f"CD {cd}", kind="urban")
    addresses = Counter(r["Address"] for r in source if r["Address"])
    holder = Customer.objects.create(ref="LA", name="City of Los Angeles", kind="business")
    repeated = sorted(a for a, n in addresses.items() if n > 1)
    Site.objects.bulk_create(
        [Site(ref=f"LA-{i}", customer=holder, address=a[:300]) for i, a in enumerate(repeated)]
    )
    site_ref = {a: f"LA-{i}" for i, a in enumerate(repeated)}
    channel = {"Call": "hotline", "Mobile App": "app", "Self Service": "web"}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rootcauses_import_columns())
    expected = defaultdict(list)
    for r in source:
        created = datetime.strptime(r["CreatedDate"], "%m/%d/%Y %I:%M:%S %p").replace(
            tzinfo=ZoneInfo("America/Los_Angeles")
        )
        ref = site_ref.get(r["Address"], "")
        writer.writerow(
            [
                created.isoformat(),
                "",
                channel.get(r["RequestSource"], "api"),
                "business",
                r["RequestType"][:40],
                "",
                f"CD {r['CD']}" if r["CD"] else "",
                "",
                ref,
            ]
        )
        if ref:
            expected[ref].append(created)
    path = tmp_path / "la311.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    call_command("import_workorders", str(path))

    # Five days of requests: every address seen twice or more is one chain. The il
    # utility counts Israel's days: Los Angeles' 31 December ends on 1 January there.
    period = rootcauses.Period(date(2017, 12, 27), date(2018, 1, 1))
    summary = rootcauses.contact_chains(period, "site")
    assert summary.chains == len(expected) == len(repeated)
    assert summary.contacts == sum(len(v) for v in expected.values())
    top = summary.longest[0]
    assert top.contacts == max(len(v) for v in expected.values())
    span = max(expected[top.key]) - min(expected[top.key])
    assert top.days == pytest.approx(span.total_seconds() / 86400, abs=0.05)


def rootcauses_import_columns():
    from voltdesk.workorders.importing import COLUMNS

    return COLUMNS


# The month, its page and its PDF ----------------------------------------------------------------


def test_month_parsing():
    assert rootcauses.month_period("2026-02") == rootcauses.Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    assert rootcauses.month_period("2024-02").end == date(2024, 2, 29)
    for bad in ("2026-13", "2026-7", "july", "", None, "2026-00", "9999-12", "0001-01"):
        with pytest.raises(rootcauses.RootCauseError) as exc:
            rootcauses.month_period(bad)
        assert exc.value.field == "month"
    assert rootcauses.last_full_month(date(2026, 3, 15)) == rootcauses.Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    assert JULY.previous() == rootcauses.Period(date(2026, 6, 1), date(2026, 6, 30))


@pytest.fixture
def report_data(seasonal_faults, complaints, make_user):
    """Faults, complaints, a repeated caller and a wrong answer found in July."""
    _orders(
        [
            (_at(2026, 7, 3), {"order_type": "fault", "caller_phone": "+972509999999"}),
            (_at(2026, 7, 9), {"order_type": "fault", "caller_phone": "+972509999999"}),
        ]
    )
    order = _orders([(_at(2026, 7, 4), {"order_type": "consultation", "status": "closed"})])[0]
    AnswerReview.objects.create(
        work_order=order,
        agent=make_user(roles.AGENT, username="dana"),
        sample_reason="random",
        handled_at=_at(2026, 7, 4, 15),
        verdict="wrong",
        reviewed_at=_at(2026, 7, 20),
        topic="meters",
        correct_answer="Smart meters are tested free of charge.",
    )


def test_monthly_report_has_the_four_parts(report_data):
    report = rootcauses.monthly_report("2026-07")
    assert [u.name for u in report.feeders.abnormal] == ["N-102"]
    assert [u.name for u in report.areas.abnormal] == ["North"]
    assert len(report.themes.themes) >= 3
    assert report.chains["phone"].chains == 1
    topics = {r.key: r for r in report.answer_errors["topic"]}
    assert topics["meters"].wrong == 1 and topics["meters"].error_rate == 100
    assert report.answer_errors["agent"][0].label == "dana"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _has(text: str, word: str) -> bool:
    # Text extraction may give a right-to-left word in visual order.
    return word in text or word[::-1] in text


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":family=Noto Sans CJK SC"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def test_pdf_in_hebrew_right_to_left(report_data):
    if not _has_cjk_font():
        # Without Noto Sans CJK a Chinese glyph is .notdef, and pypdf then reads no text at all.
        chinese = [
            pk
            for pk, text in WorkOrder.objects.values_list("pk", "description")
            if any("\u4e00" <= c <= "\u9fff" for c in text)
        ]
        WorkOrder.objects.filter(pk__in=chinese).delete()
    report = rootcauses.monthly_report("2026-07")
    html = rootcauses.report_pdf_html(report, language="he")
    assert 'dir="rtl"' in html and 'lang="he"' in html
    hebrew = _pdf_text(rootcauses.render_report_pdf(report, language="he"))
    assert "N-102" in hebrew
    assert _has(hebrew, "מונה") and _has(hebrew, "יולי")  # the theme; July in Hebrew


@pytest.mark.skipif(not _has_cjk_font(), reason="Debian's fonts-noto-cjk is not installed")
def test_pdf_in_chinese(report_data):
    report = rootcauses.monthly_report("2026-07")
    assert 'dir="ltr"' in rootcauses.report_pdf_html(report, language="zh-hans")
    chinese = _pdf_text(rootcauses.render_report_pdf(report, language="zh-hans"))
    assert "智能电表" in chinese and "N-102" in chinese
    assert "2026年7月" in chinese.replace(" ", "")


def test_command_writes_the_pdf(report_data, tmp_path):
    out = io.StringIO()
    target = tmp_path / "july.pdf"
    call_command(
        "rootcause_report",
        "--month",
        "2026-07",
        "--output",
        str(target),
        "--language",
        "en",
        stdout=out,
    )
    assert target.read_bytes().startswith(b"%PDF")
    assert "N-102" in out.getvalue() and "1 abnormal feeders" in out.getvalue()
    with pytest.raises(CommandError, match="--month"):
        call_command("rootcause_report", "--month", "2026-13", "--output", str(target))


# Access -------------------------------------------------------------------------------------

PAGE = reverse("desk:analytics:root_causes")
PDF = reverse("desk:analytics:root_causes_pdf", args=["2026-07"])


def test_supervisor_sees_the_page_and_the_pdf(report_data, client, make_user):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(PAGE, {"month": "2026-07"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-unit="N-102"' in page and "vegetation" in page
    theme = next(t for t in response.context["report"].themes.themes if "smart" in t.label.lower())
    detail = reverse("desk:orders:detail", args=[theme.examples[0].pk])
    assert f'href="{detail}"' in page
    assert reverse("desk:analytics:root_causes_pdf", args=["2026-07"]) in page
    pdf = client.get(PDF, {"language": "he"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "root-causes-2026-07.pdf" in pdf["Content-Disposition"]


def test_hebrew_supervisor_gets_the_page_right_to_left(report_data, client, make_user):
    from voltdesk.core.models import UserProfile

    supervisor = make_user(roles.SUPERVISOR)
    UserProfile.objects.create(user=supervisor, language="he")
    client.force_login(supervisor)
    response = client.get(PAGE, {"month": "2026-07"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'dir="rtl"' in page
    assert "מונה" in page  # the Hebrew theme
    assert "?language=he" in page and "?language=zh-hans" in page


def test_default_month_is_the_last_full_one(utility, client, make_user):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["period"] == rootcauses.last_full_month()


def test_bad_month_is_400_naming_the_field(utility, client, make_user):
    client.force_login(make_user(roles.SUPERVISOR))
    response = client.get(PAGE, {"month": "2026-13"})
    assert response.status_code == 400
    assert 'data-field="month"' in response.content.decode()
    pdf = client.get(reverse("desk:analytics:root_causes_pdf", args=["2026-7"]))
    assert pdf.status_code == 400 and pdf.content.decode().startswith("month:")
    wrong_language = client.get(PDF, {"language": "fr"})
    assert wrong_language.status_code == 400
    assert wrong_language.content.decode().startswith("language:")


@pytest.mark.parametrize("url", [PAGE, PDF])
def test_agents_and_customers_are_refused_anonymous_log_in(
    utility, client, make_user, make_customer, url
):
    client.force_login(make_user(roles.AGENT))
    assert client.get(url).status_code == 403
    client.force_login(make_user(roles.CUSTOMER, customer=make_customer()))
    assert client.get(url).status_code == 403
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
