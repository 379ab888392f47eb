"""Answers beside the work-order form while the agent types, and "use this answer"."""

import pytest
from django.urls import reverse

from voltdesk.core import roles
from voltdesk.knowledge import search, services
from voltdesk.knowledge.models import Article

from .test_search import HIGH_BILL, METER_TEST, OUTAGE_SMS

SUGGEST = reverse("desk:knowledge:suggest")
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fresh_index():
    search.reset_index()
    yield
    search.reset_index()


@pytest.fixture
def articles(utility):
    services.load_articles([HIGH_BILL, METER_TEST, OUTAGE_SMS])
    services.load_articles([{**OUTAGE_SMS, "key": "outage-draft"}], publish=False)
    return {a.key: a for a in Article.objects.all()}


@pytest.fixture
def agent_client(client, make_user):
    client.force_login(make_user(roles.AGENT))
    return client


def test_the_agent_sees_the_answers_for_what_the_caller_says(articles, agent_client):
    response = agent_client.get(SUGGEST, {"q": "my electricity bill is too hi"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Why is my electricity bill so high?" in html  # the question
    assert "A high bill usually follows an estimated reading" in html  # the script to read
    article_url = reverse("desk:knowledge:article", args=[articles["bill-high"].pk])
    assert f'href="{article_url}"' in html
    assert reverse("desk:knowledge:use", args=[articles["bill-high"].pk]) in html
    assert "Use this answer" in html
    assert html.index('id="suggestion-bill-high"') == html.index('id="suggestion-')  # first


def test_answers_come_in_the_agents_language(articles, client, make_user):
    client.force_login(make_user(roles.AGENT))

    html = client.get(
        SUGGEST, {"q": "meter test"}, headers={**HTMX, "accept-language": "he"}
    ).content.decode()

    assert "איך מבקשים בדיקת מונה?" in html
    assert "How do I ask for a meter test?" not in html


def test_the_work_order_type_comes_first(articles, agent_client):
    """Both answers mention a meter; the meter test is for business orders, the bill is not."""
    html = agent_client.get(SUGGEST, {"q": "meter", "type": "business"}).content.decode()

    assert html.index("meter-test") < html.index("bill-high")


def test_nothing_typed_nothing_found(articles, agent_client):
    assert "Answers appear here" in agent_client.get(SUGGEST).content.decode()
    html = agent_client.get(SUGGEST, {"q": "zebra crossing"}).content.decode()
    assert "No answer in the knowledge base matches yet." in html


def test_a_draft_is_never_suggested(articles, agent_client):
    html = agent_client.get(SUGGEST, {"q": "planned outage"}).content.decode()

    assert "outage-sms" in html
    assert "outage-draft" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "bill", "type": "lunch"}, "type: lunch is not a work-order type"),
        ({"q": "x" * 4001}, "q: the text is 4001 characters long; at most 4000"),
    ],
)
def test_bad_input_is_named(articles, agent_client, params, message):
    response = agent_client.get(SUGGEST, params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_using_an_answer_counts_it(articles, agent_client):
    article = articles["meter-test"]

    response = agent_client.post(reverse("desk:knowledge:use", args=[article.pk]), headers=HTMX)

    assert response.status_code == 200
    assert "Used" in response.content.decode()
    article.refresh_from_db()
    assert article.usage_count == 1


def test_using_an_answer_without_htmx_goes_to_the_article(articles, agent_client):
    article = articles["meter-test"]

    response = agent_client.post(reverse("desk:knowledge:use", args=[article.pk]))

    assert response.status_code == 302
    assert response.url == reverse("desk:knowledge:article", args=[article.pk])


def test_a_draft_cannot_be_used(articles, agent_client):
    draft = articles["outage-draft"]

    response = agent_client.post(reverse("desk:knowledge:use", args=[draft.pk]), headers=HTMX)

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.usage_count == 0


def test_customers_get_nothing(articles, client, make_user, make_customer):
    client.force_login(make_user(roles.CUSTOMER, customer=make_customer()))

    assert client.get(SUGGEST, {"q": "bill"}).status_code == 403
    use = reverse("desk:knowledge:use", args=[articles["bill-high"].pk])
    assert client.post(use).status_code == 403
    assert Article.objects.get(key="bill-high").usage_count == 0


def test_the_intake_form_asks_for_answers_while_typing(articles, agent_client):
    html = agent_client.get(reverse("desk:orders:new")).content.decode()

    assert f'hx-get="{SUGGEST}"' in html
    assert 'hx-trigger="input changed delay:250ms, change from:#id_order_type"' in html
    assert 'id="knowledge-suggestions"' in html
