"""Auto-classification: training on the utility's history, evaluation on held-out
orders, suggestions while the agent types, the classifier page and "train now"."""

import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from voltdesk.analytics import classifier
from voltdesk.analytics.models import ClassifierModel
from voltdesk.core import roles
from voltdesk.core.models import AuditEntry
from voltdesk.workorders.models import WorkOrder

from .classifier_history import ENGLISH, history_rows, phrases, vary

CLASSIFY = reverse("desk:analytics:classify")
PAGE = reverse("desk:analytics:classifier")
INTAKE = reverse("desk:orders:new")
HTMX = {"HX-Request": "true"}


def add_orders(rows) -> None:
    WorkOrder.objects.bulk_create(
        WorkOrder(
            channel="hotline",
            order_type=order_type,
            subtype=subtype,
            description=text,
            status="closed",
            created_at=created,
            external_ref="test",
        )
        for created, order_type, subtype, text in rows
    )


def import_csv(tmp_path, rows) -> None:
    """Orders through ``voltdesk import_workorders``, as another system's history comes in."""
    path = tmp_path / "history.csv"
    lines = ["created_at,closed_at,channel,type,subtype,description,area,customer_ref,site_ref"]
    for created, order_type, subtype, text in rows:
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(f"{created.isoformat()},,hotline,{order_type},{subtype},{quoted},,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_workorders", str(path), stdout=io.StringIO())


@pytest.fixture(autouse=True)
def fresh_cache():
    classifier._loaded.clear()
    yield
    classifier._loaded.clear()


_trained: dict = {}


@pytest.fixture
def history(utility, tmp_path):
    """1,500 orders in the desk (Hebrew, Chinese, English) and 300 imported from a CSV."""
    rows = history_rows(1800, seed=7)
    add_orders(rows[:1500])
    import_csv(tmp_path, rows[1500:])
    assert WorkOrder.objects.count() == 1800
    return rows


@pytest.fixture
def model(history):
    """The classifier trained on ``history`` (trained once; its bytes reused by later tests)."""
    if "model" not in _trained:
        trained = classifier.train_classifier()
        _trained["model"] = {
            f: getattr(trained, f)
            for f in ("orders_trained", "orders_held_out", "macro_f1_type", "macro_f1_subtype")
        } | {"report": trained.report, "pipeline": bytes(trained.pipeline)}
        return trained
    return ClassifierModel.objects.create(**_trained["model"])


# Training and evaluation


def test_training_learns_the_history_and_evaluates_on_held_out_orders(model):
    report = model.report

    assert model.is_active
    assert model.orders_trained == 1800  # the stored model learns from every order
    # Each type's newest 20 % is held out: the per-class supports add up to them.
    assert model.orders_held_out == sum(row["support"] for row in report["type"]["classes"])
    assert 0.18 * 1800 <= model.orders_held_out <= 0.22 * 1800
    assert report["orders_trained_for_evaluation"] + model.orders_held_out == 1800
    assert {row["label"] for row in report["type"]["classes"]} == {
        "fault",
        "consultation",
        "business",
        "complaint",
        "suggestion",
    }
    assert model.macro_f1_type > 0.9
    assert model.macro_f1_subtype > 0.8
    assert report["rare_types"] == {} and report["rare_subtypes"] == {}
    confusion = report["type"]["confusion"]
    assert sum(map(sum, confusion["matrix"])) == model.orders_held_out
    assert AuditEntry.objects.filter(action="classifier.train", object_id=str(model.pk)).exists()


def test_held_out_orders_are_each_types_newest(utility):
    rows = history_rows(300, seed=3)
    history = classifier.History(
        created=[r[0] for r in rows],
        types=[r[1] for r in rows],
        subtypes=[r[2] for r in rows],
        texts=[r[3] for r in rows],
    )
    train, test = classifier.held_out_split(history, list(range(len(rows))), 0.2)

    assert sorted(train + test) == list(range(300))
    for order_type in {r[1] for r in rows}:
        trained = [history.created[i] for i in train if history.types[i] == order_type]
        held = [history.created[i] for i in test if history.types[i] == order_type]
        assert max(trained) < min(held)
        assert len(held) == round((len(trained) + len(held)) * 0.2)


def test_macro_f1_is_measured_on_held_out_texts_the_model_never_saw(utility):
    """Each type's older 40 orders say what the type is about; its newest 10 (the held-out
    ones) say what the next type is about, words the model only learnt for that other
    type. Scored on what it learnt from, the model would be perfect; on the held-out
    orders every prediction is wrong, so macro-F1 is 0."""
    types = ["fault", "consultation", "business", "complaint", "suggestion"]
    english = {
        t: [text for (ot, _s), texts in ENGLISH.items() if ot == t for text in texts] for t in types
    }
    rows = []
    rng = random.Random(5)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for k, order_type in enumerate(types):
        other = types[(k + 1) % len(types)]
        for i in range(50):
            said = english[order_type] if i < 40 else english[other]
            day = i if i < 40 else 300 + i  # the held-out ones are the newest
            rows.append(
                (
                    start + timedelta(days=day, minutes=k),
                    order_type,
                    "",
                    vary(rng.choice(said), "en", rng),
                )
            )
    add_orders(rows)

    model = classifier.train_classifier()

    assert model.orders_held_out == 50
    assert model.macro_f1_type == 0.0
    assert model.report["type"]["accuracy"] == 0.0
    assert model.macro_f1_subtype is None  # no subtypes in this history


def test_too_few_orders_are_refused_clearly(utility):
    add_orders(history_rows(20, seed=1))

    with pytest.raises(classifier.ClassifierError) as refused:
        classifier.train_classifier()

    assert "Only 20 work orders have a description and a type" in refused.value.message
    assert "at least 30" in refused.value.message
    assert not ClassifierModel.objects.exists()
    with pytest.raises(CommandError, match="orders: Only 20 work orders"):
        call_command("train_classifier", stdout=io.StringIO())


def test_a_history_of_one_type_is_refused(utility):
    add_orders([row for row in history_rows(400, seed=2) if row[1] == "fault"][:60])
    add_orders([row for row in history_rows(400, seed=2) if row[1] == "complaint"][:3])

    with pytest.raises(classifier.ClassifierError, match="only one type with at least 5 orders"):
        classifier.train_classifier()
    assert not ClassifierModel.objects.exists()


def test_rare_types_and_subtypes_are_not_learnt_and_are_listed(utility):
    rows = [row for row in history_rows(900, seed=4) if row[1] != "suggestion"]
    add_orders(rows)
    last = rows[-1][0]
    add_orders([(last, "suggestion", "praise", "Thank you so much for the quick repair")] * 3)
    add_orders([(last, "complaint", "rude_agent", "The agent was very rude to me")] * 4)

    model = classifier.train_classifier()

    assert model.report["rare_types"] == {"suggestion": 3}
    assert model.report["rare_subtypes"] == {"complaint/rude_agent": 4}
    suggestion = classifier.suggest("Thank you so much for the quick repair")
    assert suggestion.order_type != "suggestion"
    assert all(c.subtype != "rude_agent" for c in suggestion.alternatives)


def test_the_options_are_checked(utility):
    with pytest.raises(classifier.ClassifierError, match="held-out share"):
        classifier.train_classifier(test_share=0.9)
    with pytest.raises(CommandError, match="--since 'yesterday' is not a date"):
        call_command("train_classifier", "--since", "yesterday", stdout=io.StringIO())


def test_the_command_prints_the_evaluation_and_activates_the_model(history):
    old = ClassifierModel.objects.create(pipeline=b"x", report={"state": "done"})
    out = io.StringIO()

    call_command("train_classifier", "--max-orders", "900", "--since", "2025-01-01", stdout=out)

    text = out.getvalue()
    assert "Read 900 orders" in text
    assert "Macro-F1 on 180 held-out orders: type" in text
    assert "fault/power_out" in text
    new = ClassifierModel.objects.get(is_active=True)
    assert new.orders_trained == 900
    # The newest 900 orders: the imported ones are among them.
    assert new.report["history_until"].startswith(history[-1][0].date().isoformat())
    old.refresh_from_db()
    assert not old.is_active


# Suggestions


@pytest.mark.parametrize(
    "text,order_type,subtype",
    [
        ("家里停电了，整栋楼都没电", "fault", "power_out"),
        ("אין חשמל בכל הבניין מהבוקר", "fault", "power_out"),
        ("I was charged twice this month", "complaint", "complaint"),
        ("申请校验电表，读数不对", "business", "meter_test"),
        ("מתי יחזור החשמל אצלנו?", "consultation", "outage_query"),
        ("Please transfer the account to the new tenant", "business", "name_transfer"),
    ],
)
def test_suggestions_in_chinese_hebrew_and_english(model, text, order_type, subtype):
    suggestion = classifier.suggest(text)

    assert (suggestion.order_type, suggestion.subtype) == (order_type, subtype)
    assert 0 < suggestion.confidence <= suggestion.type_confidence <= 1
    assert len(suggestion.alternatives) == 3
    assert suggestion.alternatives[0] == suggestion.best
    assert suggestion.model_id == model.pk


def test_no_model_or_a_short_text_suggests_nothing(utility):
    assert classifier.suggest("no power at all") is None
    with pytest.raises(classifier.ClassifierError, match="at most 4000"):
        classifier.suggest("x" * 4001)


def test_a_newer_model_replaces_the_cached_one(model, monkeypatch):
    loads = []
    real_load = classifier._load
    monkeypatch.setattr(classifier, "_load", lambda blob: loads.append(1) or real_load(blob))

    assert classifier.suggest("No power in the house").model_id == model.pk
    assert classifier.suggest("Power cut on our street").model_id == model.pk
    assert len(loads) == 1  # loaded once per process

    newer = ClassifierModel.objects.create(
        pipeline=bytes(model.pipeline), report=model.report, is_active=True
    )
    ClassifierModel.objects.filter(pk=model.pk).update(is_active=False)

    assert classifier.suggest("No power in the house").model_id == newer.pk
    assert len(loads) == 2


# The intake form's fragment


@pytest.fixture
def agent(client, make_user):
    client.force_login(make_user(roles.AGENT))
    return client


def test_the_agent_sees_the_suggestion_beside_the_description(model, agent):
    page = agent.get(INTAKE).content.decode()
    assert 'id="type-suggestion"' in page
    assert f'hx-get="{CLASSIFY}"' in page
    assert 'hx-include="#id_description"' in page

    response = agent.get(CLASSIFY, {"description": "No power in the whole street"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Looks like:" in html
    assert "Fault repair › No power" in html
    assert 'data-apply-type="fault" data-apply-subtype="power_out"' in html


def test_the_suggestion_speaks_the_agents_language(model, agent):
    html = agent.get(
        CLASSIFY, {"description": "家里停电了"}, headers={**HTMX, "accept-language": "he"}
    ).content.decode()

    assert "תיקון תקלה › אין חשמל" in html  # Fault repair › No power
    assert "<bdi>" in html  # the percentage keeps its order in right-to-left text


def test_nothing_shown_without_a_model_or_for_a_short_text(utility, agent):
    response = agent.get(CLASSIFY, {"description": "No power in the house"})
    assert response.status_code == 200
    assert "Looks like" not in response.content.decode()
    assert "Looks like" not in agent.get(CLASSIFY, {"description": "no"}).content.decode()


def test_too_long_a_text_is_refused_with_a_message(utility, agent):
    response = agent.get(CLASSIFY, {"description": "停" * 4001})

    assert response.status_code == 400
    assert "4001 characters long; at most 4000" in response.content.decode()


def test_customers_and_anonymous_visitors_get_no_suggestion(
    model, client, make_user, make_customer
):
    response = client.get(CLASSIFY, {"description": "No power"})
    assert response.status_code == 302 and "login" in response["Location"]

    client.force_login(make_user(roles.CUSTOMER, customer=make_customer()))
    assert client.get(CLASSIFY, {"description": "No power"}).status_code == 403
    assert client.get(PAGE).status_code == 403


# The classifier page and "train now"


@pytest.fixture
def supervisor(client, make_user):
    client.force_login(make_user(roles.SUPERVISOR))
    return client


def test_the_supervisor_reads_the_evaluation(model, supervisor):
    html = supervisor.get(PAGE).content.decode()

    assert "Work-order classifier" in html
    assert 'id="type-macro-f1"' in html
    assert f"{model.macro_f1_type * 100:.1f}" in html
    assert "Fault repair › No power" in html  # a subtype row
    assert "Confusion matrix" in html
    assert f'id="orders-held-out">{model.orders_held_out}' in html
    assert "Train now" in html


def test_train_now_runs_the_task_and_activates_the_new_model(
    history, supervisor, django_capture_on_commit_callbacks
):
    old = ClassifierModel.objects.create(pipeline=b"x", report={"state": "done"})

    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor.post(PAGE)

    assert response.status_code == 302
    new = ClassifierModel.objects.get(is_active=True)
    assert new.pk != old.pk and new.orders_trained == 1800
    assert new.report["state"] == "done"
    html = supervisor.get(PAGE).content.decode()
    assert "Training started" in html
    assert 'id="training-state"' not in html  # done: the page no longer polls


def test_a_queued_training_shows_and_blocks_a_second_one(utility, supervisor):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("voltdesk.analytics.tasks.train_classifier_task.delay", lambda pk: None)
        supervisor.post(PAGE)
        supervisor.post(PAGE)

    assert ClassifierModel.objects.count() == 1  # the second click queued nothing
    html = supervisor.get(PAGE).content.decode()
    assert 'id="training-state"' in html and "Training queued" in html
    assert 'hx-trigger="every 5s"' in html
    assert "A training is already under way" in html


def test_a_failed_training_says_why(utility, supervisor, django_capture_on_commit_callbacks):
    add_orders(history_rows(10, seed=9))

    with django_capture_on_commit_callbacks(execute=True):
        supervisor.post(PAGE)

    run = ClassifierModel.objects.get()
    assert run.report["state"] == "failed" and not run.is_active
    html = supervisor.get(PAGE).content.decode()
    assert "Only 10 work orders have a description and a type" in html
    assert 'id="no-model"' in html


def test_the_task_does_a_run_only_once(history):
    from voltdesk.analytics.tasks import train_classifier_task

    run = ClassifierModel.objects.create(is_active=False, pipeline=b"", report={"state": "queued"})
    first = train_classifier_task.apply(args=[run.pk]).get()
    again = train_classifier_task.apply(args=[run.pk]).get()

    assert first == {"run": run.pk, "state": "done"}
    assert again is None
    assert ClassifierModel.objects.count() == 1


def test_agents_may_not_see_the_page_nor_train(utility, agent):
    assert agent.get(PAGE).status_code == 403
    assert agent.post(PAGE).status_code == 403
    assert not ClassifierModel.objects.exists()


def test_phrases_cover_every_language(utility):
    # The test history's banks: the demo's Hebrew and Chinese phrases, and English.
    for language in ("il", "cn", "en"):
        assert len(phrases(language)) == 16
