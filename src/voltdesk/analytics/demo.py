"""A plausible daily temperature for the demo: its history and the next 90 days.

Daily highs follow the profile's climate (a coastal Israeli city; a city on
the lower Yangtze for China): a yearly wave peaking in late July plus weather
that lasts a few days (an AR(1) walk), so hot spells come in runs the way
they do before excess-demand days. The same profile, days and seed always
give the same series.
"""

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from .models import DailyTemperature

AHEAD = 90
# (mean daily high in °C, half the swing between January and July, day-to-day spread)
CLIMATE = {"il": (24.5, 6.5, 1.8), "cn": (20.5, 12.5, 2.5)}
PEAK_DAY = 205  # about 24 July


def seed_temperatures(profile: str, days: int, *, today: date | None = None, seed: int = 42) -> int:
    """Write ``days`` days before ``today`` and 90 after (utility-wide); returns how many."""
    from django.utils import timezone

    from voltdesk.core.services import utility_zone

    today = today or timezone.now().astimezone(utility_zone()).date()
    mean, swing, spread = CLIMATE[profile]
    rng = random.Random(seed * 104729 + 3)
    first = today - timedelta(days=days)
    weather = 0.0
    rows = []
    for i in range(days + AHEAD + 1):
        day = first + timedelta(days=i)
        weather = 0.7 * weather + rng.gauss(0, spread)
        season = math.cos(2 * math.pi * (day.timetuple().tm_yday - PEAK_DAY) / 365.25)
        celsius = round(mean + swing * season + weather, 1)
        rows.append(DailyTemperature(day=day, celsius=Decimal(str(celsius))))
    last = first + timedelta(days=days + AHEAD)
    DailyTemperature.objects.filter(region__isnull=True, day__gte=first, day__lte=last).delete()
    DailyTemperature.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
