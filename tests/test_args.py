"""Arguments of the wrong kind: a TypeError (or the library's typed error) naming what is
wanted, before any work, never an AttributeError from inside nor an option switched on by the
text "False" (socialvalue_tom._args)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom import io as svio
from socialvalue_tom import money
from socialvalue_tom.bids import scores_from_values
from socialvalue_tom.report import targets_vs_delivered
from socialvalue_tom.tables.catalogue import resolve_tables
from socialvalue_tom.units import normalise_unit

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "portfolio.csv"
OUTCOME = dict(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
               date="2024-06-01")


def _frame() -> pd.DataFrame:
    return pd.DataFrame([OUTCOME])


def _valued() -> pd.DataFrame:
    return sv.value_frame(pd.DataFrame([dict(OUTCOME, contract_id="c1", stage="delivered")]))


FLAG_CALLS: dict[str, Callable[[Any], Any]] = {
    "select": lambda v: resolve_tables("uk-national").select(dt.date(2026, 6, 1),
                                                             carry_forward=v),
    "load_table": lambda v: sv.load_table("uk-national", on="2026-06-01", carry_forward=v),
    "apportion_outcome": lambda v: sv.apportion_outcome(
        sv.Outcome(**OUTCOME), "2026-01-01", "2028-12-31", carry_forward=v),
    "apportion": lambda v: sv.apportion(_frame().assign(period_start="2026-01-01",
                                                        period_end="2026-12-31"),
                                        carry_forward=v),
    "value_frame": lambda v: sv.value_frame(_frame(), detail=v),
    "targets_vs_delivered": lambda v: targets_vs_delivered(_valued(), by_measure=v),
    "targets_by_supplier": lambda v: targets_vs_delivered(_valued(), by_supplier=v),
}


@pytest.mark.parametrize("name", sorted(FLAG_CALLS))
@pytest.mark.parametrize("given", ["False", "no", 0, None, pd.DataFrame({"a": [1]})])
def test_a_yes_or_no_option_given_other_than_true_or_false_is_a_type_error(
        name: str, given: Any) -> None:
    """Python's truth test took "False" as true: select(carry_forward="False") gave the 2025
    edition for a date after every edition, value_frame(detail="False") added the detail
    columns, and a DataFrame leaked pandas' "truth value is ambiguous"."""
    with pytest.raises(TypeError, match=r"must be True or False"):
        FLAG_CALLS[name](given)


def test_a_yes_or_no_option_takes_numpy_booleans() -> None:
    table, carried = resolve_tables("uk-national").select(dt.date(2026, 6, 1),
                                                          carry_forward=np.True_)
    assert carried and table.version == "2025"
    assert "gross_gbp" not in sv.value_frame(_frame(), detail=np.False_).columns


def test_value_file_options_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="detail must be True or False"):
        sv.value_file(EXAMPLE, tmp_path / "out.csv", detail="False")
    with pytest.raises(TypeError, match="progress must be True or False"):
        sv.value_file(EXAMPLE, tmp_path / "out.csv", progress="no")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("call", [
    lambda: sv.value_frame(_frame(), errors=pd.DataFrame({"a": [1]})),
    lambda: sv.apportion(_frame(), errors=["raise"]),
    lambda: sv.score_bids(_frame().assign(supplier_id="s"), method=pd.Series(["rank"])),
    lambda: sv.score_bids(_frame().assign(supplier_id="s"), basis=None),
])
def test_a_choice_given_a_frame_or_list_is_a_rule_error_naming_the_choices(call: Any) -> None:
    with pytest.raises(sv.RuleError, match=r"must be '\w+' or '[\w-]+', not "):
        call()


@pytest.mark.parametrize("call", [
    lambda: money.total("12"), lambda: money.total(b"12"), lambda: money.to_pence(True),
    lambda: money.to_pounds(np.True_), lambda: money.format_gbp(True),
    lambda: money.to_pence("5"), lambda: money.total([1.0, True]),
    lambda: money.total(np.array([True, False])), lambda: money.total(["1.5"] * 40),
    lambda: money.total(pd.Series(["1.5"])), lambda: money.total([1.0] * 40 + [1j]),
    lambda: money.total(np.array([1 + 2j])), lambda: money.to_pounds(np.complex128(1)),
])
def test_money_refuses_text_bytes_and_booleans_as_amounts(call: Any) -> None:
    """total("12") added the characters 1 and 2 (b"12" the byte values, 99), and True was
    £1.00: what the rest of the library refuses as "not a number"."""
    with pytest.raises(TypeError, match=r"amount|amounts"):
        call()


def test_money_takes_decimals_exactly_and_refuses_signalling_nans() -> None:
    assert money.total([Decimal("0.10"), Decimal("0.20")]) == Decimal("0.30")
    assert money.to_pounds(Decimal("0.125")) == Decimal("0.13")
    assert money.to_pence(Decimal("1E+30")) == 10**32  # not the default 28-digit context
    assert money.to_pence(Decimal("1E+30")) == 100 * int(money.to_pounds(Decimal("1E+30")))
    assert money.total(pd.Series([0.1] * 10)) == Decimal("1.00")
    for call in (lambda: money.to_pounds(Decimal("sNaN")),
                 lambda: money.total([Decimal("sNaN")] * 40),
                 lambda: money.format_gbp(Decimal("NaN"))):
        with pytest.raises(sv.RuleError, match=r"not finite|not a number"):
            call()


def test_source_lines_refuses_text_as_its_rows(tmp_path: Path) -> None:
    """source_lines(path, "12") read the rows 1 and 2."""
    path = tmp_path / "o.csv"
    path.write_text("measure,quantity\na,1\nb,2\nc,3\n", encoding="utf-8")
    assert svio.source_lines(path, [1, 2]) == {1: 3, 2: 4}
    with pytest.raises(TypeError, match="rows must be a list"):
        svio.source_lines(path, "12")


@pytest.mark.parametrize("call", [
    lambda: sv.explain_row(None, 0), lambda: sv.explain_row({"a": 1}, 0),  # type: ignore[arg-type]
    lambda: svio.write_valuations(None, "x.csv"),  # type: ignore[arg-type]
    lambda: sv.score_bids(None),  # type: ignore[arg-type]
    lambda: sv.score_bids(_frame().assign(supplier_id="s"), bid_prices=[1, 2]),
    lambda: scores_from_values([1.0, 2.0]),  # type: ignore[arg-type]
    lambda: svio.iter_outcome_batches(EXAMPLE, dtypes="x").__next__(),
    lambda: sv.BulkValidationError.from_issues("x"),  # type: ignore[arg-type]
    lambda: sv.load_table("uk-national", version="2024").review_passed(pd.NA),
    lambda: sv.load_table("uk-national", version="2024").review_passed(pd.NaT),
])
def test_a_wrong_argument_type_is_a_type_error_not_an_attribute_error(call: Any) -> None:
    with pytest.raises(TypeError, match=r"needs a|must be"):
        call()


@pytest.mark.parametrize("unit", [None, 5, b"FTE"])
def test_a_unit_that_is_not_text_is_a_unit_error(unit: Any) -> None:
    table = sv.load_table("uk-national", version="2024")
    with pytest.raises(sv.UnitError, match="a unit is text"):
        normalise_unit(unit)
    if unit is None:  # no unit given: the measure's own
        assert table.unit_factor("jobs-local-fte", unit) == 1.0
        return
    with pytest.raises(sv.UnitError, match="a unit is text"):
        table.unit_factor("jobs-local-fte", unit)


@pytest.mark.parametrize("chunksize", [0, -1, 2.5, float("nan"), float("inf"), True, "10"])
def test_a_chunk_size_is_checked_alike_by_every_reader(chunksize: Any, tmp_path: Path) -> None:
    """value_file raised RuleError; iter_outcome_batches and csv_column_types a plain
    ValueError (pandas' own message for some), and csv_column_types took infinity."""
    for call in (lambda: sv.value_file(EXAMPLE, tmp_path / "o.csv", chunksize=chunksize),
                 lambda: next(svio.iter_outcome_batches(EXAMPLE, chunksize=chunksize)),
                 lambda: svio.csv_column_types(EXAMPLE, chunksize=chunksize)):
        with pytest.raises(sv.RuleError, match="chunksize must be a positive number of rows"):
            call()
    assert next(svio.iter_outcome_batches(EXAMPLE, chunksize=np.int64(3)))[1].shape[0] == 3


@pytest.mark.parametrize("given", [
    dict(contract_id=pd.Series([1, 2])), dict(supplier_id=np.array([1])),
    dict(contract_id=Decimal("sNaN")), dict(confidence=Decimal("sNaN")),
    dict(quantity=np.array(1.0)), dict(quantity=np.array([1.0])),
])
def test_outcome_refuses_containers_and_signalling_nans_as_value_frame_does(
        given: dict[str, Any]) -> None:
    """A Series as contract_id was its printed text (a double-counting key), a 0-d array a
    quantity, and a signalling NaN leaked decimal.InvalidOperation."""
    with pytest.raises(sv.OutcomeError):
        sv.Outcome(**dict(OUTCOME, **given))


def test_review_passed_takes_a_numpy_date_as_a_frame_cell_holds_it() -> None:
    table = sv.load_table("uk-national", version="2024")
    assert table.review_passed(np.datetime64("2099-01-01")) == table.review_passed(
        dt.date(2099, 1, 1))
    with pytest.raises(TypeError, match="today must be a date"):
        table.review_passed(np.datetime64("NaT"))


def test_bulk_validation_error_from_a_generator_of_issues_keeps_them() -> None:
    issue = sv.RowIssue(row=3, index=3, field="quantity", code="negative", reason="negative")
    err = sv.BulkValidationError.from_issues(i for i in [issue, issue])
    assert len(err.issues) == 2 and "2 problem(s) in 1 row(s)" in str(err)


def test_a_flag_given_a_frame_is_named_by_its_type_not_its_repr() -> None:
    with pytest.raises(TypeError, match=r"detail must be True or False, not DataFrame$"):
        sv.value_frame(_frame(), detail=pd.DataFrame({"a": range(50)}))


def test_mutation_review_gaps_in_argument_checks(tmp_path: Path) -> None:
    """Checks a mutation review found untested: bytes as rows, carry_forward with version=,
    from_issues of non-issues or of a deque, a chunk of text, the value a choice names."""
    from collections import deque

    for bad in (b"\x00\x01", bytearray(b"1")):
        with pytest.raises(TypeError, match="rows must be a list"):
            svio.source_lines(EXAMPLE, bad)
    with pytest.raises(TypeError, match="carry_forward must be True or False"):
        sv.load_table("uk-national", version="2024", carry_forward="no")
    with pytest.raises(TypeError, match="RowIssue"):
        sv.BulkValidationError.from_issues([1])  # type: ignore[list-item]
    issue = sv.RowIssue(row=0, field="quantity", code="negative", reason="negative")
    assert str(sv.BulkValidationError.from_issues(deque([issue] * 7))).startswith(
        "7 problem(s)")
    with pytest.raises(sv.RuleError, match=r"errors must be 'raise' or 'collect', not 5"):
        sv.value_frame(_frame(), errors=5)  # type: ignore[arg-type]


def test_money_to_pence_keeps_every_digit_of_a_large_decimal() -> None:
    assert money.to_pence(Decimal("1234567890123456789012345678.91")) == (
        123456789012345678901234567891)


def test_explain_row_given_a_numpy_position_records_a_plain_int() -> None:
    valued = sv.value_frame(pd.DataFrame([OUTCOME, dict(OUTCOME, quantity=-1)]),
                            errors="collect")
    with pytest.raises(sv.OutcomeError) as info:
        sv.explain_row(valued, np.int64(1))
    assert type(info.value.row) is int


def test_iter_outcome_batches_checks_its_arguments_when_called(tmp_path: Path) -> None:
    """A generator checked its arguments only at the first batch asked for: a bad chunksize
    or a missing file now fails at the call, before any iteration."""
    with pytest.raises(sv.RuleError, match="chunksize"):
        svio.iter_outcome_batches(EXAMPLE, chunksize=0)
    with pytest.raises(svio.InputFileError, match="no such file"):
        svio.iter_outcome_batches(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="dtypes must be a mapping"):
        svio.iter_outcome_batches(EXAMPLE, dtypes="x")  # type: ignore[arg-type]


class PolarsFrame:
    """A stand-in for a polars DataFrame (polars need not be installed), named as polars
    names its class."""

    def to_pandas(self) -> pd.DataFrame:
        return _frame()


PolarsFrame.__module__, PolarsFrame.__name__ = "polars.dataframe.frame", "DataFrame"


def test_value_frame_given_another_library_s_frame_names_its_library_and_how_to_convert(
        ) -> None:
    """"needs a pandas DataFrame, not DataFrame" read as a contradiction (a notebook analyst's
    review): the type is named with its library, and .to_pandas() offered where it exists."""
    with pytest.raises(TypeError, match=r"value_frame\(\) needs a pandas DataFrame, not "
                                        r"polars\.DataFrame; convert it with \.to_pandas\(\)"):
        sv.value_frame(PolarsFrame())
    with pytest.raises(TypeError, match=r"needs a pandas DataFrame, not pandas\.Series$"):
        sv.value_frame(_frame()["quantity"])
    with pytest.raises(TypeError, match=r"needs a pandas DataFrame, not list$"):
        sv.value_frame([OUTCOME])
