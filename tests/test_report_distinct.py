"""The notes and summaries work each distinct cell out once: the same output as reading every
row, pinned on a mixed frame (text, categorical and object columns; ids that differ by case,
spacing, type or an invisible character; dates as text, dates, datetimes in two time zones and
numpy days; blanks and missing cells; repeated rows)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom._bulk.lookups import _wall_clock
from socialvalue_tom.report import (
    _distinct_days,
    _financial_year,
    _key_codes,
    _label_text,
    basis_notes,
    editions_used,
    summarise,
)

_TZ = dt.timezone(dt.timedelta(hours=5))


def _mixed(n: int = 600, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def pick(values: list[object]) -> np.ndarray:
        return np.array(values, dtype=object)[rng.integers(0, len(values), n)]

    rows = pd.DataFrame({
        "contract_id": pick([1001, 1001.0, " 1001", "C-1", "c-1", "C-1 ", "C\u200b-1", None, "",
                             "C-2"]),
        "supplier_id": pick(["S-A", "s-a", "S-A ", None, "S-B", 7, 7.0]),
        "stage": pick(["delivered", "commitment", " delivered", None, ""]),
        "measure": pick(["jobs-local-fte", "jobs-priority-ltu", "env-carbon-saved",
                         "env-carbon-saved-fleet", "social-volunteering-hour",
                         "growth-local-spend", "growth-local-sme-spend"]),
        "quantity": pick([1, 2.5, 10, 40]),
        "region": pick(["london", "London ", "scotland", "wales", "uk", "england"]),
        # 1 April 2024 01:00 at UTC+5 is 31 March at UTC: the wall clock, not the instant,
        # gives the day and the financial year.
        "date": pick([dt.date(2024, 5, 1), pd.Timestamp("2024-05-01"),
                      dt.datetime(2024, 4, 1, 1, tzinfo=_TZ),
                      dt.datetime(2024, 3, 31, 20, tzinfo=dt.UTC), "2024-05-01 ",
                      "2025-06-30", None, np.datetime64("2023-07-01"), "2024-04-01"]),
        "years": pick([1, 2, 3, None]),
        "confidence": pick(["1", "3", 2, None, ""]),
    })
    units = {"jobs-local-fte": "FTE", "jobs-priority-ltu": "FTE", "env-carbon-saved": "tCO2e",
             "env-carbon-saved-fleet": "tCO2e", "social-volunteering-hour": "hours",
             "growth-local-spend": "GBP", "growth-local-sme-spend": "GBP"}
    rows["unit"] = rows["measure"].map(units)
    alike = rows.iloc[n // 10: n // 5].assign(region=lambda r: r["region"].str.upper() + " ")
    return pd.concat([rows, rows.iloc[: n // 10], alike], ignore_index=True)  # rows repeated


@pytest.fixture(scope="module")
def valued() -> pd.DataFrame:
    with pytest.warns(sv.IllustrativeValueWarning):
        return sv.value_frame(_mixed(), "uk-national", errors="collect")


def _as(valued: pd.DataFrame, dtype: str) -> pd.DataFrame:
    """``valued`` with its text input columns held as ``dtype`` (object cells as written)."""
    out = valued.copy()
    for c in ("contract_id", "supplier_id", "stage", "measure", "unit", "region"):
        out[c] = out[c].map(lambda x: x if x is None or isinstance(x, str) else str(x))
        out[c] = out[c].astype(dtype)
    return out


def _editions_every_row(valued: pd.DataFrame) -> list[tuple[str, str, str]]:
    """editions_used as it read every row's cells."""
    cols = [valued[c].tolist() for c in ("table", "version", "digest")]
    return sorted({(_label_text(t), _label_text(v), str(d)) for t, v, d in zip(*cols, strict=True)
                   if not (pd.isna(t) or pd.isna(v) or pd.isna(d))})


@pytest.mark.parametrize("held", ["category", "str", "object", "mixed"])
def test_editions_used_reads_each_distinct_edition_as_every_row(valued: pd.DataFrame,
                                                                held: str) -> None:
    frame = valued.copy()
    for c in ("table", "version", "digest"):
        frame[c] = frame[c].astype("category" if held == "mixed" else held)
    if held == "mixed":  # as read back from a file: 2024.0 for 2024, beside text
        frame["version"] = frame["version"].astype(object).map(
            lambda v: float(v) if isinstance(v, str) and v == "2024" else v)
    assert editions_used(frame) == _editions_every_row(frame)
    assert len(editions_used(frame)) == 3  # the three uk-national editions


def test_editions_used_tells_apart_cells_pandas_holds_equal() -> None:
    """1, 1.0 and True are one value to pandas, and two labels: each cell is read."""
    frame = pd.DataFrame({"table": "t", "version": pd.Series([1, True, 1.0], dtype=object),
                          "digest": "d"})
    assert editions_used(frame) == [("t", "1", "d"), ("t", "True", "d")]


def test_distinct_days_match_each_cell_read_on_its_wall_clock(valued: pd.DataFrame) -> None:
    for dates in (valued["date"], valued["date"].astype(object),
                  valued["date"].map(lambda d: d if isinstance(d, str) else None).astype("str")):
        codes, days = _distinct_days(dates)
        want_codes, uniq = pd.factorize(dates.astype(object).map(_wall_clock),
                                        use_na_sentinel=True)
        from socialvalue_tom.report import _day_or_none

        want = [_day_or_none(u) for u in uniq]
        # The same day for every row, and the same distinct days in the same order.
        assert [None if c < 0 else days[c] for c in codes] == \
            [None if c < 0 else want[c] for c in want_codes]
        assert np.array_equal(codes, want_codes)
    # The wall clock's year: 1 April 01:00 at UTC+5 is 2024/25, though 31 March at UTC.
    aware = pd.Series([dt.datetime(2024, 4, 1, 1, tzinfo=_TZ)], dtype=object)
    assert _financial_year(aware).tolist() == [2024]


def test_key_codes_are_the_codes_of_each_distinct_combination() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    # Wide columns, so the packed key passes 2**62 and is re-coded on the way.
    columns = [rng.integers(-1, w, n) for w in (3000, 2000, 1, 40000, 5000, 7, 300000)]
    key, first = _key_codes(columns, n)
    tuples = list(zip(*(c.tolist() for c in columns), strict=True))
    want, distinct = pd.factorize(pd.Series(tuples, dtype=object))
    assert np.array_equal(key, want)
    assert [tuples[i] for i in first] == list(distinct)


def test_notes_of_text_columns_are_those_of_object_columns(valued: pd.DataFrame) -> None:
    """A text column is read through its codes without a copy of every cell as a Python
    object; the object column reads each cell: the same notes."""
    objects = _as(valued, "object")
    notes = basis_notes(objects, "uk-national")
    assert basis_notes(_as(valued, "str"), "uk-national") == notes
    # The notes the shortcuts feed are all there (so that the equality says something).
    text = " ".join(notes)
    for said in ("differ only by case", "repeat another row exactly", "but for case",
                 "give no stage while others do", "name no contract_id while others do",
                 "give no confidence grade", "not checked against the publication",
                 "each discounted to its own first year"):
        assert said in text, said


@pytest.mark.parametrize("held", ["str", "category"])
def test_summaries_of_text_columns_are_those_of_object_columns(valued: pd.DataFrame,
                                                               held: str) -> None:
    objects, other = _as(valued, "object"), _as(valued, held)
    for by in ("theme", ["supplier", "year"], "contract", ["stage", "measure"], "region"):
        pd.testing.assert_frame_equal(summarise(other, by=by, tables="uk-national"),
                                      summarise(objects, by=by, tables="uk-national"))
