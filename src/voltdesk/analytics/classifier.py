"""Work-order auto-classification: type and subtype suggested from what the caller says.

* ``train_classifier``: learns from the utility's own history (work orders with a
  description and a type, the newest ``max_orders`` of them), evaluates on
  held-out orders, refits on all of them and stores the fitted pipeline as the
  one active ``ClassifierModel`` (older ones are deactivated).
* ``request_training`` / ``run_training``: the same from the desk's "train now"
  button, through a Celery task; the run's row says queued, running or failed
  until the model is ready.
* ``suggest``: the type, subtype and confidence for a text, with the top three
  alternatives; the model is loaded once per process and reloaded when a newer
  one is active.

How it learns: TF-IDF over character n-grams (1-4, within words: they work for
Chinese, Hebrew and English without tokenisers or dictionaries) and word
unigrams and bigrams, then a multinomial logistic regression for the type and,
per type, another one for its subtypes. Confidence is P(type) x P(subtype | type).

How it is evaluated: each type's newest ``test_share`` of orders is held out
(stratified by type, and in time: the model is tested on calls newer than the
ones it learnt from, as it will meet tomorrow's calls). Macro-F1, per-class
precision / recall / F1 / support and the confusion matrix are computed on
those held-out orders only; the subtype is scored end to end (a wrong type
makes the subtype wrong). Types and subtypes with fewer than
``MIN_CLASS_ORDERS`` orders are "rare": they are not learnt (never suggested)
and the report lists them.

The pipeline is pickled into the database by this module and only these bytes
are ever unpickled: nothing from outside is loaded.
"""

import pickle
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voltdesk.core.services import log_action, utility_zone
from voltdesk.workorders.choices import OrderType, Subtype
from voltdesk.workorders.models import WorkOrder

from .models import ClassifierModel

MAX_ORDERS = 300_000  # the newest orders are read; older habits matter less
TEST_SHARE = 0.2
MIN_ORDERS = 30  # fewer and the evaluation says nothing
MIN_CLASS_ORDERS = 5  # a type or subtype seen less often is "rare": not learnt
MIN_TEXT = 3  # characters: "停电了" is enough, "no" is not
MAX_TEXT = 4000  # the intake form's description
READ_CHUNK = 10_000
TOP = 3
FORMAT = 1  # of the pickled pipeline; a newer code refuses an older format
STALE_AFTER = timedelta(hours=6)  # a queued or running training older than this is abandoned

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class ClassifierError(ValueError):
    """Training or a suggestion refused; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Choice:
    order_type: str
    subtype: str  # empty when the type has no learnt subtype
    confidence: float

    @property
    def type_label(self) -> str:
        return type_label(self.order_type)

    @property
    def subtype_label(self) -> str:
        return subtype_label(self.subtype) if self.subtype else ""

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


@dataclass(frozen=True)
class Suggestion:
    """The most likely type (and its most likely subtype), and the top three pairs."""

    best: Choice
    type_confidence: float
    alternatives: list[Choice]
    model_id: int

    @property
    def order_type(self) -> str:
        return self.best.order_type

    @property
    def subtype(self) -> str:
        return self.best.subtype

    @property
    def confidence(self) -> float:
        return self.best.confidence


def type_label(code: str) -> str:
    return str(OrderType(code).label) if code in OrderType.values else code


def subtype_label(code: str) -> str:
    # Imported history may carry its own codes: shown as they are.
    return str(dict(Subtype.choices).get(code, code))


# Reading the history


@dataclass
class History:
    """The orders to learn from, oldest first."""

    created: list[datetime] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    subtypes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def read_history(*, since: date | None = None, max_orders: int = MAX_ORDERS) -> History:
    """The newest ``max_orders`` orders with a description and a known type.

    Read as plain tuples in chunks (never whole ORM objects), so 300,000 orders
    fit in memory with room to spare.
    """
    orders = WorkOrder.objects.exclude(description="").filter(order_type__in=OrderType.values)
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), tzinfo=utility_zone())
        orders = orders.filter(created_at__gte=start)
    rows = orders.order_by("-created_at", "-pk").values_list(
        "created_at", "order_type", "subtype", "description"
    )[:max_orders]
    history = History()
    for created, order_type, subtype, text in rows.iterator(chunk_size=READ_CHUNK):
        text = text.strip()[:MAX_TEXT]
        if not text:
            continue
        history.created.append(created)
        history.types.append(order_type)
        history.subtypes.append(subtype.strip())
        history.texts.append(text)
    for column in (history.created, history.types, history.subtypes, history.texts):
        column.reverse()
    return history


# Fitting


def _one_thread():
    """BLAS and OpenMP on one thread: these models are small, and on a busy machine
    (web workers, Celery) extra threads only wait for each other; measured 20x
    slower with two threads under load."""
    if not _controller:
        from threadpoolctl import ThreadpoolController

        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1)


def _features(rows: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    # On a small history every n-gram counts; on a large one, one-off n-grams are noise.
    min_df = 2 if rows >= 1000 else 1
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 4),
                    min_df=min_df,
                    max_features=60_000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    token_pattern=r"(?u)\b\w+\b",
                    min_df=min_df,
                    max_features=20_000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def _linear(labels):
    """A probabilistic linear model, or the one label when there is only one."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2:
        return labels[0]
    # Balanced weights: a small type counts as much as faults in the macro average.
    return LogisticRegression(C=4.0, max_iter=300, class_weight="balanced")


def _fit(texts, types, subtypes, learnt_subtypes) -> dict:
    """The pipeline: features, the type model and each type's subtype model."""
    features = _features(len(texts))
    try:
        matrix = features.fit_transform(texts)
    except ValueError as exc:  # no n-gram at all (e.g. only punctuation)
        raise ClassifierError(
            "description", _("The descriptions hold no words to learn from.")
        ) from exc
    type_model = _linear(types)
    if not isinstance(type_model, str):
        type_model.fit(matrix, types)
    rows_of = defaultdict(list)
    for i, (order_type, subtype) in enumerate(zip(types, subtypes, strict=True)):
        if (order_type, subtype) in learnt_subtypes:
            rows_of[order_type].append(i)
    subtype_models = {}
    for order_type, rows in rows_of.items():
        labels = [subtypes[i] for i in rows]
        model = _linear(labels)
        if not isinstance(model, str):
            model.fit(matrix[rows], labels)
        subtype_models[order_type] = model
    return {
        "format": FORMAT,
        "features": features,
        "types": type_model,
        "subtypes": subtype_models,
    }


def _distribution(model, matrix) -> list[dict[str, float]]:
    if isinstance(model, str):
        return [{model: 1.0} for _row in range(matrix.shape[0])]
    probabilities = model.predict_proba(matrix)
    return [dict(zip(model.classes_, row, strict=True)) for row in probabilities.tolist()]


def _labels(model, matrix) -> list[str]:
    if isinstance(model, str):
        return [model] * matrix.shape[0]
    return [str(label) for label in model.predict(matrix)]


def _predict(pipeline: dict, texts: list[str]) -> list[tuple[str, str]]:
    """The most likely type and, within it, the most likely subtype, for each text."""
    matrix = pipeline["features"].transform(texts)
    types = _labels(pipeline["types"], matrix)
    subtypes = [""] * len(texts)
    rows_of = defaultdict(list)
    for i, order_type in enumerate(types):
        rows_of[order_type].append(i)
    for order_type, rows in rows_of.items():
        model = pipeline["subtypes"].get(order_type)
        if model is None:
            continue
        for i, subtype in zip(rows, _labels(model, matrix[rows]), strict=True):
            subtypes[i] = subtype
    return list(zip(types, subtypes, strict=True))


# Evaluating


def _scores(truth: list[str], predicted: list[str]) -> dict:
    """Macro-F1 over the classes held-out orders really have, the per-class table and
    the confusion matrix (rows: true class, columns: predicted)."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    if not truth:
        return {"macro_f1": None, "accuracy": None, "classes": [], "confusion": {}}
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    matrix_labels = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=matrix_labels)
    return {
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro")),
        "accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth),
        "classes": [
            {
                "label": label,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        ],
        "confusion": {"labels": matrix_labels, "matrix": matrix.tolist()},
    }


def held_out_split(history: History, types: list[int], test_share: float) -> tuple[list, list]:
    """Row numbers (of ``types``' rows) to train on and to hold out: each type's newest share.

    Rows are oldest first, so a type's last rows are its newest orders.
    """
    by_type = defaultdict(list)
    for i in types:
        by_type[history.types[i]].append(i)
    train, test = [], []
    for rows in by_type.values():
        held = max(1, round(len(rows) * test_share))
        train += rows[:-held]
        test += rows[-held:]
    return sorted(train), sorted(test)


def _subtype_key(order_type: str, subtype: str) -> str:
    return f"{order_type}/{subtype}"


def evaluate(history: History, *, test_share: float = TEST_SHARE) -> tuple[dict, set, list]:
    """Train on the older orders of each type, score on its newest ones.

    Returns the report, the (type, subtype) pairs that are learnt and the rows'
    numbers that are learnt at all (not of a rare type).
    """
    if len(history) < MIN_ORDERS:
        raise ClassifierError(
            "orders",
            _(
                "Only %(count)s work orders have a description and a type; at least "
                "%(min)s are needed to train and evaluate a classifier."
            )
            % {"count": len(history), "min": MIN_ORDERS},
        )
    type_counts = Counter(history.types)
    rare_types = {t: n for t, n in type_counts.items() if n < MIN_CLASS_ORDERS}
    learnt_types = sorted(set(type_counts) - set(rare_types))
    if len(learnt_types) < 2:
        raise ClassifierError(
            "orders",
            _(
                "The history has only one type with at least %(min)s orders (%(types)s): "
                "a classifier needs at least two to choose between."
            )
            % {
                "min": MIN_CLASS_ORDERS,
                "types": ", ".join(type_label(t) for t in learnt_types) or "–",
            },
        )
    rows = [i for i, t in enumerate(history.types) if t not in rare_types]
    pair_counts = Counter(
        (history.types[i], history.subtypes[i]) for i in rows if history.subtypes[i]
    )
    learnt_subtypes = {pair for pair, n in pair_counts.items() if n >= MIN_CLASS_ORDERS}
    rare_subtypes = {
        _subtype_key(*pair): n for pair, n in pair_counts.items() if n < MIN_CLASS_ORDERS
    }
    train, test = held_out_split(history, rows, test_share)

    def column(values, picked):
        return [values[i] for i in picked]

    with _one_thread():
        pipeline = _fit(
            column(history.texts, train),
            column(history.types, train),
            column(history.subtypes, train),
            learnt_subtypes,
        )
        predicted = _predict(pipeline, column(history.texts, test))
    type_truth = column(history.types, test)
    # Like rare types, rare subtypes are left out of the score: the report lists them.
    subtype_rows = [
        k for k, i in enumerate(test) if (history.types[i], history.subtypes[i]) in learnt_subtypes
    ]
    subtype_truth = [
        _subtype_key(history.types[test[k]], history.subtypes[test[k]]) for k in subtype_rows
    ]
    subtype_predicted = [_subtype_key(*predicted[k]) for k in subtype_rows]
    report = {
        "state": DONE,
        "format": FORMAT,
        "orders_read": len(history),
        "orders_trained_for_evaluation": len(train),
        "orders_held_out": len(test),
        "test_share": test_share,
        "split": "newest share of each type",
        "history_from": history.created[0].isoformat(),
        "history_until": history.created[-1].isoformat(),
        "held_out_from": min(history.created[i] for i in test).isoformat(),
        "min_class_orders": MIN_CLASS_ORDERS,
        "rare_types": rare_types,
        "rare_subtypes": rare_subtypes,
        "type": _scores(type_truth, [t for t, _s in predicted]),
        "subtype": _scores(subtype_truth, subtype_predicted),
    }
    return report, learnt_subtypes, rows


def _dump(pipeline: dict) -> bytes:
    return zlib.compress(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL), 6)


def _load(blob) -> dict:
    # Only bytes this module wrote into ClassifierModel.pipeline are ever unpickled.
    pipeline = pickle.loads(zlib.decompress(bytes(blob)))  # noqa: S301
    if pipeline.get("format") != FORMAT:
        raise ClassifierError("pipeline", _("This classifier was stored in an older format."))
    return pipeline


def train_classifier(
    *,
    since: date | None = None,
    max_orders: int = MAX_ORDERS,
    test_share: float = TEST_SHARE,
    trained_by=None,
    progress: Callable[[str], None] | None = None,
    run: ClassifierModel | None = None,
) -> ClassifierModel:
    """Train, evaluate and store a classifier; it becomes the one active model.

    Refused (``ClassifierError``, nothing stored) with too few orders, only one
    type, or options out of range.
    """
    say = progress or (lambda message: None)
    if not 0 < test_share <= 0.5:
        raise ClassifierError(
            "test_share", _("The held-out share must be above 0 and at most 0.5.")
        )
    if max_orders < MIN_ORDERS:
        raise ClassifierError(
            "max_orders", _("At least %(min)s orders are needed.") % {"min": MIN_ORDERS}
        )
    started = time.perf_counter()
    history = read_history(since=since, max_orders=max_orders)
    read_seconds = time.perf_counter() - started
    say(
        _("Read %(count)s orders in %(seconds)s s.")
        % {"count": len(history), "seconds": f"{read_seconds:.1f}"}
    )
    report, learnt_subtypes, rows = evaluate(history, test_share=test_share)
    evaluate_seconds = time.perf_counter() - started - read_seconds
    say(
        _("Held out %(count)s orders; evaluated in %(seconds)s s.")
        % {"count": report["orders_held_out"], "seconds": f"{evaluate_seconds:.1f}"}
    )
    # The stored model learns from every order, the held-out ones too: they are the newest.
    with _one_thread():
        pipeline = _fit(
            [history.texts[i] for i in rows],
            [history.types[i] for i in rows],
            [history.subtypes[i] for i in rows],
            learnt_subtypes,
        )
    blob = _dump(pipeline)
    fit_seconds = time.perf_counter() - started - read_seconds - evaluate_seconds
    say(
        _("Fitted on %(count)s orders in %(seconds)s s (%(size)s KiB).")
        % {"count": len(rows), "seconds": f"{fit_seconds:.1f}", "size": len(blob) // 1024}
    )
    report.update(
        since=since.isoformat() if since else None,
        max_orders=max_orders,
        seconds={
            "read": round(read_seconds, 2),
            "evaluate": round(evaluate_seconds, 2),
            "fit": round(fit_seconds, 2),
        },
        size_bytes=len(blob),
    )
    with transaction.atomic():
        model = run or ClassifierModel(trained_by=trained_by)
        model.trained_at = timezone.now()
        model.orders_trained = len(rows)
        model.orders_held_out = report["orders_held_out"]
        model.macro_f1_type = report["type"]["macro_f1"]
        model.macro_f1_subtype = report["subtype"]["macro_f1"]
        model.report = report
        model.pipeline = blob
        model.is_active = True
        model.save()
        ClassifierModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        log_action(
            trained_by or model.trained_by,
            "classifier.train",
            model,
            {
                "orders": len(rows),
                "macro_f1_type": model.macro_f1_type,
                "macro_f1_subtype": model.macro_f1_subtype,
            },
        )
    return model


# Training from the desk, in a background task


def pending_training() -> ClassifierModel | None:
    """The training queued or running now (not abandoned), if any."""
    fresh = timezone.now() - STALE_AFTER
    return (
        ClassifierModel.objects.filter(
            is_active=False, report__state__in=[QUEUED, RUNNING], trained_at__gte=fresh
        )
        .order_by("-trained_at", "-pk")
        .first()
    )


def request_training(user) -> ClassifierModel:
    """Queue a training run; the Celery task is sent once this transaction commits.

    Refused while another one is queued or running.
    """
    from .tasks import train_classifier_task

    with transaction.atomic():
        # One at a time: the supervisor's second click must not start a second run.
        list(ClassifierModel.objects.select_for_update().filter(is_active=True))
        pending = pending_training()
        if pending is not None:
            raise ClassifierError(
                "training",
                _("A training is already under way (requested at %(time)s).")
                % {"time": timezone.localtime(pending.trained_at).strftime("%Y-%m-%d %H:%M")},
            )
        run = ClassifierModel.objects.create(
            trained_by=user if getattr(user, "pk", None) else None,
            is_active=False,
            pipeline=b"",
            report={"state": QUEUED},
        )
        log_action(user, "classifier.request_training", run)
        transaction.on_commit(lambda: train_classifier_task.delay(run.pk))
    return run


def run_training(run_id: int) -> ClassifierModel | None:
    """Do a queued training; a run already started, done or failed is left alone.

    Safe to deliver twice: only the first delivery finds it queued.
    """
    with transaction.atomic():
        run = ClassifierModel.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.report.get("state") != QUEUED:
            return None
        run.report = {"state": RUNNING, "started_at": timezone.now().isoformat()}
        run.save(update_fields=["report"])
    try:
        return train_classifier(trained_by=run.trained_by, run=run)
    except ClassifierError as exc:
        run.report = {"state": FAILED, "error": exc.message}
        run.save(update_fields=["report"])
        return run
    except Exception:
        run.report = {"state": FAILED, "error": _("The training stopped on an internal error.")}
        run.save(update_fields=["report"])
        raise


# Suggesting


_lock = threading.Lock()
_controller: list = []  # threadpoolctl's controller, found once per process
_loaded: dict = {}  # {"id": model id, "pipeline": its pipeline}: one per process


def active_model() -> ClassifierModel | None:
    return (
        ClassifierModel.objects.filter(is_active=True)
        .defer("pipeline")
        .order_by("-trained_at", "-pk")
        .first()
    )


def _active_pipeline() -> tuple[int, dict] | None:
    """The active model's pipeline, unpickled once per process and model id."""
    model_id = (
        ClassifierModel.objects.filter(is_active=True)
        .order_by("-trained_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if model_id is None:
        return None
    with _lock:
        if _loaded.get("id") != model_id:
            blob = ClassifierModel.objects.values_list("pipeline", flat=True).get(pk=model_id)
            _loaded.clear()
            _loaded.update(id=model_id, pipeline=_load(blob))
        return model_id, _loaded["pipeline"]


def check_text(text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ClassifierError(
            "description",
            _("description: the text is %(length)s characters long; at most %(max)s are read.")
            % {"length": len(text), "max": MAX_TEXT},
        )
    return text


def suggest(text: str) -> Suggestion | None:
    """The type and subtype the active model suggests for ``text``, or None.

    None when no model is active, the text is shorter than ``MIN_TEXT`` characters
    or holds nothing the model knows; too long a text is refused.
    """
    text = check_text(text)
    if len(text) < MIN_TEXT:
        return None
    loaded = _active_pipeline()
    if loaded is None:
        return None
    model_id, pipeline = loaded
    with _one_thread():
        matrix = pipeline["features"].transform([text])
        if matrix.nnz == 0:
            return None
        types = _distribution(pipeline["types"], matrix)[0]
        pairs = []
        for order_type, p_type in types.items():
            model = pipeline["subtypes"].get(order_type)
            subtypes = _distribution(model, matrix)[0] if model is not None else {"": 1.0}
            pairs += [
                Choice(str(order_type), str(subtype), p_type * p_sub)
                for subtype, p_sub in subtypes.items()
            ]
    best_type = max(types, key=types.get)
    best = max((c for c in pairs if c.order_type == best_type), key=lambda c: c.confidence)
    others = sorted((c for c in pairs if c != best), key=lambda c: -c.confidence)
    return Suggestion(
        best=best,
        type_confidence=float(types[best_type]),
        alternatives=[best, *others[: TOP - 1]],
        model_id=model_id,
    )
