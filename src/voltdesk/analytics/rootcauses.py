"""Why customers call: abnormal feeders and areas, complaint themes, repeated contacts.

Everything is computed from ``workorders.WorkOrder`` for a period of the
utility's local days (both ends included; ``month_period`` makes a calendar
month), with date-bounded, set-based queries on the (feeder, created_at),
(area, created_at) and (created_at) indexes. Orders cancelled as duplicates
are left out everywhere: they are the same contact twice.

* ``abnormal_units`` — fault orders per feeder (or area) against what the
  season predicts. Expected = the unit's share of the faults in the same
  days one and two years before (shrunk towards its share over the 24 months
  before the period, so a unit with little history is not judged on a handful
  of orders) times the period's total. The upper-tail p-value is Poisson, or
  negative binomial when the history is over-dispersed (Pearson's statistic of
  the last 12 months against the same model one year back); Benjamini–Hochberg
  keeps the false discoveries across units below ``ALPHA``. A flagged unit
  gets a maintenance recommendation from the subtype most of its faults had.
* ``complaint_themes`` — the words and word pairs that set the period's
  complaints apart from the 12 months before (log-odds ratio with an
  informative Dirichlet prior, Monroe et al. 2008, on document counts),
  grouped into themes by the complaints they share. Chinese is cut into words
  by jieba (its own dictionary instance, with the knowledge base's utility
  words); Hebrew loses niqqud and final forms, and its one-letter prefixes
  (ו ה ב ל מ ש כ) when the word without them is in the corpus too; English is
  stemmed; stop words of all three are dropped.
* ``contact_chains`` — the same caller phone or the same site contacting again
  within ``CHAIN_DAYS`` days, chained (A→B→C: each within 30 days of the one
  before), found with window functions in one statement per key.
* ``monthly_report`` — all of it for one month, with the answer errors of the
  knowledge review (``knowledge.reviews.error_rates``); ``render_report_pdf``
  lays it out like the bill copies (WeasyPrint, Hebrew right to left,
  'Noto Sans CJK SC' for Chinese).
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voltdesk.core.models import Area, Feeder
from voltdesk.core.services import get_utility, utility_zone
from voltdesk.knowledge import reviews
from voltdesk.knowledge.search import (
    EN_STOP,
    HE_STOP,
    ZH_STOP,
    ZH_WORDS,
    english_stem,
    hebrew_variants,
)
from voltdesk.workorders.choices import OrderType, Status, Subtype
from voltdesk.workorders.models import WorkOrder

CONTENT_TYPE = "application/pdf"

# Abnormal units
ALPHA = 0.05  # false-discovery rate across the units tested
HISTORY_MONTHS = 24
SEASON_YEARS = 2  # the same days this many years back make the seasonal share
SHRINK_FAULTS = 10  # pseudo-faults per unit pulling a seasonal share to the all-year one
FLOOR_FAULTS = 0.5  # a unit never seen before still gets this many all-year faults
MIN_DISPERSION_CELLS = 10
SUBTYPE_MAJORITY = 0.4  # a subtype with this share of the faults names the recommendation

# Themes
PERIOD_TEXTS = 20_000  # complaints read per period (the newest first beyond it)
BACKGROUND_TEXTS = 20_000
BACKGROUND_MONTHS = 12
PRIOR_STRENGTH = 200  # alpha_0 of the Dirichlet prior, in documents
MIN_Z = 1.645  # one-sided: only words more common than before make a theme
MIN_DOCS = 2
KEY_TERMS = 40
MAX_THEMES = 8
THEME_OVERLAP = 0.5  # share of the smaller term's complaints two terms must share
EXAMPLES = 3
SNIPPET = 160

# Chains
CHAIN_DAYS = 30
CHAIN_LOOKBACK_DAYS = 90  # how far before the period a chain's start is looked for
LONGEST_CHAINS = 10


class RootCauseError(ValueError):
    """A request the root-cause report cannot answer; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local days ``start``..``end``, both included."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        zone = utility_zone()
        return (
            datetime.combine(self.start, time(0), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before; a calendar month gives the month before."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            last = self.start - timedelta(days=1)
            return Period(last.replace(day=1), last)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def years_back(self, years: int) -> Period:
        return Period(_years_back(self.start, years), _years_back(self.end, years))

    @property
    def month_code(self) -> str:
        return f"{self.start:%Y-%m}"


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_period(text: str | None) -> Period:
    """``YYYY-MM`` as its local days; refused with the field name ``month``."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 9000:
        raise RootCauseError("month", _("month must be a month written YYYY-MM, e.g. 2026-07."))
    start = date(int(match.group(1)), int(match.group(2)), 1)
    following = _months_back(start, -1)
    return Period(start, following - timedelta(days=1))


def last_full_month(today: date | None = None) -> Period:
    """The last calendar month that has ended, in the utility's time zone."""
    today = today or datetime.now(utility_zone()).date()
    last = today.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def _orders():
    return WorkOrder.objects.exclude(status=Status.CANCELLED)


def _in(period: Period) -> Q:
    start, end = period.bounds()
    return Q(created_at__gte=start, created_at__lt=end)


# 1. Abnormal feeders and areas -------------------------------------------------------------

# What the dominant subtype of a unit's faults asks the maintenance side to do.
RECOMMENDATIONS = {
    Subtype.LINE_DOWN: gettext_lazy(
        "Inspect the line and trim the vegetation along it: most reports are lines down."
    ),
    Subtype.PARTIAL_POWER: gettext_lazy(
        "Check the transformer tap settings and the load: most reports are partial power "
        "or low voltage."
    ),
    Subtype.POWER_OUT: gettext_lazy(
        "Patrol the line and check its protection settings: power goes out again and again."
    ),
    Subtype.METER_FAULT: gettext_lazy(
        "Check the batch of meters installed here: most reports are meter faults."
    ),
}
MIXED_RECOMMENDATION = gettext_lazy(
    "Patrol the line and read the reports: no single kind of fault stands out."
)
UNITS = {"feeder": "feeder_id", "area": "area_id"}


@dataclass
class UnitResult:
    """One feeder or area tested against its season."""

    kind: str  # feeder, area
    unit_id: int
    name: str
    parent: str  # a feeder's area, an area's region
    observed: int
    expected: float
    p_value: float
    q_value: float = 1.0
    abnormal: bool = False
    subtypes: list[tuple[str, str, int]] = field(default_factory=list)  # code, label, count
    dominant: str = ""
    recommendation: str = ""

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None

    @property
    def excess(self) -> float:
        return self.observed - self.expected


@dataclass
class UnitTest:
    """The test of every feeder (or area) of a period, abnormal ones first."""

    kind: str
    period: Period
    total: int
    dispersion: float
    method: str  # poisson, negative binomial
    units: list[UnitResult]

    @property
    def abnormal(self) -> list[UnitResult]:
        return [u for u in self.units if u.abnormal]

    @property
    def watch(self) -> list[UnitResult]:
        """The next few below the line: above expectation, not (yet) significant."""
        return [u for u in self.units if not u.abnormal and u.excess > 0][:5]


def _counts_by(queryset, column: str) -> Counter:
    rows = queryset.values(column).annotate(n=Count("pk")).values_list(column, "n")
    return Counter({k: n for k, n in rows if k is not None})


def _history(faults, column: str, period: Period) -> tuple[dict, list]:
    """Faults per unit and local month over the ``HISTORY_MONTHS`` before the period."""
    zone = utility_zone()
    since = Period(_months_back(period.start, HISTORY_MONTHS), period.start - timedelta(days=1))
    rows = (
        faults.filter(_in(since), **{f"{column}__isnull": False})
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values(column, "month")
        .annotate(n=Count("pk"))
        .values_list(column, "month", "n")
    )
    cells: dict = defaultdict(Counter)  # month -> unit -> n
    for unit, month, n in rows:
        month = month.date() if isinstance(month, datetime) else month
        cells[month][unit] += n
    return cells, sorted(cells)


def _dispersion(cells: dict, months: list, units: list) -> float:
    """Pearson chi-square / df of each month against the same month a year before.

    The model is the one the test uses (seasonal share shrunk to the all-year
    share, times the month's total), so a dispersion above 1 is real extra
    variation, not a seasonal pattern the model already knows.
    """
    if not units:
        return 1.0
    overall = Counter()
    for month in months:
        overall.update(cells[month])
    overall_total = sum(overall.values())
    chi2, used = 0.0, 0
    for month in months:
        before = _months_back(month, 12)
        if before not in cells:
            continue
        base, base_total = cells[before], sum(cells[before].values())
        total = sum(cells[month].values())
        for unit in units:
            share = _share(
                base.get(unit, 0), base_total, overall.get(unit, 0), overall_total, len(units)
            )
            expected = share * total
            if expected > 0:
                chi2 += (cells[month].get(unit, 0) - expected) ** 2 / expected
                used += 1
    df = used - len(units)
    if used < MIN_DISPERSION_CELLS or df <= 0:
        return 1.0
    return max(1.0, chi2 / df)


def _share(seasonal: int, seasonal_total: int, annual: int, annual_total: int, n_units: int):
    """The unit's expected share: its seasonal share, shrunk towards its all-year share.

    The all-year share weighs as ``SHRINK_FAULTS`` faults of an average unit: a
    unit with 5 faults in the same days of past years leans on its all-year
    share, one with 500 hardly.
    """
    prior = (annual + FLOOR_FAULTS) / (annual_total + FLOOR_FAULTS * n_units)
    weight = SHRINK_FAULTS * n_units
    return (seasonal + weight * prior) / (seasonal_total + weight)


def _upper_tail(observed: int, expected: float, dispersion: float) -> float:
    """P(X >= observed) for Poisson(expected), or NB with variance dispersion x expected."""
    from scipy import stats

    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if dispersion > 1.0:
        n = expected / (dispersion - 1.0)
        return float(stats.nbinom.sf(observed - 1, n, 1.0 / dispersion))
    return float(stats.poisson.sf(observed - 1, expected))


def recommendation_for(subtypes: Counter) -> tuple[str, str]:
    """(dominant subtype, what to do) from a unit's fault subtypes of the period."""
    total = sum(subtypes.values())
    if not total:
        return "", str(MIXED_RECOMMENDATION)
    code, n = max(subtypes.items(), key=lambda item: (item[1], item[0]))
    if code in RECOMMENDATIONS and n / total >= SUBTYPE_MAJORITY:
        return code, str(RECOMMENDATIONS[code])
    return "", str(MIXED_RECOMMENDATION)


def _unit_names(kind: str, ids) -> dict[int, tuple[str, str]]:
    if kind == "feeder":
        rows = Feeder.objects.filter(pk__in=ids).values_list("pk", "name", "area__name")
    else:
        rows = Area.objects.filter(pk__in=ids).values_list("pk", "name", "region__name")
    return {pk: (name, parent or "") for pk, name, parent in rows}


def abnormal_units(period: Period, kind: str = "feeder") -> UnitTest:
    """Test every feeder (``kind="feeder"``) or area of the period against its season."""
    from scipy import stats

    if kind not in UNITS:
        raise RootCauseError("kind", _("Test feeders or areas."))
    column = UNITS[kind]
    faults = _orders().filter(order_type=OrderType.FAULT)
    here = faults.filter(_in(period), **{f"{column}__isnull": False})
    by_subtype = (
        here.values(column, "subtype").annotate(n=Count("pk")).values_list(column, "subtype", "n")
    )
    observed: Counter = Counter()
    subtypes: dict[int, Counter] = defaultdict(Counter)
    for unit, subtype, n in by_subtype:
        observed[unit] += n
        subtypes[unit][subtype] += n
    season = Q()
    for years in range(1, SEASON_YEARS + 1):
        season |= _in(period.years_back(years))
    seasonal = _counts_by(faults.filter(season, **{f"{column}__isnull": False}), column)
    cells, months = _history(faults, column, period)
    annual: Counter = Counter()
    for month in months:
        annual.update(cells[month])

    units = sorted(set(observed) | set(seasonal) | set(annual))
    total = sum(observed.values())
    seasonal_total, annual_total = sum(seasonal.values()), sum(annual.values())
    dispersion = _dispersion(cells, months, units)
    names = _unit_names(kind, units)
    labels = dict(Subtype.choices)
    results = []
    for unit in units:
        share = _share(seasonal[unit], seasonal_total, annual[unit], annual_total, len(units))
        expected = share * total
        mix = subtypes.get(unit, Counter())
        dominant, advice = recommendation_for(mix)
        name, parent = names.get(unit, (str(unit), ""))
        results.append(
            UnitResult(
                kind=kind,
                unit_id=unit,
                name=name,
                parent=parent,
                observed=observed[unit],
                expected=expected,
                p_value=_upper_tail(observed[unit], expected, dispersion),
                subtypes=[
                    (code, str(labels.get(code, code or "–")), n) for code, n in mix.most_common()
                ],
                dominant=dominant,
                recommendation=advice,
            )
        )
    if results:
        q_values = stats.false_discovery_control([r.p_value for r in results], method="bh")
        for result, q in zip(results, q_values, strict=True):
            result.q_value = float(q)
            result.abnormal = result.q_value <= ALPHA and result.excess > 0
    results.sort(key=lambda r: (not r.abnormal, r.q_value, r.p_value, -r.excess, r.name))
    return UnitTest(
        kind=kind,
        period=period,
        total=total,
        dispersion=dispersion,
        method="negative binomial" if dispersion > 1.0 else "poisson",
        units=results,
    )


# 2. Complaint themes --------------------------------------------------------------------------

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_HE_MARKS = "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
_TOKEN = re.compile(
    rf"(?P<han>{_HAN})|(?P<heb>[\u05d0-\u05ea][\u05d0-\u05ea{_HE_MARKS}'\"\u05f3\u05f4]*)"
    r"|(?P<lat>[a-z\u00df-\u024f][0-9a-z\u00df-\u024f']*)"
)
_HE_DROP = re.compile(rf"[{_HE_MARKS}'\"\u05f3\u05f4]")
_HE_FINALS = str.maketrans("ךםןףץ", "כמנפצ")
# Words every complaint says: they name no theme.
EN_GENERIC = frozenset({"complain", "complaint", "custom", "call", "still", "again", "day"})
ZH_GENERIC = frozenset({"投诉", "客户", "反映", "问题", "情况", "现在", "一直", "今天"})
HE_GENERIC = frozenset({"תלונה", "לקוח", "היום", "עדיין"})


def _hebrew_norm(word: str) -> str:
    return _HE_DROP.sub("", word).translate(_HE_FINALS)


_HE_STOP = frozenset(_hebrew_norm(w) for w in [*HE_STOP, *HE_GENERIC])
_ZH_STOP = ZH_STOP | ZH_GENERIC
_EN_STOP = EN_STOP | {english_stem(w) for w in EN_GENERIC} | EN_GENERIC

_jieba_lock = threading.Lock()
_tokenizer = None


def _jieba():
    """A jieba tokenizer of our own: the words added here do not change the knowledge search."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in ZH_WORDS:
                    tokenizer.add_word(word)
                _tokenizer = tokenizer
    return _tokenizer


def raw_tokens(text: str) -> list[tuple[str, str, str]]:
    """(script, term, as written) for each content word of ``text``, in order."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    out = []
    for match in _TOKEN.finditer(folded):
        kind, token = match.lastgroup, match.group()
        if kind == "han":
            for word in _jieba().lcut(token):
                if len(word) > 1 and word not in _ZH_STOP:
                    out.append(("han", word, word))
        elif kind == "heb":
            word = _hebrew_norm(token)
            if len(word) > 1 and word not in _HE_STOP:
                out.append(("heb", word, _HE_DROP.sub("", token)))
        else:
            token = token.strip("'")
            if len(token) > 1 and token not in _EN_STOP:
                term = english_stem(token)
                if term not in _EN_STOP:
                    out.append(("lat", term, token))
    return out


def _hebrew_stems(vocabulary: set[str]) -> dict[str, str]:
    """Each Hebrew word -> itself without prefix letters, when that word is also used."""
    stems = {}
    for word in vocabulary:
        for variant in reversed(hebrew_variants(word)):  # the most stripped first
            if variant in vocabulary and variant not in _HE_STOP:
                stems[word] = variant
                break
    return stems


@dataclass
class _Corpus:
    """Complaints as sets of terms (words and pairs of neighbouring words)."""

    ids: list[int]
    terms: list[set[str]]
    surfaces: dict[str, Counter]


def _analyse(texts: list[tuple[int, str]], hebrew: dict[str, str] | None, raw: dict) -> _Corpus:
    ids, sets = [], []
    surfaces: dict[str, Counter] = defaultdict(Counter)
    for pk, _text in texts:
        tokens = [
            (script, hebrew.get(term, term) if script == "heb" and hebrew else term, surface)
            for script, term, surface in raw[pk]
        ]
        terms = set()
        for i, (script, term, surface) in enumerate(tokens):
            terms.add(term)
            surfaces[term][surface] += 1
            if i + 1 < len(tokens):
                script2, term2, surface2 = tokens[i + 1]
                joiner = "" if script == script2 == "han" else " "
                pair = f"{term} {term2}"  # a space: never the same key as a word
                terms.add(pair)
                surfaces[pair][f"{surface}{joiner}{surface2}"] += 1
        ids.append(pk)
        sets.append(terms)
    return _Corpus(ids, sets, surfaces)


@dataclass
class ThemeExample:
    pk: int
    number: str
    created_at: datetime
    text: str


@dataclass
class Theme:
    label: str
    terms: list[str]
    count: int
    previous: int
    examples: list[ThemeExample]
    score: float

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_percent(self) -> float | None:
        return 100.0 * self.change / self.previous if self.previous else None


@dataclass
class ThemeReport:
    period: Period
    complaints: int
    previous_complaints: int
    background_complaints: int
    key_terms: list[tuple[str, float, int, int]]  # shown form, z, period docs, background docs
    themes: list[Theme]


def _complaints(period_or_q, limit: int) -> list[tuple[int, str]]:
    q = period_or_q if isinstance(period_or_q, Q) else _in(period_or_q)
    rows = (
        _orders()
        .filter(q, order_type=OrderType.COMPLAINT)
        .exclude(description="")
        .order_by("-created_at", "-pk")
        .values_list("pk", "description")[:limit]
    )
    return list(rows)


def _log_odds(period_df: Counter, background_df: Counter) -> dict[str, float]:
    """z-scores of the log-odds ratio with an informative Dirichlet prior (Monroe et al.)."""
    n_p, n_b = sum(period_df.values()), sum(background_df.values())
    n_all = n_p + n_b
    scores = {}
    for term, y_p in period_df.items():
        y_b = background_df.get(term, 0)
        alpha = PRIOR_STRENGTH * (y_p + y_b) / n_all
        delta = math.log((y_p + alpha) / (n_p + PRIOR_STRENGTH - y_p - alpha)) - math.log(
            (y_b + alpha) / (n_b + PRIOR_STRENGTH - y_b - alpha)
        )
        scores[term] = delta / math.sqrt(1.0 / (y_p + alpha) + 1.0 / (y_b + alpha))
    return scores


def _shown(term: str, surfaces: Counter) -> str:
    """How a term is best written: its commonest form (a stem like "outag" is never shown)."""
    if not surfaces:
        return term
    # A Hebrew word is shown as the bare word when it is also written so (מונה, not המונה).
    bare = [w for w in surfaces if _hebrew_norm(w).replace(" ", "") == term.replace(" ", "")]
    if bare:
        return max(bare, key=lambda w: (surfaces[w], w))
    return surfaces.most_common(1)[0][0]


def complaint_themes(period: Period) -> ThemeReport:
    """The themes of the period's complaints, with their change against the previous period."""
    previous = period.previous()
    period_texts = _complaints(period, PERIOD_TEXTS)
    previous_texts = _complaints(previous, PERIOD_TEXTS)
    prev_start, _prev_end = previous.bounds()
    older_start = datetime.combine(
        _months_back(period.start, BACKGROUND_MONTHS), time(0), tzinfo=utility_zone()
    )
    older_texts = _complaints(
        Q(created_at__gte=older_start, created_at__lt=prev_start), BACKGROUND_TEXTS
    )
    raw = {pk: raw_tokens(text) for pk, text in [*period_texts, *previous_texts, *older_texts]}
    hebrew = _hebrew_stems({t for tokens in raw.values() for s, t, _w in tokens if s == "heb"})
    now = _analyse(period_texts, hebrew, raw)
    before = _analyse(previous_texts, hebrew, raw)
    older = _analyse(older_texts, hebrew, raw)

    period_df = Counter(t for terms in now.terms for t in terms)
    background_df = Counter(t for terms in [*before.terms, *older.terms] for t in terms)
    if background_df:
        scores = _log_odds(period_df, background_df)
        candidates = [t for t, z in scores.items() if z >= MIN_Z and period_df[t] >= MIN_DOCS]
    else:  # nothing to compare with: the commonest words
        scores = {t: float(n) for t, n in period_df.items()}
        candidates = [t for t, n in period_df.items() if n >= MIN_DOCS]
    candidates.sort(key=lambda t: (-scores[t], -period_df[t], t))
    candidates = candidates[:KEY_TERMS]

    docs = {t: {i for i, terms in enumerate(now.terms) if t in terms} for t in candidates}
    groups: list[dict] = []
    for term in candidates:
        best, best_overlap = None, 0.0
        for group in groups:
            shared = len(docs[term] & group["docs"])
            overlap = shared / min(len(docs[term]), len(group["docs"]))
            if overlap > best_overlap:
                best, best_overlap = group, overlap
        if best is not None and best_overlap >= THEME_OVERLAP:
            best["terms"].append(term)
            best["docs"] |= docs[term]
        elif len(groups) < MAX_THEMES:
            groups.append({"terms": [term], "docs": set(docs[term]), "score": scores[term]})

    numbers = dict(period_texts)
    themes = []
    for group in groups:
        terms = set(group["terms"])
        matched = sorted(group["docs"], key=lambda i: (-len(terms & now.terms[i]), now.ids[i]))[
            :EXAMPLES
        ]
        examples = [now.ids[i] for i in matched]
        created = dict(WorkOrder.objects.filter(pk__in=examples).values_list("pk", "created_at"))
        shown = [_shown(t, now.surfaces[t]) for t in group["terms"]]
        themes.append(
            Theme(
                label=" · ".join(_dedupe(shown)[:3]),
                terms=_dedupe(shown),
                count=len(group["docs"]),
                previous=sum(1 for t in before.terms if terms & t),
                examples=[
                    ThemeExample(pk, f"{pk:08d}", created.get(pk), _snippet(numbers[pk]))
                    for pk in examples
                ],
                score=group["score"],
            )
        )
    themes.sort(key=lambda t: (-t.count, -t.score, t.label))
    return ThemeReport(
        period=period,
        complaints=len(period_texts),
        previous_complaints=len(previous_texts),
        background_complaints=len(previous_texts) + len(older_texts),
        key_terms=[
            (_shown(t, now.surfaces[t]), scores[t], period_df[t], background_df.get(t, 0))
            for t in candidates
        ],
        themes=themes,
    )


def _dedupe(words: list[str]) -> list[str]:
    seen, out = set(), []
    for word in words:
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


# 3. Chains of repeated contacts -------------------------------------------------------------

CHAIN_KEYS = {"phone": "caller_phone", "site": "site_id"}


@dataclass
class Chain:
    key: str  # the phone number or the site's number
    contacts: int
    days: float  # from the first contact to the last
    first_id: int
    last_id: int
    first_type: str
    last_type: str
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def first_number(self) -> str:
        return f"{self.first_id:08d}"

    @property
    def last_number(self) -> str:
        return f"{self.last_id:08d}"


@dataclass
class ChainSummary:
    """Chains of one key (phone or site) that had a contact in the period."""

    key: str
    chains: int
    contacts: int
    by_length: list[tuple[int, int]]  # contacts in the chain, chains
    by_type: list[tuple[str, str, int]]  # first type label, last type label, chains
    longest: list[Chain]


def _days_between(later: str, earlier: str) -> str:
    """SQL for the days from ``earlier`` to ``later`` (fractional), on either backend."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"
    return f"(julianday({later}) - julianday({earlier}))"


def _chain_sql(column: str) -> str:
    present = "caller_phone <> ''" if column == "caller_phone" else "site_id IS NOT NULL"
    gap = _days_between("created_at", "previous_at")
    span = _days_between("MAX(created_at)", "MIN(created_at)")
    # A new chain starts where the gap to the contact before is over CHAIN_DAYS; the
    # running sum of those starts numbers the chains of each key.
    # Our own column names and numbers only: no input reaches the text.
    return f"""
        WITH contacts AS (
            SELECT id, {column} AS key, order_type, created_at,
                   LAG(created_at) OVER (PARTITION BY {column} ORDER BY created_at, id)
                       AS previous_at
            FROM workorders_workorder
            WHERE created_at >= %s AND created_at < %s AND status <> %s AND {present}
        ), numbered AS (
            SELECT id, key, order_type, created_at,
                   SUM(CASE WHEN previous_at IS NULL OR {gap} > {CHAIN_DAYS} THEN 1 ELSE 0 END)
                       OVER (PARTITION BY key ORDER BY created_at, id ROWS UNBOUNDED PRECEDING)
                       AS chain
            FROM contacts
        ), ends AS (
            SELECT key, chain, created_at,
                   FIRST_VALUE(id) OVER (PARTITION BY key, chain ORDER BY created_at, id)
                       AS first_id,
                   FIRST_VALUE(order_type) OVER (PARTITION BY key, chain ORDER BY created_at, id)
                       AS first_type,
                   FIRST_VALUE(id) OVER (
                       PARTITION BY key, chain ORDER BY created_at DESC, id DESC) AS last_id,
                   FIRST_VALUE(order_type) OVER (
                       PARTITION BY key, chain ORDER BY created_at DESC, id DESC) AS last_type
            FROM numbered
        )
        SELECT key, COUNT(*) AS contacts, {span} AS days,
               MIN(first_id), MIN(first_type), MIN(last_id), MIN(last_type)
        FROM ends
        GROUP BY key, chain
        HAVING COUNT(*) > 1 AND MAX(created_at) >= %s
    """  # noqa: S608


def contact_chains(period: Period, key: str = "phone") -> ChainSummary:
    """Chains of contacts by the same phone (``key="phone"``) or site with one in the period.

    A chain may have started up to ``CHAIN_LOOKBACK_DAYS`` before the period.
    """
    if key not in CHAIN_KEYS:
        raise RootCauseError("key", _("Chain contacts by phone or by site."))
    start, end = period.bounds()
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        adapt(start - timedelta(days=CHAIN_LOOKBACK_DAYS)),
        adapt(end),
        Status.CANCELLED.value,
        adapt(start),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_chain_sql(CHAIN_KEYS[key]), params)
        rows = cursor.fetchall()
    chains = [
        Chain(str(k), n, round(float(days or 0), 1), first_id, last_id, first_type, last_type)
        for k, n, days, first_id, first_type, last_id, last_type in rows
    ]
    labels = dict(OrderType.choices)
    lengths = Counter(c.contacts for c in chains)
    types = Counter((c.first_type, c.last_type) for c in chains)
    chains.sort(key=lambda c: (-c.contacts, -c.days, c.first_id))
    longest = chains[:LONGEST_CHAINS]
    times = dict(
        WorkOrder.objects.filter(
            pk__in=[c.first_id for c in longest] + [c.last_id for c in longest]
        ).values_list("pk", "created_at")
    )
    if key == "site":
        from voltdesk.customers.models import Site

        refs = dict(
            Site.objects.filter(pk__in=[int(c.key) for c in longest]).values_list("pk", "ref")
        )
    for chain in longest:
        chain.first_at, chain.last_at = times.get(chain.first_id), times.get(chain.last_id)
        if key == "site":
            chain.key = refs.get(int(chain.key), chain.key)
    return ChainSummary(
        key=key,
        chains=len(chains),
        contacts=sum(c.contacts for c in chains),
        by_length=sorted(lengths.items()),
        by_type=[
            (str(labels.get(a, a)), str(labels.get(b, b)), n) for (a, b), n in types.most_common()
        ],
        longest=longest,
    )


# 4 and 5. The monthly report --------------------------------------------------------------------


@dataclass
class RootCauseReport:
    period: Period
    feeders: UnitTest
    areas: UnitTest
    themes: ThemeReport
    chains: dict[str, ChainSummary]
    answer_errors: dict[str, list]  # by topic, by agent
    fault_orders: int
    orders: int


def answer_errors(period: Period) -> dict[str, list]:
    """The knowledge review's error rates of the period, by topic and by agent."""
    return {by: reviews.error_rates(period.start, period.end, by=by) for by in ("topic", "agent")}


def period_report(period: Period) -> RootCauseReport:
    """Everything the root-cause report shows, for any period."""
    counts = (
        _orders()
        .filter(_in(period))
        .aggregate(orders=Count("pk"), faults=Count("pk", filter=Q(order_type=OrderType.FAULT)))
    )
    return RootCauseReport(
        period=period,
        feeders=abnormal_units(period, "feeder"),
        areas=abnormal_units(period, "area"),
        themes=complaint_themes(period),
        chains={key: contact_chains(period, key) for key in CHAIN_KEYS},
        answer_errors=answer_errors(period),
        fault_orders=counts["faults"],
        orders=counts["orders"],
    )


def monthly_report(month: str | date | Period) -> RootCauseReport:
    """The report of one calendar month: ``"2026-07"``, a day in it, or its ``Period``."""
    if isinstance(month, Period):
        period = month
    elif isinstance(month, date):
        period = month_period(f"{month:%Y-%m}")
    else:
        period = month_period(month)
    return period_report(period)


def report_context(report: RootCauseReport) -> dict:
    """What the page and the PDF templates read."""
    return {
        "report": report,
        "period": report.period,
        "month": report.period.month_code,
        "alpha": ALPHA,
        "chain_days": CHAIN_DAYS,
    }


def report_pdf_html(report: RootCauseReport, *, language: str | None = None) -> str:
    utility = get_utility()
    language = language or utility.default_language
    with translation.override(language):
        return render_to_string(
            "analytics/rootcause_pdf.html",
            {
                **report_context(report),
                "utility": utility,
                "language": language,
                "bidi": translation.get_language_bidi(),
            },
        )


def render_report_pdf(report: RootCauseReport, *, language: str | None = None) -> bytes:
    """The report as a PDF in ``language`` (default: the utility's)."""
    # Imported here: WeasyPrint loads Pango and fonts, which pages without PDFs never need.
    from weasyprint import HTML

    return HTML(string=report_pdf_html(report, language=language)).write_pdf()


def pdf_filename(period: Period) -> str:
    return f"root-causes-{period.month_code}.pdf"


__all__ = [
    "Period",
    "RootCauseError",
    "abnormal_units",
    "answer_errors",
    "complaint_themes",
    "contact_chains",
    "last_full_month",
    "month_period",
    "monthly_report",
    "period_report",
    "render_report_pdf",
]
