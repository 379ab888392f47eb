"""Who may open which page: every desk and portal page, from one table.

The table must name every URL pattern of desk/ (the club's pages included) and
portal/; a new page without a row here fails
``test_every_page_is_in_the_access_table``. Each row says what each kind of
visitor gets:

* ``anonymous``: not signed in;
* ``nobody``: signed in, without a role or a customer;
* ``customer``: Acme's user (the customer whose data the page shows);
* ``other_customer``: Blue Bakery's user, on the same address;
* ``agent``: desk staff without the club's permissions;
* ``manager``: Acme's account manager; ``other_manager``: Blue Bakery's;
* ``dispatcher``: sends crews and declares power back, outside the club;
* ``supervisor``.

``LOGIN`` is a redirect to log in, ``DESK`` a redirect from the portal to the
desk; numbers are status codes. Pages marked ``club`` run on a seeded club
(``test_pages_club.seed_club``); POST-only pages are posted to, empty, and a
refused post must change nothing (no audit row written).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, reverse

from tests.pages.test_pages_club import seed_club
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.desk import urls as desk_urls
from voltdesk.portal import urls as portal_urls

LOGIN, DESK = "login", "desk"
WHO = (
    "anonymous",
    "nobody",
    "customer",
    "other_customer",
    "agent",
    "manager",
    "other_manager",
    "dispatcher",
    "supervisor",
)
_STAFF = ("agent", "manager", "other_manager", "dispatcher", "supervisor")


@dataclass(frozen=True)
class Page:
    args: Callable = lambda w: {}
    expect: dict = field(default_factory=dict)
    method: str = "get"
    club: bool = False  # needs the seeded club
    html: bool = True  # a page (not a file download)


def desk(args=lambda w: {}, **expect) -> Page:
    """A desk page: staff only; customers and people without a role are refused."""
    page = {"anonymous": LOGIN, "nobody": 403, "customer": 403, "other_customer": 403}
    page.update(dict.fromkeys(_STAFF, 200))
    return _page(args, page, expect)


def portal(args=lambda w: {}, **expect) -> Page:
    """A portal page: customer users only; staff are sent to the desk."""
    page = {"anonymous": LOGIN, "nobody": 403, "customer": 200, "other_customer": 200}
    page.update(dict.fromkeys(_STAFF, DESK))
    return _page(args, page, expect)


def _page(args, defaults, overrides) -> Page:
    options = {k: overrides.pop(k) for k in ("method", "club", "html") if k in overrides}
    return Page(args=args, expect={**defaults, **overrides}, **options)


def _order_of(customer):
    from voltdesk.workorders.services import open_work_order

    return open_work_order(channel="web", order_type="consultation", customer=customer).order


def _attachment_of(customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from voltdesk.workorders.services import add_attachment

    photo = SimpleUploadedFile("meter.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    return add_attachment(_order_of(customer), uploaded_file=photo)


def _bill_of(customer):
    """An issued bill of ``customer`` at its first site (the lounge shows issued ones only)."""
    import datetime as dt

    from voltdesk.billing.models import Bill

    contract = customer.contracts.order_by("site__ref").first()
    return Bill.objects.create(
        number=f"B-{customer.ref}",
        kind="bill",
        status="issued",
        customer=customer,
        contract=contract,
        site=contract.site,
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 10, 1),
        total=100,
        currency="ILS",
    )


def _online_payment_of(customer):
    """An online payment of ``customer`` waiting for the bank, for its bill."""
    from voltdesk.billing.models import OnlinePayment

    online = OnlinePayment.objects.create(
        customer=customer,
        amount=100,
        currency="ILS",
        idempotency_key=f"key-{customer.ref}",
        provider="sandbox",
        provider_ref=f"sbx_{customer.ref}",
        status="pending",
    )
    online.bills.set([_bill_of(customer)])
    return online


def _outage(w):
    from voltdesk.core.models import Area, Region
    from voltdesk.workorders.models import Incident

    area = Area.objects.create(region=Region.objects.create(name="Outage land"), name="OL")
    return Incident.objects.create(area=area)


def _colleague_of(customer):
    """Another user of ``customer`` (an energy manager), whom its administrator manages."""
    from voltdesk.customers.models import CustomerUser

    user = User.objects.create_user(f"colleague-{customer.ref}")
    return CustomerUser.objects.create(user=user, customer=customer, company_role="energy_manager")


def _published_article():
    """A published unified answer, in the three languages, that agents may use."""
    from voltdesk.knowledge.models import Article
    from voltdesk.knowledge.services import load_articles

    text = {"question": "Why is my bill high?", "answer": "Check the meter reading."}
    load_articles(
        [
            {
                "key": "pages-bill-high",
                "topic": "billing_payments",
                "order_types": ["consultation"],
                "texts": {"en": text, "he": text, "zh-hans": text},
            }
        ]
    )
    return Article.objects.get(key="pages-bill-high")


def _handled_order_of(customer):
    """A resolved work order of ``customer``: what the answer-quality review looks at."""
    from voltdesk.workorders.lifecycle import transition

    order = _order_of(customer)
    for action in ("accept", "start", "resolve"):
        order = transition(order, action)
    return order


def _published_notice():
    """A published one-time notice, in the three languages."""
    from voltdesk.knowledge.models import Article
    from voltdesk.knowledge.services import load_articles

    text = {
        "question": "New connection",
        "answer": "Bring these.",
        "notice": {"documents": ["Identity card"], "steps": ["Apply"]},
    }
    load_articles(
        [
            {
                "key": "pages-notice",
                "topic": "new_connection",
                "kind": "notice",
                "business_kind": "new_connection",
                "order_types": ["business"],
                "texts": {"en": text, "he": text, "zh-hans": text},
            }
        ]
    )
    return Article.objects.get(key="pages-notice")


def _bill_link_token(bill):
    from voltdesk.billing.einvoices import bill_link_token

    return bill_link_token(bill)


def _demand_event(w):
    """A declared excess-demand event on a feeder of its own, two days ahead."""
    import datetime as dt

    from django.utils import timezone

    from voltdesk.core.models import Area, Feeder, Region
    from voltdesk.demand.services import EventRequest, declare_event

    area = Area.objects.create(region=Region.objects.create(name="Hot land"), name="HL")
    Feeder.objects.create(area=area, name="HL-1")
    start = timezone.now() + dt.timedelta(days=2)
    return declare_event(
        EventRequest(
            title="Heat", starts_at=start, ends_at=start + dt.timedelta(hours=4), areas=(area,)
        )
    )


def _call_of(w):
    """A call-list entry for A with no account manager: no manager's list holds it."""
    from voltdesk.demand.models import CallListEntry

    event = _demand_event(w)
    return CallListEntry.objects.create(event=event, customer=w.a, due_at=event.starts_at)


def _demand_proposal(w):
    """An open proposal: a hot day in the forecast for the day after tomorrow."""
    import datetime as dt

    from django.utils import timezone

    from voltdesk.analytics.models import DailyTemperature
    from voltdesk.core.services import get_utility
    from voltdesk.demand.proposals import propose_events

    today = timezone.localdate()
    DailyTemperature.objects.create(day=today + dt.timedelta(days=2), celsius=40)
    return propose_events(get_utility(), today).created[0]


_CLUB_STAFF_ONLY = {"agent": 403, "manager": 403, "other_manager": 403, "dispatcher": 403}
_CLUB_TEAM = {"agent": 403, "dispatcher": 403}
# The dispatch board and power back: dispatchers and supervisors.
_DISPATCH_ONLY = {"agent": 403, "manager": 403, "other_manager": 403}

PAGES = {
    "desk:home": desk(),
    "desk:customer": desk(lambda w: {"ref": w.a.ref}),
    # Bills: roles with billing.view_bill; a dispatcher's bills are none (404).
    "desk:bill": desk(lambda w: {"ref": w.a.ref, "number": _bill_of(w.a).number}, dispatcher=404),
    "desk:bill_pdf": desk(
        lambda w: {"ref": w.a.ref, "number": _bill_of(w.a).number}, html=False, dispatcher=404
    ),
    # An unpaid bill has no e-invoice yet (409); a dispatcher reads no bills (404).
    "desk:bill_einvoice_pdf": desk(
        lambda w: {"ref": w.a.ref, "number": _bill_of(w.a).number},
        html=False,
        dispatcher=404,
        **dict.fromkeys(("agent", "manager", "other_manager", "supervisor"), 409),
    ),
    "desk:club:overview": desk(club=True, **_CLUB_STAFF_ONLY),
    "desk:club:evaluate": desk(method="post", club=True, **_CLUB_STAFF_ONLY, supervisor=302),
    "desk:club:reassign": desk(method="post", club=True, **_CLUB_STAFF_ONLY, supervisor=302),
    "desk:club:my_members": desk(club=True, **_CLUB_TEAM),
    "desk:club:task_done": desk(
        lambda w: {"pk": w.club.task.pk},
        method="post",
        club=True,
        agent=403,
        dispatcher=403,
        manager=302,
        other_manager=404,
        supervisor=404,  # a supervisor reads tasks; only their manager completes them
    ),
    "desk:club:meeting": desk(lambda w: {"pk": w.club.meeting.pk}, club=True, **_CLUB_TEAM),
    "desk:club:meeting_ics": desk(
        lambda w: {"pk": w.club.meeting.pk}, club=True, html=False, **_CLUB_TEAM
    ),
    "desk:orders:queue": desk(),
    "desk:orders:new": desk(),
    "desk:orders:dispatch": desk(**_DISPATCH_ONLY),
    "desk:orders:detail": desk(lambda w: {"pk": _order_of(w.a).pk}),
    "desk:orders:attachment": desk(
        lambda w: {"pk": (a := _attachment_of(w.a)).work_order_id, "file_pk": a.pk}, html=False
    ),
    # Only dispatchers and supervisors declare power back.
    "desk:orders:power_back": desk(
        lambda w: {"pk": _outage(w).pk},
        method="post",
        **_DISPATCH_ONLY,
        dispatcher=302,
        supervisor=302,
    ),
    # Knowledge answers suggested while typing a work order (an htmx fragment), and
    # "use this answer" (posted without htmx: back to the article's page).
    "desk:knowledge:suggest": desk(),
    "desk:knowledge:use": desk(
        lambda w: {"pk": _published_article().pk},
        method="post",
        **dict.fromkeys(_STAFF, 302),
    ),
    # The knowledge base: every desk role here reads published articles; writing and
    # moving versions is the knowledge editors' (tests/knowledge/test_editor_pages.py).
    "desk:knowledge:articles": desk(),
    "desk:knowledge:article": desk(lambda w: {"pk": _published_article().pk}),
    "desk:knowledge:new": desk(**dict.fromkeys(_STAFF, 403)),
    "desk:knowledge:edit": desk(
        lambda w: {"pk": _published_article().pk}, **dict.fromkeys(_STAFF, 403)
    ),
    "desk:knowledge:transition": desk(
        lambda w: {"pk": _published_article().pk}, method="post", **dict.fromkeys(_STAFF, 403)
    ),
    # Answer-quality review: supervisors only (agents never read colleagues' reviews);
    # correction tasks: knowledge editors and supervisors (tests/knowledge/test_reviews.py).
    "desk:knowledge:reviews": desk(**_CLUB_STAFF_ONLY),
    "desk:knowledge:review": desk(lambda w: {"pk": _handled_order_of(w.a).pk}, **_CLUB_STAFF_ONLY),
    "desk:knowledge:corrections": desk(**_CLUB_STAFF_ONLY),
    # One-time notices: every role that answers callers prints and sends them; an
    # empty send is refused, naming the fields (tests/knowledge/test_notices.py).
    "desk:knowledge:notice_pdf": desk(lambda w: {"key": _published_notice().key}, html=False),
    "desk:knowledge:notice_send": desk(method="post", **dict.fromkeys(_STAFF, 400)),
    # Excess-demand events: every desk role but agents reads them; only demand managers
    # declare and cancel (tests/demand); account managers record their own members' calls.
    "desk:demand:events": desk(agent=403),
    "desk:demand:event": desk(lambda w: {"pk": _demand_event(w).pk}, agent=403),
    "desk:demand:cancel": desk(
        lambda w: {"pk": _demand_event(w).pk}, method="post", **dict.fromkeys(_STAFF, 403)
    ),
    "desk:demand:calls": desk(agent=403, dispatcher=403, supervisor=403),
    "desk:demand:record_call": desk(
        lambda w: {"pk": _call_of(w).pk},
        method="post",
        agent=403,
        dispatcher=403,
        supervisor=403,
        manager=404,
        other_manager=404,
    ),
    # Proposed events: demand managers only (tests/demand/test_proposals.py).
    "desk:demand:proposals": desk(**dict.fromkeys(_STAFF, 403)),
    "desk:demand:declare_proposal": desk(
        lambda w: {"pk": _demand_proposal(w).pk}, method="post", **dict.fromkeys(_STAFF, 403)
    ),
    "desk:demand:dismiss_proposal": desk(
        lambda w: {"pk": _demand_proposal(w).pk}, method="post", **dict.fromkeys(_STAFF, 403)
    ),
    # Work-order analytics: supervisors; the classifier's suggestion while typing: every
    # role that opens work orders (tests/analytics).
    # Service halls: every desk role; unknown halls and bookings are 404 (tests/appointments
    # proves bookings of one customer never reach another).
    "desk:appointments:halls": desk(),
    "desk:appointments:hall_day": desk(lambda w: {"code": "no-hall"}, **dict.fromkeys(_STAFF, 404)),
    "desk:appointments:mark": desk(
        lambda w: {"reference": "X0"}, method="post", **dict.fromkeys(_STAFF, 404)
    ),
    "desk:analytics:dashboard": desk(**_CLUB_STAFF_ONLY),
    "desk:analytics:dashboard_view": desk(lambda w: {"view": "sla"}, **_CLUB_STAFF_ONLY),
    "desk:analytics:dashboard_export": desk(
        lambda w: {"table": "volume_type", "fmt": "csv"}, html=False, **_CLUB_STAFF_ONLY
    ),
    "desk:analytics:dashboard_workbook": desk(
        lambda w: {"view": "volume"}, html=False, **_CLUB_STAFF_ONLY
    ),
    "desk:analytics:root_causes": desk(**_CLUB_STAFF_ONLY),
    "desk:analytics:root_causes_pdf": desk(
        lambda w: {"month": "2026-07"}, html=False, **_CLUB_STAFF_ONLY
    ),
    "desk:analytics:staffing": desk(**_CLUB_STAFF_ONLY),
    "desk:analytics:staffing_csv": desk(html=False, **_CLUB_STAFF_ONLY),
    "desk:analytics:classify": desk(),
    "desk:analytics:classifier": desk(**_CLUB_STAFF_ONLY),
    "portal:home": portal(),
    "portal:orders": portal(),
    "portal:order": portal(lambda w: {"pk": _order_of(w.a).pk}, other_customer=404),
    "portal:sites": portal(),
    "portal:site": portal(lambda w: {"ref": w.a_site.ref}, other_customer=404),
    "portal:consumption": portal(),
    "portal:club": portal(club=True),
    # A's and B's users are their companies' administrators; an empty post changes nothing.
    "portal:company_users": portal(),
    "portal:company_user": portal(
        lambda w: {"pk": _colleague_of(w.a).pk}, method="post", other_customer=404
    ),
    "portal:bills": portal(),
    "portal:bill": portal(lambda w: {"number": _bill_of(w.a).number}, other_customer=404),
    "portal:bill_pdf": portal(
        lambda w: {"number": _bill_of(w.a).number}, html=False, other_customer=404
    ),
    "portal:payments": portal(),
    "portal:einvoice_pdf": portal(
        lambda w: {"number": _bill_of(w.a).number}, html=False, customer=409, other_customer=404
    ),
    "portal:ebills": portal(),
    "portal:appointments": portal(),
    "portal:appointment_new": portal(),
    "portal:appointment": portal(lambda w: {"reference": "X0"}, customer=404, other_customer=404),
    "portal:appointment_cancel": portal(
        lambda w: {"reference": "X0"}, method="post", html=False, customer=404, other_customer=404
    ),
    "portal:appointment_reschedule": portal(
        lambda w: {"reference": "X0"}, customer=404, other_customer=404
    ),
    "portal:applications": portal(),
    "portal:application_new": portal(),
    "portal:application": portal(lambda w: {"pk": 999999}, customer=404, other_customer=404),
    "portal:einvoice_verify": portal(),
    # The signed e-bill link is the credential, as a survey link is.
    "portal:ebill_link": Page(
        args=lambda w: {"token": _bill_link_token(_bill_of(w.a))},
        expect=dict.fromkeys(WHO, 200),
        html=False,
    ),
    "portal:online_payment": portal(
        lambda w: {"ref": _online_payment_of(w.a).provider_ref}, other_customer=404
    ),
    # Pay now: an empty post is refused (400, nothing written); posted only (html=False
    # keeps it out of the GET-only rows).
    "portal:pay": portal(method="post", html=False, customer=400, other_customer=400),
    # Reports name no object: another customer opens its own (empty) report.
    "portal:reports": portal(),
    "portal:report_export": portal(lambda w: {"fmt": "csv"}, html=False),
    "portal:meeting_ics": portal(
        lambda w: {"pk": w.club.meeting.pk}, club=True, html=False, other_customer=404
    ),
    # Prepaid packages are for households: A's and B's business users are refused
    # (tests/prepaid proves one household never reaches another's package).
    "portal:packages": portal(customer=403, other_customer=403),
    "portal:package_buy": portal(method="post", html=False, customer=403, other_customer=403),
    "portal:package_sandbox_pay": portal(
        lambda w: {"ref": "sbx_pkg_x"}, customer=403, other_customer=403
    ),
    "portal:package_card": portal(method="post", html=False, customer=403, other_customer=403),
    "portal:package_card_unbind": portal(
        method="post", html=False, customer=403, other_customer=403
    ),
    "portal:package": portal(lambda w: {"pk": 1}, customer=403, other_customer=403),
    "portal:package_move_out": portal(lambda w: {"pk": 1}, customer=403, other_customer=403),
    # The link's token is the credential: whoever holds it answers, signed in or not.
    "portal:survey": Page(
        args=lambda w: {"token": w.club.survey.token},
        expect=dict.fromkeys(WHO, 200),
        club=True,
    ),
}
DESK_PAGES = [name for name in PAGES if name.startswith("desk:")]
# Portal pages the test world's (business) customers open themselves.
PORTAL_HTML = [
    name
    for name, page in PAGES.items()
    if name.startswith("portal:") and page.html and page.expect["customer"] == 200
]


def _names(patterns, namespace):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}"


def test_every_page_is_in_the_access_table():
    existing = set(_names(desk_urls.urlpatterns, "desk")) | set(
        _names(portal_urls.urlpatterns, "portal")
    )
    assert existing == set(PAGES), "add the new page to PAGES (and so to every access test)"


def test_every_row_says_what_everyone_gets():
    for name, page in PAGES.items():
        assert set(page.expect) == set(WHO), name


@pytest.fixture
def visit(world, make_user, make_customer, settings, tmp_path):
    """Build a page's world (seeding the club when it needs it) and its visitors."""
    settings.MEDIA_ROOT = tmp_path / "media"  # attachments written by a row's world
    settings.ANALYTICS_STORE = str(tmp_path / "analytics.duckdb")  # built on first visit

    def prepare(name):
        page = PAGES[name]
        if page.club:
            club = seed_club(world, make_user, make_customer)
            staff = {
                "manager": club.manager,
                "other_manager": club.other_manager,
                "supervisor": club.supervisor,
            }
        else:
            club = None
            staff = {
                "manager": make_user(roles.ACCOUNT_MANAGER),
                "other_manager": make_user(roles.ACCOUNT_MANAGER),
                "supervisor": make_user(roles.SUPERVISOR),
            }
        people = {
            "anonymous": None,
            "nobody": User.objects.create_user("nobody", password="pw-nobody"),
            "customer": world.a_user,
            "other_customer": world.b_user,
            "agent": world.agent,
            "dispatcher": make_user(roles.DISPATCHER),
            **staff,
        }
        w = SimpleNamespace(**vars(world), club=club)
        return page, reverse(name, kwargs=page.args(w)), people

    return prepare


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("name", PAGES)
def test_who_gets_what(name, who, visit, client_for):
    page, target, people = visit(name)
    expected = page.expect[who]
    audit_before = AuditEntry.objects.count()

    response = getattr(client_for(people[who]), page.method)(target)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={target}"
    elif expected == DESK:
        assert response.status_code == 302
        assert response.url == reverse("desk:home")
    else:
        assert response.status_code == expected
    if page.method == "post" and not (isinstance(expected, int) and expected < 400):
        assert AuditEntry.objects.count() == audit_before, "a refused post changed something"


@pytest.mark.parametrize("name", DESK_PAGES)
def test_customer_user_on_the_desk_sees_nothing_of_anyone(name, visit, world, client_for):
    page, target, people = visit(name)

    response = getattr(client_for(world.a_user), page.method)(target)

    assert response.status_code == 403
    assert world.b.name not in response.content.decode()


@pytest.mark.parametrize("name", PORTAL_HTML)
def test_customer_user_opens_own_portal_pages(name, visit, world, client_for):
    page, target, people = visit(name)

    response = client_for(world.a_user).get(target)

    assert response.status_code == 200
    if name != "portal:survey":  # reached from a link, without the portal's menus
        assert world.a_user.username in response.content.decode()  # the user menu


@pytest.mark.parametrize("name", PORTAL_HTML)
def test_portal_pages_show_nothing_of_another_customer(name, visit, world, client_for):
    page, target, people = visit(name)

    html = client_for(world.a_user).get(target).content.decode()

    assert world.b.name not in html
    assert world.b.ref not in html
    assert world.b_site.ref not in html
    assert "5,555" not in html  # B's monthly figure


def test_customer_cannot_open_another_customers_site(world, client_for):
    response = client_for(world.a_user).get(reverse("portal:site", args=[world.b_site.ref]))

    assert response.status_code == 404
    assert world.b.name not in response.content.decode()


def test_unknown_customer_on_the_desk_is_not_found(world, client_for):
    response = client_for(world.agent).get(reverse("desk:customer", args=["NO-SUCH"]))

    assert response.status_code == 404
