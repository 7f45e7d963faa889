"""explain_row rebuilds a bulk row's trace: the same text as the scalar value().explain()."""

from __future__ import annotations

import datetime as dt
import pickle
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import assumptions, portfolios, to_frame, to_outcome

import socialvalue_tom as sv
from socialvalue_tom.frame import value_frame


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=portfolios(max_size=8), a=assumptions)
def test_explain_row_when_any_valid_row_equals_scalar_explain(
        tiny_table: Any, rows: list[dict[str, Any]], a: sv.Assumptions) -> None:
    out = value_frame(to_frame(rows), tiny_table, assumptions=a)
    for i, row in enumerate(rows):
        assert sv.explain_row(out, i) == sv.value(to_outcome(row), tiny_table,
                                                  assumptions=a).explain()


def test_explain_row_when_exclusion_fired_shows_share_then_scalar_trace(tiny_table: Any) -> None:
    df = pd.DataFrame({"contract_id": ["C1", "C1"], "measure": ["jobs-priority", "jobs-local"],
                       "quantity": [1.0, 4.0], "unit": ["FTE", "FTE"], "region": ["uk", "uk"],
                       "date": ["2024-09-30", "2024-09-30"]})
    out = value_frame(df, tiny_table)
    lines = sv.explain_row(out, 1).splitlines()
    assert "3 of the claimed 4 FTE counted, a share of 0.75 (" in lines[1]
    assert "'priority-within-local'" in lines[1]
    # 3 FTE x 20,000 x (1 - 0.1) = 54,000.00
    reduced = sv.Outcome(measure="jobs-local", quantity=3.0, unit="FTE", region="uk",
                         date=pd.Timestamp("2024-09-30").date())
    scalar = sv.value(reduced, tiny_table).explain().splitlines()

    def unnumbered(ls: list[str]) -> list[str]:
        return [re.sub(r"^\s+\d+\. ", "", x) for x in ls]

    # The head says the 3 FTE valued are what double counting left of the row's 4.
    assert lines[0] == scalar[0].replace(" FTE of", " FTE (counted after double counting) of")
    assert unnumbered(lines[2:]) == unnumbered(scalar[1:])
    assert lines[-1] == "  = £54,000.00 (2024 prices)"


def test_explain_row_of_a_period_part_whose_claim_was_reduced_names_the_row_s_claim() -> None:
    """A trace audit: a part of a 12 FTE row reduced by the priority hires beside it said
    "period share 0.2486 of its 10.00000000000001 FTE" (what was left, divided by the
    share), where the row claimed 12 FTE; the amount itself was right."""
    df = pd.DataFrame({"contract_id": ["C1", "C1"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [2.0, 12.0], "unit": ["FTE", "FTE"],
                       "region": ["london", "london"],
                       "period_start": ["2024-01-01"] * 2, "period_end": ["2024-12-31"] * 2})
    out = value_frame(sv.apportion(df, "uk-national"), "uk-national")
    local = [i for i in range(len(out)) if out["measure"].iloc[i] == "jobs-local-fte"]
    assert len(local) == 2 and all(out["claim_share"].iloc[i] < 1 for i in local)
    for i in local:
        trace = sv.explain_row(out, i)
        share = float(out["period_share"].iloc[i])
        assert f"period share {share!r} of its 12 FTE)" in trace, trace
        assert re.search(r"double counting: [\d.]+ of the claimed [\d.]+ FTE counted, a share of ",
                         trace.splitlines()[1])


def test_explain_row_of_fte_over_a_period_not_a_year_says_it_is_fte_years() -> None:
    """A skills lead's review: a quarterly row of 12 FTE traced as "12 FTE x £39,863.20", a
    year's pay for each; only the totals' note said the quantity is FTE-years. The trace of an
    FTE row whose whole period is not a year says so (the row split across April too, by its
    whole period's days), and no other row's does: a year of FTE, weeks over a quarter, a
    row dated without a period."""
    periods = [("2025-04-01", "2025-06-30"), ("2025-04-01", "2026-03-31"),
               ("2025-04-01", "2025-06-30"), ("2025-01-01", "2025-06-30"), (None, None)]
    measures = ["jobs-local-fte", "jobs-local-fte", "jobs-apprenticeship-l2-week",
                "jobs-priority-ltu", "jobs-local-fte"]
    df = pd.DataFrame({"contract_id": ["C1", "C2", "C3", "C4", "C5"], "measure": measures,
                       "quantity": [12.0, 12.0, 39.0, 2.0, 3.0],
                       "unit": ["FTE", "FTE", "week", "FTE", "FTE"], "region": ["uk"] * 5,
                       "period_start": [p[0] for p in periods],
                       "period_end": [p[1] for p in periods],
                       "date": [None, None, None, None, "2025-06-30"]})
    out = value_frame(sv.apportion(df, "uk-national"), "uk-national")
    said = {"C1": 91, "C4": 181}  # C4: 90 days before 1 April, 91 after, one period of 181
    for i in range(len(out)):
        trace = sv.explain_row(out, i)
        steps = [line.split()[1] for line in trace.splitlines()[1:] if line[:4].strip()]
        days = said.get(str(out["contract_id"].iloc[i]))
        assert ("period" in steps) is (days is not None), trace
        if days is not None:
            assert steps[steps.index("convert") + 1] == "period"
            assert (f"period        the row reports a period of {days} days, not a year: its FTE "
                    "is read as the FTE-years delivered in the period, not the FTE employed (12 "
                    "FTE employed for a quarter is 3)") in trace
    # The step is words only: the amount is the row's, as before.
    assert sv.explain_row(out, 0).splitlines()[-1].startswith("  = £")


def test_trace_names_the_financial_years_a_discount_runs_between_and_every_factor() -> None:
    """A trace audit: "3 year(s) from year offset 1 ... to base year 2023" named neither the
    outcome's own financial year nor that 2023 means 2023/24, and a confidence reduction on a
    whole-pence amount was written without its "x (1 - 0.2)", as if it were £0.20."""
    o = sv.Outcome(measure="jobs-apprenticeship-l3-week", quantity=10, unit="week",
                   region="uk", date=dt.date(2025, 3, 31), years=3, confidence="3")
    based = sv.value(o, assumptions=sv.Assumptions(discount_base_year=2022)).explain()
    assert ("duration      3 year(s) of the quantity each year, from financial year 2024/25, "
            "2 year(s) after the discount base year 2022/23, drop-off 0/year, discounted "
            "(green-book schedule) to the base year;") in based
    same = sv.value(o, assumptions=sv.Assumptions(discount_base_year=2024)).explain()
    assert ("3 year(s) of the quantity each year, from financial year 2024/25, the discount "
            "base year, drop-off 0/year, discounted (green-book schedule) to the base year;"
            ) in same
    own = sv.value(o).explain()
    assert "3 year(s) of the quantity each year, from financial year 2024/25, drop-off" in own
    assert "to its own first year;" in own
    assert ("confidence grade '3': optimism-bias reduction 0.2 [NOT CHECKED against the "
            "publication: the grade definitions") in own  # (the steps: a table's choice)
    assert "]: x (1 - 0.2)  -> £1,920.00" in own


def test_trace_runs_the_proxy_back_to_its_source_figures() -> None:
    """A trace audit: London's jobs proxy cited a Northern Ireland bulletin and nothing more;
    the proxy step now gives the table's derivation, with the published figures it uses, and
    for a bound its own formula."""
    o = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="london",
                   date=dt.date(2024, 9, 1))
    proxy = sv.value(o).explain().splitlines()[3]
    assert proxy.endswith("; derived as median_weekly_pay_ft * weeks_per_year with "
                          "median_weekly_pay_ft = 906, weeks_per_year = 52")
    carbon = sv.Outcome(measure="env-carbon-saved", quantity=1, unit="tCO2e", region="uk",
                        date=dt.date(2024, 9, 1))
    low = sv.value(carbon, assumptions=sv.Assumptions(bound="low")).explain().splitlines()[3]
    assert "derived as low_2020_prices * gdp_deflator_price_base / gdp_deflator_2020 with " \
        "low_2020_prices = 128," in low


def test_explain_row_when_row_was_not_valued_names_its_issue(tiny_table: Any) -> None:
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [-2.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-09-30"]})
    out = value_frame(df, tiny_table, errors="collect")
    with pytest.raises(sv.OutcomeError, match=r"row 0 was not valued: quantity: quantity -2"):
        sv.explain_row(out, 0)


def test_explain_row_of_a_refused_row_gives_its_problems_as_fields(tiny_table: Any) -> None:
    """An integrator's review: the cause of a refused row was only in the message (field
    'value_gbp', no issue code); an explain endpoint answers with the row's own problems."""
    df = pd.DataFrame({"measure": ["jobs-local"] * 2, "quantity": [1.0, -2.0],
                       "unit": ["FTE"] * 2, "region": ["uk", "mars"],
                       "date": ["2024-09-30", "2024-09-30"]})
    out = value_frame(df, tiny_table, errors="collect")
    with pytest.raises(sv.OutcomeError) as info:
        sv.explain_row(out, 1)
    found = info.value.to_dict()
    assert (found["field"], found["issue"]) == ("quantity", "negative")
    assert [(p["row"], p["field"], p["code"]) for p in found["details"]["row_issues"]] == [
        (1, "quantity", "negative"), (1, "region", "unknown-region")]
    import json

    json.dumps(found)  # an HTTP body as it is
    # Without the issues table, the row is still refused, naming no problem of its own.
    bare = out.copy()
    bare.attrs = {k: v for k, v in out.attrs.items() if k != "issues"}
    with pytest.raises(sv.OutcomeError) as none:
        sv.explain_row(bare, 1)
    assert (none.value.field, none.value.issue) == ("value_gbp", None)


_TWO_BAD = {"measure": ["env-carbon"] * 3, "quantity": [-5.0, 3.0, 1.0],
            "unit": ["tCO2e", "hour", "tCO2e"], "region": ["uk"] * 3,
            "date": ["2024-06-01"] * 3}
_NEGATIVE, _HOURS = "quantity: quantity -5 is negative", "unit: unit 'hour'"


@pytest.mark.parametrize(("reshape", "position", "expected"), [
    (lambda out: out.iloc[::-1], 1, _HOURS),
    (lambda out: out.iloc[::-1], 2, _NEGATIVE),
    (lambda out: out[out["unit"] == "hour"], 0, _HOURS),
    (lambda out: out.sort_values("unit"), 0, _HOURS),
    (lambda out: pd.concat([out, out]), 4, _HOURS),
    (lambda out: out.set_axis(["a", "b", "c"]), 0,
     "no issue is recorded under its index label 'a' (was the index changed"),
])
def test_explain_row_on_a_sorted_or_filtered_result_names_the_row_s_own_issue(
        tiny_table: Any, reshape: Any, position: int, expected: str) -> None:
    """Sorting and filtering keep .attrs; the issue is found by the row's index label (and
    its number where labels repeat), never by position alone, which named another row's
    problem."""
    out = reshape(value_frame(pd.DataFrame(_TWO_BAD), tiny_table, errors="collect"))
    with pytest.raises(sv.OutcomeError, match=re.escape(f"was not valued: {expected}")):
        sv.explain_row(out, position)


def test_explain_row_when_labels_repeat_in_the_result_as_valued_uses_the_position(
        tiny_table: Any) -> None:
    """pd.concat of two frames repeats labels 0, 1: untouched, the result still tells its
    refused rows apart by position (a fingerprint of the index says it is untouched)."""
    a = pd.DataFrame({"measure": ["env-carbon"] * 2, "quantity": [1.0, 1.0],
                      "unit": ["parsec", "tCO2e"], "region": ["uk"] * 2,
                      "date": ["2024-06-01"] * 2})
    b = a.assign(unit="tCO2e", region=["atlantis", "uk"])
    out = value_frame(pd.concat([a, b]), tiny_table, errors="collect")
    with pytest.raises(sv.OutcomeError, match="row 0 was not valued: unit: unit 'parsec'"):
        sv.explain_row(out, 0)
    with pytest.raises(sv.OutcomeError, match="row 2 was not valued: region: unknown region"):
        sv.explain_row(out, 2)
    with pytest.raises(sv.OutcomeError, match="its index label 0 is on rows 0, 2"):
        sv.explain_row(out.iloc[::-1], 1)  # reordered: which 0 cannot be told


def test_explain_row_matches_tuple_labels_holding_nan_after_pickling(tiny_table: Any) -> None:
    import pickle

    df = pd.DataFrame({"measure": ["env-carbon"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["parsec", "tCO2e"], "region": ["uk"] * 2,
                       "date": ["2024-06-01"] * 2},
                      index=pd.MultiIndex.from_tuples([("b", float("nan")), ("c", 1.0)]))
    out = pickle.loads(pickle.dumps(value_frame(df, tiny_table, errors="collect")))
    with pytest.raises(sv.OutcomeError, match="row 0 was not valued: unit: unit 'parsec'"):
        sv.explain_row(out, 0)


def test_explain_row_when_labels_repeat_after_reordering_says_it_cannot_tell(
        tiny_table: Any) -> None:
    """Rows x (position 0) and x (1) were both refused; swapped, nothing says which is which:
    both issues are given, each with its row number, rather than a guess."""
    df = pd.DataFrame(_TWO_BAD, index=["x", "x", "y"])
    out = value_frame(df, tiny_table, errors="collect").iloc[[1, 0, 2]]
    with pytest.raises(sv.OutcomeError, match=re.escape(
            f"its index label 'x' is on rows 0, 1 not valued (numbered as valued), which of "
            f"them this is cannot be told: row 0: {_NEGATIVE}")) as err:
        sv.explain_row(out, 0)
    assert f"; row 1: {_HOURS}" in str(err.value)
    df.iloc[1, df.columns.get_loc("unit")] = "tCO2e"  # x at 1 valued: x at 0 is the one refused
    out = value_frame(df, tiny_table, errors="collect").iloc[[1, 0, 2]]
    with pytest.raises(sv.OutcomeError, match=f"row 1 was not valued: {re.escape(_NEGATIVE)}"):
        sv.explain_row(out, 1)


def test_explain_row_when_metadata_dropped_says_so(tiny_table: Any) -> None:
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [2.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-09-30"]})
    out = value_frame(df, tiny_table)
    out.attrs = {}
    with pytest.raises(sv.RuleError, match="no valuation metadata"):
        sv.explain_row(out, 0)


def test_explain_row_when_value_tampered_refuses_to_explain(tiny_table: Any) -> None:
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [2.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-09-30"]})
    out = value_frame(df, tiny_table)
    out.loc[0, "value_gbp"] = 1.0
    with pytest.raises(sv.RuleError, match="cannot be reproduced") as info:
        sv.explain_row(out, 0)
    # The cell as written, not numpy's repr (np.float64(1.0)), and the likely cause.
    assert "the frame 1: " in str(info.value) and "changed after valuation" in str(info.value)


def _gross_line(v: sv.Valuation) -> str:
    return next(s.detail for s in v.trace if s.rule == "gross")


def test_trace_when_expression_picks_proxy_high_lists_its_inputs(tiny_table: Any,
                                                                   make_outcome: Any) -> None:
    """where(level >= 3, proxy_high, proxy_low) * quantity at level 3: the trace shows the
    inputs it used (10 weeks x £300.00 = £3,000.00), not only the central proxy (£200.00)."""
    v = sv.value(make_outcome(measure="jobs-apprentice", quantity=10, unit="week",
                              fields={"level": 3}), tiny_table)
    line = _gross_line(v)
    assert line.startswith("expression 'where(level >= 3, proxy_high, proxy_low) * quantity'")
    for part in ("level = 3 (outcome field)", "proxy_high = £300.00", "proxy_low = £150.00",
                 "quantity = 10 week"):
        assert part in line, line
    assert "proxy = " not in line  # not used by the expression
    assert next(s.amount for s in v.trace if s.rule == "gross") == 3000.0


def test_trace_when_expression_uses_a_table_parameter_lists_it(tiny_table: Any,
                                                                make_outcome: Any) -> None:
    """quantity * proxy * (1 - leakage): leakage 0.25 comes from the table."""
    v = sv.value(make_outcome(measure="growth-local-spend", quantity=1000, unit="GBP"),
                 tiny_table)
    line = _gross_line(v)
    assert "leakage = 0.25 (table parameter)" in line, line
    assert "quantity = 1,000 GBP" in line and "proxy = £0.60" in line, line


def test_explain_row_when_expression_measure_shows_the_same_inputs(tiny_table: Any) -> None:
    df = pd.DataFrame({"measure": ["jobs-apprentice"], "quantity": [10.0], "unit": ["week"],
                       "region": ["uk"], "date": ["2024-09-30"], "level": [2]})
    out = value_frame(df, tiny_table)
    text = sv.explain_row(out, 0)
    assert "level = 2 (outcome field)" in text and "proxy_low = £150.00" in text


def test_trace_says_when_no_unit_was_given(tiny_table: Any) -> None:
    """Without a unit the quantity is read in the canonical unit: the convert step says so
    (explain showed '61,200 tCO2e' as if the supplier had written it), in bulk as in scalar."""
    o = sv.Outcome(measure="env-carbon", quantity=3.5, region="uk", date=dt.date(2024, 9, 30))
    convert = next(s for s in sv.value(o, tiny_table).trace if s.rule == "convert")
    assert convert.detail.endswith("no unit was given, so it is read in this unit)")
    given = sv.value(o.model_copy(update={"unit": "tCO2e"}), tiny_table)
    assert "no unit was given" not in given.explain()
    df = pd.DataFrame({"measure": ["env-carbon"], "quantity": [3.5], "unit": [None],
                       "region": ["uk"], "date": ["2024-09-30"]})
    assert sv.explain_row(value_frame(df, tiny_table), 0) == sv.value(o, tiny_table).explain()


def test_trace_says_when_a_measure_s_cap_could_not_be_applied() -> None:
    """A capped measure valued without contract_value is uncapped, and the trace says why."""
    table = sv.load_table(path=TINY)
    o = sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP", region="uk",
                   date=dt.date(2024, 6, 1))
    steps = [s for s in sv.value(o, table).trace if s.rule == "cap"]
    assert len(steps) == 1 and "no contract_value" in steps[0].detail


@pytest.mark.parametrize("i", [2, 99, -1, True, 1.0])
def test_explain_row_when_there_is_no_such_row_raises_a_typed_error(i: Any) -> None:
    """Not pandas' IndexError, and no negative positions (issue lookups count from 0)."""
    df = pd.DataFrame({"measure": ["jobs-local", "env-carbon"], "quantity": [1.0, 1.0],
                       "unit": ["FTE", "tCO2e"], "region": ["uk", "uk"],
                       "date": ["2024-06-01", "2024-06-01"]})
    out = value_frame(df, sv.load_table(path=TINY))
    with pytest.raises(sv.RuleError, match="the DataFrame has 2 row"):
        sv.explain_row(out, i)


def test_explain_row_when_text_cells_padded_explains_the_valued_row(tiny_table: Any) -> None:
    """value_frame reads " jobs-local " as jobs-local; the row's explanation does too."""
    df = pd.DataFrame({"measure": [" jobs-local "], "quantity": [1.0], "unit": ["FTE"],
                       "region": [" uk"], "date": ["2024-09-30"], "stage": ["delivered "]})
    out = value_frame(df, tiny_table)
    clean = sv.value(sv.Outcome(measure="jobs-local", quantity=1.0, unit="FTE", region="uk",
                                date="2024-09-30", stage="delivered"), tiny_table)
    assert out["value_gbp"].iloc[0] == clean.amount == 18000.0
    assert sv.explain_row(out, 0) == clean.explain()


@pytest.mark.parametrize(("column", "cell"), [
    ("unit", " "), ("confidence", ""), ("stage", "  "), ("deadweight", " "), ("years", ""),
    ("contract_value", ""), ("deadweight", "0.2"), ("years", "3"),
    ("quantity", "\xa02 "), ("quantity", " 1e0"),  # padded as pasted from a web page or Excel
])
def test_explain_row_when_cells_blank_or_numeric_text_explains_the_valued_row(
        tiny_table: Any, column: str, cell: str) -> None:
    """explain_row reads cells as value_frame read them: blank is absent, numeric text a
    number; the trace's amount is the row's value."""
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-09-30"]})
    df[column] = pd.Series([cell], dtype=object)
    out = value_frame(df, tiny_table)
    text = sv.explain_row(out, 0)
    assert f"= {sv.money.format_gbp(out['value_gbp'].iloc[0])}" in text


def test_explain_row_when_confidence_column_is_numeric_reads_the_grade_as_value_frame() -> None:
    """A float confidence column (3.0 beside a blank) is grade '3' to value_frame, and to
    explain_row."""
    import numpy as np

    df = pd.DataFrame({"measure": ["env-carbon-saved"] * 2, "quantity": [10.0, 20.0],
                       "unit": ["tCO2e"] * 2, "region": ["uk"] * 2, "date": ["2024-05-01"] * 2,
                       "confidence": [3, np.nan]})
    assert df["confidence"].dtype == np.float64  # the case is live
    out = value_frame(df, "uk-national")
    scalar = sv.value(sv.Outcome(measure="env-carbon-saved", quantity=10.0, unit="tCO2e",
                                 region="uk", date="2024-05-01", confidence="3"), "uk-national")
    assert out["value_gbp"].iloc[0] == scalar.amount
    assert sv.explain_row(out, 0) == scalar.explain()


def test_explain_row_when_local_price_index_edited_uses_the_index_each_frame_used(
        tmp_path: Any) -> None:
    """A user table's local index is not part of its digest; each frame's rows are explained
    with the index they were uplifted with, before and after the index file is edited."""
    import shutil

    from conftest import TINY_INDEX

    shutil.copy(TINY, tmp_path / "t.yaml")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    df = pd.DataFrame({"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"],
                       "region": ["uk"], "date": ["2024-09-30"]})
    a = sv.Assumptions(price_year=2025)
    before = value_frame(df, sv.load_table(path=tmp_path / "t.yaml"), assumptions=a)
    index = tmp_path / TINY_INDEX.name
    index.write_text(index.read_text(encoding="utf-8").replace("2025: 102.5", "2025: 110.0"),
                     encoding="utf-8")
    after = value_frame(df, sv.load_table(path=tmp_path / "t.yaml"), assumptions=a)
    assert before["digest"].iloc[0] == after["digest"].iloc[0]
    assert (before["value_gbp"].iloc[0], after["value_gbp"].iloc[0]) == (18450.0, 19800.0)
    assert sv.explain_row(after, 0).endswith("= £19,800.00 (2025 prices)")
    assert sv.explain_row(before, 0).endswith("= £18,450.00 (2025 prices)")


def test_explain_row_when_valued_in_another_process_finds_the_embedded_edition(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A pickled result explained in a fresh process (no value_frame call there yet): the
    embedded edition it records is loaded by label and used when its digest matches."""
    import weakref

    from socialvalue_tom import explain

    df = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [2.0], "unit": ["FTE"],
                       "region": ["london"], "date": ["2024-09-30"]})
    out = pickle.loads(pickle.dumps(sv.value_frame(df)))
    monkeypatch.setattr(explain, "_EDITIONS", weakref.WeakValueDictionary())
    assert "uk-national:2024" in sv.explain_row(out, 0)
    forged = out.copy()
    forged.attrs["socialvalue_tom"] = dict(out.attrs["socialvalue_tom"], editions={
        "uk-national:2024": "0" * 64})
    forged["digest"] = "0" * 64
    monkeypatch.setattr(explain, "_EDITIONS", weakref.WeakValueDictionary())
    with pytest.raises(sv.RuleError, match="is not loaded in this process"):
        sv.explain_row(forged, 0)


# --- The trace multiplies out: amount shown x factor shown = next amount shown, to the penny ---

_AMOUNT = re.compile(r"  -> (-?)£([\d,]+\.\d\d)$")
_STEP = re.compile(r"^\s+\d+\. (\S+)\s+(.*?)(?:  -> -?£[\d,]+\.\d\d)?$")
_NUMBER = r"-?[\d,]+(?:\.\d+)?"
_UNROUNDED = re.compile(rf"£({_NUMBER}) \(unrounded\) x ")
_AT_FLOAT_PRECISION = re.compile(rf" = £({_NUMBER}) at float precision")


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _number_in(pattern: str, detail: str) -> Decimal:
    """The number the one group of ``pattern`` finds in ``detail``."""
    found = re.search(pattern, detail)
    assert found, f"{pattern!r} not in {detail!r}"
    return _dec(found.group(1))


def _factor_of(rule: str, detail: str) -> Decimal | None:
    """The factor a multiplying step shows (None for a step that does not multiply)."""
    if rule == "additionality":
        factor = Decimal(1)
        for name in ("deadweight", "displacement", "attribution"):
            factor *= 1 - _number_in(rf"\(1 - {name} ({_NUMBER})\)", detail)
        return factor
    if rule == "confidence":
        if "not applied" in detail:
            return Decimal(1)
        return 1 - _number_in(rf"optimism-bias reduction ({_NUMBER})", detail)
    if rule in ("duration", "uplift"):
        return _number_in(rf": (?:£{_NUMBER} \(unrounded\) )?x ({_NUMBER})$", detail)
    return None


def _multiplies_out(text: str, float_rel: Decimal = Decimal("1e-15")) -> int:
    """Check each step of an ``explain()`` text by hand, from the text alone: the amount it
    starts from (the line above's, or the unrounded amount it names) times the factor it shows
    is the amount it shows, to the penny (and a cap or disbenefit step shows what it did).
    Returns how many steps were checked."""
    checked, before = 0, None
    for line in text.splitlines()[1:-1]:
        step = _STEP.match(line)
        assert step, line
        rule, detail = step.groups()
        shown = _AMOUNT.search(line)
        if shown is None:
            continue
        after = _dec(shown.group(1) + shown.group(2))
        note = _AT_FLOAT_PRECISION.search(detail)
        detail = _AT_FLOAT_PRECISION.sub("", detail)
        given = _UNROUNDED.search(detail)
        start = _dec(given.group(1)) if given else before
        factor = _factor_of(rule, detail)
        if rule == "gross" and not detail.startswith("expression"):
            gross = re.fullmatch(rf"({_NUMBER}) \S+ x £({_NUMBER})", detail)
            assert gross, line
            start, factor = _dec(gross.group(1)), _dec(gross.group(2))
        elif rule == "cap":
            cap = re.search(r"(?:=|, cap) £([\d,]+\.\d\d): (applied|not reached)$", detail)
            fired = cap is not None and cap.group(2) == "applied"
            assert after == (_dec(cap.group(1)) if cap and fired else before), line
            if cap is not None:  # the cap is its factors multiplied out, or says it is not
                terms = re.match(rf"cap ({_NUMBER}) x contract value £({_NUMBER})"
                                 rf"(?: x period share ({_NUMBER}))?", detail)
                assert terms, line
                exact = _dec(terms.group(1)) * _dec(terms.group(2)) * (
                    _dec(terms.group(3)) if terms.group(3) else 1)
                by_hand = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                limit = _dec(cap.group(1))
                if note is None:
                    assert by_hand == limit, line
                else:
                    noted = _dec(note.group(1))
                    assert by_hand != limit and abs(noted - exact) <= abs(noted) * float_rel
                    assert noted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == limit
        elif rule == "disbenefit":
            assert before is not None and after == -before, line
        if factor is not None:
            assert start is not None, line
            exact = start * factor
            by_hand = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if note is None:
                assert by_hand == after, f"{start} x {factor} = {exact} not {after}: {line}"
            else:  # the float product, a hair from the exact one, rounds to the other penny
                noted = _dec(note.group(1))
                assert by_hand != after and abs(noted - exact) <= abs(noted) * float_rel
                assert noted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == after, line
        checked += factor is not None or rule in ("cap", "disbenefit")
        before = after
    return checked


def _uk_outcomes() -> list[tuple[sv.Outcome, sv.Assumptions]]:
    """Every uk-national measure of each edition, over 1 to 30 years, with quantities,
    confidence grades and assumptions that leave sub-penny amounts between the steps."""
    quantities = (1, 7, 12.5, 1000, 333.333)
    grades = (None, "2", "3", "5")
    assumptions = (sv.Assumptions(), sv.Assumptions(price_year=2022),
                   sv.Assumptions(discount_base_year=2021, price_year=2030, drop_off=0.13),
                   sv.Assumptions(deadweight=0.07, displacement=0.3, attribution=0.15,
                                  discount_schedule="health", price_year=2019))
    cases = []
    for date in ("2023-06-30", "2024-09-30", "2025-05-01"):
        table = sv.load_table("uk-national", version=date[:4])
        for m, code in enumerate(table.measure_codes):
            unit = table.measures[code].unit
            for years in range(1, 31):
                k = m + years
                o = sv.Outcome(measure=code, quantity=quantities[k % len(quantities)],
                               unit=unit, region=("london", "scotland", "uk")[k % 3],
                               date=date, years=years, confidence=grades[k % len(grades)])
                cases.append((o, assumptions[k % len(assumptions)]))
                cases.append((o, assumptions[(k + 2) % len(assumptions)]))
    return cases


def test_trace_when_multiplied_out_by_hand_gives_each_amount_to_the_penny() -> None:
    """Every factor is shown in full (a duration factor of 1.9661835748792271, not 1.96618,
    which would make 9,600 x 1.96618 = £18,875.33 against the £18,875.36 shown), and an amount
    a step multiplies is shown unrounded where the line above rounds it to the penny: for
    thousands of valuations each step multiplies out by hand to the amount it shows."""
    checked = 0
    for o, a in _uk_outcomes():
        checked += _multiplies_out(sv.value(o, "uk-national", assumptions=a).explain())
    assert checked > 10_000


@pytest.mark.parametrize(("outcome", "assumptions", "step"), [
    ({"measure": "jobs-priority-veteran", "quantity": 6.5, "unit": "FTE",
      "region": "northern-ireland", "date": "2024-10-07", "attribution": 0.5, "years": 2,
      "drop_off": 0.333}, {}, "duration"),
    ({"measure": "social-donations-gbp", "quantity": 4657.5, "unit": "GBP", "region": "wales",
      "date": "2025-02-25", "deadweight": 0.1, "attribution": 0.15, "years": 2,
      "drop_off": 0.333}, {"price_year": 2022}, "duration")])
def test_trace_says_the_float_product_where_by_hand_rounds_to_another_penny(
        outcome: dict[str, object], assumptions: dict[str, object], step: str) -> None:
    """£95,923.9125 x 1.6444444444444444 is £157,741.544999... by hand, £157,741.545 in float
    (the factor is 74/45): the step says so, as the gross step does, rather than show a
    product that rounds to £157,741.54 beside the amount £157,741.55."""
    valuation = sv.value(sv.Outcome.model_validate(outcome),
                         assumptions=sv.Assumptions(**assumptions))  # type: ignore[arg-type]
    text = valuation.explain()
    line = next(x for x in text.splitlines() if f". {step} " in x)
    assert "at float precision" in line
    assert _multiplies_out(text) >= 3


def test_trace_checks_a_one_minus_factor_near_zero_by_hand() -> None:
    """1 - 0.99999984 shown from a float whose dropped noise is large beside 1.6e-7: the
    product by hand (£5.495000005) rounds to another penny than the float (£5.49499999...),
    far from any half-penny as the fast check measured it; the step says so."""
    o = sv.Outcome(measure="env-carbon-saved", quantity=114167.11, unit="tCO2e",
                   region="scotland", date="2024-09-30", deadweight=0.9999998400000003,
                   displacement=0, attribution=0)
    text = sv.value(o).explain()
    assert ("= £5.4949999943138295 at float precision; deadweight given by the outcome"
            in text)
    assert text.splitlines()[-2].endswith("  -> £5.49")  # the additionality step
    # 0.99999984 is shown without 4.4e-17 of float noise, 2.7e-10 of 1 - x: the float product
    # is 2e-9 (relative) from the shown one here, not the usual 1e-15.
    assert _multiplies_out(text, float_rel=Decimal("1e-8")) >= 2


def test_trace_when_large_and_long_multiplies_out() -> None:
    """The reported case: 1,000 FTE for 30 years, £35,334,000.00 x 19.0358 was shown
    -> £672,609,791.20 (by hand £672,610,957.20); the factor is now shown in full."""
    o = sv.Outcome(measure="jobs-local-fte", quantity=1000, unit="FTE", region="london",
                   date="2024-09-30", years=30)
    text = sv.value(o).explain()
    assert "x 19.03576700076051  -> £672,609,791.20" in text  # the exact sum, rounded once
    assert _multiplies_out(text) == 3


def test_trace_when_amount_above_has_sub_penny_digits_names_it_unrounded() -> None:
    """300.82 x 2.5 x 0.75 = £564.0375, shown £564.04; the confidence step multiplies the
    unrounded amount and says so, and so does the uplift after a discounted amount."""
    o = sv.Outcome(measure="env-carbon-saved", quantity=2500, unit="kgCO2e", region="wales",
                   date="2024-09-30", years=3, confidence="3")
    a = sv.Assumptions(price_year=2030, discount_base_year=2022, displacement=0.25)
    text = sv.value(o, assumptions=a).explain()
    assert "]: £564.0375 (unrounded) x (1 - 0.2)  -> £451.23" in text
    assert "2030 = 113.6416 (projected)" in text and "(unrounded) x 1.136416  -> " in text
    assert _multiplies_out(text) == 5


@pytest.mark.parametrize("outcome", [
    {"measure": "growth-local-spend", "quantity": 1234.567, "unit": "GBP",
     "contract_value": 999.99, "years": 3},
    {"measure": "growth-local-spend", "quantity": 1234.567, "unit": "GBP",
     "contract_value": 99_999.99, "years": 2, "confidence": "B"},
    {"measure": "env-carbon-added", "quantity": 3.333, "unit": "tCO2e", "years": 4},
    {"measure": "jobs-local", "quantity": 2.5, "unit": "FTE", "years": 7, "confidence": "C"},
    {"measure": "social-volunteering", "quantity": 17, "unit": "hour", "years": 30},
])
@pytest.mark.parametrize("a", [sv.Assumptions(), sv.Assumptions(price_year=2023),
                               sv.Assumptions(price_year=2025, discount_base_year=2021)])
def test_trace_when_capped_or_a_disbenefit_multiplies_out(
        tiny_table: Any, outcome: dict[str, Any], a: sv.Assumptions) -> None:
    """The tiny table's cap, disbenefit, health-schedule and expression measures too."""
    o = sv.Outcome(region="uk", date="2024-09-30", **outcome)
    assert _multiplies_out(sv.value(o, tiny_table, assumptions=a).explain()) >= 2


@pytest.mark.parametrize(("share", "noted"), [(1 / 3, True), (None, False), (0.5, False)])
def test_trace_when_a_cap_s_factors_round_otherwise_says_so_and_multiplies_out(
        tiny_table: Any, share: float | None, noted: bool) -> None:
    """0.5 x £70.17 x 1/3 is £11.69 by hand (11.694999...), £11.695 in floats, so £11.70: the
    cap line says so, and the checker reads the note on a cap line too."""
    o = sv.Outcome(measure="growth-local-spend", quantity=1000, unit="GBP", region="uk",
                   date="2024-09-30", contract_value=70.17, period_share=share)
    text = sv.value(o, tiny_table).explain()
    cap = next(line for line in text.splitlines() if " cap " in line)
    assert ("at float precision, cap £11.70: applied" in cap) is noted, cap
    assert ("at float precision" in cap) is noted, cap  # the share is one of the factors
    assert _multiplies_out(text) >= 1  # the cap (the gross is an expression's)


@pytest.mark.parametrize(("x", "shown"), [
    (0.75, "0.75"), (1.035, "1.035"), (2500.0, "2,500"), (0.0, "0"), (-3.5, "-3.5"),
    (1 + 1 / 1.035, "1.9661835748792271"),           # in full: repr, not 1.96618
    (113.6416 / 100, "1.136416"),                     # 1.1364159999999999: float noise dropped
    (10 / 12, "0.8333333333333334"),                  # a real repeating decimal keeps its digits
    (1234567.891, "1,234,567.891"), (1e-05, "0.00001"), (2e16, "20,000,000,000,000,000"),
])
def test_trace_numbers_when_shown_are_in_full_less_float_noise(x: float, shown: str) -> None:
    from socialvalue_tom.trace import _num

    assert _num(x) == shown


@pytest.mark.parametrize(("amount", "money", "given"), [
    (752.05, "£752.05", ""), (601.6400000000001, "£601.64", ""),  # 752.05 x 0.8: pence
    (300.82 * 0.75, "£225.615", "£225.615 (unrounded) "),           # a half-penny
    (-1234.5678, "-£1,234.5678", "-£1,234.5678 (unrounded) "),
])
def test_trace_amounts_when_sub_penny_are_shown_unrounded(amount: float, money: str,
                                                         given: str) -> None:
    from socialvalue_tom.trace import _input, _money

    assert (_money(amount), _input(amount)) == (money, given)


def test_explain_when_a_float_product_rounds_otherwise_than_by_hand_gives_it(
        tiny_table: Any) -> None:
    """12.7 minutes are 0.21166666666666664 hours, and x £15 that is 3.1749999999999996 by
    hand (£3.17) but 3.175 in float (£3.18, the value): the gross line gives the float
    product, so the trace multiplies out to the amount shown."""
    v = sv.value(sv.Outcome(measure="social-volunteering", quantity=12.7, unit="minute",
                            region="uk", date="2024-05-01"), tiny_table)
    gross = next(line for line in v.explain().splitlines() if "gross" in line)
    assert gross.endswith("0.21166666666666664 hour x £15.00 = £3.175 at float precision"
                          "  -> £3.18")
    whole = sv.value(sv.Outcome(measure="social-volunteering", quantity=12, unit="minute",
                                region="uk", date="2024-05-01"), tiny_table)
    assert "float precision" not in whole.explain()


def test_by_hand_note_past_the_float_range_of_pence_says_nothing_and_does_not_raise() -> None:
    """2e306 pounds are infinite in pence (x 100): the fast check fell over with an
    OverflowError (math.floor of inf); beyond money's range no note is given."""
    from socialvalue_tom.trace import _by_hand_note

    assert _by_hand_note([2.025e306, 1.0], 2.025e306) == ""


@settings(max_examples=400, deadline=None)
@given(st.integers(-2, 12), st.integers(0, 99), st.integers(-8, 8),
       st.floats(1.0, 9.99))
def test_trace_amount_when_near_a_half_penny_shows_what_money_rounds(
        exponent: int, pence: int, ulps: int, mantissa: float) -> None:
    """An amount shown in the trace rounds, by hand, to the penny money gives it: 7.305 was
    shown for 7.304999999999996 (money: £7.30), and above about 1e11 an amount money reads as
    the half-penny (£...553.985) was shown with digits that round down (...553.984)."""
    import math

    from socialvalue_tom.money import to_pounds
    from socialvalue_tom.trace import _unrounded

    x = round(mantissa * 10.0**exponent) + pence / 100 + 0.005
    x += ulps * math.ulp(x)
    shown = Decimal(_unrounded(x))
    assert shown.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == to_pounds(x), (x, shown)


def test_trace_numbers_beyond_money_s_range_are_shown_from_their_shortest_text() -> None:
    """No penny to keep beyond money's range: 1e300 is 1 and 300 zeros, not the float's exact
    binary expansion."""
    from socialvalue_tom.trace import _unrounded

    assert _unrounded(1e300) == "1" + "0" * 300
    assert _unrounded(-2.5e20) == "-250000000000000000000"


def test_trace_says_where_each_additionality_figure_came_from() -> None:
    """Setting a table's default aside left no line (displacement 0 for 0.25 just vanished),
    and a figure set for the run was credited to the table's source."""
    o = sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE", region="uk",
                   date="2024-06-01")
    off = sv.value(o, assumptions={"displacement": 0}).trace
    step = next(s for s in off if s.rule == "additionality")
    assert step.detail.endswith(
        "x (1 - deadweight 0) x (1 - displacement 0) x (1 - attribution 0); displacement set "
        "for this valuation (the table's 0.25), deadweight and attribution the table's "
        "defaults (from hca-additionality-2014)")
    own = sv.value(o.model_copy(update={"deadweight": 0.3}), assumptions={"attribution": 0.1})
    detail = next(s for s in own.trace if s.rule == "additionality").detail
    assert ("deadweight given by the outcome (the table's 0), attribution set for this "
            "valuation (the table's 0), displacement the table's default (from "
            "hca-additionality-2014 [NOT CHECKED against the publication: the displacement "
            "levels") in detail
    plain = next(s for s in sv.value(o).trace if s.rule == "additionality").detail
    assert plain.endswith("; table defaults from hca-additionality-2014 [NOT CHECKED against "
                          "the publication: the displacement levels (none 0%, low 25%, medium "
                          "50%, high 75%, total 100%) are as recalled, not checked against the "
                          "guide]")
    assert _multiplies_out(sv.value(o, assumptions={"displacement": 0}).explain()) >= 1


def test_trace_when_grades_are_off_says_the_reduction_was_not_applied(
        tiny_table: Any) -> None:
    """apply_confidence=False read "optimism-bias reduction 0" for a grade whose reduction
    is 0.4: a false statement in the audit record."""
    o = sv.Outcome(measure="jobs-local", quantity=1, unit="FTE", region="uk",
                   date="2024-06-01", confidence="C", years=2)
    v = sv.value(o, tiny_table, assumptions={"apply_confidence": False, "drop_off": 0.5,
                                             "discount_schedule": "none"})
    steps = {s.rule: s.detail for s in v.trace}
    assert steps["confidence"] == ("confidence grade 'C' not applied: grades are turned off "
                                   "for this valuation (apply_confidence=False)")
    assert "drop-off 0.5/year (set for this valuation; the table's 0)" in steps["duration"]
    assert "not discounted (discount_schedule none)" in steps["duration"]
    assert _multiplies_out(v.explain()) >= 3


def test_trace_of_a_part_of_a_period_says_so_and_an_expression_gives_its_result(
        tiny_table: Any) -> None:
    """A part's trace began at 2.98... FTE with no word of its period; an expression line
    gave no result to check it by, and a part's share could round to another penny by hand
    (£22.98559328169116 x 0.248634 is £5.714999..., the float £5.715)."""
    part = sv.Outcome(measure="jobs-local", quantity=12 * 0.25, unit="FTE", region="uk",
                      date="2024-06-01", period_share=0.25)
    convert = sv.value(part, tiny_table).trace[1].detail
    assert convert.endswith("; a part of the row's reporting period: period share 0.25 of "
                            "its 12 FTE)")
    spend = sv.Outcome(measure="growth-local-spend", quantity=12.7, unit="GBP", region="uk",
                       date="2024-06-01", period_share=0.248634)
    v = sv.value(spend, tiny_table)
    gross = next(s for s in v.trace if s.rule == "gross").detail
    assert "gives £22.98559328169116, x period share 0.248634 = £5.715 at float precision" \
        in gross
    assert next(s for s in v.trace if s.rule == "proxy").detail.count("central value") == 0
    level = sv.Outcome(measure="jobs-apprentice", quantity=10, unit="week", region="uk",
                       date="2024-06-01", fields={"level": 3})
    steps = {s.rule: s.detail for s in sv.value(level, tiny_table).trace}
    assert steps["proxy"].startswith("£200.00 per week for uk [ILLUSTRATIVE] (central value; "
                                     "the expression below uses the bounds it names)")
    for bound in ("low", "least-favourable"):  # the bound option picks none of them here
        low = {s.rule: s.detail for s in sv.value(level, tiny_table,
                                                   assumptions={"bound": bound}).trace}
        assert low["proxy"] == steps["proxy"] and "bound," not in low["proxy"]
    assert steps["gross"].endswith("quantity = 10 week gives £3,000.00")


def test_explain_row_leads_a_claim_share_with_float_error_by_its_short_reading() -> None:
    """A share worked out in float (0.7999999999999975 for 0.8) read as a real figure."""
    from socialvalue_tom.explain import _share_text

    assert _share_text(0.7999999999999975) == "about 0.8 (0.7999999999999975 as computed)"
    assert _share_text(0.8333333333333334) == "0.8333333333333334"  # 10/12: its own digits
    assert _share_text(0.75) == "0.75"
    # A share too small for fixed digits is not shortened to a power of ten.
    assert _share_text(1.0000000000000002e-20) == "0.000000000000000000010000000000000002"


def test_explain_row_of_an_apportioned_part_reads_its_float_share_as_the_decimal() -> None:
    """15 FTE of local jobs with 3 priority hires inside them, over calendar 2024: each
    edition's part keeps 12 in 15, which the apportioned quantities give as 0.8 plus float
    error; the trace says 'about 0.8' before the computed figure."""
    rows = pd.DataFrame({"contract_id": ["C"] * 2, "quantity": [15.0, 3.0],
                         "measure": ["jobs-local-fte", "jobs-priority-ltu"], "unit": ["FTE"] * 2,
                         "region": ["uk"] * 2, "period_start": ["2024-01-01"] * 2,
                         "period_end": ["2024-12-31"] * 2})
    valued = sv.value_frame(sv.apportion(rows, "uk-national"), "uk-national")
    wholes = np.flatnonzero(valued["measure"].to_numpy() == "jobs-local-fte")
    shares = valued["claim_share"].to_numpy()[wholes]
    assert np.allclose(shares, 0.8) and (shares != 0.8).any()  # the case this test is about
    lines = [sv.explain_row(valued, int(i)).splitlines()[1] for i in wholes]
    # Error in the last digits a 15-digit reading drops (0.8000000000000003) shows as 0.8;
    # error that reading keeps (0.8000000000000045) is read as about 0.8.
    said = [re.search(r"FTE counted, a share of (.*) \(exclusion", line) for line in lines]
    assert all(m is not None for m in said)
    shown = {m.group(1) for m in said if m is not None}
    assert "0.8" in shown and shown - {"0.8"} == {"about 0.8 (0.8000000000000045 as computed)"}


def test_an_exclusion_step_names_the_part_rows_it_netted_against() -> None:
    """An auditor's question the trace did not answer: which rows took the rest of a whole's
    claim? The step names the parts in the same group (contract, edition) in this frame;
    a part of another contract is not named; valued in pieces, a whole whose parts are in
    another piece says so."""
    df = pd.DataFrame({"measure": ["env-carbon-saved", "env-carbon-saved-fleet",
                                   "env-carbon-saved-fleet", "env-carbon-saved-buildings"],
                       "quantity": [10.0, 4.0, 1.0, 2.0], "unit": ["tCO2e"] * 4,
                       "region": ["uk"] * 4, "date": ["2025-06-01"] * 4,
                       "contract_id": ["c1", "c1", "c2", "c1"]})
    step = sv.explain_row(sv.value_frame(df), 0).splitlines()[1]
    assert step.endswith("netted against the parts at rows 1 (env-carbon-saved-fleet, 4 tCO2e), "
                         "3 (env-carbon-saved-buildings, 2 tCO2e) of this frame")
    from socialvalue_tom.frame import claims_of

    claims = claims_of(df)
    alone = sv.value_frame(df.iloc[:1], claims=claims)
    assert "no part of it is in this frame (valued in pieces?)" in sv.explain_row(alone, 0)
