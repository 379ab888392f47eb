"""The work-order pages as the desk and customers use them."""

import pytest
from django.urls import reverse

from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.customers.models import Site
from voltdesk.notifications.models import Message
from voltdesk.workorders.choices import OPEN_STATUSES
from voltdesk.workorders.models import Crew, WorkOrder
from voltdesk.workorders.services import open_work_order


@pytest.fixture
def grid(world):
    area = Area.objects.create(
        region=Region.objects.create(name="North"), name="Haifa", kind="urban"
    )
    feeder = Feeder.objects.create(area=area, name="HF-1")
    Site.objects.filter(customer__in=[world.a, world.b]).update(area=area, feeder=feeder)
    crew = Crew.objects.create(name="Crew Haifa 1", area=area)
    world.a_site.refresh_from_db()
    world.b_site.refresh_from_db()
    return {"area": area, "feeder": feeder, "crew": crew}


def test_intake_finds_the_caller_by_phone_and_warns_of_a_known_outage(world, grid, client_for):
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)  # an outage
    client = client_for(world.agent)

    html = client.get(reverse("desk:orders:new"), {"find": "03-555-1111"}).content.decode()

    assert "Acme Industries" in html
    assert 'id="known-outage"' in html and "HF-1" in html
    assert 'value="+97235551111"' in html  # the caller's number carried into the form


def test_an_order_opened_from_the_desk_goes_to_its_page(world, grid, client_for):
    client = client_for(world.agent)
    response = client.post(
        reverse("desk:orders:new"),
        {
            "order_type": "fault",
            "channel": "hotline",
            "customer_ref": world.a.ref,
            "site_ref": world.a_site.ref,
            "description": "Sparks from the pole",
        },
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("desk:orders:detail", args=[order.pk])
    page = client.get(response.url).content.decode()
    assert "Sparks from the pole" in page
    assert 'value="accept"' in page and 'value="close"' not in page  # legal actions only


def test_bad_intake_is_shown_next_to_the_field(world, grid, client_for):
    response = client_for(world.agent).post(
        reverse("desk:orders:new"),
        {
            "order_type": "fault",
            "channel": "hotline",
            "caller_phone": "12",
            "site_ref": "NO-SUCH",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "No site has this number." in html
    assert WorkOrder.objects.count() == 0


def test_an_illegal_action_posted_by_hand_is_refused_with_a_message(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(world.agent)
    response = client.post(
        reverse("desk:orders:detail", args=[order.pk]), {"action": "close"}, follow=True
    )
    assert "cannot be given the action" in response.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).status == "new"


def test_a_dispatcher_sends_a_crew_and_power_back_closes_the_outage(
    world, grid, client_for, make_user
):
    dispatcher = make_user(roles.DISPATCHER, username="disp")
    first = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    second = open_work_order(channel="hotline", order_type="fault", site=world.b_site).order
    client = client_for(dispatcher)
    board = client.get(reverse("desk:orders:dispatch")).content.decode()
    assert first.number in board and "Crew Haifa 1" in board

    client.post(
        reverse("desk:orders:detail", args=[first.pk]),
        {"action": "dispatch", "crew": grid["crew"].pk},
    )
    first.refresh_from_db()
    assert (first.status, first.crew) == ("dispatched", grid["crew"])

    client.post(reverse("desk:orders:power_back", args=[first.incident_id]), {"cause": "Fuse"})
    for order in (first, second):
        order.refresh_from_db()
        assert order.status in ("resolved", "follow_up")
    assert Message.objects.filter(template="power_back").count() == 2


def test_an_agent_may_not_declare_power_back(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    response = client_for(world.agent).post(
        reverse("desk:orders:power_back", args=[order.incident_id])
    )
    assert response.status_code == 403


def test_a_customer_reports_a_fault_and_follows_it_without_staff_notes(world, grid, client_for):
    from voltdesk.workorders.services import add_comment

    client = client_for(world.a_user)
    response = client.post(
        reverse("portal:orders"),
        {
            "order_type": "fault",
            "site_ref": world.a_site.ref,
            "description": "No power",
        },
    )
    order = WorkOrder.objects.get()
    assert response.url == reverse("portal:order", args=[order.pk])
    assert (order.customer, order.channel) == (world.a, "web")
    add_comment(order, body="Customer is rude", internal=True)
    add_comment(order, body="A crew is on its way")
    page = client.get(response.url).content.decode()
    assert "A crew is on its way" in page and "Customer is rude" not in page
    client.post(response.url, {"body": "Thanks!"})
    assert order.comments.filter(body="Thanks!", internal=False).exists()
    # Another customer's site cannot be chosen.
    bad = client.post(
        reverse("portal:orders"),
        {
            "order_type": "fault",
            "site_ref": world.b_site.ref,
            "description": "x",
        },
    )
    assert bad.status_code == 200 and WorkOrder.objects.count() == 1


def test_a_customer_never_sees_another_customers_order(world, grid, client_for):
    theirs = open_work_order(channel="hotline", order_type="complaint", customer=world.b).order
    client = client_for(world.a_user)
    assert client.get(reverse("portal:order", args=[theirs.pk])).status_code == 404
    assert theirs.number not in client.get(reverse("portal:orders")).content.decode()


def test_the_customer_360_lists_open_orders_first(world, grid, client_for):
    from voltdesk.workorders.services import transition

    old = open_work_order(channel="web", order_type="consultation", customer=world.a).order
    for action in ["accept", "start", "resolve", "close"]:
        old = transition(old, action)
    fresh = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)  # B's: not here

    html = client_for(world.agent).get(reverse("desk:customer", args=[world.a.ref])).content
    block = html.decode().split('id="customer-orders"')[1]
    assert block.index(fresh.number) < block.index(old.number)
    assert WorkOrder.objects.filter(customer=world.b).get().number not in block
    assert f"?find={world.a.ref}" in block


# The intake: finding the caller with htmx, errors next to their field

HTMX = {"HTTP_HX_REQUEST": "true"}


def _intake(client, **data):
    fields = {"order_type": "fault", "channel": "hotline", "description": "No power"}
    return client.post(reverse("desk:orders:new"), {**fields, **data})


def test_htmx_lookup_answers_the_card_and_fills_the_callers_numbers(world, grid, client_for):
    response = client_for(world.agent).get(
        reverse("desk:orders:new"), {"find": world.a_site.ref}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="caller-card"' in html  # a fragment, not the page
    assert "Acme Industries" in html and world.a_site.ref in html
    assert '<datalist id="caller-sites">' in html
    # The order form's customer, site and phone fields are swapped in out of band.
    assert 'id="wrap-customer_ref" hx-swap-oob="true"' in html
    assert f'value="{world.a.ref}"' in html
    assert f'value="{world.a_site.ref}"' in html  # found by site: that site is chosen
    assert 'value="+97235551111"' in html


def test_the_card_shows_club_status_manager_and_open_orders(world, grid, client_for, make_user):
    from tests.pages.test_pages_club import seed_club

    club = seed_club(world, make_user, lambda **kw: None)
    mine = open_work_order(channel="web", order_type="complaint", customer=world.a).order

    html = (
        client_for(world.agent)
        .get(reverse("desk:orders:new"), {"find": world.a.ref.lower()}, **HTMX)
        .content.decode()
    )

    assert "Club member" in html
    assert 'id="caller-manager"' in html and str(club.dana) in html
    assert mine.number in html
    assert "Blue Bakery" not in html


def test_an_unknown_number_opens_an_anonymous_card_with_its_earlier_calls(world, grid, client_for):
    earlier = open_work_order(
        channel="hotline", order_type="fault", caller_phone="+972509999999"
    ).order

    html = (
        client_for(world.agent)
        .get(reverse("desk:orders:new"), {"find": "050-999-9999"}, **HTMX)
        .content.decode()
    )

    assert "Unknown caller" in html and earlier.number in html
    assert 'value="+972509999999"' in html


def test_a_lookup_that_matches_nothing_says_so(world, grid, client_for):
    html = (
        client_for(world.agent)
        .get(reverse("desk:orders:new"), {"find": "no such thing"})
        .content.decode()
    )
    assert 'id="find-error"' in html and "No customer, site or phone number matches" in html


def test_the_new_orders_page_tells_the_agent_about_the_known_outage(world, grid, client_for):
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)  # the outage
    client = client_for(world.agent)

    response = _intake(client, site_ref=world.a_site.ref)

    page = client.get(response.url).content.decode()
    assert "Tell the caller: a known outage on HF-1 since" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"order_type": "complaint", "subtype": "power_out"}, "subtype", "does not belong"),
        ({"caller_phone": "12"}, "caller_phone", ""),
        ({"caller_email": "not-an-address"}, "caller_email", ""),
        ({"customer_ref": "NOPE"}, "customer_ref", "No customer has this number."),
        ({"order_type": "teleport"}, "order_type", "valid choice"),
        ({"priority": "9"}, "priority", "valid choice"),
        ({"description": "x" * 4001}, "description", "4000"),
    ],
)
def test_bad_intake_input_is_answered_next_to_its_field(
    world, grid, client_for, data, field, message
):
    response = _intake(client_for(world.agent), **data)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}-error"' in html
    assert message in html
    assert WorkOrder.objects.count() == 0


def test_a_site_of_another_customer_is_refused_by_the_service(world, grid, client_for):
    response = _intake(client_for(world.agent), customer_ref=world.a.ref, site_ref=world.b_site.ref)
    assert 'id="id_site_ref-error"' in response.content.decode()
    assert WorkOrder.objects.count() == 0


# The order page: legal actions only, per role; errors next to their form


def _buttons(html: str, form_id: str) -> set[str]:
    import re

    start = html.find(f'id="{form_id}"')
    if start < 0:
        return set()
    form = html[start : html.find("</form>", start)]
    return set(re.findall(r'name="action" value="([a-z_]+)"', form))


def _page(client, order) -> str:
    return client.get(reverse("desk:orders:detail", args=[order.pk])).content.decode()


def _post(client, order, **data):
    return client.post(reverse("desk:orders:detail", args=[order.pk]), data)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], {"accept", "escalate"}),
        (["accept"], {"start", "escalate"}),
        (["accept", "start"], {"resolve", "escalate"}),
        (["accept", "start", "resolve"], {"follow_up", "close", "reopen", "escalate"}),
        (["accept", "start", "resolve", "close"], {"reopen"}),
    ],
)
def test_the_order_page_offers_the_legal_actions_only(world, grid, client_for, steps, expected):
    from voltdesk.workorders.services import claim, transition

    order = open_work_order(channel="hotline", order_type="consultation").order  # no follow-up
    claim(order, world.agent)
    for step in steps:
        order = transition(order, step)

    html = _page(client_for(world.agent), order)

    assert _buttons(html, "action-form") == expected
    assert ('id="duplicate-form"' in html) == (order.status in OPEN_STATUSES)
    assert 'id="dispatch-form"' not in html  # agents do not send crews


def test_the_claim_button_shows_on_unassigned_open_orders_only(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(world.agent)
    assert "claim" in _buttons(_page(client, order), "action-form")

    _post(client, order, action="claim")

    order.refresh_from_db()
    assert order.assignee == world.agent
    assert "claim" not in _buttons(_page(client, order), "action-form")


def test_the_second_claimant_is_told_someone_else_took_it(world, grid, client_for, make_user):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    first, second = client_for(world.agent), client_for(make_user(roles.AGENT))
    html = _page(second, order)  # both see it unassigned
    assert "claim" in _buttons(html, "action-form")

    _post(first, order, action="claim")
    response = _post(second, order, action="claim")

    assert response.status_code == 200
    assert 'id="action-error"' in response.content.decode()
    assert "Someone else took this order first." in response.content.decode()
    order.refresh_from_db()
    assert order.assignee == world.agent


def test_only_dispatchers_send_crews(world, grid, client_for, make_user):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    from voltdesk.workorders.services import transition

    transition(order, "accept")
    agent, dispatcher = client_for(world.agent), client_for(make_user(roles.DISPATCHER))
    assert 'id="dispatch-form"' not in _page(agent, order)
    assert 'id="dispatch-form"' in _page(dispatcher, order)

    refused = _post(agent, order, action="dispatch", crew=grid["crew"].pk)

    assert refused.status_code == 403
    assert WorkOrder.objects.get(pk=order.pk).status == "accepted"


def test_a_read_only_role_sees_the_order_but_cannot_touch_it(world, grid, client_for, make_user):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    reader = client_for(make_user(roles.KNOWLEDGE_EDITOR))

    html = _page(reader, order)

    assert order.number in html
    for form in ("action-form", "dispatch-form", "duplicate-form", "comment-form", "attach-form"):
        assert f'id="{form}"' not in html
    assert _post(reader, order, action="accept").status_code == 403
    assert _post(reader, order, action="comment", body="hi").status_code == 403
    assert WorkOrder.objects.get(pk=order.pk).status == "new"
    assert not order.comments.exists()


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({"action": "close"}, "action-error", "cannot be given the action"),
        ({"action": "teleport"}, "action-error", "Unknown action"),
        ({"action": "dispatch", "crew": "abc"}, "dispatch-error", "Choose a crew."),
        ({"action": "dispatch", "crew": "9" * 30}, "dispatch-error", "Choose a crew."),
        ({"action": "cancel_duplicate", "duplicate_of": "x1"}, "duplicate-error", "x1"),
        ({"action": "cancel_duplicate", "duplicate_of": "9" * 30}, "duplicate-error", "No work"),
        ({"action": "comment", "body": "  "}, "id_body-error", ""),
        ({"action": "attach"}, "attach-error", "Choose a file to attach."),
    ],
)
def test_a_refused_action_is_answered_next_to_its_form(
    world, grid, client_for, make_user, data, where, message
):
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(make_user(roles.DISPATCHER))

    response = _post(client, order, **data)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="{where}"' in html and message in html
    order.refresh_from_db()
    assert order.status == "new" and not order.comments.exists()


def test_a_crew_of_another_area_cannot_be_sent(world, grid, client_for, make_user):
    far = Area.objects.create(region=grid["area"].region, name="Akko", kind="rural")
    stranger = Crew.objects.create(name="Crew Akko", area=far)
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order

    dispatcher = client_for(make_user(roles.DISPATCHER))

    response = _post(dispatcher, order, action="dispatch", crew=stranger.pk)

    assert "Choose a crew." in response.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).crew is None


def test_an_order_is_cancelled_as_a_duplicate_of_another_by_its_number(world, grid, client_for):
    first = open_work_order(channel="hotline", order_type="complaint", customer=world.a).order
    second = open_work_order(channel="web", order_type="complaint", customer=world.a).order
    client = client_for(world.agent)

    itself = _post(client, second, action="cancel_duplicate", duplicate_of=second.number)
    assert "cannot duplicate itself" in itself.content.decode()

    _post(client, second, action="cancel_duplicate", duplicate_of=first.number)

    second.refresh_from_db()
    assert (second.status, second.duplicate_of) == ("cancelled", first)
    assert _buttons(_page(client, second), "action-form") == set()


def test_comments_keep_the_staff_only_flag(world, grid, client_for):
    order = open_work_order(channel="hotline", order_type="complaint", customer=world.a).order
    client = client_for(world.agent)

    _post(client, order, action="comment", body="Call back after 5", internal="on")
    _post(client, order, action="comment", body="We are on it")

    assert list(order.comments.values_list("body", "internal")) == [
        ("Call back after 5", True),
        ("We are on it", False),
    ]
    assert "staff only" in _page(client, order)


def test_files_are_attached_checked_by_their_bytes_and_downloaded(
    world, grid, client_for, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(world.agent)
    fake = SimpleUploadedFile("meter.png", b"MZ not a picture", "image/png")
    photo = SimpleUploadedFile("meter.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32, "image/png")

    refused = client.post(
        reverse("desk:orders:detail", args=[order.pk]), {"action": "attach", "file": fake}
    )
    assert 'id="attach-error"' in refused.content.decode()
    assert "Only PDF, JPEG and PNG" in refused.content.decode()
    client.post(reverse("desk:orders:detail", args=[order.pk]), {"action": "attach", "file": photo})

    kept = order.attachments.get()
    link = reverse("desk:orders:attachment", args=[order.pk, kept.pk])
    assert link in _page(client, order)
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    # Under another order's number the file is not found.
    other = open_work_order(channel="web", order_type="consultation").order
    elsewhere = reverse("desk:orders:attachment", args=[other.pk, kept.pk])
    assert client.get(elsewhere).status_code == 404


def test_deadlines_are_coloured_before_and_after_the_breach(world, grid, client_for):
    from datetime import timedelta

    from django.utils import timezone

    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    deadline = order.deadlines.filter(due_at__isnull=False).first()
    assert deadline is not None, "the il profile times a fault"
    client = client_for(world.agent)
    now = timezone.now()

    assert f'data-clock="{deadline.clock}" data-sla="ok"' in _page(client, order)
    deadline.warn_at, deadline.due_at = now - timedelta(minutes=1), now + timedelta(minutes=14)
    deadline.save()
    assert f'data-clock="{deadline.clock}" data-sla="warning"' in _page(client, order)
    deadline.warn_at, deadline.due_at = now - timedelta(minutes=20), now - timedelta(minutes=5)
    deadline.save()
    html = _page(client, order)
    assert f'data-clock="{deadline.clock}" data-sla="breached"' in html
    assert "text-bg-danger vd-sla" in html


# The queue


def test_the_queue_puts_unassigned_orders_first_with_their_colours(world, grid, client_for):
    from datetime import timedelta

    from django.utils import timezone

    from voltdesk.workorders.models import Deadline
    from voltdesk.workorders.services import claim

    taken = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    claim(taken, world.agent)
    Deadline.objects.filter(work_order=taken).update(due_at=timezone.now() - timedelta(hours=1))
    waiting = open_work_order(channel="hotline", order_type="fault", site=world.b_site).order

    html = client_for(world.agent).get(reverse("desk:orders:queue")).content.decode()

    assert html.index(f'data-order="{waiting.pk}"') < html.index(f'data-order="{taken.pk}"')
    assert f'data-order="{taken.pk}" data-sla="breached"' in html
    assert f'data-order="{waiting.pk}" data-sla="ok"' in html
    row = html[html.index(f'data-order="{waiting.pk}"') :]
    assert 'value="claim"' in row[: row.index("</tr>")]  # claimed from the queue


def test_the_queue_filters_by_status_type_and_scope(world, grid, client_for):
    from voltdesk.workorders.services import claim, transition

    fault = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    ask = open_work_order(channel="web", order_type="consultation", customer=world.b).order
    done = open_work_order(channel="web", order_type="consultation", customer=world.a).order
    for step in ("accept", "start", "resolve", "close"):
        done = transition(done, step)
    claim(ask, world.agent)
    client = client_for(world.agent)

    def listed(**params):
        html = client.get(reverse("desk:orders:queue"), params).content.decode()
        return {o.pk for o in (fault, ask, done) if f'data-order="{o.pk}"' in html}

    assert listed() == {fault.pk, ask.pk}
    assert listed(type="fault") == {fault.pk}
    assert listed(status="closed") == {done.pk}
    assert listed(status="nonsense", type="nonsense", scope="nonsense") == {fault.pk, ask.pk}


# The dispatch board


def test_the_board_lists_field_work_by_area_and_sends_crews_from_there(
    world, grid, client_for, make_user
):
    far = Area.objects.create(region=grid["area"].region, name="Akko", kind="rural")
    Crew.objects.create(name="Crew Akko", area=far)
    repair = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    meter = open_work_order(
        channel="web", order_type="business", subtype="meter_test", area=far
    ).order
    onsite = open_work_order(channel="onsite", order_type="complaint", area=far).order
    question = open_work_order(channel="web", order_type="consultation", area=far).order
    client = client_for(make_user(roles.DISPATCHER))

    html = client.get(reverse("desk:orders:dispatch")).content.decode()

    for shown in (repair, meter, onsite):
        assert f'data-order="{shown.pk}"' in html
    assert f'data-order="{question.pk}"' not in html
    assert html.index("Akko") < html.index("Haifa")  # grouped by area, by name
    haifa_group = html[html.index(f'data-area="{grid["area"].pk}"') :]
    assert "Crew Haifa 1" in haifa_group and "Crew Akko" not in haifa_group.split("</tbody>")[0]
    only_akko = client.get(reverse("desk:orders:dispatch"), {"area": far.pk}).content.decode()
    assert f'data-order="{repair.pk}"' not in only_akko

    sent = client.post(
        reverse("desk:orders:detail", args=[repair.pk]),
        {"action": "dispatch", "crew": grid["crew"].pk, "next": "dispatch"},
    )
    assert sent.url == reverse("desk:orders:dispatch")
    client.post(
        reverse("desk:orders:detail", args=[repair.pk]), {"action": "start", "next": "dispatch"}
    )
    repair.refresh_from_db()
    assert (repair.status, repair.crew) == ("in_progress", grid["crew"])
    assert repair.arrived_at is not None


def test_power_back_twice_changes_nothing_the_second_time(world, grid, client_for, make_user):
    from voltdesk.core.models import AuditEntry

    order = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    client = client_for(make_user(roles.DISPATCHER))
    target = reverse("desk:orders:power_back", args=[order.incident_id])

    client.post(target, {"cause": "Fuse"})
    audit = AuditEntry.objects.count()
    again = client.post(target, {"cause": "Fuse"}, follow=True)

    assert again.status_code == 200
    assert "No open outage." in again.content.decode()
    assert AuditEntry.objects.count() == audit


# The portal


def test_a_business_customer_sees_the_orders_of_all_its_sites(world, grid, client_for):
    second_site = world.a.sites.exclude(pk=world.a_site.pk).get()
    one = open_work_order(channel="hotline", order_type="fault", site=world.a_site).order
    two = open_work_order(channel="hotline", order_type="complaint", site=second_site).order
    anonymous = open_work_order(channel="hotline", order_type="fault", area=grid["area"]).order

    html = client_for(world.a_user).get(reverse("portal:orders")).content.decode()

    assert f'data-order="{one.pk}"' in html and f'data-order="{two.pk}"' in html
    assert f'data-order="{anonymous.pk}"' not in html


def test_the_portal_tells_the_customer_about_an_outage_on_its_feeder(world, grid, client_for):
    open_work_order(channel="hotline", order_type="fault", site=world.b_site)

    html = client_for(world.a_user).get(reverse("portal:orders")).content.decode()

    assert "We already know of an outage in your area" in html and "HF-1" in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"order_type": "fault", "description": ""}, "description"),
        ({"order_type": "consultation", "description": "x"}, "order_type"),  # not offered
        ({"order_type": "fault", "description": "x" * 4001}, "description"),
    ],
)
def test_bad_portal_input_is_answered_next_to_its_field(world, grid, client_for, data, field):
    response = client_for(world.a_user).post(reverse("portal:orders"), data)

    assert response.status_code == 200
    assert f'id="id_{field}-error"' in response.content.decode()
    assert WorkOrder.objects.count() == 0


def test_the_portal_shows_progress_without_the_desks_internal_steps(world, grid, client_for):
    from voltdesk.workorders.services import transition

    order = open_work_order(channel="web", order_type="complaint", customer=world.a).order
    transition(order, "escalate", note="Angry, supervisor to call")
    transition(order, "accept", note="internal: VIP")
    client = client_for(world.a_user)

    html = client.get(reverse("portal:order", args=[order.pk])).content.decode()

    assert "Accepted" in html
    assert "Angry" not in html and "VIP" not in html
    empty = client.post(reverse("portal:order", args=[order.pk]), {"body": " "})
    assert 'id="id_body-error"' in empty.content.decode()


def test_another_customer_can_neither_read_nor_write_to_an_order(world, grid, client_for):
    order = open_work_order(channel="web", order_type="complaint", customer=world.a).order
    intruder = client_for(world.b_user)

    assert intruder.get(reverse("portal:order", args=[order.pk])).status_code == 404
    written = intruder.post(reverse("portal:order", args=[order.pk]), {"body": "hello"})
    assert written.status_code == 404
    assert not order.comments.exists()
