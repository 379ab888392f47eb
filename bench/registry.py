"""The registry of scenarios: add one with ``@scenario("name")``."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How big a run is; scenarios read what they need from it."""

    name: str
    sites: int
    days: int  # of 15-minute readings per site

    @property
    def readings(self) -> int:
        return self.sites * self.days * 96


SCALES = {
    "small": Scale("small", sites=200, days=7),  # 134,400 readings: a smoke run
    "medium": Scale("medium", sites=1000, days=31),  # 2,976,000 readings
    "large": Scale("large", sites=2000, days=31),  # 5,952,000 readings
}

SCENARIOS: dict[str, Callable] = {}


def scenario(name: str):
    """Register ``fn(scale, workdir) -> dict`` under ``name``."""

    def register(fn):
        SCENARIOS[name] = fn
        return fn

    return register
