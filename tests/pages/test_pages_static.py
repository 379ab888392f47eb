"""Every static file the pages refer to is shipped, with the vendored licences."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

SRC = Path(__file__).resolve().parents[2] / "src" / "voltdesk"
TEMPLATES = [
    *SRC.glob("templates/**/*.html"),
    *SRC.glob("desk/templates/**/*.html"),
    *SRC.glob("portal/templates/**/*.html"),
]
REFERENCED = sorted(
    {
        match
        for template in TEMPLATES
        for match in re.findall(r"{% static '([^']+)' %}", template.read_text())
    }
)


def test_pages_refer_to_the_vendored_libraries():
    assert {
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.rtl.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "vendor/echarts/echarts.min.js",
        "vendor/htmx/htmx.min.js",
    } <= set(REFERENCED)


@pytest.mark.parametrize("path", REFERENCED)
def test_referenced_static_file_is_found(path):
    assert finders.find(path), f"{path} is not found by the static files finders"


@pytest.mark.parametrize("library", ["bootstrap", "echarts", "htmx"])
def test_vendored_library_ships_its_licence(library):
    assert (SRC / "static" / "vendor" / library / "LICENSE").stat().st_size > 0
