"""Fixtures for metering: writing readings files and running the commands."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

# Copies of the public samples (see data/greenbutton/SOURCES.md), so a fresh clone can test.
GREENBUTTON = Path(__file__).resolve().parent / "data" / "greenbutton"


@pytest.fixture
def write_file(tmp_path):
    """Write a file (text or bytes) under a temporary folder and return its path."""

    def write(name, content):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run(capsys):
    """Run a command; return (ok, output) with the error message when it fails."""

    def run_command(*args, **options):
        try:
            call_command(*args, **options)
        except CommandError as exc:
            return False, str(exc)
        return True, capsys.readouterr().out

    return run_command
