"""Names for demo data, in each profile's own language (utility data, not UI text)."""

NETWORK = {
    "il": {
        "דן": [("תל אביב", "urban"), ("רמת גן", "urban"), ("חולון", "urban")],
        "חיפה": [("מפרץ חיפה", "urban"), ("כרמל", "rural")],
        "ירושלים": [("מרכז ירושלים", "urban"), ("בית שמש", "rural")],
        "נגב": [("באר שבע", "urban"), ("ערבה", "remote"), ("מצפה רמון", "remote")],
    },
    "cn": {
        "浦东供电公司": [("陆家嘴", "urban"), ("张江", "urban"), ("惠南", "rural")],
        "闵行供电公司": [("莘庄", "urban"), ("浦江", "rural")],
        "崇明供电公司": [("城桥", "rural"), ("长兴岛", "remote"), ("横沙岛", "remote")],
    },
}

FEEDER_PREFIX = {"il": "F", "cn": "线"}

FIRST_NAMES = {
    "il": [
        "נועה",
        "יוסי",
        "מיכל",
        "דוד",
        "שירה",
        "אבי",
        "רונית",
        "איתי",
        "Sarah",
        "Daniel",
        "מוחמד",
        "לילה",
    ],
    "cn": ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"],
}
LAST_NAMES = {
    "il": ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "פרידמן", "Cohen", "Levi", "חורי"],
    "cn": ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"],
}
BUSINESS_WORDS = {
    "il": [
        "תעשיות",
        "מזון",
        "פלסטיק",
        "לוגיסטיקה",
        "טקסטיל",
        "מתכת",
        "Tech",
        "קירור",
        "מאפיות",
        "שבבים",
    ],
    "cn": ["机械", "纺织", "食品", "物流", "化工", "电子", "钢铁", "制药", "印刷", "塑料"],
}
BUSINESS_SUFFIX = {"il": "בע״מ", "cn": "有限公司"}
STREETS = {
    "il": ["הרצל", "ויצמן", "ז׳בוטינסקי", "בן גוריון", "רוטשילד", "העצמאות", "הנשיא"],
    "cn": ["世纪大道", "张杨路", "浦东南路", "莘松路", "沪南公路", "八一路", "人民路"],
}
PRIVATE_SUPPLIERS = {
    "il": ["אופק אנרגיה", "Shemesh Supply"],
    "cn": ["东方售电有限公司", "申能售电公司"],
}

# Planted customers that make the club interesting at any size: members of both
# kinds and customers just above and just below both thresholds. Figures are kWh
# per site over the last 12 full months before the demo's as-of month.
PLANTED_KWH = {
    "factory": [2_400_000],
    "hospital": [3_100_000],
    "chain": [
        700_000,
        650_000,
        640_000,
        720_000,
        690_000,
        600_000,
        610_000,
        680_000,
        660_000,
        700_000,
        580_000,
        770_000,
    ],
    "just_above_single": [1_010_000],
    "just_below_single": [990_000],
    "just_above_multi": [1_010_000] * 5,
    "just_below_multi": [990_000] * 5,
    "one_big_site": [1_200_000, 500_000, 300_000],
    "newcomer": [1_050_000],
    "leaver": [950_000],
}
# The year before differed this much (a multiple), so that last month's club
# evaluation and this month's disagree: the newcomer opened a cold store and
# joins this month, the leaver moved production away and leaves this month.
PLANTED_GROWTH = {"newcomer": 0.2, "leaver": 2.2}
PLANTED_NAMES = {
    "il": {
        "factory": "מפעלי הדרום בע״מ",
        "hospital": "מרכז רפואי השרון",
        "chain": "רשת שופרסל הדגמה",
        "just_above_single": "קירור צפון בע״מ",
        "just_below_single": "מאפיית הגליל בע״מ",
        "just_above_multi": "מלונות הים בע״מ",
        "just_below_multi": "מרכזי קניות בע״מ",
        "one_big_site": "מחלבות העמק בע״מ",
        "newcomer": "מחסני קירור השפלה בע״מ",
        "leaver": "טקסטיל הנגב בע״מ",
    },
    "cn": {
        "factory": "上海重型机械厂",
        "hospital": "浦东人民医院",
        "chain": "联华超市示范连锁",
        "just_above_single": "冷链物流有限公司",
        "just_below_single": "申城食品有限公司",
        "just_above_multi": "滨江酒店集团",
        "just_below_multi": "城市购物中心集团",
        "one_big_site": "光明乳业示范厂",
        "newcomer": "华东冷库有限公司",
        "leaver": "申纺纺织有限公司",
    },
}
