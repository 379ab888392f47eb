"""Knowledge search for agents at 50,000 published articles: index build and query time.

Articles are generated from the demo content (``knowledge/content/*.json``, every
article in English, Hebrew and Chinese) by varying its words, as a large
utility's knowledge base would differ from article to article: article i takes
the question of a demo article with a place (a city, in each language), its
answer with a sentence of a second article, a street of a long tail of made-up
street names (so the vocabulary has rare words too) and some of its numbers
changed, and the keywords of a third. They are written with bulk inserts
(50,000 articles, versions and 150,000 texts) and published in one UPDATE.

Timed, in this process (the index is in-process, like a web worker's):

* the full index build (``search.build_index``: read the texts, jieba and the
  other tokenisers, the postings) and the memory it holds (RSS before and after,
  jieba's dictionary already loaded); then a restarted process's first search,
  from the saved index (``KNOWLEDGE_SEARCH_CACHE_DIR``);
* 200 queries per language as agents type them, through ``search_articles``
  with the agent's language (server time of the function, the once-a-second
  stamp query included when it falls due): the content authors' test queries,
  keywords, questions cut off while being typed (the last word partial), a few
  content words of a question, and in English and Hebrew words with a typo;
* the same queries through the suggest route (``desk:knowledge:suggest``) with
  Django's test ``Client`` signed in as an agent: middleware, session, view,
  search, the texts' query and the template;
* publishing one more article and the first search after it (the refresh that
  reads only the changed article).

Figures: median, 95th and 99th percentile per language. Set
VOLTDESK_BENCH_KNOWLEDGE_ARTICLES to change the 50,000.
"""

import json
import os
import random
import re
import statistics
import time
from pathlib import Path

from django.db import connection

from .registry import scenario

ARTICLES = int(os.environ.get("VOLTDESK_BENCH_KNOWLEDGE_ARTICLES", "50000"))
QUERIES_PER_LANGUAGE = 200
PREFIX = "kb-bench-"
ANCHOR_MS = 100
BATCH = 2000
LANGUAGES = ("en", "he", "zh-hans")
TYPES = ["fault"] * 3 + ["consultation"] * 4 + ["business"] * 2 + ["complaint"]

CITIES = [
    ("Haifa", "חיפה", "海法"),
    ("Tel Aviv", "תל אביב", "特拉维夫"),
    ("Jerusalem", "ירושלים", "耶路撒冷"),
    ("Beersheba", "באר שבע", "贝尔谢巴"),
    ("Netanya", "נתניה", "内坦亚"),
    ("Ashdod", "אשדוד", "阿什杜德"),
    ("Eilat", "אילת", "埃拉特"),
    ("Nazareth", "נצרת", "拿撒勒"),
    ("Tiberias", "טבריה", "太巴列"),
    ("Holon", "חולון", "霍隆"),
    ("Beijing", "בייג׳ינג", "北京"),
    ("Shanghai", "שנגחאי", "上海"),
    ("Nanjing", "נאנג׳ינג", "南京"),
    ("Hangzhou", "האנגג׳ואו", "杭州"),
    ("Wuhan", "ווהאן", "武汉"),
    ("Chengdu", "צ׳נגדו", "成都"),
    ("Xi'an", "שיאן", "西安"),
    ("Tianjin", "טיינג׳ין", "天津"),
    ("Suzhou", "סוג׳ואו", "苏州"),
    ("Qingdao", "צ׳ינגדאו", "青岛"),
]
PLACE = {
    "en": ["In {c}: ", "{c}, ", "", "For a customer in {c}: "],
    "he": ["ב{c}: ", "{c} – ", "", "ללקוח ב{c}: "],
    "zh-hans": ["{c}：", "{c}用户：", "", "在{c}，"],
}
STREET = {
    "en": (
        ["ka", "lo", "mi", "ren", "dor", "tal", "shi", "ya", "ben", "zur", "ga", "no"],
        " Street",
    ),
    "he": (["כה", "לו", "מי", "רן", "דור", "טל", "שי", "יה", "בן", "צור", "גה", "נו"], ""),
    "zh-hans": (list("和平建设人民解放中山新华光明胜利东风朝阳长安文化"), "路"),
}
STREET_SENTENCE = {
    "en": "The service office on {s} handles this for the {c} district.",
    "he": "משרד השירות ברחוב {s} מטפל בכך עבור מחוז {c}.",
    "zh-hans": "{c}{s}营业厅负责办理此项业务。",
}
SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")
NUMBER = re.compile(r"\d+")


def _content() -> list[dict]:
    from voltdesk.knowledge import services

    folder = Path(services.__file__).resolve().parent / "content"
    articles = []
    for path in sorted(folder.glob("*.json")):
        articles += json.loads(path.read_text(encoding="utf-8"))
    if not articles:
        raise SystemExit("no demo content in knowledge/content/*.json to vary")
    return articles


def _street(rng: random.Random, language: str) -> str:
    syllables, suffix = STREET[language]
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) + suffix


def _vary_numbers(text: str, rng: random.Random) -> str:
    return NUMBER.sub(lambda m: str(rng.randint(1, 99)) if rng.random() < 0.3 else m.group(), text)


def _texts(base: list[dict], i: int) -> dict:
    """Article i's texts: a demo article's question and answer, varied, in three languages."""
    rng = random.Random(i)
    a, b, c = (base[(i * k + s) % len(base)] for k, s in ((1, 0), (7, 3), (13, 5)))
    city = CITIES[i % len(CITIES)]
    place = rng.randrange(len(PLACE["en"]))
    streets = {
        language: _street(random.Random(i * 31 + n), language)
        for n, language in enumerate(LANGUAGES)
    }
    texts = {}
    for n, language in enumerate(LANGUAGES):
        ta, tb, tc = (x["texts"][language] for x in (a, b, c))
        extra = [s for s in SENTENCE.split(tb["answer"]) if s.strip()]
        answer = " ".join(
            [
                _vary_numbers(ta["answer"], rng),
                rng.choice(extra) if extra else "",
                STREET_SENTENCE[language].format(s=streets[language], c=city[n]),
            ]
        )
        keywords = list(ta.get("keywords") or []) + rng.sample(
            list(tc.get("keywords") or []), k=min(2, len(tc.get("keywords") or []))
        )
        texts[language] = {
            "question": (PLACE[language][place].format(c=city[n]) + ta["question"])[:500],
            "answer": answer,
            "keywords": "\n".join(keywords),
            "notice": ta.get("notice") or {} if a.get("kind") == "notice" else {},
        }
    return {"kind": a.get("kind") or "answer", "topic": a["topic"], "source": a, "texts": texts}


def _generate(n: int) -> dict:
    from voltdesk.knowledge.models import Article, ArticleText, ArticleVersion

    base = _content()
    seconds = {}
    began = time.perf_counter()
    for start in range(0, n, BATCH):
        numbers = range(start, min(start + BATCH, n))
        varied = {i: _texts(base, i) for i in numbers}
        articles = Article.objects.bulk_create(
            Article(
                key=f"{PREFIX}{i:06d}",
                topic=varied[i]["topic"],
                kind=varied[i]["kind"],
                order_types=varied[i]["source"].get("order_types") or [],
                subtypes=varied[i]["source"].get("subtypes") or [],
                profile="",
                usage_count=(i * 7919) % 500 if i % 3 == 0 else 0,
            )
            for i in numbers
        )
        versions = ArticleVersion.objects.bulk_create(
            ArticleVersion(article=article, number=1, status="published") for article in articles
        )
        ArticleText.objects.bulk_create(
            ArticleText(version=version, language=language, **varied[i]["texts"][language])
            for i, version in zip(numbers, versions, strict=True)
            for language in LANGUAGES
        )
    seconds["insert_s"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE knowledge_article a SET status = 'published', published_version_id = v.id,
                   updated_at = now()
            FROM knowledge_articleversion v
            WHERE v.article_id = a.id AND a.key LIKE %s
            """,
            [PREFIX + "%"],
        )
        for table in ("knowledge_article", "knowledge_articleversion", "knowledge_articletext"):
            cursor.execute(f"ANALYZE {table}")
    seconds["publish_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in seconds.items()}


def _typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)
    letters = "abcdefghijklmnopqrstuvwxyz" if word.isascii() else "אבגדהוזחטיכלמנסעפצקרשת"
    return word[:at] + rng.choice(letters) + word[at + 1 :]


def _queries(base: list[dict]) -> dict[str, list[str]]:
    """200 queries per language, as agents type them."""
    rng = random.Random(2026)
    folder = Path(__file__).resolve().parent.parent / "tests" / "knowledge"
    authored: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for path in sorted(folder.glob("queries_*.json")):
        for q in json.loads(path.read_text(encoding="utf-8")):
            if q.get("language") in authored:
                authored[q["language"]].append(q["query"])
    out = {}
    for language in LANGUAGES:
        queries = authored[language][: QUERIES_PER_LANGUAGE // 4]
        while len(queries) < QUERIES_PER_LANGUAGE:
            text = rng.choice(base)["texts"][language]
            kind = rng.random()
            question = text["question"]
            if kind < 0.3 and text.get("keywords"):
                queries.append(rng.choice(text["keywords"]))
            elif kind < 0.6:  # being typed: cut anywhere after half of it
                queries.append(question[: rng.randint(len(question) // 2, len(question))])
            elif kind < 0.8 or language == "zh-hans":
                words = question.split() if language != "zh-hans" else [question]
                k = min(len(words), rng.randint(2, 4))
                queries.append(
                    " ".join(rng.sample(words, k))
                    if language != "zh-hans"
                    else question[: rng.randint(4, max(4, len(question)))]
                )
            else:
                words = question.rstrip("?").split()
                long = [w for w in words if len(w) >= 5]
                if long:
                    w = rng.choice(long)
                    words[words.index(w)] = _typo(w, rng)
                queries.append(" ".join(words))
        out[language] = queries
    return out


def _percentiles(times_ms: list[float]) -> dict:
    cuts = statistics.quantiles(times_ms, n=100, method="inclusive")
    return {
        "median_ms": round(statistics.median(times_ms), 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(max(times_ms), 2),
    }


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@scenario("knowledge_search")
def knowledge_search(scale, workdir) -> dict:
    """Index build and query latency of the knowledge search at 50,000 articles."""
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    from voltdesk.core import roles
    from voltdesk.core.services import init_utility
    from voltdesk.knowledge import search, services
    from voltdesk.knowledge.models import Article

    init_utility("il")
    generation = "reused"
    existing = Article.objects.filter(key__startswith=PREFIX).count()
    if existing not in (0, ARTICLES):
        raise SystemExit("knowledge bench articles of another count are in the database")
    if not existing:
        began = time.perf_counter()
        generation = _generate(ARTICLES)
        generation["total_s"] = round(time.perf_counter() - began, 1)
    base = _content()

    from django.conf import settings

    search.reset_index()
    began = time.perf_counter()
    search._jieba()
    jieba_s = time.perf_counter() - began
    rss_before = _rss_mib()
    settings.KNOWLEDGE_SEARCH_CACHE_DIR = str(workdir / "knowledge-search")
    figures = search.build_index()  # and saves it
    rss_after = _rss_mib()
    saved = next((workdir / "knowledge-search").glob("*.pickle"))
    # A restarted worker: it loads the saved index and checks what changed since.
    search.reset_index()
    began = time.perf_counter()
    search.search_articles("meter", language="en")
    cold_start_s = time.perf_counter() - began

    queries = _queries(base)
    load_before = os.getloadavg()
    per_language, all_times, found = {}, [], {}
    for language, texts in queries.items():
        for q in texts[:10]:  # warm-up: caches of the stemmer and the word forms
            search.search_articles(q, language=language)
        times, hits = [], 0
        for n, q in enumerate(texts):
            began = time.perf_counter()
            result = search.search_articles(q, language=language, order_type=TYPES[n % len(TYPES)])
            times.append((time.perf_counter() - began) * 1000)
            hits += bool(result)
        per_language[language] = _percentiles(times)
        all_times += times
        found[language] = f"{hits}/{len(texts)}"

    agent, created = User.objects.get_or_create(username="knowledge-bench-agent")
    if created:
        agent.groups.add(Group.objects.get(name=roles.AGENT))
    client = Client()
    client.force_login(agent)
    url = reverse("desk:knowledge:suggest")
    route, route_times = {}, []
    for language, texts in queries.items():
        headers = {"HX-Request": "true", "accept-language": language}
        times = []
        for n, q in enumerate(texts):
            began = time.perf_counter()
            response = client.get(url, {"q": q, "type": TYPES[n % len(TYPES)]}, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (q, response.status_code)
        route[language] = _percentiles(times)
        route_times += times
    load_after = os.getloadavg()

    # One more article published: the first search after it reads only that article.
    key = f"{PREFIX}new"
    Article.objects.filter(key=key).delete()
    new = dict(base[0], key=key, profile="")
    new["texts"] = {
        language: {**text, "question": text["question"] + " (zebrafinch)"}
        for language, text in base[0]["texts"].items()
    }
    services.load_articles([new])
    began = time.perf_counter()
    hits = search.search_articles("zebrafinch", language="en")
    refresh_ms = (time.perf_counter() - began) * 1000
    assert hits and hits[0].key == key, hits
    began = time.perf_counter()
    search.search_articles("zebrafinch", language="en")
    after_ms = (time.perf_counter() - began) * 1000

    return {
        "articles": ARTICLES,
        "generation": generation,
        "index": figures,
        "jieba_init_s": round(jieba_s, 2),
        "index_rss_mib": round(rss_after - rss_before, 1),
        "saved_index_mib": round(saved.stat().st_size / 2**20, 1),
        "restart_from_saved_index_s": round(cold_start_s, 2),
        "queries_per_language": QUERIES_PER_LANGUAGE,
        "with_hits": found,
        "search_articles": {**per_language, "all": _percentiles(all_times)},
        "suggest_route": {**route, "all": _percentiles(route_times)},
        "publish_then_first_search_ms": round(refresh_ms, 1),
        "next_search_ms": round(after_ms, 1),
        "anchor_ms": ANCHOR_MS,
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "sample_queries": {language: texts[:5] for language, texts in queries.items()},
    }
