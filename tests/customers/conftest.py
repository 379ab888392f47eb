"""Identifiers with real check digits (computed with python-stdnum, not typed in) and CSV files."""

from types import SimpleNamespace

import pytest
from stdnum import luhn
from stdnum.cn import ric, uscc


def _wrong_check_digit(value: str) -> str:
    return value[:-1] + ("1" if value[-1] != "1" else "2")


@pytest.fixture
def ids():
    return SimpleNamespace(
        il_company="51234567" + luhn.calc_check_digit("51234567"),
        il_person="12345678" + luhn.calc_check_digit("12345678"),
        cn_uscc="91110000600037341" + uscc.calc_check_digit("91110000600037341"),
        cn_resident="11010519491231002" + ric.calc_check_digit("11010519491231002" + "0"),
        wrong=_wrong_check_digit,
    )


@pytest.fixture
def write_csv(tmp_path):
    """Write a UTF-8 CSV file from lines and return its path."""

    def write(name: str, *lines: str):
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
