"""Search for agents: words in three languages, ranking, what is searchable, freshness."""

import datetime as dt

import pytest
from django.contrib.auth.models import User

from voltdesk.knowledge import search, services
from voltdesk.knowledge.models import Article
from voltdesk.knowledge.search import chinese_words, search_articles


@pytest.fixture(autouse=True)
def fresh_index():
    """Every test starts from its own database: no index left from the test before."""
    search.reset_index()
    yield
    search.reset_index()


def text(question, answer, keywords=()):
    return {"question": question, "answer": answer, "keywords": list(keywords)}


def item(key, en, he=None, zh=None, *, order_types=("consultation",), **fields):
    """An article in the import format; a language not given repeats the English text."""
    return {
        "key": key,
        "topic": fields.pop("topic", "general"),
        "kind": "answer",
        "order_types": list(order_types),
        "subtypes": [],
        "texts": {"en": en, "he": he or en, "zh-hans": zh or en},
        **fields,
    }


def publish(*items):
    services.load_articles(list(items), publish=True)
    return {a.key: a for a in Article.objects.filter(key__in=[i["key"] for i in items])}


def keys(query, **options):
    return [hit.key for hit in search_articles(query, **options)]


HIGH_BILL = item(
    "bill-high",
    text(
        "Why is my electricity bill so high?",
        "A high bill usually follows an estimated reading or a hot month. Check the reading "
        "on the bill against your meter. If they differ, send us a photo of the meter.",
        ["bill too high", "expensive bill"],
    ),
    text(
        "למה חשבון החשמל שלי גבוה?",
        "חשבון גבוה נובע בדרך כלל מקריאה משוערת או מחודש חם. השוו את הקריאה בחשבון למונה.",
        ["חשבון גבוה", "חשבון יקר"],
    ),
    text(
        "为什么我家电费这么高？",
        "电费偏高通常是估抄或用电量增加所致。请核对电费单上的读数与电能表读数。",
        ["电费太高", "电费贵"],
    ),
)
METER_TEST = item(
    "meter-test",
    text(
        "How do I ask for a meter test?",
        "We test the meter on site within 5 working days. The test is free when the meter "
        "is found faulty.",
        ["check my meter", "meter running fast"],
    ),
    text(
        "איך מבקשים בדיקת מונה?",
        "בודק מגיע תוך 5 ימי עבודה. הבדיקה ללא תשלום אם המונה נמצא תקול.",
        ["המונה רץ מהר", "בדיקת מונה"],
    ),
    text(
        "如何申请电能表校验？",
        "我们在5个工作日内上门校验。经检定电能表故障的，校验免费。",
        ["电表走得快", "验表"],
    ),
    order_types=("business",),
)
OUTAGE_SMS = item(
    "outage-sms",
    text(
        "I got a text about a planned outage",
        "Planned outages are announced 7 days ahead by SMS. The message names the hours.",
        ["outage message", "power cut text"],
    ),
    text(
        "קיבלתי SMS על הפסקת חשמל מתוכננת",
        "על הפסקות מתוכננות מודיעים שבעה ימים מראש ב-SMS. ההודעה מציינת את השעות.",
        ["הודעה על הפסקה", "הפסקת חשמל מתוכננת"],
    ),
    text(
        "收到计划停电短信",
        "计划停电提前7天通过短信通知，短信中写明停电时段。",
        ["停电通知", "停电短信"],
    ),
    order_types=("fault",),
)
SUPPLY_FEES = item(
    "supply-fees",
    text("What do the service fees cover?", "The fees cover the service."),
    text("מה כוללים דמי השירות?", "הדמים כוללים את השירות."),
    # 供电 and 收费 hold 电 and 费, but not the word 电费.
    text("供电服务收费标准是什么？", "供电服务收费按物价部门核定的标准执行。"),
)


# Words


def test_chinese_is_segmented_into_words():
    assert chinese_words("电费怎么这么高") == ["电费", "高"]  # 怎么, 这么: stop words


def test_a_chinese_query_matches_words_not_stray_characters(utility):
    publish(HIGH_BILL, SUPPLY_FEES)

    assert keys("电费怎么这么高") == ["bill-high"]
    assert keys("电费") == ["bill-high"]  # not 供电 ... 收费
    assert keys("供电收费") == ["supply-fees"]


def test_hebrew_words_match_with_and_without_prefix_letters(utility):
    publish(HIGH_BILL, METER_TEST)

    assert keys("בחשבון")[0] == "bill-high"  # the text has חשבון, החשמל, בחשבון
    assert keys("והמונה")[0] == "meter-test"  # ו + ה + מונה
    assert keys("מונה")[0] == "meter-test"  # the text has המונה, למונה


def test_hebrew_niqqud_and_final_letters_do_not_matter(utility):
    publish(HIGH_BILL)

    assert keys("חֶשְׁבּוֹן") == ["bill-high"]  # with niqqud
    assert search.index_terms("חשבון")[0] == search.index_terms("חשבונ")[0]  # final nun


def test_an_english_typo_is_corrected(utility):
    publish(HIGH_BILL, METER_TEST)

    assert keys("electrisity") == ["bill-high"]  # one letter off (8+ letters: up to two)
    assert keys("eletrcity bil") == ["bill-high"]  # two edits; "bil" is too short to correct
    assert keys("metter")[0] == "meter-test"  # 4 to 7 letters: one edit
    assert keys("mettter") == []  # two edits are too many for 7 letters


def test_the_word_being_typed_matches_as_a_prefix(utility):
    publish(HIGH_BILL, METER_TEST)

    assert keys("meter te")[0] == "meter-test"
    assert keys("meter te ") == ["meter-test", "bill-high"]  # "te" is finished: no longer a prefix
    assert keys("electri")[0] == "bill-high"


def test_a_stop_word_being_typed_may_still_be_a_prefix(utility):
    publish(HIGH_BILL, METER_TEST)

    assert keys("bill too hi")[0] == "bill-high"  # "hi" on its own is a greeting
    assert keys("bill too hi ")[0] == "bill-high"


def test_english_words_are_stemmed(utility):
    publish(METER_TEST)

    assert keys("testing meters") == ["meter-test"]


def test_a_hebrew_query_with_an_english_word(utility):
    publish(HIGH_BILL, OUTAGE_SMS)

    hits = search_articles("קיבלתי SMS", language="he")

    assert [h.key for h in hits] == ["outage-sms"]
    assert hits[0].language == "he"
    assert hits[0].question == "קיבלתי SMS על הפסקת חשמל מתוכננת"


def test_stop_words_alone_find_nothing(utility):
    publish(HIGH_BILL)

    assert keys("why is my ") == []
    assert keys("של את") == []
    assert keys("怎么") == []
    assert keys("") == []


# Ranking


def test_a_question_match_beats_an_answer_only_match(utility):
    publish(
        item(
            "pay-options",
            text(
                "How can I pay my bill?",
                "Pay online, by standing order or at the post office. A late fee is charged "
                "after the due date; the late fee is 2 % a month and the late fee shows on "
                "the next bill.",
            ),
        ),
        item(
            "late-fee",
            text("How is the late fee worked out?", "It is 2 % a month of the amount overdue."),
        ),
    )

    assert keys("late fee") == ["late-fee", "pay-options"]


def test_usage_breaks_a_tie(utility):
    same = text("How do I move my supply to a new tenant?", "Send the form and the meter reading.")
    found = publish(item("move-a", same), item("move-b", same))
    assert len({h.score for h in search_articles("new tenant")}) == 1  # the same score

    for _ in range(3):
        services.record_article_use(found["move-b"])
    search.reset_index()

    assert keys("new tenant") == ["move-b", "move-a"]


def test_the_work_order_type_favours_its_articles(utility):
    same = text("What happens after I report a fault?", "A crew is sent and we call you back.")
    publish(
        item("after-fault", same, order_types=["fault"]),
        item("after-consultation", same, order_types=["consultation"]),
    )

    assert keys("report a fault", order_type="fault")[0] == "after-fault"
    assert keys("report a fault", order_type="consultation")[0] == "after-consultation"


def test_one_hit_per_article_in_the_agents_language(utility):
    publish(HIGH_BILL, METER_TEST)

    hits = search_articles("meter test", language="zh-hans")

    assert [h.key for h in hits] == ["meter-test", "bill-high"]
    assert hits[0].language == "zh-hans"  # found by its English words, shown in Chinese
    assert hits[0].question == "如何申请电能表校验？"
    english = search_articles("meter test")[0]  # no language: the one that matched
    assert (english.language, english.question) == ("en", "How do I ask for a meter test?")


def test_the_snippet_is_the_sentence_that_matches(utility):
    publish(HIGH_BILL)

    hit = search_articles("photo", language="en")[0]

    assert hit.snippet == "If they differ, send us a photo of the meter."
    assert hit.answer.startswith("A high bill usually")


# What is searchable


def test_drafts_and_retired_articles_never_appear(utility):
    services.load_articles([METER_TEST], publish=False)  # a draft
    found = publish(HIGH_BILL)
    assert keys("meter") == ["bill-high"]  # its answer says meter; the draft does not show

    editor = User.objects.create_user("editor")
    services.retire_article(editor, found["bill-high"], "replaced")

    assert keys("meter") == []
    assert keys("bill") == []


def test_an_expired_article_disappears(utility, monkeypatch):
    today = services.local_today()
    publish({**HIGH_BILL, "valid_to": (today + dt.timedelta(days=1)).isoformat()})
    assert keys("bill") == ["bill-high"]

    # The next day: nothing was saved, the date in the stamp changed.
    monkeypatch.setattr(services, "local_today", lambda: today + dt.timedelta(days=1))
    monkeypatch.setattr(search, "_checked_at", 0.0)

    assert keys("bill") == []


def test_an_article_of_the_other_profile_is_not_searched(utility):
    publish({**HIGH_BILL, "profile": "cn"}, {**METER_TEST, "profile": "il"})

    assert keys("meter") == ["meter-test"]


# Freshness


def test_a_new_publication_is_found_at_once_in_this_process(utility):
    publish(HIGH_BILL)
    assert keys("meter test") == ["bill-high"]  # meter, in its answer

    publish(METER_TEST)

    assert keys("meter test")[0] == "meter-test"


def test_a_publication_by_another_process_is_found_within_a_second(utility, monkeypatch):
    publish(HIGH_BILL)
    assert keys("outage") == []
    clock = [search.time.monotonic()]
    monkeypatch.setattr(search.time, "monotonic", lambda: clock[0])
    keys("outage")  # checked the stamp just now

    publish(OUTAGE_SMS)
    monkeypatch.setattr(search, "_dirty", False)  # as if another process had published it

    assert keys("outage") == []  # the stamp is checked at most once a second
    clock[0] += 1.01
    assert keys("outage") == ["outage-sms"]
    assert search.index_figures()["delta_articles"] == 1  # only the new article was read


def test_a_new_version_replaces_the_old_words(utility):
    publish(HIGH_BILL, METER_TEST)
    assert keys("photo") == ["bill-high"]

    changed = {**HIGH_BILL, "texts": {**HIGH_BILL["texts"]}}
    changed["texts"]["en"] = text(
        "Why is my electricity bill so high?", "Upload a picture of the meter in the app."
    )
    publish(changed)

    assert keys("photo") == []
    assert keys("picture") == ["bill-high"]
    assert [h.key for h in search_articles("bill", language="en")] == ["bill-high"]


def test_a_use_through_the_desk_counts_at_once(utility):
    same = text("Where is my nearest service hall?", "See the list of halls on the website.")
    found = publish(item("hall-a", same), item("hall-b", same))
    keys("service hall")

    services.record_article_use(found["hall-b"])
    search.note_article_use(found["hall-b"].pk)

    assert keys("service hall") == ["hall-b", "hall-a"]


def test_works_with_no_article_at_all(utility):
    assert keys("anything") == []
    assert search.index_figures()["articles"] == 0


def test_a_new_process_starts_from_the_saved_index(utility, settings, tmp_path):
    settings.KNOWLEDGE_SEARCH_CACHE_DIR = str(tmp_path)
    publish(HIGH_BILL)
    assert keys("bill") == ["bill-high"]  # built, and saved
    assert len(list(tmp_path.glob("*.pickle"))) == 1

    search.reset_index()  # as a restarted worker
    publish(METER_TEST)

    assert keys("meter test")[0] == "meter-test"
    assert search.index_figures()["delta_articles"] == 1  # the saved one, plus what changed


def test_an_unreadable_saved_index_is_built_anew(utility, settings, tmp_path):
    settings.KNOWLEDGE_SEARCH_CACHE_DIR = str(tmp_path)
    publish(HIGH_BILL)
    keys("bill")
    search.reset_index()
    for saved in tmp_path.glob("*.pickle"):
        saved.write_bytes(b"not a pickle")

    assert keys("bill") == ["bill-high"]
    assert search.index_figures()["delta_articles"] == 0
