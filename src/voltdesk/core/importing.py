"""Shared pieces of the file importers (network, customers, sites, readings).

A bad file is refused whole with a message naming the file, the line (or XML
element) and the reason; commands turn ``ImportProblem`` into a non-zero exit.
"""

import csv
import hashlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from django.core.management import BaseCommand, CommandError
from django.utils.translation import gettext as _


class ImportProblem(Exception):
    """A reason to refuse a whole file, located as precisely as we can."""

    def __init__(
        self, file: str | Path, reason: str, *, line: int | None = None, element: str | None = None
    ):
        self.file = str(file)
        self.reason = reason
        self.line = line
        self.element = element
        super().__init__(self.located())

    def located(self) -> str:
        where = self.file
        if self.line is not None:
            where = _("%(file)s, line %(line)s") % {"file": where, "line": self.line}
        if self.element is not None:
            where = _("%(where)s, element %(element)s") % {"where": where, "element": self.element}
        return f"{where}: {self.reason}"


def as_command_error(problem: ImportProblem) -> CommandError:
    return CommandError(problem.located())


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_text(path: str | Path) -> str:
    """The file as UTF-8 text (a BOM is allowed); anything else is refused."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportProblem(
            path, _("cannot read the file (%(reason)s)") % {"reason": exc.strerror}
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportProblem(path, _("the file is not UTF-8 text"), line=line) from exc


def csv_rows(
    path: str | Path, required: list[str], optional: list[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with values stripped; refuse unknown or missing columns.

    Line numbers are the file's own (the header is line 1), so a user can find them.
    """
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportProblem(path, _("the file is empty; expected a header line"), line=1) from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportProblem(
            path,
            _("missing column(s) %(columns)s in the header") % {"columns": ", ".join(missing)},
            line=1,
        )
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise ImportProblem(
            path,
            _("unknown column(s) %(columns)s in the header") % {"columns": ", ".join(unknown)},
            line=1,
        )
    for row in reader:
        line = reader.line_num
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != len(header):
            raise ImportProblem(
                path,
                _("expected %(expected)s fields, found %(found)s")
                % {"expected": len(header), "found": len(row)},
                line=line,
            )
        yield line, {k: v.strip() for k, v in zip(header, row, strict=True)}


def progress(iterable, *, total=None, desc="", unit="rows"):
    """A progress bar on a terminal, silence elsewhere (CI logs, pipes)."""
    if not sys.stderr.isatty():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr)


class CsvImportCommand(BaseCommand):
    """A command that imports one CSV file through a service and prints a summary.

    Subclasses name the service (a function of the path) and how to summarise its
    result; a refused file becomes a non-zero exit naming file, line and reason.
    """

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file, UTF-8")

    def run_import(self, path):  # pragma: no cover - each command defines it
        raise NotImplementedError

    def summary(self, result) -> str:  # pragma: no cover - each command defines it
        raise NotImplementedError

    def handle(self, *args, path, **options):
        from voltdesk.core.services import UtilityNotConfigured

        try:
            result = self.run_import(path)
        except ImportProblem as problem:
            raise as_command_error(problem) from problem
        except UtilityNotConfigured as exc:
            raise CommandError(
                _("No utility is set up yet; run: voltdesk init --profile il|cn")
            ) from exc
        self.stdout.write(self.summary(result))
