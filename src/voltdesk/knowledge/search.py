"""Search of the knowledge base for agents, in English, Hebrew and Chinese.

An in-process index over the texts agents may read (``services.answers_for_agents``:
the published version of published articles valid today for this utility), the
same on SQLite and PostgreSQL. One document per article and language, three
fields: the question and the keywords (how callers say it) weigh more than the
answer. Scoring is BM25 per field (so a question match beats an answer that
repeats a word), times a small boost for the article's usage (log) and for an
article of the work order's type when the agent's order type is known.

Words:

* Chinese is segmented into words by jieba (``lcut_for_search``: a long word
  also yields its shorter words), so 电费怎么这么高 matches 电费 and 高, not
  stray characters. Domain words (阶梯电价, 业扩报装, ...) are added to jieba's
  dictionary, which ships in the package.
* Hebrew loses its niqqud, geresh and gershayim (תעו"ז is תעוז) and final
  letter forms (ם is מ). A query word also matches without its one-letter
  prefixes ו ה ב ל מ ש כ (and their combinations: וה, מה, שה, כש, וב, ...) and
  with any of them, so בחשבון finds חשבון and the other way round, a little
  below an exact match (the prefixed forms are looked up at query time: the
  index holds each word once).
* English is lower-cased and stemmed (Snowball's English stemmer: meters,
  metering and meter are one word).
* Stop words of each language are dropped.
* A word not in the index (4+ letters, Hebrew or Latin) is corrected to the
  nearest words within edit distance 1 (2 from 8 letters), found through a
  character-trigram index of the vocabulary, never by scanning it; the last word
  of a query still being typed also matches as a prefix ("meter te" finds
  "meter test").

Scripts are told apart word by word, so a Hebrew query with an English word in
it (or a Chinese one with 95598) works.

Freshness: each process keeps its index and checks a stamp (count and latest
``updated_at`` of published articles, today's date and the profile) at most
once a second (``KNOWLEDGE_SEARCH_STAMP_SECONDS``); a save of an article in
this process marks the index for checking at once. When the stamp changes only
the changed articles are read and indexed again (a small second segment beside
the main one; the main one hides what they replace), so a publication is
findable within a second even with 50,000 articles; when the second segment
grows past ``DELTA_SHARE`` of the main one, the whole index is built again.
Usage counts (``record_article_use`` writes no ``updated_at``) are reread every
``USAGE_REFRESH_SECONDS``; a use through the desk counts at once in this process.
With ``KNOWLEDGE_SEARCH_CACHE_DIR`` set, a full build is saved there and a new
process starts from it (see ``_saved_path``).

Ranking beyond BM25: times the share of the query's words a text has, times
``PHRASE_BOOST`` when the query says one of the text's keyword phrasings in full.
The figures are in docs/performance.md, the rules for people in docs/knowledge.md.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import count, islice, repeat
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save

from voltdesk.core.choices import Language

from .choices import ArticleStatus
from .models import Article, ArticleText

LANGUAGES = tuple(Language.values)  # en, he, zh-hans
FIELDS = ("question", "keywords", "answer")
# BM25 per field: score = sum over fields of weight * tf (k1 + 1) / (tf + k1 norm).
FIELD_WEIGHTS = np.array([3.0, 2.5, 1.0], dtype=np.float32)
KEYWORDS = FIELDS.index("keywords")
FIELD_B = np.array([0.5, 0.5, 0.75], dtype=np.float32)  # short fields: length matters less
K1 = 1.2
PHRASE_BOOST = 1.25  # a keyword phrasing of the text said in full by the query
COORDINATION = 1.0  # score times (share of the query's words the text has) ** this
USAGE_WEIGHT = 0.05  # times ln(1 + uses): 100 uses are +23 %
ORDER_TYPE_BOOST = 1.15
OTHER_LANGUAGE = 0.9  # a text not in the agent's language, when it is known
# Alternatives of a query word, relative to the word itself.
PREFIX_STRIPPED = 0.9  # Hebrew: one side had a prefix letter (בחשבון ~ חשבון)
COMPLETION = 0.85  # the last word as a prefix of a longer word
TYPO = {1: 0.7, 2: 0.55}  # by edit distance
MAX_COMPLETIONS = 64
MAX_CORRECTIONS = 8
MAX_QUERY_WORDS = 40
MAX_QUERY_CHARS = 1000
MAX_LIMIT = 50
SNIPPET_CHARS = 220
DELTA_SHARE = 0.05  # of the main segment's articles (at least DELTA_MIN) before a full build
DELTA_MIN = 200
USAGE_REFRESH_SECONDS = 300

log = logging.getLogger(__name__)

# Words ---------------------------------------------------------------------------------

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_HE_MARKS = "\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"  # niqqud, cantillation
_HEB = rf"[\u05d0-\u05ea](?:[\u05d0-\u05ea{_HE_MARKS}]|['\"\u05f3\u05f4](?=[\u05d0-\u05ea]))*"
_LAT = r"[0-9a-z\u00df-\u024f]+"
_TOKEN = re.compile(rf"(?P<han>{_HAN})|(?P<heb>{_HEB})|(?P<lat>{_LAT})")
_HAN_RUN, _HEB_WORD, _LAT_WORD = re.compile(_HAN), re.compile(_HEB), re.compile(_LAT)
_HE_DROP = re.compile(rf"[{_HE_MARKS}'\"\u05f3\u05f4]")
_HE_FINALS = str.maketrans("ךםןףץ", "כמנפצ")
HE_PREFIX_LETTERS = frozenset("והבלמשכ")
HE_MAX_PREFIX = 3  # וכש, שמה ...
HE_MIN_STEM = 3  # letters left after a prefix is taken off
# The prefixes a query word is looked up with: one or two letters, and three from ו or ש.
HE_PREFIXES = tuple(
    a + b + c
    for a in "והבלמשכ"
    for b in ("", *"והבלמשכ")
    for c in ("", *"והבלמשכ")
    if not (c and not b) and (not c or a in "וש")
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？;；])\s*")


def _words(text: str) -> list[str]:
    return text.split()


EN_STOP = frozenset(
    _words(
        """a about above after again am an and any are as at be because been before being below
        between both but by can could did do does doing during each few for from further had
        has have having he her here hers herself him himself his how i if in into is it its
        itself just me more most my myself nor of on once only or other our ours ourselves own
        same she should so some such than that the their theirs them themselves then there these
        they this those through to too under until up very was we were what when where which
        while who whom why will with would you your yours yourself yourselves hi hello please
        thanks thank im ive dont cant get got also"""
    )
)
# Written in full and with final letters; normalised below like every indexed word.
HE_STOP = _words(
    """של את על עם זה זו זאת אני אתה את אנחנו הם הן הוא היא לי לך לו לה לנו להם שלי שלך שלו
    שלה שלנו שלהם יש אין לא כן גם או אם כי רק כל אבל מה מי איך למה מתי איפה היכן כמה האם אז
    עוד כבר מאוד שוב אותי אותו אותה אותם הזה הזאת הזו האלה אלה אל מן עד בין כמו אצל היה היתה
    הייתה היו יהיה שם פה כאן ככה כך שלום בבקשה תודה רוצה צריך אפשר"""
)
ZH_STOP = frozenset(
    _words(
        """的 了 吗 呢 吧 啊 呀 嘛 么 哦 哪 是 我 我们 你 您 他 她 它 他们 这 那 这个 那个 这么
        那么 怎么 怎么办 怎样 如何 什么 为什么 为何 请问 请 一下 一个 有 没 没有 和 与 及 或 就
        都 也 还 又 在 要 会 能 可以 想 给 让 被 把 对 从 到 个 些 之 其 而 但 但是 如果 因为
        所以 已经 还是 一些 多少 哪里 哪儿 是不是 能不能 可不可以 好 谢谢 你好 您好"""
    )
)
# jieba's dictionary knows few utility words; without these it cuts 阶梯电价 anyhow.
ZH_WORDS = _words(
    """95598 阶梯电价 分时电价 峰谷电价 电价 电费 电费单 电费账单 违约金 滞纳金 预缴 预缴电费
    电费套餐 业扩报装 业扩 报装 增容 减容 暂停用电 变更用电 过户 更名 销户 一次性告知 告知书
    营业厅 网上国网 电能表 电表 智能电表 校验 验表 抄表 估抄 停电 停电通知 计划停电 故障报修
    报修 跳闸 漏电 断电 来电 复电 欠费 欠费停电 缴费 交费 充值 余额 光伏 分布式光伏 并网
    有序用电 错峰 避峰 工单 投诉 举报 回访 电动汽车 充电桩"""
)


def _fold(text: str) -> str:
    # NFKC: full-width digits and letters (９５５９８) and Hebrew presentation forms.
    return unicodedata.normalize("NFKC", text or "").lower()


def _hebrew_norm(word: str) -> str:
    return _HE_DROP.sub("", word).translate(_HE_FINALS)


_HE_STOP = frozenset(_hebrew_norm(w) for w in HE_STOP)


@lru_cache(maxsize=262_144)
def hebrew_variants(word: str) -> tuple[str, ...]:
    """The word without its one-letter prefixes (ו ה ב ל מ ש כ), shortest prefix first."""
    out = []
    for k in range(1, HE_MAX_PREFIX + 1):
        if len(word) - k < HE_MIN_STEM or word[k - 1] not in HE_PREFIX_LETTERS:
            break
        out.append(word[k:])
    return tuple(out)


_stemmer = None


# Snowball leaves comparatives alone; callers say "higher than usual" of a high bill.
EN_COMPARATIVES = {
    f"{base}{ending}": base
    for base, endings in {
        "high": ("er", "est"),
        "low": ("er", "est"),
        "cheap": ("er", "est"),
        "fast": ("er", "est"),
        "slow": ("er", "est"),
        "long": ("er", "est"),
        "short": ("er", "est"),
        "larg": ("er", "est"),
        "small": ("er", "est"),
        "great": ("er", "est"),
        "old": ("er", "est"),
        "new": ("er", "est"),
        "quick": ("er", "est"),
        "big": ("ger", "gest"),
        "hot": ("ter", "test"),
    }.items()
    for ending in endings
}


@lru_cache(maxsize=262_144)
def english_stem(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        import snowballstemmer

        _stemmer = snowballstemmer.stemmer("english")
    return _stemmer.stemWord(EN_COMPARATIVES.get(word, word))


_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():
    """jieba, initialised once per process and quietly (it logs its dictionary load)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for word in ZH_WORDS:
                    jieba.add_word(word)
                _jieba_ready = True
    return jieba


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def chinese_words(text: str) -> list[str]:
    """The Chinese words of ``text`` (jieba's search mode), stop words left out."""
    return [w for w in _jieba().lcut_for_search(text) if _is_han(w[0]) and w not in ZH_STOP]


@lru_cache(maxsize=262_144)
def _latin_term(word: str) -> str | None:
    if word.isdigit():
        return word
    if len(word) < 2 or word in EN_STOP:
        return None
    return english_stem(word)


@lru_cache(maxsize=262_144)
def _hebrew_term(token: str) -> str | None:
    word = _hebrew_norm(token)
    return None if len(word) < 2 or word in _HE_STOP else word


def index_terms(text: str, vocabulary: dict | None = None) -> list[str]:
    """The terms a text is indexed under (a bag: order is not kept).

    ``vocabulary`` collects each Latin word as written -> its term (None for a
    stop word), for completion and typo correction. The loops are ``findall`` and
    ``map`` over cached functions: building the index is mostly C.
    """
    folded = _fold(text)
    out = [t for t in map(_hebrew_term, _HEB_WORD.findall(folded)) if t]
    latin = _LAT_WORD.findall(folded)
    terms = list(map(_latin_term, latin))
    if vocabulary is not None:
        vocabulary.update(zip(latin, terms, strict=True))
    out += filter(None, terms)
    if _HAN_RUN.search(folded):
        out += chinese_words(folded)
    return out


# Query words ---------------------------------------------------------------------------


@dataclass
class _Word:
    """One word of the query: the terms it may match, each with its factor."""

    text: str
    script: str  # han, heb, lat
    partial: bool
    alternatives: dict[str, float]


def _query_words(query: str) -> list[_Word]:
    """The query's words in order; Chinese first (jieba cuts the whole text at once)."""
    folded = _fold(query[:MAX_QUERY_CHARS])
    words = [_Word(w, "han", False, {w: 1.0}) for w in chinese_words(folded)]
    matches = [m for m in _TOKEN.finditer(folded) if m.lastgroup != "han"]
    for i, match in enumerate(matches):
        kind, token = match.lastgroup, match.group()
        # The last word is still being typed unless a space or a mark follows it.
        partial = i == len(matches) - 1 and match.end() == len(folded)
        if kind == "heb":
            word = _hebrew_norm(token)
            if len(word) < 2:
                continue
            if word in _HE_STOP:
                if partial:  # מה may be the start of מהר: complete it only
                    words.append(_Word(word, "heb", partial, {}))
                continue
            words.append(_Word(word, "heb", partial, _hebrew_forms(word)))
        else:
            term = _latin_term(token)
            if term is not None:
                words.append(_Word(token, "lat", partial, {term: 1.0}))
            elif partial and len(token) >= 2:  # "hi" may be the start of "high": complete it
                words.append(_Word(token, "lat", partial, {}))
    return words[:MAX_QUERY_WORDS]


def _hebrew_forms(word: str) -> dict[str, float]:
    """The stored forms a Hebrew word matches: itself, without and with prefix letters."""
    forms = {word: 1.0}
    for i, stem in enumerate((word, *hebrew_variants(word))):
        factor = PREFIX_STRIPPED if i else 1.0
        forms.setdefault(stem, factor)
        for prefix in HE_PREFIXES:
            forms.setdefault(prefix + stem, factor * PREFIX_STRIPPED)
    return forms


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one edit); > limit = limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _trigrams(word: str) -> set[str]:
    padded = f"  {word}  "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def max_typos(word: str) -> int:
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


# The index -----------------------------------------------------------------------------


@dataclass
class _Doc:
    """An analysed text, kept only for the small second segment (rebuilt without jieba)."""

    slot: int  # the article's place in its segment
    language: str
    question: list[str]  # terms
    phrases: list[list[str]]  # the terms of each keyword phrasing
    answer: list[str]


@dataclass
class _ArticleRow:
    pk: int
    key: str
    version_id: int
    usage: int
    order_types: tuple[str, ...]


def _extend(target: array, values) -> None:
    try:
        target.extend(values)
    except OverflowError:  # a word 65,536 times in one answer: counted as 65,535
        target.extend(min(v, 65_535) for v in values)


class _Builder:
    """Collects analysed texts one by one into flat arrays (no per-text objects kept)."""

    def __init__(self):
        self.terms: defaultdict[str, int] = defaultdict(count().__next__)  # term -> its id
        self.term_ids = array("i")
        self.tfs = (array("H"), array("B"), array("H"))  # keywords: there or not
        self.doc_terms = array("i")  # distinct terms of each text
        self.lengths = array("f")  # terms of each text's three fields
        self.doc_slot = array("i")
        self.doc_language = array("b")
        self.vocabulary: dict[str, str | None] = {}
        # Keyword phrasings of 2+ distinct terms: their text and their terms.
        self.phrase_doc = array("i")
        self.phrase_size = array("B")
        self.phrase_term_ids = array("i")
        self.phrase_of_term = array("i")

    def add(self, slot: int, language: str, doc: _Doc) -> None:
        question, answer = doc.question, doc.answer
        keywords = [term for phrase in doc.phrases for term in phrase]
        in_question, in_answer, in_keywords = Counter(question), Counter(answer), set(keywords)
        text = len(self.doc_terms)
        for phrase in doc.phrases:
            distinct = set(phrase)
            if 2 <= len(distinct) <= 255:
                self.phrase_of_term.extend(repeat(len(self.phrase_doc), len(distinct)))
                self.phrase_term_ids.extend(map(self.terms.__getitem__, distinct))
                self.phrase_doc.append(text)
                self.phrase_size.append(len(distinct))
        distinct = list(in_question.keys() | in_keywords | in_answer.keys())
        self.term_ids.extend(map(self.terms.__getitem__, distinct))
        _extend(self.tfs[0], list(map(in_question.get, distinct, repeat(0))))
        self.tfs[1].extend(map(in_keywords.__contains__, distinct))
        _extend(self.tfs[2], list(map(in_answer.get, distinct, repeat(0))))
        self.doc_terms.append(len(distinct))
        self.lengths.extend((len(question), len(keywords), len(answer)))
        self.doc_slot.append(slot)
        self.doc_language.append(LANGUAGES.index(language) if language in LANGUAGES else 0)


class _Segment:
    """An inverted index: one posting list (documents, weights) per term, in flat arrays.

    The postings never change; ``alive`` hides the texts of articles changed since,
    and usage and work-order types are kept up to date in place.
    """

    def __init__(self, articles: list[_ArticleRow], built: _Builder, base: _Segment | None = None):
        self.articles = articles
        self.slot_of = {row.pk: slot for slot, row in enumerate(articles)}
        n = self.n_docs = len(built.doc_terms)
        self.doc_slot = np.frombuffer(built.doc_slot, dtype=np.int32).copy()
        self.doc_lang_code = np.frombuffer(built.doc_language, dtype=np.int8).copy()
        # The text of each article in each language (-1: none).
        self.text_of = np.full((len(articles), len(LANGUAGES)), -1, dtype=np.int32)
        self.text_of[self.doc_slot, self.doc_lang_code] = np.arange(n, dtype=np.int32)
        self.alive = np.ones(n, dtype=np.float32)
        self.usage_boost = np.ones(len(articles), dtype=np.float32)
        self._type_masks: dict[str, np.ndarray] = {}
        self.refresh_usage({row.pk: row.usage for row in articles})

        terms = self.terms = dict(built.terms)
        lengths = np.frombuffer(built.lengths, dtype=np.float32).reshape(n, len(FIELDS))
        if base is not None:
            self.avg_lengths = base.avg_lengths
        elif n:
            self.avg_lengths = np.maximum(lengths.mean(axis=0), 1.0)
        else:
            self.avg_lengths = np.ones(len(FIELDS), dtype=np.float32)
        term_ids = np.frombuffer(built.term_ids, dtype=np.int32)
        docs = np.repeat(np.arange(n, dtype=np.int32), np.frombuffer(built.doc_terms, np.int32))
        # BM25 per field, summed: weight * tf (k1 + 1) / (tf + k1 (1 - b + b len / avg len)).
        weights = np.zeros(len(term_ids), dtype=np.float32)
        for f, tfs in enumerate(built.tfs):
            tf = np.frombuffer(tfs, dtype=np.uint16 if tfs.typecode == "H" else np.uint8)
            tf = tf.astype(np.float32)
            norm = (1 - FIELD_B[f] + FIELD_B[f] * lengths[:, f] / self.avg_lengths[f])[docs]
            weights += FIELD_WEIGHTS[f] * tf * (K1 + 1) / (tf + K1 * norm)
            del tf, norm
        order = np.argsort(term_ids, kind="stable")  # by term, then by document
        self.post_docs = docs[order]
        self.post_weights = weights[order]
        self.offsets = np.searchsorted(term_ids[order], np.arange(len(terms) + 1))
        del order, weights, docs
        self.df = np.diff(self.offsets)  # idf is computed per query over all segments
        # Keyword phrasings by term, to find the ones a query says in full.
        self.phrase_doc = np.frombuffer(built.phrase_doc, dtype=np.int32).copy()
        self.phrase_size = np.frombuffer(built.phrase_size, dtype=np.uint8).copy()
        phrase_terms = np.frombuffer(built.phrase_term_ids, dtype=np.int32)
        order = np.argsort(phrase_terms, kind="stable")
        self.phrases_by_term = np.frombuffer(built.phrase_of_term, dtype=np.int32)[order]
        self.phrase_offsets = np.searchsorted(phrase_terms[order], np.arange(len(terms) + 1))
        del order

        # Words as typed (Latin) and as stored (Hebrew) -> their terms, to complete and correct.
        self.lookup: dict[str, tuple[str, ...]] = {
            word: (term,) for word, term in built.vocabulary.items() if term in terms
        }
        for term in terms:
            if "\u05d0" <= term[0] <= "\u05ea":
                self.lookup[term] = (term,)
        self.sorted_words = sorted(self.lookup)
        typo_words = [w for w in self.sorted_words if len(w) >= 4 and not w.isdigit()]
        self.typo_words = typo_words
        self.typo_lengths = np.fromiter(map(len, typo_words), dtype=np.int16, count=len(typo_words))
        grams: dict[str, array] = {}
        for i, word in enumerate(typo_words):
            for gram in _trigrams(word):
                grams.setdefault(gram, array("i")).append(i)
        self.trigrams = {g: np.frombuffer(ids, dtype=np.int32) for g, ids in grams.items()}

    def df_of(self, term: str) -> int:
        tid = self.terms.get(term)
        return 0 if tid is None else int(self.df[tid])

    def refresh_usage(self, usage: dict[int, int]) -> None:
        for pk, uses in usage.items():
            slot = self.slot_of.get(pk)
            if slot is not None:
                self.articles[slot].usage = uses
                self.usage_boost[slot] = 1 + USAGE_WEIGHT * math.log1p(max(uses, 0))

    def set_order_types(self, pk: int, order_types: tuple[str, ...]) -> None:
        slot = self.slot_of.get(pk)
        if slot is not None and self.articles[slot].order_types != order_types:
            self.articles[slot].order_types = order_types
            self._type_masks.clear()

    def type_mask(self, order_type: str) -> np.ndarray:
        mask = self._type_masks.get(order_type)
        if mask is None:
            mask = np.fromiter(
                (order_type in row.order_types for row in self.articles),
                dtype=bool,
                count=len(self.articles),
            )
            self._type_masks[order_type] = mask
        return mask

    def hide(self, pk: int) -> None:
        slot = self.slot_of.get(pk)
        if slot is not None:
            texts = self.text_of[slot]
            self.alive[texts[texts >= 0]] = 0

    # Expansion of query words against this segment's vocabulary.

    def completions(self, prefix: str) -> list[tuple[str, int]]:
        """(word, document frequency) of the words starting with ``prefix``."""
        out = []
        for word in islice(self.sorted_words, bisect_left(self.sorted_words, prefix), None):
            if not word.startswith(prefix):
                break
            out.append((word, sum(map(self.df_of, self.lookup[word]))))
        return out

    def corrections(self, word: str, limit: int) -> list[tuple[str, int, int]]:
        """(word, distance, frequency) of the vocabulary words within ``limit`` edits."""
        grams = [self.trigrams[g] for g in _trigrams(word) if g in self.trigrams]
        if not grams:
            return []
        ids, counts = np.unique(np.concatenate(grams), return_counts=True)
        # q-gram lemma: an edit spoils at most 3 of the word's trigrams, a swap of two letters 4.
        ids = ids[counts >= max(len(word) + 2 - 4 * limit, 1)]
        ids = ids[np.abs(self.typo_lengths[ids].astype(np.int32) - len(word)) <= limit]
        out = []
        for i in ids[:2000]:
            candidate = self.typo_words[i]
            distance = edit_distance(word, candidate, limit)
            if distance <= limit:
                out.append((candidate, distance, sum(map(self.df_of, self.lookup[candidate]))))
        return out

    def phrases_said(self, plan: list[dict[str, float]]) -> np.ndarray:
        """The texts with a keyword phrasing (2+ words) whose every word the query has."""
        tids = {self.terms[t] for alternatives in plan for t in alternatives if t in self.terms}
        if not tids or not len(self.phrase_doc):
            return np.zeros(0, dtype=np.int32)
        lists = [
            self.phrases_by_term[self.phrase_offsets[t] : self.phrase_offsets[t + 1]] for t in tids
        ]
        hits = np.bincount(np.concatenate(lists), minlength=len(self.phrase_doc))
        return self.phrase_doc[np.flatnonzero(hits == self.phrase_size)]

    def score(self, plan: list[dict[str, float]], language, order_type, k: int):
        """The best ``k`` live texts for the plan (term -> factor times idf): [(score, text)]."""
        if not self.n_docs:
            return []
        total = np.zeros(self.n_docs, dtype=np.float32)
        matched = np.zeros(self.n_docs, dtype=np.float32)  # words of the query found
        for alternatives in plan:
            best = None
            for term, factor in alternatives.items():
                tid = self.terms.get(term)
                if tid is None:
                    continue
                s, e = self.offsets[tid], self.offsets[tid + 1]
                docs = self.post_docs[s:e]
                values = self.post_weights[s:e] * factor
                if len(alternatives) == 1:
                    total[docs] += values
                    matched[docs] += 1
                    break
                if best is None:
                    best = np.zeros(self.n_docs, dtype=np.float32)
                # Texts are unique within a posting list, so this is a safe scatter-max.
                best[docs] = np.maximum(best[docs], values)
            if best is not None:
                total += best
                matched += best > 0
        # A text that has more of the caller's words wins over one that repeats fewer.
        words = max(sum(1 for a in plan if a), 1)
        total *= self.alive * (matched / words) ** COORDINATION
        said = self.phrases_said(plan)
        if len(said):
            total[said] *= PHRASE_BOOST
        hits = np.flatnonzero(total)
        if not len(hits):
            return []
        scores = total[hits] * self.usage_boost[self.doc_slot[hits]]
        if order_type:
            scores *= np.where(self.type_mask(order_type)[self.doc_slot[hits]], ORDER_TYPE_BOOST, 1)
        if language in LANGUAGES:
            code = LANGUAGES.index(language)
            scores *= np.where(self.doc_lang_code[hits] == code, 1.0, OTHER_LANGUAGE)
        if len(hits) > k:
            top = np.argpartition(-scores, k)[:k]
            hits, scores = hits[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return [(float(scores[i]), int(hits[i])) for i in order]


@dataclass
class _Index:
    stamp: tuple
    main: _Segment
    delta: _Segment | None
    # article pk -> its analysed texts and words, kept to rebuild the delta without jieba
    delta_docs: dict[int, tuple[list[_Doc], dict]]
    delta_rows: dict[int, _ArticleRow]
    built_seconds: float
    usage_read_at: float

    @property
    def segments(self) -> list[_Segment]:
        return [self.main] + ([self.delta] if self.delta is not None else [])


def _analyse(slot: int, language: str, question, keywords, answer, notice, vocabulary) -> _Doc:
    answer_text = answer or ""
    if notice:  # a one-time notice's documents, fees, steps and time limits are answer too
        parts = [line for part in notice.values() if isinstance(part, list) for line in part]
        answer_text = "\n".join([answer_text, *map(str, parts)])
    phrases = [index_terms(line, vocabulary) for line in (keywords or "").splitlines()]
    return _Doc(
        slot,
        language,
        index_terms(question or "", vocabulary),
        [phrase for phrase in phrases if phrase],
        index_terms(answer_text, vocabulary),
    )


def _profile() -> str:
    from voltdesk.core.services import UtilityNotConfigured, get_utility

    try:
        return get_utility().profile
    except UtilityNotConfigured:
        return ""


def _stamp() -> tuple:
    from .services import local_today

    published = Article.objects.filter(status=ArticleStatus.PUBLISHED).aggregate(
        n=Count("pk"), last=Max("updated_at")
    )
    return (published["n"], published["last"], local_today(), _profile())


def _article_rows(today) -> list[_ArticleRow]:
    from .services import articles_for_agents

    return [
        _ArticleRow(pk, key, version_id, usage or 0, tuple(types or ()))
        for pk, key, version_id, usage, types in articles_for_agents(today).values_list(
            "pk", "key", "published_version_id", "usage_count", "order_types"
        )
    ]


def _texts(rows: list[_ArticleRow], *, today, all_published: bool):
    """(slot, row, language, question, keywords, answer, notice) of the rows' published texts."""
    from .services import answers_for_agents

    by_version = {row.version_id: (slot, row) for slot, row in enumerate(rows)}
    if all_published:
        batches = [answers_for_agents(today)]
    else:  # a few changed articles; batches keep SQLite's variable limit
        ids = list(by_version)
        batches = [
            ArticleText.objects.filter(version_id__in=ids[i : i + 500])
            for i in range(0, len(ids), 500)
        ]
    columns = ("version_id", "language", "question", "keywords", "answer", "notice")
    for texts in batches:
        for version_id, *text in texts.values_list(*columns).iterator(chunk_size=2000):
            if version_id in by_version:  # else published after the rows were read: next time
                yield (*by_version[version_id], *text)


def _full_build(stamp) -> _Index:
    began = time.perf_counter()
    today = stamp[2]  # the day the stamp was taken: the index and its stamp agree
    rows = _article_rows(today)
    built = _Builder()
    for slot, _row, language, *text in _texts(rows, today=today, all_published=True):
        doc = _analyse(slot, language, *text, built.vocabulary)
        built.add(slot, language, doc)
    main = _Segment(rows, built)
    seconds = time.perf_counter() - began
    log.info("knowledge search: %s articles, %s texts in %.1f s", len(rows), main.n_docs, seconds)
    index = _Index(stamp, main, None, {}, {}, seconds, time.monotonic())
    _save(index)
    return index


def _refresh(index: _Index, stamp) -> _Index:
    """Index again only what changed since ``index``; a full build when much did."""
    rows = _article_rows(stamp[2])
    main, old_delta = index.main, index.delta
    live = {row.pk: row for row in rows}
    changed: list[_ArticleRow] = []
    for row in rows:
        slot = main.slot_of.get(row.pk)
        if slot is not None and main.articles[slot].version_id == row.version_id:
            main.set_order_types(row.pk, row.order_types)
            continue
        kept = index.delta_rows.get(row.pk)
        if kept is not None and kept.version_id == row.version_id:
            old_delta.set_order_types(row.pk, row.order_types)
            continue
        changed.append(row)
    hidden = [
        row.pk
        for row in main.articles
        if row.pk not in live or live[row.pk].version_id != row.version_id
    ]
    delta_rows = {
        pk: row
        for pk, row in index.delta_rows.items()
        if pk in live and live[pk].version_id == row.version_id
    }
    delta_rows.update({row.pk: row for row in changed})
    if len(delta_rows) + len(hidden) > max(DELTA_MIN, DELTA_SHARE * len(main.articles)):
        return _full_build(stamp)
    for pk in hidden:
        main.hide(pk)
    renewed = {row.pk for row in changed}
    delta_docs = {
        pk: kept for pk, kept in index.delta_docs.items() if pk in delta_rows and pk not in renewed
    }
    for slot, row, language, *text in _texts(changed, today=stamp[2], all_published=False):
        docs, words = delta_docs.setdefault(row.pk, ([], {}))
        docs.append(_analyse(slot, language, *text, words))
    delta = old_delta
    if changed or len(delta_rows) != len(index.delta_rows):
        ordered = list(delta_rows.values())
        built = _Builder()
        for slot, row in enumerate(ordered):
            docs, words = delta_docs.get(row.pk, ([], {}))
            built.vocabulary.update(words)
            for doc in docs:
                built.add(slot, doc.language, doc)
        delta = _Segment(ordered, built, base=main) if ordered else None
    usage = {row.pk: row.usage for row in rows}
    for segment in (main, delta):
        if segment is not None:
            segment.refresh_usage(usage)
    return _Index(stamp, main, delta, delta_docs, delta_rows, index.built_seconds, time.monotonic())


_lock = threading.Lock()
_index: _Index | None = None
_checked_at = 0.0
_dirty = True


def _stamp_every() -> float:
    return float(getattr(settings, "KNOWLEDGE_SEARCH_STAMP_SECONDS", 1.0))


def current_index() -> _Index:
    """This process's index, brought up to date when the stamp changed (checked once a second)."""
    global _index, _checked_at, _dirty
    index, now = _index, time.monotonic()
    if index is not None and not _dirty and now - _checked_at < _stamp_every():
        return index
    with _lock:
        if _index is not None and not _dirty and time.monotonic() - _checked_at < _stamp_every():
            return _index
        _dirty = False
        stamp = _stamp()
        _checked_at = time.monotonic()
        if _index is None:
            _index = _load_saved(stamp)
        if _index is None or _index.stamp[3] != stamp[3]:
            _index = _full_build(stamp)
        elif _index.stamp != stamp:
            _index = _refresh(_index, stamp)
        elif _checked_at - _index.usage_read_at > USAGE_REFRESH_SECONDS:
            usage = dict(
                Article.objects.filter(status=ArticleStatus.PUBLISHED).values_list(
                    "pk", "usage_count"
                )
            )
            for segment in _index.segments:
                segment.refresh_usage(usage)
            _index.usage_read_at = _checked_at
        return _index


def reset_index() -> None:
    """Forget this process's index: the next search builds it from the database."""
    global _index, _dirty
    with _lock:
        _index, _dirty = None, True


def build_index() -> dict:
    """Build this process's index now (e.g. at start-up or in a benchmark); its figures."""
    global _index, _checked_at, _dirty
    with _lock:
        _index = _full_build(_stamp())
        _checked_at, _dirty = time.monotonic(), False
    return index_figures()


# A saved index: a new process (a restarted web worker) starts from it and reads only the
# articles changed since. Off unless KNOWLEDGE_SEARCH_CACHE_DIR names a folder that only
# this deployment writes (it is a pickle). Its name covers this module's code, jieba's
# version, the database and the profile, so a new release or another database never
# reuses it.


def _saved_path(profile: str) -> Path | None:
    folder = getattr(settings, "KNOWLEDGE_SEARCH_CACHE_DIR", None)
    if not folder:
        return None
    import jieba
    from django.db import connection

    db = connection.settings_dict
    key = hashlib.sha256(Path(__file__).read_bytes())
    for part in (jieba.__version__, db["ENGINE"], db["NAME"], db["HOST"], db["PORT"], profile):
        key.update(f"\0{part}".encode())
    return Path(folder) / f"knowledge-search-{key.hexdigest()[:20]}.pickle"


def _save(index: _Index) -> None:
    path = _saved_path(index.stamp[3])
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)  # whole or not at all, whoever reads it meanwhile
    except OSError as exc:
        log.warning("knowledge search: the index was not saved to %s: %s", path, exc)


def _load_saved(stamp) -> _Index | None:
    path = _saved_path(stamp[3])
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            index = pickle.load(handle)  # noqa: S301 - written by this deployment only
    except Exception as exc:  # a cache never stops the search: build anew
        log.warning("knowledge search: %s is unreadable, building anew: %s", path, exc)
        return None
    if not isinstance(index, _Index) or index.stamp[3] != stamp[3]:
        return None
    # Read again below as changed: another day, other articles, usage counts.
    index.usage_read_at = 0.0
    return index


def index_figures() -> dict:
    index = _index
    if index is None:
        return {}
    segments = index.segments
    return {
        "articles": sum(len(s.articles) for s in segments),
        "texts": sum(s.n_docs for s in segments),
        "terms": len(index.main.terms),
        "postings": int(len(index.main.post_docs)),
        "words_for_typos": len(index.main.typo_words),
        "delta_articles": len(index.delta.articles) if index.delta else 0,
        "build_s": round(index.built_seconds, 2),
    }


def note_article_use(article_id: int) -> None:
    """An agent used the article: its usage boost in this process goes up at once."""
    index = _index
    if index is None:
        return
    for segment in index.segments:
        slot = segment.slot_of.get(article_id)
        if slot is not None:
            segment.refresh_usage({article_id: segment.articles[slot].usage + 1})


def _article_saved(sender, **kwargs):
    global _dirty
    _dirty = True  # checked on the next search, not a second later


post_save.connect(_article_saved, sender=Article, dispatch_uid="knowledge-search-saved")
post_delete.connect(_article_saved, sender=Article, dispatch_uid="knowledge-search-deleted")


# Searching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    key: str
    language: str
    question: str
    snippet: str  # the sentence of the answer that matches best
    score: float
    answer: str = ""  # the whole unified answer, to read out

    @property
    def answer_snippet(self) -> str:
        return self.snippet


def _plan(words: list[_Word], segments: list[_Segment]) -> list[tuple[dict[str, float], set]]:
    """Each word's stored terms and factors (itself, its completions and its corrections),
    and the terms that are forms of one Hebrew word."""

    def known(term):
        return any(term in segment.terms for segment in segments)

    def add(alternatives, word, factor):
        for segment in segments:
            for term in segment.lookup.get(word, ()):
                if factor > alternatives.get(term, 0):
                    alternatives[term] = factor

    plan = []
    for word in words:
        alternatives = {t: f for t, f in word.alternatives.items() if known(t)}
        if word.script == "han":
            plan.append((alternatives, set()))
            continue
        hebrew = word.script == "heb"
        # Hebrew completes and corrects the word without its prefix letters too, and
        # finds what it completes or corrects to with prefix letters.
        roots = [word.text, *hebrew_variants(word.text)] if hebrew else [word.text]
        prefixes = ("", *HE_PREFIXES) if hebrew else ("",)
        if word.partial and len(word.text) >= 2:
            found: dict[str, tuple[float, int]] = {}  # word -> (factor, frequency)
            for i, root in enumerate(roots):
                for prefix in prefixes:
                    factor = (
                        COMPLETION
                        * (PREFIX_STRIPPED if i else 1)
                        * (PREFIX_STRIPPED if prefix else 1)
                    )
                    for segment in segments:
                        for candidate, frequency in segment.completions(prefix + root):
                            f, n = found.get(candidate, (0.0, 0))
                            found[candidate] = (max(f, factor), n + frequency)
            commonest = sorted(found.items(), key=lambda item: -item[1][1])[:MAX_COMPLETIONS]
            for candidate, (factor, _n) in commonest:
                add(alternatives, candidate, factor)
        limit = max_typos(word.text)
        if limit and word.alternatives and not alternatives:
            corrections: dict[str, tuple[int, int, int]] = {}  # word -> (distance, root, freq)
            for i, root in enumerate(roots):
                for segment in segments:
                    for candidate, distance, frequency in segment.corrections(root, limit):
                        d, r, n = corrections.get(candidate, (distance, i, 0))
                        corrections[candidate] = (min(d, distance), min(r, i), n + frequency)
            if corrections:
                nearest = min(d for d, _r, _n in corrections.values())
                best = sorted(
                    (c for c, (d, _r, _n) in corrections.items() if d == nearest),
                    key=lambda c: -corrections[c][2],
                )[:MAX_CORRECTIONS]
                for candidate in best:
                    factor = TYPO[nearest] * (PREFIX_STRIPPED if corrections[candidate][1] else 1)
                    add(alternatives, candidate, factor)
                    for prefix in prefixes[1:]:  # the corrected word with prefix letters
                        add(alternatives, prefix + candidate, factor * PREFIX_STRIPPED)
        # The forms of a Hebrew word are one word: they share one idf, as a stem would.
        family = {t for t in word.alternatives if t in alternatives} if hebrew else set()
        plan.append((alternatives, family))
    return plan


def _weighted(plan, segments: list[_Segment]) -> list[dict[str, float]]:
    """Each word's terms with factor times idf; idf over every segment's texts."""
    total = sum(segment.n_docs for segment in segments)

    def idf(df: int) -> float:
        df = min(df, total)
        return math.log1p((total - df + 0.5) / (df + 0.5))

    def df_of(term: str) -> int:
        return sum(segment.df_of(term) for segment in segments)

    out = []
    for alternatives, family in plan:
        shared = idf(sum(map(df_of, family))) if family else None
        out.append(
            {
                term: factor * (shared if term in family else idf(df_of(term)))
                for term, factor in alternatives.items()
            }
        )
    return out


def _snippet(answer: str, terms: set[str]) -> str:
    sentences = [s for s in _SENTENCE_END.split(answer or "") if s.strip()]
    if not sentences:
        return ""
    best, best_hits = sentences[0], 0
    for sentence in sentences:
        hits = len(terms.intersection(index_terms(sentence)))
        if hits > best_hits:
            best, best_hits = sentence, hits
    best = best.strip()
    return best if len(best) <= SNIPPET_CHARS else best[: SNIPPET_CHARS - 1].rstrip() + "…"


def search_articles(
    query: str, *, language: str | None = None, order_type: str | None = None, limit: int = 8
) -> list[SearchHit]:
    """The articles that answer ``query`` best, one hit per article, best first.

    ``language`` is the agent's: its texts rank a little higher and a hit is shown
    in it when the article has it (else in the language that matched best).
    ``order_type`` (a work-order type code) favours articles made for it.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    words = _query_words(query or "")
    if not words:
        return []
    index = current_index()
    segments = index.segments
    plan = _weighted(_plan(words, segments), segments)
    if not any(plan):
        return []
    best: dict[int, tuple[float, _Segment, int]] = {}
    for segment in segments:
        for score, doc in segment.score(plan, language, order_type, k=limit * len(LANGUAGES) + 3):
            row = segment.articles[segment.doc_slot[doc]]
            if row.pk not in best or best[row.pk][0] < score:
                best[row.pk] = (score, segment, doc)
    ranked = sorted(best.items(), key=lambda item: -item[1][0])[: limit + 2]
    wanted = {}
    for pk, (score, segment, doc) in ranked:
        slot = segment.doc_slot[doc]
        mine = LANGUAGES.index(language) if language in LANGUAGES else None
        has_mine = mine is not None and segment.text_of[slot, mine] >= 0
        shown = language if has_mine else LANGUAGES[segment.doc_lang_code[doc]]
        wanted[pk] = (score, segment.articles[slot], shown)
    # The words as stored now: a hit whose version is gone (index a moment behind) drops out.
    stored = {
        (version_id, lang): (question, answer)
        for version_id, lang, question, answer in ArticleText.objects.filter(
            version_id__in=[row.version_id for _s, row, _l in wanted.values()]
        ).values_list("version_id", "language", "question", "answer")
    }
    matched = {term for alternatives in plan for term in alternatives}
    hits = []
    for pk, (score, row, shown) in wanted.items():
        text = stored.get((row.version_id, shown))
        if text is None:
            continue
        question, answer = text
        hits.append(
            SearchHit(
                pk, row.key, shown, question, _snippet(answer, matched), round(score, 4), answer
            )
        )
    return hits[:limit]
