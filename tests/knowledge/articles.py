"""Texts and articles for the knowledge base's tests (plain helpers, no fixtures)."""

from voltdesk.knowledge import services


def texts(tag: str = "", *, notice: bool = False, languages=("en", "he", "zh-hans")) -> dict:
    """Texts in the three languages; ``tag`` makes each version's words different."""
    all_texts = {
        "en": {
            "question": f"Why is my bill estimated?{tag}",
            "answer": (
                f"The meter was not read this month, so the bill uses an estimate.{tag} "
                "Send a photo of the meter within 7 days and the next bill is corrected."
            ),
            "keywords": ["estimated bill", "estimeted reading", "bill guessed"],
        },
        "he": {
            "question": f"למה החשבון שלי לפי הערכה?{tag}",
            "answer": (
                f"המונה לא נקרא החודש ולכן החשבון לפי הערכה.{tag} שלחו צילום של המונה תוך 7 ימים."
            ),
            "keywords": ["חשבון לפי הערכה", "קריאת מונה"],
        },
        "zh-hans": {
            "question": f"为什么我的电费是估算的？{tag}",
            "answer": f"本月未抄表，电费按估算收取。{tag}请在7天内上传电表照片，下期电费将更正。",
            "keywords": ["估抄", "电费估算"],
        },
    }
    chosen = {code: dict(all_texts[code]) for code in languages}
    if notice:
        for code, text in chosen.items():
            text["notice"] = {
                "documents": [f"ID card ({code})", "property deed"],
                "fees": ["no fee"],
                "steps": ["apply at the service hall", "site survey"],
                "time_limits": ["5 working days"],
            }
    return chosen


def draft(editor, key="il-bill-estimated", **fields):
    fields.setdefault("topic", "billing_payments")
    fields.setdefault("texts", texts())
    return services.create_article(editor, key=key, **fields)


def published(editor, reviewer, key="il-bill-estimated", **fields):
    """An article whose version 1 ``editor`` wrote and ``reviewer`` published."""
    article = draft(editor, key, **fields)
    version = article.versions.get(number=1)
    services.submit_for_review(editor, version)
    services.approve_and_publish(reviewer, version)
    article.refresh_from_db()
    return article


def item(key: str, *, topic="billing_payments", kind="answer", tag="", **extra) -> dict:
    """One article of the import format (docs/knowledge.md)."""
    return {
        "key": key,
        "topic": topic,
        "kind": kind,
        "business_kind": "new_connection" if kind == "notice" else None,
        "order_types": ["business"] if kind == "notice" else ["consultation"],
        "subtypes": ["new_connection"] if kind == "notice" else ["bill_query"],
        "texts": texts(tag, notice=kind == "notice"),
        **extra,
    }


def three_articles() -> list[dict]:
    return [
        item("il-bill-estimated"),
        item("il-late-payment", tag=" (late)"),
        item("il-new-connection", topic="new_connection", kind="notice", tag=" (connect)"),
    ]
