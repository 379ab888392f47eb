"""Analytics tests read messages in English; other languages are the catalogues' tests."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield
