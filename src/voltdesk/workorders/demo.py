"""Realistic work-order history for the demo (27 months), and a desk ready to work.

Volume: about 0.3 orders per customer a year with a floor of 1,500 a year, so
the analytics have data even in a small demo; 27 months so that dashboards can
compare with last year and forecasts can learn the yearly season. Daily volume follows the week
(fewer at weekends), the year (June–September well above the rest, faults
most of all: air conditioning and storms) and holidays (lower). The mix:
faults 40 %, consultations 30 %, business 15 %, complaints 8 %, suggestions
7 %; the hotline takes most calls. Descriptions are written the way callers
speak, in the profile's language. History goes in with bulk inserts, closed;
today's open orders go through intake (routing, commitments, an outage).
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from voltdesk.core.models import Area, Feeder
from voltdesk.customers.models import Site

from .choices import Action, Status
from .models import Crew, DeskAgent, Queue, Transition, WorkOrder

RATE_PER_CUSTOMER = 0.3
FLOOR = 1500
HISTORY_MONTHS = 27
TYPES = [("fault", 40), ("consultation", 30), ("business", 15), ("complaint", 8), ("suggestion", 7)]
SUBTYPES = {
    "fault": ["power_out", "power_out", "partial_power", "line_down", "meter_fault"],
    "consultation": ["bill_query", "outage_query", "service_query"],
    "business": [
        "new_connection",
        "change_of_use",
        "meter_test",
        "billing_question",
        "name_transfer",
    ],
    "complaint": ["complaint", "complaint", "report"],
    "suggestion": ["opinion", "suggestion", "praise"],
}
CHANNELS = [("hotline", 55), ("app", 15), ("web", 12), ("hall", 10), ("onsite", 4), ("email", 4)]
MONTH_WEIGHT = [0.85, 0.8, 0.85, 0.9, 1.0, 1.3, 1.6, 1.65, 1.35, 1.0, 0.85, 0.95]
FAULT_SUMMER = 1.5  # faults rise more than the rest in June–September

SAYS = {
    "il": {
        "fault": [
            "אין חשמל בבית מהבוקר, גם אצל השכנים ב{street}",
            "הפסקת חשמל ברחוב {street}, כל הבניין חשוך",
            "החשמל קופץ כל כמה דקות, המזגן לא עובד",
            "עמוד חשמל נוטה ברחוב {street}, יש ניצוצות",
            "המונה לא מציג כלום והחשמל חלש",
            "חצי מהבית בלי חשמל, המפסק הראשי תקין",
        ],
        "consultation": [
            "למה החשבון של החודש גבוה כל כך?",
            "מתי יחזור החשמל ב{street}?",
            "איך עוברים לחשבונית דיגיטלית?",
            "רוצה לדעת מה התעריף בשעות הלילה",
            "שאלה לגבי תשלום בהוראת קבע",
        ],
        "business": [
            "מבקש חיבור חשמל לבית חדש ב{street}",
            "רוצה להגדיל את החיבור לחנות",
            "בקשה לבדיקת מונה, הצריכה נראית לא הגיונית",
            "העברת חשבון על שם הדייר החדש",
            "שינוי ייעוד הנכס ממגורים לעסק",
        ],
        "complaint": [
            "הטכנאי לא הגיע בזמן שנקבע",
            "חיכיתי שעה על הקו ואף אחד לא ענה",
            "חויבתי פעמיים על אותו חשבון",
            "הפסקות חשמל חוזרות ב{street} כבר שבוע",
        ],
        "suggestion": [
            "תודה לצוות שתיקן מהר את התקלה ב{street}",
            "כדאי לשלוח הודעה לפני הפסקה מתוכננת",
            "האפליקציה נוחה, אבל חסרה היסטוריית צריכה",
        ],
    },
    "cn": {
        "fault": [
            "家里从早上就停电了，{street}的邻居也没电",
            "{street}整条街停电，楼里全黑了",
            "电闸老是跳，空调开不了",
            "{street}有根电线杆歪了，还冒火花",
            "电表不显示，电压很低",
            "家里一半没电，总闸是好的",
        ],
        "consultation": [
            "这个月电费怎么这么高？",
            "{street}什么时候来电？",
            "怎么开通电子发票？",
            "想问一下峰谷电价怎么算",
            "代扣电费怎么办理？",
        ],
        "business": [
            "{street}新房要申请装表接电",
            "店里想增加用电容量",
            "申请校验电表，用电量不正常",
            "过户到新租户名下",
            "房屋从居民用电改为商业用电",
        ],
        "complaint": [
            "约好的师傅没有按时上门",
            "打95598等了一个小时没人接",
            "同一张电费单扣了两次",
            "{street}这周反复停电",
        ],
        "suggestion": [
            "感谢抢修师傅很快修好了{street}的故障",
            "计划停电前最好发短信通知",
            "掌上电力很好用，希望增加用电历史",
        ],
    },
}


def street(profile: str, rng: random.Random) -> str:
    from voltdesk.demo.names import STREETS

    return rng.choice(STREETS[profile])


def _daily_weights(days, profile, country):
    cal = holidays.country_holidays(country, years={d.year for d in days})
    weekend = {4, 5} if profile == "il" else {5, 6}
    weights = []
    for d in days:
        w = MONTH_WEIGHT[d.month - 1]
        if d.weekday() in weekend:
            w *= 0.55
        if d in cal:
            w *= 0.5
        weights.append(w)
    return weights


def prepare_desk(profile: str) -> None:
    """Crews for every area, the demo agent in the general queues, managers on the club desk."""
    from django.contrib.auth.models import User

    crews = [Crew(name=f"{area.name} · 1", area=area) for area in Area.objects.order_by("pk")]
    Crew.objects.bulk_create(crews)
    queues = {q.code: q for q in Queue.objects.all()}
    for username, codes, skills in (
        ("agent", ["faults", "complaints", "business", "general"], []),
        ("dispatcher", ["faults"], []),
        ("manager", ["club"], []),
        ("manager2", ["club"], []),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        DeskAgent.objects.get_or_create(user=user, defaults={"skills": skills})
        for code in codes:
            if code in queues:
                queues[code].agents.add(user)


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def seed_work_order_history(
    profile: str,
    seed: int,
    *,
    as_of_month: date,
    zone: ZoneInfo,
    country: str,
    customers: int,
    months: int = HISTORY_MONTHS,
    through: date | None = None,
) -> int:
    """Closed orders from ``months`` months before ``as_of_month`` up to ``through``
    (default: the end of the month before); returns how many.

    Pass ``through`` = yesterday so forecasts see no empty days before today.
    """
    rng = random.Random(seed * 7919 + 11)
    days = []
    day = _months_before(as_of_month.replace(day=1), months)
    last = through or as_of_month.replace(day=1) - timedelta(days=1)
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    total = int(max(FLOOR, customers * RATE_PER_CUSTOMER) * len(days) / 365)
    weights = _daily_weights(days, profile, country)
    sites = list(Site.objects.values_list("pk", "customer_id", "area_id", "feeder_id"))
    areas = list(Area.objects.values_list("pk", flat=True))
    types, type_weights = zip(*TYPES, strict=True)
    channels, channel_weights = zip(*CHANNELS, strict=True)
    orders = []
    for d in rng.choices(days, weights=weights, k=total):
        summer = d.month in (6, 7, 8, 9)
        kind = rng.choices(
            types,
            weights=[
                w * (FAULT_SUMMER if t == "fault" and summer else 1)
                for t, w in zip(types, type_weights, strict=True)
            ],
        )[0]
        hour = rng.choices(
            range(24),
            weights=[1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 8, 8, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2],
        )[0]
        created = datetime.combine(d, time(hour, rng.randrange(60)), tzinfo=zone)
        hours_open = rng.lognormvariate(1.2 if kind == "fault" else 3.0, 0.9)
        closed = created + timedelta(hours=hours_open)
        channel = rng.choices(channels, weights=channel_weights)[0]
        site = rng.choice(sites) if sites and rng.random() < 0.8 else None
        orders.append(
            WorkOrder(
                channel=channel,
                order_type=kind,
                subtype=rng.choice(SUBTYPES[kind]),
                description=rng.choice(SAYS[profile][kind]).format(street=street(profile, rng)),
                customer_id=site[1] if site else None,
                site_id=site[0] if site else None,
                area_id=site[2] if site else rng.choice(areas) if areas else None,
                feeder_id=site[3] if site else None,
                status=Status.CLOSED,
                created_at=created,
                accepted_at=created + timedelta(minutes=rng.randrange(2, 30)),
                resolved_at=closed,
                closed_at=closed + timedelta(hours=rng.randrange(1, 48)),
                satisfaction=rng.choices([1, 2, 3, 4, 5], weights=[3, 5, 12, 40, 40])[0]
                if rng.random() < 0.4
                else None,
                external_ref="demo",
            )
        )
    created = WorkOrder.objects.bulk_create(orders, batch_size=2000)
    Transition.objects.bulk_create(
        (
            Transition(
                work_order_id=o.pk,
                action=Action.IMPORT,
                from_status="",
                to_status=Status.CLOSED,
                note="demo history",
                at=o.created_at,
            )
            for o in created
        ),
        batch_size=5000,
    )
    return len(created)


def seed_open_orders(profile: str, seed: int) -> int:
    """Today's open orders through intake: an outage with three reports, and others."""
    from .services import open_work_order

    rng = random.Random(seed * 31 + 5)
    feeder = Feeder.objects.filter(sites__isnull=False).order_by("pk").first()
    if feeder is None:
        return 0
    outage_sites = list(Site.objects.filter(feeder=feeder).order_by("pk")[:3])
    count = 0
    for site in outage_sites:
        open_work_order(
            channel="hotline",
            order_type="fault",
            subtype="power_out",
            site=site,
            description=SAYS[profile]["fault"][0].format(street=street(profile, rng)),
        )
        count += 1
    others = list(Site.objects.exclude(feeder=feeder).order_by("pk")[:20])
    for kind in ["consultation", "complaint", "business", "fault", "consultation"]:
        site = rng.choice(others) if others else None
        open_work_order(
            channel=rng.choice(["hotline", "web", "app"]),
            order_type=kind,
            site=site,
            description=rng.choice(SAYS[profile][kind]).format(street=street(profile, rng)),
        )
        count += 1
    return count
