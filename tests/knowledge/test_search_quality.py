"""Search quality on the demo content: what callers ask finds the right answer in the top 3.

Each profile's content (``knowledge/content/<profile>.json``) is loaded as the demo
loads it, and every query of ``queries_<profile>.json`` (``{language, query,
expected}``, written by the content's authors, as agents would type them) must
have its expected article among the first three hits. All misses are reported
at once, with what came first instead.
"""

import json
from pathlib import Path

import pytest

from voltdesk.core.services import init_utility
from voltdesk.knowledge import search, services

CONTENT = Path(services.__file__).resolve().parent / "content"
QUERIES = Path(__file__).resolve().parent
TOP = 3


@pytest.fixture(autouse=True)
def fresh_index():
    search.reset_index()
    yield
    search.reset_index()


def _queries(profile: str) -> list[dict]:
    path = QUERIES / f"queries_{profile}.json"
    content = CONTENT / f"{profile}.json"
    if not path.exists() or not content.exists():
        pytest.skip(f"{path.name} or {content.name} is not written yet")
    queries = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(queries, dict):  # {"queries": [...]} is read too
        queries = queries.get("queries", [])
    return queries


@pytest.mark.parametrize("profile", ["il", "cn"])
def test_every_query_finds_its_answer_in_the_top_3(db, profile):
    queries = _queries(profile)
    init_utility(profile)
    services.load_articles(CONTENT / f"{profile}.json", profile=profile)
    known = set(services.articles_for_agents().values_list("key", flat=True))
    assert queries, "no queries"

    misses = []
    for q in queries:
        expected = q["expected"] if isinstance(q["expected"], list) else [q["expected"]]
        assert set(expected) <= known, f"{q['query']!r}: {expected} is not in the content"
        hits = search.search_articles(
            q["query"], language=q.get("language"), order_type=q.get("order_type"), limit=TOP
        )
        found = [hit.key for hit in hits]
        if not set(expected) & set(found):
            misses.append(f"[{q.get('language')}] {q['query']!r}: expected {expected}, got {found}")

    assert not misses, f"{len(misses)} of {len(queries)} queries missed:\n" + "\n".join(misses)
