"""Deterministic demo data: a network, customers with sites and contracts, readings, users.

The same ``seed`` and ``as_of`` always give the same data. Everything is written
with bulk inserts; rollups are refreshed once at the end.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.cn import ric, uscc

from voltdesk.billing.models import Tariff
from voltdesk.core import roles
from voltdesk.core.models import Area, Feeder, Region
from voltdesk.core.services import get_utility, init_utility
from voltdesk.customers.choices import CompanyRole, CustomerKind, IdentifierKind, VoltageLevel
from voltdesk.customers.models import (
    Contact,
    Contract,
    Customer,
    CustomerUser,
    Meter,
    Site,
    Supplier,
)
from voltdesk.customers.services import ensure_utility_supplier
from voltdesk.metering.choices import ReadingSource
from voltdesk.metering.models import Reading

from . import names

DEMO_PASSWORD = "voltdesk-demo"
MONTHS_OF_HISTORY = 24
INTERVAL_MONTHS = 2  # the largest sites get 15-minute data for the last two months
THOUSANDTH = Decimal("0.001")

# Month-of-year weights (Jan..Dec): summer air conditioning peaks, a smaller winter bump.
SEASON = {
    "il": [1.10, 1.00, 0.90, 0.85, 0.92, 1.05, 1.25, 1.30, 1.15, 0.95, 0.85, 0.98],
    "cn": [1.12, 0.95, 0.90, 0.85, 0.90, 1.00, 1.22, 1.28, 1.08, 0.90, 0.88, 1.02],
}

STAFF_USERS = [
    ("agent", roles.AGENT),
    ("manager", roles.ACCOUNT_MANAGER),
    ("manager2", roles.ACCOUNT_MANAGER),
    ("dispatcher", roles.DISPATCHER),
    ("supervisor", roles.SUPERVISOR),
    ("editor", roles.KNOWLEDGE_EDITOR),
    ("demand", roles.DEMAND_MANAGER),
    ("admin", roles.ADMINISTRATOR),
]
# (username, planted customer key or "residential", company role)
CUSTOMER_USERS = [
    ("biz-admin", "chain", CompanyRole.ADMIN),
    ("biz-finance", "chain", CompanyRole.FINANCE),
    ("biz-energy", "chain", CompanyRole.ENERGY_MANAGER),
    ("factory", "factory", CompanyRole.ADMIN),
    ("home", "residential", CompanyRole.HOLDER),
]


class DemoError(Exception):
    pass


@dataclass
class SeedResult:
    customers: int = 0
    sites: int = 0
    readings: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, what they act for) of the demo users present in the database."""
    rows = []
    for username, role in STAFF_USERS:
        if User.objects.filter(username=username).exists():
            rows.append((username, str(roles.ROLE_LABELS[role]), ""))
    for username, _key, company_role in CUSTOMER_USERS:
        link = CustomerUser.objects.filter(user__username=username).select_related("customer")
        for item in link:
            rows.append(
                (
                    username,
                    f"{roles.ROLE_LABELS[roles.CUSTOMER]} ({CompanyRole(company_role).label})",
                    str(item.customer),
                )
            )
    return rows


def _month_starts(as_of_month: date, count: int) -> list[date]:
    """The first days of the ``count`` months before ``as_of_month``, oldest first."""
    months = []
    y, m = as_of_month.year, as_of_month.month
    for _i in range(count):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        months.append(date(y, m, 1))
    return list(reversed(months))


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _local_midnight(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone)


class _Builder:
    def __init__(self, profile: str, seed: int, as_of_month: date):
        self.profile = profile
        self.rng = random.Random(seed)
        self.as_of_month = as_of_month
        self.utility = get_utility()
        self.zone = ZoneInfo(self.utility.time_zone)
        self.months = _month_starts(as_of_month, MONTHS_OF_HISTORY)
        self.season = SEASON[profile]
        self.serial = 0

    # identifiers and contact details -------------------------------------------------
    def business_id(self) -> tuple[str, str]:
        if self.profile == "il":
            body = "5" + "".join(str(self.rng.randint(0, 9)) for _i in range(7))
            return IdentifierKind.IL_COMPANY, body + luhn.calc_check_digit(body)
        body = "91310115" + "".join(str(self.rng.randint(0, 9)) for _i in range(9))
        return IdentifierKind.CN_USCC, body + uscc.calc_check_digit(body)

    def person_id(self) -> tuple[str, str]:
        if self.profile == "il":
            body = "".join(str(self.rng.randint(0, 9)) for _i in range(8))
            return IdentifierKind.IL_ID, body + luhn.calc_check_digit(body)
        born = date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 18000))
        body = f"310115{born:%Y%m%d}{self.rng.randint(0, 999):03d}"
        return IdentifierKind.CN_RIC, body + ric.calc_check_digit(body)

    def phone(self) -> str:
        if self.profile == "il":
            return "+97250" + "".join(str(self.rng.randint(0, 9)) for _i in range(7))
        return "+86138" + "".join(str(self.rng.randint(0, 9)) for _i in range(8))

    def language(self) -> str:
        if self.profile == "il":
            return self.rng.choices(["he", "en"], weights=[85, 15])[0]
        return self.rng.choices(["zh-hans", "en"], weights=[95, 5])[0]

    def person_name(self) -> str:
        first = self.rng.choice(names.FIRST_NAMES[self.profile])
        last = self.rng.choice(names.LAST_NAMES[self.profile])
        return f"{last}{first}" if self.profile == "cn" else f"{first} {last}"

    def business_name(self) -> str:
        word = self.rng.choice(names.BUSINESS_WORDS[self.profile])
        last = self.rng.choice(names.LAST_NAMES[self.profile])
        return (
            f"{last}{word}{names.BUSINESS_SUFFIX[self.profile]}"
            if self.profile == "cn"
            else (f"{word} {last} {names.BUSINESS_SUFFIX[self.profile]}")
        )

    def address(self) -> str:
        street = self.rng.choice(names.STREETS[self.profile])
        number = self.rng.randint(1, 180)
        return f"{street}{number}号" if self.profile == "cn" else f"{street} {number}"

    # consumption -------------------------------------------------------------------------
    def monthly_kwh(
        self, annual: float, *, exact: bool, growth: float | None = None
    ) -> list[Decimal]:
        """24 monthly figures; the last 12 add up to ``annual`` (exactly when ``exact``).

        Any 12 consecutive months hold each calendar month once, so the seasonal
        weights of a year always add up to the same sum. ``growth`` fixes how the
        year before compares (a multiple); by default it differs a little.
        """
        season_sum = sum(self.season)
        noisy_growth = self.rng.uniform(0.88, 1.06)
        figures = []
        for i, month in enumerate(self.months):
            share = annual * self.season[month.month - 1] / season_sum
            if i < 12:
                share *= growth or noisy_growth * self.rng.uniform(0.93, 1.07)
            elif not exact:
                share *= self.rng.uniform(0.93, 1.07)
            figures.append(Decimal(share).quantize(THOUSANDTH, ROUND_HALF_UP))
        if exact:
            # The rounding remainder goes to the last month so the year is exact.
            figures[-1] += Decimal(annual).quantize(THOUSANDTH) - sum(figures[-12:])
        return figures

    def interval_readings(self, site_id: int, meter_id: int, month: date, total: Decimal):
        """15-minute readings for one local month that add up exactly to ``total``."""
        start = _local_midnight(month, self.zone).astimezone(ZoneInfo("UTC"))
        end = _local_midnight(_next_month(month), self.zone).astimezone(ZoneInfo("UTC"))
        slots = []
        t = start
        while t < end:
            local = t.astimezone(self.zone)
            working = local.weekday() not in ((4, 5) if self.profile == "il" else (5, 6))
            hour = local.hour + local.minute / 60
            shape = 0.45 + (0.55 if working and 7 <= hour < 19 else 0.1 if 7 <= hour < 22 else 0)
            slots.append((t, shape * self.rng.uniform(0.9, 1.1)))
            t += timedelta(minutes=15)
        weight_sum = sum(w for _t, w in slots)
        rows, running = [], Decimal(0)
        for i, (t, w) in enumerate(slots):
            if i == len(slots) - 1:
                kwh = total - running
            else:
                kwh = (total * Decimal(w / weight_sum)).quantize(THOUSANDTH, ROUND_HALF_UP)
            running += kwh
            rows.append(
                Reading(
                    site_id=site_id,
                    meter_id=meter_id,
                    start=t,
                    end=t + timedelta(minutes=15),
                    kwh=kwh,
                    source=ReadingSource.DEMO,
                )
            )
        return rows


def _build_network(profile: str) -> list[Feeder]:
    feeders = []
    prefix = names.FEEDER_PREFIX[profile]
    n = 0
    for region_name, areas in names.NETWORK[profile].items():
        region = Region.objects.create(name=region_name)
        for area_name, kind in areas:
            area = Area.objects.create(region=region, name=area_name, kind=kind)
            for _i in range(4):
                n += 1
                feeders.append(Feeder(area=area, name=f"{prefix}{n:03d}"))
    return Feeder.objects.bulk_create(feeders)


@transaction.atomic
def seed_demo(
    profile: str, customers: int, seed: int, as_of: date | None = None, progress=None
) -> SeedResult:
    """Fill an empty database with a deterministic demo utility of ``customers`` customers."""
    result = init_utility(profile)
    if result.utility.profile != profile:
        raise DemoError(
            _("this database is set up for profile %(have)s, not %(want)s")
            % {"have": result.utility.profile, "want": profile}
        )
    if Customer.objects.exists():
        raise DemoError(_("the database already holds customers; seed a fresh database"))
    if customers < 20:
        raise DemoError(_("the demo needs at least 20 customers"))

    utility = result.utility
    zone = ZoneInfo(utility.time_zone)
    today = as_of or datetime.now(zone).date()
    b = _Builder(profile, seed, today.replace(day=1))
    feeders = _build_network(profile)
    own_supplier = ensure_utility_supplier(utility)
    private = [Supplier.objects.create(name=n) for n in names.PRIVATE_SUPPLIERS[profile]]
    # Households on the residential tariff, small businesses on the general flat
    # one, large ones (medium or high voltage) on time of use.
    residential_tariff = Tariff.objects.filter(name__startswith="Residential").first()
    general_tariff = Tariff.objects.filter(kind="flat").exclude(pk=residential_tariff.pk).first()
    tou_tariff = Tariff.objects.filter(kind="tou").order_by("name").first()

    # 1. Customers and their sites' annual consumption, planted ones first.
    plan: list[tuple[Customer, list[float], str | None]] = []
    for key, name in names.PLANTED_NAMES[profile].items():
        site_kwh = names.PLANTED_KWH[key]
        kind_id, number = b.business_id()
        customer = Customer(
            name=name, kind=CustomerKind.BUSINESS, id_kind=kind_id, id_number=number
        )
        plan.append((customer, [float(k) for k in site_kwh], key))
    residential_annual = 4_800 if profile == "il" else 2_600
    while len(plan) < customers:
        if b.rng.random() < 0.15:
            kind_id, number = b.business_id()
            customer = Customer(
                name=b.business_name(),
                kind=CustomerKind.BUSINESS,
                id_kind=kind_id,
                id_number=number,
            )
            n_sites = b.rng.choices([1, 2, 3, 4, 6, 10, 20], weights=[78, 8, 5, 3, 3, 2, 1])[0]
            site_kwh = [b.rng.lognormvariate(10.6, 1.5) for _i in range(n_sites)]
        else:
            kind_id, number = b.person_id()
            customer = Customer(
                name=b.person_name(),
                kind=CustomerKind.RESIDENTIAL,
                id_kind=kind_id,
                id_number=number,
            )
            site_kwh = [b.rng.lognormvariate(0, 0.45) * residential_annual]
        plan.append((customer, site_kwh, None))
    for i, (customer, _kwh, _key) in enumerate(plan, start=1):
        customer.ref = f"{'IL' if profile == 'il' else 'CN'}{i:07d}"
        customer.phone = b.phone()
        customer.email = f"{customer.ref.lower()}@example.{'co.il' if profile == 'il' else 'cn'}"
        customer.language = b.language()
        customer.address = b.address()
    Customer.objects.bulk_create([c for c, _k, _key in plan], batch_size=2000)
    planted = {key: c for c, _k, key in plan if key}

    # 2. Sites, meters and contracts.
    sites, site_kwh_list = [], []
    for customer, site_kwh, key in plan:
        for j, annual in enumerate(site_kwh, start=1):
            feeder = b.rng.choice(feeders)
            business = customer.kind == CustomerKind.BUSINESS
            voltage = (
                VoltageLevel.HIGH
                if annual > 2_000_000
                else VoltageLevel.MEDIUM
                if annual > 400_000
                else VoltageLevel.LOW
            )
            sites.append(
                Site(
                    ref=f"{customer.ref}-{j:02d}",
                    customer=customer,
                    address=b.address(),
                    area_id=feeder.area_id,
                    feeder=feeder,
                    voltage_level=voltage if business else VoltageLevel.LOW,
                    critical_load=key == "hospital",
                )
            )
            site_kwh_list.append((annual, key))
    Site.objects.bulk_create(sites, batch_size=2000)

    ranked = sorted(range(len(sites)), key=lambda i: -site_kwh_list[i][0])
    interval_sites = set(ranked[: max(5, customers // 250)])
    meters = []
    for i, site in enumerate(sites):
        b.serial += 1
        meters.append(
            Meter(
                site=site,
                serial=f"M{b.serial:08d}",
                kind=Meter.Kind.INTERVAL if i in interval_sites else Meter.Kind.REGISTER,
            )
        )
    Meter.objects.bulk_create(meters, batch_size=2000)

    contracts = []
    for site in sites:
        business = site.customer.kind == CustomerKind.BUSINESS
        business_tariff = general_tariff if site.voltage_level == VoltageLevel.LOW else tou_tariff
        supplier = own_supplier
        if business and b.rng.random() < 0.25:
            # Changed to a private supplier a year ago: the grid still serves the site.
            switch = _local_midnight(b.months[12], zone)
            contracts.append(
                Contract(
                    customer=site.customer,
                    site=site,
                    supplier=own_supplier,
                    tariff=business_tariff,
                    start=None,
                    end=switch,
                )
            )
            supplier, start = b.rng.choice(private), switch
        else:
            start = None
        contracts.append(
            Contract(
                customer=site.customer,
                site=site,
                supplier=supplier,
                tariff=business_tariff if business else residential_tariff,
                start=start,
            )
        )
    Contract.objects.bulk_create(contracts, batch_size=2000)

    contacts = []
    for customer, _kwh, _key in plan:
        if customer.kind == CustomerKind.BUSINESS:
            contacts.append(
                Contact(
                    customer=customer,
                    name=b.person_name(),
                    role="CEO",
                    phone=b.phone(),
                    language=customer.language,
                    is_primary=True,
                )
            )
            contacts.append(
                Contact(
                    customer=customer,
                    name=b.person_name(),
                    role="Finance",
                    phone=b.phone(),
                    email=f"finance.{customer.email}",
                    language=customer.language,
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=2000)

    # 3. Readings: monthly register reads for everyone; 15-minute data for the largest
    #    sites replaces their last two months, so nothing is counted twice.
    batch: list[Reading] = []
    count = 0
    for i, site in enumerate(sites):
        annual, key = site_kwh_list[i]
        figures = b.monthly_kwh(annual, exact=key is not None, growth=names.PLANTED_GROWTH.get(key))
        for m_index, (month, kwh) in enumerate(zip(b.months, figures, strict=True)):
            if i in interval_sites and m_index >= MONTHS_OF_HISTORY - INTERVAL_MONTHS:
                batch.extend(b.interval_readings(site.pk, meters[i].pk, month, kwh))
                continue
            batch.append(
                Reading(
                    site_id=site.pk,
                    meter_id=meters[i].pk,
                    start=_local_midnight(month, zone),
                    end=_local_midnight(_next_month(month), zone),
                    kwh=kwh,
                    source=ReadingSource.DEMO,
                )
            )
        if len(batch) >= 20_000:
            Reading.objects.bulk_create(batch, batch_size=5000)
            count += len(batch)
            batch = []
            if progress:
                progress(i + 1, len(sites))
    Reading.objects.bulk_create(batch, batch_size=5000)
    count += len(batch)

    from voltdesk.metering.services import refresh_rollups

    refresh_rollups()

    # 4. The demo household moved in ten months ago: its site keeps the previous
    #    holder's contract, so each sees only its own period.
    households = [c for c, _k, _key in plan if c.kind == CustomerKind.RESIDENTIAL]
    residential, previous_holder = households[0], households[1]
    home_site = Site.objects.filter(customer=residential).first()
    moved_in = _local_midnight(b.months[14], zone)
    home_contract = Contract.objects.get(site=home_site, end__isnull=True)
    Contract.objects.create(
        customer=previous_holder,
        site=home_site,
        supplier=home_contract.supplier,
        tariff=home_contract.tariff,
        start=home_contract.start,
        end=moved_in,
    )
    home_contract.start = moved_in
    home_contract.save(update_fields=["start"])
    planted["residential"] = residential

    # 5. Users for every role.
    result_users = []
    for username, role in STAFF_USERS:
        user = User.objects.create_user(
            username,
            password=DEMO_PASSWORD,
            is_staff=role == roles.ADMINISTRATOR,
            is_superuser=role == roles.ADMINISTRATOR,
        )
        user.groups.add(Group.objects.get(name=role))
        result_users.append((username, role, ""))
    customer_group = Group.objects.get(name=roles.CUSTOMER)
    for username, key, company_role in CUSTOMER_USERS:
        user = User.objects.create_user(username, password=DEMO_PASSWORD)
        user.groups.add(customer_group)
        CustomerUser.objects.create(user=user, customer=planted[key], company_role=company_role)
        result_users.append((username, roles.CUSTOMER, planted[key].ref))

    _seed_club(profile, b, as_of_month=b.as_of_month)
    _seed_work_orders(
        profile, seed, utility, as_of_month=b.as_of_month, customers=len(plan), today=today
    )
    _seed_billing(b, zone, today=today, planted=planted)
    _seed_knowledge(profile)
    _seed_review_loop(profile)
    _seed_analytics(profile, seed, today=today)
    _seed_self_service(profile, planted, today=today)
    _seed_demand(utility)
    return SeedResult(customers=len(plan), sites=len(sites), readings=count, users=result_users)


def _seed_knowledge(profile: str, content_dir: Path | None = None) -> None:
    """The profile's knowledge base (knowledge/content/<profile>.json), published by ``editor``.

    Read from a file, with no randomness, so the demo stays deterministic; a
    profile without a content file gets an empty knowledge base.
    """
    from voltdesk import knowledge
    from voltdesk.knowledge.services import KnowledgeError, load_articles

    content_dir = content_dir or Path(knowledge.__file__).parent / "content"
    path = content_dir / f"{profile}.json"
    if not path.exists():
        return
    try:
        load_articles(
            path, actor=User.objects.get(username="editor"), publish=True, profile=profile
        )
    except KnowledgeError as exc:  # a mistake in the content file: say where, not a traceback
        raise DemoError(str(exc)) from exc


# The review loop in the demo: an answer found wrong in review, corrected in the article.
REVIEWED_ARTICLE = {"il": "il-bill-late-payment-interest", "cn": "cn-bill-late-fee"}
CORRECTION = {
    "il": {
        "en": " Nothing is charged for the 7 days of grace: a bill paid within them costs no more.",
        "he": " בשבעת ימי החסד לא נגבה דבר: חשבון ששולם בתוכם אינו עולה יותר.",
        "zh-hans": "宽限的7天内不计利息：在宽限期内付清的账单不产生任何额外费用。",
    },
    "cn": {
        "en": " Prepaid package customers have 15 days after the top-up SMS to pay without a fee.",
        "he": " ללקוחות חבילה מראש יש 15 יום מהודעת ה-SMS להשלמת התשלום ללא ריבית.",
        "zh-hans": "预缴电费套餐客户在收到补缴短信后15天内补缴，不收取违约金。",
    },
}


def _seed_review_loop(profile: str) -> None:
    """A supervisor's sample of last month's orders, one answer found wrong, and the
    article corrected for it: the new version names the review that led to it."""
    from voltdesk.knowledge.models import Article
    from voltdesk.knowledge.reviews import draw_sample, record_review
    from voltdesk.knowledge.services import approve_and_publish, edit_article, submit_for_review
    from voltdesk.workorders.models import WorkOrder

    article = Article.objects.filter(key=REVIEWED_ARTICLE.get(profile)).first()
    handled = (
        WorkOrder.objects.filter(external_ref="demo", order_type="consultation", status="closed")
        .order_by("-closed_at", "pk")
        .first()
    )
    if article is None or handled is None:
        return
    supervisor = User.objects.get(username="supervisor")
    editor = User.objects.get(username="editor")
    local_day = handled.closed_at.astimezone(ZoneInfo(get_utility().time_zone)).date()
    first = local_day.replace(day=1)
    draw_sample(supervisor, first, _next_month(first), 12, ["random", "complaint", "reopened"])
    added = CORRECTION[profile]
    review = record_review(
        supervisor,
        handled,
        article,
        "wrong",
        correct_answer=added["en"].strip(),
        note="The caller was told interest starts on the due date.",
    )
    task = review.corrections.get()  # a wrong verdict opens one for the article's owner
    texts = {
        t.language: {
            "question": t.question,
            "answer": t.answer + added.get(t.language, ""),
            "keywords": t.keywords,
            "notice": t.notice,
        }
        for t in article.published_version.texts.all()
    }
    version = edit_article(
        editor,
        article,
        texts,
        "Answer review: say that the grace days cost nothing.",
        correction_task_id=task.pk,
    )
    submit_for_review(editor, version)
    approve_and_publish(User.objects.get(username="admin"), version)


BILLED_MONTHS = 12
ISSUED_AFTER_DAYS = 2  # a month's bills go out on the 3rd of the next


def _seed_billing(b: "_Builder", zone: ZoneInfo, *, today: date, planted: dict) -> None:
    """A year of bills from the readings, paid as real customers pay, with some debts left.

    The billing run and issue are the real services; only the issue dates are then
    set back to when each month would have been billed. Most customers owe only the
    latest bill (not yet due); about one in twelve also left the one before unpaid, so
    it is overdue and carries late fees. The demo's own customers pay month by month,
    so their lounge shows a payment history; the others' year is one payment each.
    """
    from voltdesk.billing.choices import BillKind, PaymentMethod
    from voltdesk.billing.debts import charge_late_fees
    from voltdesk.billing.models import Bill
    from voltdesk.billing.payments import record_payment
    from voltdesk.billing.runs import billing_run, issue_bills

    if connection.vendor == "postgresql":
        # Statistics for what was just bulk-loaded, as after any big load: without them
        # the planner takes the readings table for empty and the run's join crawls.
        with connection.cursor() as cursor:
            for model in (Customer, Site, Contract, Reading):
                cursor.execute(f"ANALYZE {model._meta.db_table}")  # noqa: S608
    terms = get_utility().payment_terms_days
    months = b.months[-BILLED_MONTHS:]  # the twelve full months before this one
    for month in months:
        billing_run(month)
        issue_bills(month)
        issued = min(_next_month(month) + timedelta(days=ISSUED_AFTER_DAYS), today)
        Bill.objects.filter(kind=BillKind.BILL, period_start=month).update(
            issued_at=_local_midnight(issued, zone) + timedelta(hours=9),
            due_date=issued + timedelta(days=terms),
        )
    # {customer: [(month's total over its sites, due date), ...]}, oldest first.
    monthly = (
        Bill.objects.filter(kind=BillKind.BILL)
        .values("customer_id", "period_start")
        .annotate(total=Sum("total"), due=Max("due_date"))
        .order_by("customer_id", "period_start")
    )
    by_customer: dict[int, list] = {}
    for row in monthly:
        by_customer.setdefault(row["customer_id"], []).append((row["total"], row["due"]))
    # Months left unpaid: the chain owes two (one overdue: "pay now" in the lounge).
    own = {planted["chain"].pk: 2, planted["factory"].pk: 1, planted["residential"].pk: 1}
    customers = Customer.objects.in_bulk(list(by_customer))
    methods = [PaymentMethod.BANK_TRANSFER, PaymentMethod.DIRECT_DEBIT, PaymentMethod.ONLINE]
    for customer_id, months_due in by_customer.items():
        unpaid = own.get(customer_id) or (2 if b.rng.random() < 1 / 12 else 1)
        paid = months_due[:-unpaid]
        if not paid:
            continue
        method = b.rng.choice(methods)
        if customer_id not in own:
            paid = [(sum(total for total, _due in paid), paid[-1][1])]
        for amount, due in paid:
            when = _local_midnight(min(due, today), zone) + timedelta(hours=10)
            record_payment(customers[customer_id], amount, method, when, user=None)
    charge_late_fees(today)


def _seed_work_orders(
    profile, seed, utility, *, as_of_month: date, customers: int, today: date
) -> None:
    """27 months of closed work orders up to yesterday, a desk ready, today's open orders."""
    from voltdesk.workorders import demo as workorders_demo

    workorders_demo.prepare_desk(profile)
    workorders_demo.seed_work_order_history(
        profile,
        seed,
        as_of_month=as_of_month,
        zone=ZoneInfo(utility.time_zone),
        country=utility.holiday_country,
        customers=customers,
        through=today - timedelta(days=1),
    )
    workorders_demo.seed_open_orders(profile, seed)


def _seed_analytics(profile: str, seed: int, *, today: date) -> None:
    """Temperatures for the forecasts, and a classifier trained on the demo's history."""
    from voltdesk.analytics.classifier import train_classifier
    from voltdesk.analytics.demo import seed_temperatures
    from voltdesk.analytics.staffing import plan_week

    seed_temperatures(profile, 830, today=today, seed=seed)
    train_classifier()
    # Next week's plan fits two forecasts: fit them now, into the shared cache,
    # so the supervisor's first look at the staffing page is quick.
    plan_week()


def _seed_self_service(profile: str, planted: dict, *, today: date) -> None:
    """The residential demo customer's prepaid package, e-invoices and appointment."""
    from voltdesk.appointments.demo import seed_appointments
    from voltdesk.billing.einvoices import seed_demo_einvoices
    from voltdesk.prepaid.demo import seed_prepaid_demo

    seed_appointments(profile, today)
    seed_demo_einvoices(planted["residential"])
    seed_prepaid_demo(planted["residential"], today)


def _seed_club(profile: str, b: "_Builder", *, as_of_month: date) -> None:
    """Two account managers, last month's and this month's club evaluations, this
    year's meetings, and one meeting already held with a survey answered."""
    from voltdesk.keyaccounts.meetings import ensure_annual_meetings, record_meeting
    from voltdesk.keyaccounts.models import AccountManager, Meeting
    from voltdesk.keyaccounts.services import evaluate_club
    from voltdesk.keyaccounts.surveys import answer_survey, send_survey

    regions = list(Region.objects.order_by("pk"))
    domain = "example.co.il" if profile == "il" else "example.cn"
    for i, username in enumerate(["manager", "manager2"]):
        user = User.objects.get(username=username)
        user.first_name, user.last_name = (
            ("נועה", "ברק") if profile == "il" else ("晓明", "王"),
            ("איתן", "שלום") if profile == "il" else ("丽", "陈"),
        )[i]
        user.email = f"{username}@{domain}"
        user.save(update_fields=["first_name", "last_name", "email"])
        AccountManager.objects.create(
            user=user, region=regions[i % len(regions)], phone=b.phone(), email=user.email
        )
    # Last month's run, then this month's: the supervisor sees who joined and left.
    previous = as_of_month.replace(day=1) - timedelta(days=1)
    evaluate_club(previous.replace(day=1))
    evaluate_club(as_of_month)
    ensure_annual_meetings(as_of_month.year)
    meeting = Meeting.objects.order_by("pk").first()
    if meeting is not None:
        admin = User.objects.get(username="admin")
        record_meeting(
            meeting,
            minutes="Reviewed the year's consumption and the summer peak plan.",
            outcomes="Load-shifting study for the cooling plant.",
            actor=admin,
        )
        survey = send_survey(meeting.customer, context="meeting", meeting=meeting)
        answer_survey(survey.token, csat=2, nps=5, comment="Too long to reach the right person.")


def _seed_demand(utility) -> None:
    """The factory's energy-management system, then a heat wave: one event declared, one proposed.

    After the analytics (which write the temperatures the proposal reads) and with
    the real clock, so the declared event is ahead and the portal shows its banner.
    """
    from django.utils import timezone

    from voltdesk.demand.demo import seed_demand_demo
    from voltdesk.demand.openadr import seed_demo_vens

    seed_demo_vens(utility)
    seed_demand_demo(utility, timezone.now())
