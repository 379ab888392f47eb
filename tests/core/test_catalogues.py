"""Every user-facing word is translated into Hebrew and Chinese, and the compiled
catalogues that ship match the sources."""

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

SRC = Path(__file__).resolve().parents[2] / "src" / "voltdesk"
LANGS = {"he": "he", "zh_Hans": "zh-hans"}


def catalogue(lang: str) -> polib.POFile:
    return polib.pofile(str(SRC / "locale" / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", LANGS)
def test_committed_catalogue_has_no_untranslated_or_fuzzy_entry(lang):
    po = catalogue(lang)
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"{lang}: untranslated: {missing[:20]}"
    assert not fuzzy, f"{lang}: fuzzy: {fuzzy[:20]}"


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_matches_its_source(lang):
    po = catalogue(lang)
    mo = polib.mofile(str(SRC / "locale" / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo
    }
    for entry in po.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert key in compiled, f"{lang}: {entry.msgid!r} is not in django.mo: run make messages"
        assert compiled[key] == (
            entry.msgstr,
            tuple(sorted((int(k), v) for k, v in entry.msgstr_plural.items())),
        ), f"{lang}: {entry.msgid!r} differs in django.mo: run make messages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (apt: gettext)")
def test_every_marked_string_in_the_code_is_in_the_catalogues(tmp_path):
    """Extract the strings afresh from a copy of the code and compare."""
    copy = tmp_path / "voltdesk"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "locale"))
    (copy / "locale").mkdir()
    import os

    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
            call_command("makemessages", locale=list(LANGS), verbosity=0)
    finally:
        os.chdir(cwd)
    for lang in LANGS:
        fresh = polib.pofile(str(copy / "locale" / lang / "LC_MESSAGES" / "django.po"))
        ours = {(e.msgctxt, e.msgid) for e in catalogue(lang).translated_entries()}
        absent = [e.msgid for e in fresh if (e.msgctxt, e.msgid) not in ours]
        assert not absent, f"{lang}: not translated yet (run make messages): {absent[:20]}"


def test_translation_functions_keep_names_that_makemessages_reads():
    """makemessages finds gettext, gettext_lazy, ... and ``_``; an alias such as ``_lazy``
    would hide every string behind it from the catalogues (and from the test above)."""
    import re

    alias = re.compile(
        r"import\s+(?:gettext|gettext_lazy|ngettext|ngettext_lazy|pgettext|pgettext_lazy)"
        r"\s+as\s+(?!_\b)\w+"
    )
    hidden = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts and alias.search(path.read_text(encoding="utf-8"))
    ]
    assert not hidden, f"translation functions imported under another name: {hidden}"
