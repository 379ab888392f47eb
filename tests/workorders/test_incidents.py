"""Outage incidents: close reports on one feeder are one outage; power back tells everyone."""

from datetime import timedelta

from django.utils import timezone

from voltdesk.notifications.models import Message
from voltdesk.workorders.incidents import JOIN_WINDOW, known_incident_for, resolve_incident
from voltdesk.workorders.models import Incident, Transition
from voltdesk.workorders.services import open_work_order


def fault(at, **kw):
    return open_work_order(channel="hotline", order_type="fault", created_at=at, **kw)


def test_reports_on_one_feeder_within_the_window_join_one_incident(
    utility, network, make_customer, place
):
    now = timezone.now()
    a, b, c = (make_customer(name=n) for n in ("Ada", "Ben", "Carmel"))
    first = fault(now, site=place(a, "f1"))
    second = fault(now + timedelta(minutes=40), site=place(b, "f1"))
    other_feeder = fault(now + timedelta(minutes=41), site=place(c, "f2"))
    assert first.incident is not None and first.known_incident is None
    assert second.incident == first.incident
    assert second.known_incident == first.incident  # the agent tells the caller
    assert other_feeder.incident != first.incident
    # The window runs from the latest report: 2 h after the second, a new outage.
    later = fault(
        now + timedelta(minutes=40) + JOIN_WINDOW + timedelta(minutes=1), feeder=network["f1"]
    )
    assert later.incident not in (first.incident, None)


def test_without_a_feeder_reports_join_by_area(utility, network):
    now = timezone.now()
    one = fault(now, area=network["village"])
    two = fault(now + timedelta(minutes=5), area=network["village"])
    assert one.incident == two.incident and one.incident.feeder is None


def test_a_caller_from_an_area_with_an_outage_is_told_at_intake(utility, network):
    now = timezone.now()
    outage = fault(now, feeder=network["f1"]).incident
    query = open_work_order(
        channel="hotline", order_type="consultation", area=network["city"], created_at=now
    )
    assert query.known_incident == outage
    assert known_incident_for(area=network["port"]) is None


def test_power_back_resolves_every_report_and_tells_every_caller_in_their_language(
    utility, network, make_customer, place, make_user
):
    from voltdesk.core import roles

    dispatcher = make_user(roles.DISPATCHER)
    now = timezone.now()
    hebrew = make_customer(name="Dana", language="he", phone="+972523456789", email="")
    chinese = make_customer(name="Li", language="zh-hans", phone="+972543456789", email="")
    orders = [
        fault(now, site=place(hebrew, "f1")).order,
        fault(now + timedelta(minutes=3), site=place(chinese, "f1")).order,
        fault(now + timedelta(minutes=4), feeder=network["f1"], caller_phone="052-765-4321").order,
    ]
    incident = orders[0].incident
    assert resolve_incident(incident, actor=dispatcher, cause="Cable fault repaired") == 3

    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_by == dispatcher
    for order in orders:
        order.refresh_from_db()
        # Customers go on to follow-up (a survey); the anonymous caller stays resolved.
        assert order.status in ("resolved", "follow_up")
        assert Transition.objects.filter(work_order=order, action="resolve").count() == 1
    sms = {m.address: m for m in Message.objects.filter(template="power_back")}
    assert set(sms) == {"+972523456789", "+972543456789", "+972527654321"}
    assert sms["+972523456789"].language == "he"
    assert sms["+972543456789"].language == "zh-hans"
    assert orders[0].number in sms["+972523456789"].body
    # The anonymous caller gets the utility's language.
    assert sms["+972527654321"].language == "he"
    assert "החשמל חזר באזורכם" in sms["+972527654321"].body
    # A second "power back" changes nothing and sends nothing.
    assert resolve_incident(incident) == 0
    assert Message.objects.filter(template="power_back").count() == 3
    assert Incident.objects.count() == 1


def test_resolved_orders_of_customers_get_a_survey_and_its_answer_is_kept(
    utility, network, make_customer, place
):
    from voltdesk.keyaccounts.models import SurveyResponse
    from voltdesk.keyaccounts.surveys import answer_survey

    customer = make_customer(email="ops@ada.example")
    order = fault(timezone.now(), site=place(customer, "f1")).order
    resolve_incident(order.incident)
    order.refresh_from_db()
    assert order.status == "follow_up"
    survey = SurveyResponse.objects.get(work_order_ref=order.number)
    answer_survey(survey.token, csat=4, nps=9)
    order.refresh_from_db()
    assert order.satisfaction == 4
