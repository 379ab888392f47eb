"""A realistic multilingual work-order history for the classifier tests and bench.

The demo's caller phrases (``workorders.demo.SAYS``, Hebrew and Chinese) with the
subtype each one describes, English phrases of the same kinds, and variations:
a greeting, a street, a closing word and now and then a dropped letter (a typo).
"""

import random
from datetime import UTC, datetime, timedelta

from voltdesk.workorders.demo import SAYS

# The subtype each demo phrase describes, in SAYS' order (the same in il and cn).
SUBTYPE_OF_PHRASE = {
    "fault": [
        "power_out",
        "power_out",
        "partial_power",
        "line_down",
        "meter_fault",
        "partial_power",
    ],
    "consultation": ["bill_query", "outage_query", "service_query", "bill_query", "service_query"],
    "business": ["new_connection", "change_of_use", "meter_test", "name_transfer", "change_of_use"],
    "complaint": ["complaint", "complaint", "complaint", "complaint"],
    "suggestion": ["praise", "suggestion", "opinion"],
}

ENGLISH = {
    ("fault", "power_out"): [
        "No power in the house since this morning, the neighbours on {street} too",
        "Power cut on {street}, the whole building is dark",
        "We have no electricity at all, everything went off",
    ],
    ("fault", "partial_power"): [
        "The breaker keeps tripping, the air conditioner will not run",
        "Half of the house has no power, the main switch is fine",
        "The lights are flickering and the voltage is low",
    ],
    ("fault", "line_down"): [
        "A pole is leaning on {street} and there are sparks",
        "A power line fell on the road on {street}, it is dangerous",
    ],
    ("fault", "meter_fault"): [
        "The meter display is blank and shows nothing",
        "My meter is broken, the screen is dead",
    ],
    ("consultation", "bill_query"): [
        "Why is this month's bill so high?",
        "What is the night tariff per kWh?",
    ],
    ("consultation", "outage_query"): [
        "When will the power be back on {street}?",
        "Is there a planned outage in my area tomorrow?",
    ],
    ("consultation", "service_query"): [
        "How do I switch to a digital invoice?",
        "How do I set up a direct debit for my payments?",
    ],
    ("business", "new_connection"): [
        "I need a new connection for a new house on {street}",
        "Please connect electricity to our new building on {street}",
    ],
    ("business", "change_of_use"): [
        "Change the property from residential to commercial use",
        "We want to increase the connection capacity for the shop",
    ],
    ("business", "meter_test"): [
        "Please test my meter, the consumption looks wrong",
        "I ask for a meter check, the readings make no sense",
    ],
    ("business", "name_transfer"): [
        "Transfer the account to the name of the new tenant",
        "The account should be in the new owner's name",
    ],
    ("complaint", "complaint"): [
        "The technician did not come at the agreed time",
        "I waited an hour on the line and nobody answered",
        "I was charged twice for the same bill",
    ],
    ("complaint", "report"): [
        "Someone is stealing electricity from the pole on {street}",
        "I want to report an illegal connection next door",
    ],
    ("suggestion", "praise"): [
        "Thank you to the crew who fixed the fault on {street} so fast",
        "Great service, thanks to the team",
    ],
    ("suggestion", "suggestion"): [
        "You should send a message before a planned outage",
        "It would help to get an SMS when the power is back",
    ],
    ("suggestion", "opinion"): [
        "The app is easy to use but consumption history is missing",
        "In my opinion the website is hard to read",
    ],
}
# Theft reports in Hebrew and Chinese, which SAYS does not have.
REPORTS = {
    "il": ["מישהו גונב חשמל מהעמוד ב{street}", "רוצה לדווח על חיבור פיראטי אצל השכן"],
    "cn": ["有人在{street}的电线杆上偷电", "举报隔壁私拉电线窃电"],
}
STREETS = {
    "il": ["הרצל", "ויצמן", "בן גוריון", "הנביאים", "יפו", "העצמאות", "הגפן", "רוטשילד"],
    "cn": ["人民路", "中山路", "解放路", "建设路", "长安街", "和平路", "胜利路", "文化路"],
    "en": ["King Street", "Herzl St", "Main Road", "Park Lane", "Hill Avenue", "Station Rd"],
}
GREETING = {
    "il": ["", "", "שלום, ", "בוקר טוב, "],
    "cn": ["", "", "你好，", "您好，"],
    "en": ["", "", "Hello, ", "Hi, "],
}
CLOSING = {
    "il": ["", "", " תודה", " בבקשה", " דחוף"],
    "cn": ["", "", "，谢谢", "，麻烦了", "，很急"],
    "en": ["", "", " thanks", " please", " urgent"],
}


def phrases(language: str) -> dict[tuple[str, str], list[str]]:
    """(type, subtype) -> caller phrases in ``language`` (il: Hebrew, cn: Chinese, en)."""
    if language == "en":
        return ENGLISH
    bank: dict[tuple[str, str], list[str]] = {}
    for order_type, says in SAYS[language].items():
        for text, subtype in zip(says, SUBTYPE_OF_PHRASE[order_type], strict=True):
            bank.setdefault((order_type, subtype), []).append(text)
    bank[("complaint", "report")] = REPORTS[language]
    return bank


def vary(text: str, language: str, rng: random.Random) -> str:
    said = rng.choice(GREETING[language]) + text.format(street=rng.choice(STREETS[language]))
    said += rng.choice(CLOSING[language])
    if rng.random() < 0.15 and len(said) > 8:  # a typo: one letter dropped
        k = rng.randrange(len(said))
        said = said[:k] + said[k + 1 :]
    return said


def history_rows(count: int, *, seed: int = 1, start=datetime(2025, 1, 1, 8, tzinfo=UTC)):
    """``count`` orders (created_at, type, subtype, description), oldest first, a third
    in each language, spread over a year."""
    rng = random.Random(seed)
    banks = {language: phrases(language) for language in ("il", "cn", "en")}
    rows = []
    for i in range(count):
        language = ("il", "cn", "en")[i % 3]
        (order_type, subtype), texts = rng.choice(list(banks[language].items()))
        created = start + timedelta(minutes=i * 365 * 24 * 60 // max(count, 1))
        rows.append((created, order_type, subtype, vary(rng.choice(texts), language, rng)))
    return rows
