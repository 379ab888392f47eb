"""One-time notices: the PDF in three languages, sending by SMS and e-mail, the public link."""

import datetime as dt
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from tests.knowledge.quality_helpers import publish
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.knowledge import notices
from voltdesk.notifications.models import Message

NOTICE_TEXTS = {
    "en": {
        "question": "New connection: what to bring",
        "answer": "Apply at a service hall or online; a home is connected in 5 working days.",
        "notice": {
            "documents": ["Identity card of the applicant", "Building permit (Form 4)"],
            "fees": ["Connection fee by the size of the supply"],
            "steps": ["Apply", "Site survey", "Pay the fee", "Meter installed"],
            "time_limits": ["Residential: 5 working days"],
        },
    },
    "he": {
        "question": "חיבור חדש: מה להביא",
        "answer": "מגישים בקשה במרכז שירות או באתר; דירה מחוברת תוך 5 ימי עבודה.",
        "notice": {
            "documents": ["תעודת זהות של המבקש", "היתר בנייה (טופס 4)"],
            "fees": ["אגרת חיבור לפי גודל החיבור"],
            "steps": ["הגשת בקשה", "סקר באתר", "תשלום", "התקנת מונה"],
            "time_limits": ["מגורים: 5 ימי עבודה"],
        },
    },
    "zh-hans": {
        "question": "业扩报装一次性告知",
        "answer": "可到营业厅或网上申请，低压居民5个工作日内装表接电。",
        "notice": {
            "documents": ["申请人身份证", "房屋产权证明"],
            "fees": ["按容量收取接电费用"],
            "steps": ["提交申请", "现场勘查", "缴费", "装表接电"],
            "time_limits": ["居民：5个工作日"],
        },
    },
}


@pytest.fixture
def client_for():
    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def notice(make_user):
    return publish(
        make_user(roles.KNOWLEDGE_EDITOR),
        make_user(roles.KNOWLEDGE_EDITOR),
        key="il-notice-new-connection",
        topic="new_connection",
        kind="notice",
        business_kind="new_connection",
        order_types=["business"],
        subtypes=["new_connection"],
        texts=NOTICE_TEXTS,
    )


@pytest.fixture
def agent(make_user):
    return make_user(roles.AGENT)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _link_path(body: str) -> str:
    """The /notice/<token>.pdf path in a message (the public URL may be unset in tests)."""
    match = re.search(r"(/notice/[^\s/]+\.pdf)", body)
    assert match, body
    return match.group(1)


# The PDF


def test_english_pdf_lists_documents_fees_steps_and_time_limits(notice):
    text = _text(notices.render_notice_pdf(notice, "en"))

    assert "New connection: what to bring" in text
    assert "Documents to bring" in text
    assert "Identity card of the applicant" in text and "Building permit (Form 4)" in text
    assert "Connection fee by the size of the supply" in text
    assert "Site survey" in text and "Meter installed" in text
    assert "Residential: 5 working days" in text


def _x_of(pdf: bytes, words: str) -> tuple[float, float]:
    """Where on the first page the text run holding ``words`` starts, and the page width."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    found = []

    def visit(text, cm, tm, font, size):
        if words in text:
            found.append(tm[4] * cm[0] + cm[4])

    page.extract_text(visitor_text=visit)
    return found[0], float(page.mediabox.width)


def test_hebrew_pdf_is_right_to_left_and_its_text_reads_back(notice):
    html = notices.notice_pdf_html(notice.published_version, "he")
    pdf = notices.render_notice_pdf(notice, "he")
    text = _text(pdf)

    assert '<html lang="he" dir="rtl">' in html
    # pypdf gives the runs of a right-to-left line in visual order: look for each run.
    assert "חיבור חדש" in text and "מה להביא" in text
    assert "תעודת זהות של המבקש" in text
    assert "אגרת חיבור לפי גודל החיבור" in text
    assert "התקנת מונה" in text
    x, width = _x_of(pdf, "תעודת זהות של המבקש")
    assert x > width / 2  # the list starts on the right
    x, width = _x_of(notices.render_notice_pdf(notice, "en"), "Identity card of the applicant")
    assert x < width / 2


def test_chinese_pdf_has_the_chinese_texts(notice):
    text = _text(notices.render_notice_pdf(notice, "zh-hans"))

    assert "业扩报装一次性告知" in text
    assert "申请人身份证" in text and "房屋产权证明" in text
    assert "现场勘查" in text


def test_an_answer_article_is_no_notice(make_user):
    answer = publish(
        make_user(roles.KNOWLEDGE_EDITOR), make_user(roles.KNOWLEDGE_EDITOR), key="il-plain"
    )

    with pytest.raises(notices.NoticeError) as err:
        notices.render_notice_pdf(answer, "en")
    assert err.value.field == "article"


# Sending


def test_sms_in_the_customers_language_links_to_the_pdf_without_log_in(
    notice, agent, make_customer, client_for
):
    customer = make_customer(name="Hebrew Speaker", phone="+972501112233", language="he")

    message = notices.send_notice(agent, notice, customer=customer, channel="sms")

    assert (message.channel, message.language, message.address) == ("sms", "he", "+972501112233")
    assert message.template == "knowledge_notice" and message.customer == customer
    assert "חיבור חדש: מה להביא" in message.body
    response = client_for(None).get(_link_path(message.body))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "תעודת זהות של המבקש" in _text(response.content)
    assert AuditEntry.objects.filter(action="knowledge.notice_sent").count() == 1


def test_email_carries_the_whole_notice_and_the_link(notice, agent, make_customer, client_for):
    customer = make_customer(name="上海电机厂", email="buyer@example.cn", language="zh-hans")

    message = notices.send_notice(agent, notice, customer=customer, channel="email")

    assert (message.channel, message.language, message.address) == (
        "email",
        "zh-hans",
        "buyer@example.cn",
    )
    assert "业扩报装一次性告知" in message.subject
    for line in ("申请人身份证", "按容量收取接电费用", "1. 提交申请", "居民：5个工作日"):
        assert line in message.body
    pdf = client_for(None).get(_link_path(message.body))
    assert pdf.status_code == 200
    assert "申请人身份证" in _text(pdf.content)


def test_any_address_and_language_can_be_given(notice, agent):
    message = notices.send_notice(
        agent, notice, channel="email", to="walk-in@example.com", language="en"
    )

    assert (message.address, message.language, message.customer) == (
        "walk-in@example.com",
        "en",
        None,
    )
    assert "Identity card of the applicant" in message.body


def test_sending_refuses_bad_input_naming_the_field(notice, agent, make_customer):
    nobody = make_customer(name="No Phone")
    cases = [
        ({"customer": nobody, "channel": "sms"}, "to"),
        ({"channel": "fax", "to": "+97231234567"}, "channel"),
        ({"channel": "sms", "to": "not a number"}, "to"),
        ({"channel": "sms", "to": "+97231234567", "language": "fr"}, "language"),
        ({"channel": "sms"}, "to"),
    ]
    for kwargs, field in cases:
        with pytest.raises(notices.NoticeError) as err:
            notices.send_notice(agent, notice, **kwargs)
        assert err.value.field == field, kwargs
    assert not Message.objects.exists()


def test_a_tampered_or_expired_link_is_not_found(notice, agent, client_for, monkeypatch):
    message = notices.send_notice(agent, notice, channel="sms", to="+972501112233")
    path = _link_path(message.body)
    token = path[len("/notice/") : -len(".pdf")]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    assert client_for(None).get(f"/notice/{tampered}.pdf").status_code == 404
    assert client_for(None).get("/notice/anything.pdf").status_code == 404
    monkeypatch.setattr(notices, "LINK_MAX_AGE", dt.timedelta(seconds=-1))
    assert client_for(None).get(path).status_code == 404


def test_the_link_shows_the_version_that_was_sent(notice, agent, make_user, client_for):
    from voltdesk.knowledge import services

    message = notices.send_notice(agent, notice, channel="sms", to="+972501112233", language="en")
    editor = notice.owner
    changed = {
        lang: {**text, "notice": {**text["notice"], "fees": ["A new fee"]}}
        for lang, text in NOTICE_TEXTS.items()
    }
    version = services.edit_article(editor, notice, changed, "New fee")
    services.submit_for_review(editor, version)
    services.approve_and_publish(make_user(roles.KNOWLEDGE_EDITOR), version)

    text = _text(client_for(None).get(_link_path(message.body)).content)

    assert "Connection fee by the size of the supply" in text and "A new fee" not in text


# Desk pages


def test_agent_prints_the_pdf_in_a_chosen_language(notice, agent, client_for):
    url = reverse("desk:knowledge:notice_pdf", args=[notice.key])

    response = client_for(agent).get(url, {"language": "zh-hans"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "业扩报装一次性告知" in _text(response.content)
    bad = client_for(agent).get(url, {"language": "klingon"})
    assert bad.status_code == 400
    assert "klingon" in bad.content.decode()
    assert (
        client_for(agent)
        .get(reverse("desk:knowledge:notice_pdf", args=["no-such-notice"]))
        .status_code
        == 404
    )


def test_customer_360_sends_the_notice_by_sms_in_the_customers_language(
    notice, agent, make_customer, client_for
):
    customer = make_customer(name="Dana Cohen", phone="+972501112233", language="he")
    page = reverse("desk:customer", args=[customer.ref])

    html = client_for(agent).get(page).content.decode()
    assert 'id="notice-card"' in html
    assert "+972501112233" in html  # the phone filled in
    assert 'value="he" selected' in html

    response = client_for(agent).post(
        reverse("desk:knowledge:notice_send"),
        {
            "article": notice.key,
            "customer": customer.ref,
            "channel": "sms",
            "phone": customer.phone,
            "email": "",
            "language": "he",
            "next": page,
        },
    )

    assert response.status_code == 302 and response.url == page
    message = Message.objects.get()
    assert (message.customer, message.language, message.address) == (
        customer,
        "he",
        "+972501112233",
    )


def test_print_button_opens_the_pdf_in_the_chosen_language(
    notice, agent, make_customer, client_for
):
    customer = make_customer(name="Dana Cohen", language="he")

    response = client_for(agent).post(
        reverse("desk:knowledge:notice_send"),
        {"article": notice.key, "customer": customer.ref, "language": "he", "print": "1"},
    )

    assert response.status_code == 302
    assert response.url == reverse("desk:knowledge:notice_pdf", args=[notice.key]) + "?language=he"
    assert not Message.objects.exists()


def test_bad_send_form_says_which_field(notice, agent, client_for):
    url = reverse("desk:knowledge:notice_send")

    response = client_for(agent).post(url, {"article": "nope", "channel": "pigeon"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="article"' in html and 'data-field="channel"' in html
    bad_number = client_for(agent).post(url, {"article": notice.key, "channel": "sms", "to": "12"})
    assert bad_number.status_code == 400
    assert 'data-field="to"' in bad_number.content.decode()
    assert not Message.objects.exists()


def test_notice_actions_on_the_article_page_include(notice, agent):
    from django.template import engines
    from django.test import RequestFactory

    request = RequestFactory().get("/desk/knowledge/1/")
    request.user = agent
    template = engines["django"].from_string('{% include "knowledge/notice_actions.html" %}')

    html = template.render({"article": notice}, request)

    assert reverse("desk:knowledge:notice_pdf", args=[notice.key]) + "?language=he" in html
    assert reverse("desk:knowledge:notice_send") in html


def test_customers_and_anonymous_visitors_get_no_desk_notice_routes(
    notice, make_user, make_customer, client_for
):
    customer = make_customer(name="Acme", phone="+972501112233")
    user = make_user(roles.CUSTOMER, customer=customer)
    pdf = reverse("desk:knowledge:notice_pdf", args=[notice.key])
    send = reverse("desk:knowledge:notice_send")

    assert client_for(user).get(pdf).status_code == 403
    assert client_for(user).post(send, {"article": notice.key, "channel": "sms"}).status_code == 403
    assert client_for(None).get(pdf).status_code == 302
    assert not Message.objects.exists()
