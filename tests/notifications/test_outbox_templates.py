"""Messages are rendered in the recipient's language, from the payload, when queued."""

import datetime
from decimal import Decimal

import pytest

from tests.notifications.conftest import tr
from voltdesk.notifications.models import Message
from voltdesk.notifications.services import NotificationError, queue_message, render_message

BILL = {
    "name": "כהן & בניו 有限公司",
    "period": datetime.date(2026, 3, 1),
    "amount": Decimal("1234.5"),
    "currency": "ILS",
    "due_date": datetime.date(2026, 4, 15),
}


@pytest.mark.parametrize(
    ("language", "month", "amount", "due"),
    [
        ("en", "March 2026", "1,234.50", "April 15, 2026"),
        ("he", "מרץ 2026", "1,234.50", "15 באפריל 2026"),
        ("zh-hans", "2026年3月", "1,234.50", "2026年4月15日"),
    ],
)
def test_bill_ready_email_is_rendered_in_the_recipients_language(
    utility, language, month, amount, due
):
    rendered = render_message(
        channel="email", template="bill_ready", language=language, context=BILL
    )

    assert rendered.subject == tr(
        language, "Your electricity bill for %(month)s is ready", month=month
    )
    assert tr(language, "Hello %(name)s,", name="כהן & בניו 有限公司") in rendered.body
    assert (
        tr(
            language,
            "Your electricity bill for %(month)s is %(total)s %(currency)s, due on %(due)s.",
            month=month,
            total=amount,
            currency="ILS",
            due=due,
        )
        in rendered.body
    )
    assert "&amp;" not in rendered.body  # text mail: no HTML escaping


@pytest.mark.parametrize("language", ["en", "he", "zh-hans"])
def test_welcome_sms_is_one_short_text_in_the_recipients_language(utility, language):
    utility.name, utility.service_line = "חברת החשמל 电力", "*103"
    utility.save()

    rendered = render_message(
        channel="sms", template="welcome", language=language, context={"name": "Dana"}
    )

    assert rendered.subject == ""
    assert rendered.body == tr(
        language,
        "Welcome to %(utility_name)s, %(name)s. Questions? Call %(line)s.",
        utility_name="חברת החשמל 电力",
        name="Dana",
        line="*103",
    )


def test_queue_uses_the_customers_language_and_contact_details(utility, make_customer):
    customer = make_customer(email="finance@example.co.il", phone="+972501234567", language="he")

    mail = queue_message(
        channel="email",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="w1",
        customer=customer,
    )
    sms = queue_message(
        channel="sms", template="welcome", payload={"name": "x"}, dedupe_key="w2", customer=customer
    )

    assert (mail.address, mail.language) == ("finance@example.co.il", "he")
    assert (sms.address, sms.language) == ("+972501234567", "he")
    assert mail.subject == tr("he", "Welcome to %(utility_name)s", utility_name=utility.name)
    assert mail.status == "queued" and mail.attempts == 0


def test_queue_falls_back_to_the_utilitys_default_language(utility_cn, make_customer):
    customer = make_customer(email="a@example.cn", language="")

    message = queue_message(
        channel="email",
        template="welcome",
        payload={"name": "x"},
        dedupe_key="k",
        customer=customer,
    )

    assert message.language == "zh-hans"
    assert message.subject == tr(
        "zh-hans", "Welcome to %(utility_name)s", utility_name=utility_cn.name
    )


def test_explicit_address_and_language_win(utility, make_customer):
    customer = make_customer(email="a@example.com", language="he")

    message = queue_message(
        channel="email",
        template="bill_ready",
        payload=BILL,
        dedupe_key="bill:1",
        customer=customer,
        address="clerk@example.com",
        language="en",
    )

    assert (message.address, message.language) == ("clerk@example.com", "en")
    message.refresh_from_db()
    assert message.payload["amount"] == "1234.5"  # kept as JSON for the record


@pytest.mark.parametrize(
    ("channel", "template", "address"),
    [
        ("email", "welcome", "not an address"),
        ("sms", "welcome", "0501234567"),  # not E.164: the country is unknown
        ("sms", "welcome", None),  # the customer has no phone
        ("fax", "welcome", "+972501234567"),
        ("email", "../../settings", "a@example.com"),
        ("email", "no_such_template", "a@example.com"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_queued(
    utility, make_customer, channel, template, address
):
    customer = make_customer(email="", phone="")

    with pytest.raises(Exception) as excinfo:
        queue_message(
            channel=channel,
            template=template,
            payload={"name": "x"},
            dedupe_key="bad",
            customer=customer,
            address=address,
        )

    assert isinstance(excinfo.value, NotificationError) or "TemplateDoesNotExist" in repr(
        excinfo.value
    )
    assert not Message.objects.exists()
