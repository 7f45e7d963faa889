"""Portfolio analysis: summarise, targets vs delivered, HTML report (hand-computed from tiny.yaml).

tiny.yaml, 2024 prices, no discounting for one-year outcomes:
- jobs-local: £20,000/FTE (uk), £30,000/FTE (london), deadweight 0.1
- env-carbon: £250/tCO2e; env-carbon-added: £250/tCO2e, a disbenefit (negative)
- social-volunteering: £15/hour (uk), £14.50/hour (scotland)
"""

from __future__ import annotations

import base64
import datetime as dt
import html as html_module
import itertools
import math
import os
import re
import sys
import warnings
import weakref
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom.errors import RuleError
from socialvalue_tom.frame import value_frame
from socialvalue_tom.money import format_gbp, total
from socialvalue_tom.report import (
    _GLOSSARY,
    annotate,
    basis_notes,
    editions_used,
    import_extra,
    render_report,
    report_html,
    summarise,
    targets_vs_delivered,
)


@pytest.fixture
def portfolio() -> pd.DataFrame:
    return pd.DataFrame({
        "measure": ["jobs-local", "env-carbon", "env-carbon-added", "social-volunteering"],
        "quantity": [2, 10, 1, 100],
        "unit": ["FTE", "tCO2e", "tCO2e", "hour"],
        "region": ["London", "uk", "uk", "scotland"],
        "date": ["2024-05-01", "2024-06-01", "2024-06-01", "2025-01-15"],
        "supplier_id": ["acme", "acme", "beta", "beta"],
        "contract_id": ["c1", "c1", "c2", "c2"],
        "contract_value": [1_000_000.0, 1_000_000.0, 500_000.0, 500_000.0],
    })


@pytest.fixture
def valued(portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> pd.DataFrame:
    return value_frame(portfolio, tiny)


def test_summarise_when_by_theme_then_totals_match_hand_values(valued: pd.DataFrame,
                                                               tiny: sv.ProxyTable) -> None:
    """By theme: benefits and disbenefits apart, net = their sum, pennies as Decimal."""
    s = summarise(valued, by="theme", tables=tiny).set_index("theme")
    assert list(s.index) == ["environment", "jobs", "social"]
    assert s.loc["environment", "benefits_gbp"] == Decimal("2500.00")  # 10 t x £250
    assert s.loc["environment", "disbenefits_gbp"] == Decimal("-250.00")  # 1 t added
    assert s.loc["environment", "net_gbp"] == Decimal("2250.00")
    assert s.loc["jobs", "net_gbp"] == Decimal("54000.00")  # 2 x 30,000 x (1 - 0.1)
    assert s.loc["social", "net_gbp"] == Decimal("1450.00")  # 100 h x £14.50
    assert s.loc["environment", "rows"] == 2


def test_summarise_when_contract_values_then_each_contract_counted_once(
        valued: pd.DataFrame) -> None:
    """SV ratio = net / sum of distinct contracts' values (c1 has two rows, counted once)."""
    s = summarise(valued, by="supplier").set_index("supplier_id")
    assert s.loc["acme", "contract_value_gbp"] == Decimal("1000000.00")
    assert s.loc["acme", "sv_ratio"] == pytest.approx(56_500 / 1_000_000)
    assert s.loc["beta", "sv_ratio"] == pytest.approx(1_200 / 500_000)
    overall = summarise(valued, by=())
    assert overall["contract_value_gbp"].iloc[0] == Decimal("1500000.00")
    assert overall["net_gbp"].iloc[0] == Decimal("57700.00")


def test_summarise_when_contract_has_two_values_then_rule_error(valued: pd.DataFrame) -> None:
    """A contract with two different contract_value entries is named in the error."""
    bad = valued.copy()
    bad.loc[1, "contract_value"] = 2_000_000.0
    with pytest.raises(RuleError, match="'c1'"):
        summarise(bad, by="supplier")


def test_summarise_when_by_year_region_and_measure_then_groups(valued: pd.DataFrame) -> None:
    """Financial years start in April; regions are normalised ('London' -> 'london')."""
    years = summarise(valued, by="year").set_index("year")
    assert years.loc[2024, "rows"] == 4  # 2025-01-15 is still financial year 2024
    regions = summarise(valued, by=["region"]).set_index("region")
    assert regions.loc["london", "net_gbp"] == Decimal("54000.00")
    both = summarise(valued, by=["supplier", "measure"])
    assert len(both) == 4


def test_summarise_when_group_column_missing_then_value_error(tiny: sv.ProxyTable) -> None:
    """Grouping by a column the input lacks names the column."""
    v = value_frame(pd.DataFrame({"measure": ["jobs-local"], "quantity": [1], "unit": ["FTE"],
                                  "region": ["uk"], "date": ["2024-05-01"]}), tiny)
    with pytest.raises(ValueError, match="supplier_id"):
        summarise(v, by="supplier")


def test_summarise_when_half_penny_then_rounded_half_up_once() -> None:
    """Rounding is at the edge: 0.005 + 0.005 = 0.01, not 0.00 + 0.00 nor 0.01 + 0.01."""
    df = pd.DataFrame({"theme": ["a", "a", "b"], "value_gbp": [0.005, 0.005, 0.125]})
    s = summarise(df, by="theme").set_index("theme")
    assert s.loc["a", "net_gbp"] == Decimal("0.01")
    assert s.loc["b", "net_gbp"] == Decimal("0.13")


def test_summarise_when_a_group_has_only_disbenefits_or_zeros_then_each_side_counted_apart(
        ) -> None:
    """Benefits are the positive amounts and disbenefits the negative ones, each rounded once:
    a group of disbenefits only has benefits of 0.00, a zero-valued row counts as a row on
    neither side, and a half-penny disbenefit rounds away from zero."""
    df = pd.DataFrame({"theme": ["a", "a", "b", "b", "c"],
                       "value_gbp": [-0.005, -10.0, 0.0, 2.5, 0.0]})
    s = summarise(df, by="theme").set_index("theme")
    assert s.loc["a", ["rows", "benefits_gbp", "disbenefits_gbp", "net_gbp"]].tolist() == [
        2, Decimal("0.00"), Decimal("-10.01"), Decimal("-10.01")]
    assert s.loc["b", ["rows", "benefits_gbp", "disbenefits_gbp", "net_gbp"]].tolist() == [
        2, Decimal("2.50"), Decimal("0.00"), Decimal("2.50")]
    assert s.loc["c", ["rows", "benefits_gbp", "disbenefits_gbp", "net_gbp"]].tolist() == [
        1, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")]


def test_summarise_when_rows_not_valued_then_left_out(portfolio: pd.DataFrame,
                                                      tiny: sv.ProxyTable) -> None:
    """Bad rows (value NaN under errors='collect') count in no total."""
    portfolio.loc[0, "quantity"] = -1
    v = value_frame(portfolio, tiny, errors="collect")
    s = summarise(v, by=())
    assert s["rows"].iloc[0] == 3
    assert s["net_gbp"].iloc[0] == Decimal("3700.00")


def test_summarise_when_a_group_has_only_rejected_rows_then_listed_with_zeros(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A supplier whose every row was rejected is listed (0 valued, its rows not valued), not
    dropped: a missing supplier would read as one that reported nothing."""
    portfolio["quantity"] = portfolio["quantity"].astype("float64")
    portfolio.loc[[2, 3], "quantity"] = [-1.0, float("nan")]  # both of beta's rows
    v = value_frame(portfolio, tiny, errors="collect")
    s = summarise(v, by="supplier").set_index("supplier_id")
    assert s.index.tolist() == ["acme", "beta"]
    assert s["rows"].tolist() == [2, 0]
    assert s["rows_not_valued"].tolist() == [0, 2]
    assert s.loc["beta", "net_gbp"] == Decimal("0.00")
    assert math.isnan(s.loc["beta", "sv_ratio"])
    overall = summarise(v, by=())
    assert overall[["rows", "rows_not_valued"]].iloc[0].tolist() == [2, 2]


def test_report_html_when_rows_rejected_then_sections_show_them_under_none(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """The HTML report's theme section counts the rows not valued, under "(none)" (a rejected
    row has no theme), in the table as on the chart."""
    portfolio.loc[3, "measure"] = "no-such-measure"
    html_text = report_html(value_frame(portfolio, tiny, errors="collect"), tables=tiny)
    theme = html_text[html_text.index("<h2>By theme</h2>"):]
    theme = theme[:theme.index("</table>")]
    assert "<th scope=\"col\">Not valued</th>" in theme
    assert "<tr><th scope=\"row\">(none)</th><td>0</td><td>1</td>" in theme


def test_summarise_when_rejected_rows_hold_keys_that_do_not_compare_then_sorted_anyway(
        tiny: sv.ProxyTable) -> None:
    """Rejected rows may carry group keys of types that do not compare (a date and a number
    as a measure): the groups are still listed, text first, missing last."""
    df = pd.DataFrame({"measure": pd.Series(["jobs-local", dt.date(2024, 1, 1), 5, None],
                                            dtype=object),
                       "quantity": [1.0] * 4, "unit": ["FTE"] * 4, "region": ["uk"] * 4,
                       "date": ["2024-05-01"] * 4})
    v = value_frame(df, tiny, errors="collect")
    s = summarise(v, by="measure")
    assert s["rows"].tolist() == [1, 0, 0, 0]
    assert s["rows_not_valued"].tolist() == [0, 1, 1, 1]
    assert s["measure"].iloc[0] == "jobs-local" and s["measure"].isna().iloc[-1]


def test_summarise_when_a_rejected_row_was_apportioned_then_counted_once(
        tiny: sv.ProxyTable) -> None:
    """rows_not_valued counts input rows: a bad row split over a period is one row, also when
    two apportioned frames (each counting its rows from 0) are put together, or one is put
    with rows valued without a period."""
    df = pd.DataFrame({"measure": ["jobs-local"] * 3, "quantity": [1.0, -1.0, -1.0],
                       "unit": ["FTE"] * 3, "region": ["uk"] * 3,
                       "date": ["2024-05-01", "2024-01-01", "2024-04-01"],
                       "period_row": [0, 1, 1], "period_share": [1.0, 0.25, 0.75],
                       "value_gbp": [18000.0, math.nan, math.nan]})  # row 1 in two parts
    assert summarise(df, by=())[["rows", "rows_not_valued"]].iloc[0].tolist() == [1, 1]
    twice = pd.concat([df, df], ignore_index=True)
    assert summarise(twice, by=())["rows_not_valued"].iloc[0] == 2
    plain = pd.DataFrame({"measure": ["jobs-local"], "quantity": [-1.0], "unit": ["FTE"],
                          "region": ["uk"], "date": ["2024-05-01"], "value_gbp": [math.nan]})
    assert summarise(pd.concat([df, plain, plain]), by=())["rows_not_valued"].iloc[0] == 3


def test_summarise_when_a_row_s_shares_add_up_to_a_hair_over_one_then_it_is_one_row() -> None:
    """Shares of 5, 17 and 28 days of 50 (0.1, 0.34, 0.56) add up to 1.0000000000000002 in
    floats: still one input row, not two; a part of a row alone (0.25) is one row too."""
    df = pd.DataFrame({"value_gbp": [math.nan] * 3, "period_row": [0, 0, 0],
                       "period_share": [5 / 50, 17 / 50, 28 / 50]})
    assert pd.Series(df["period_share"]).groupby(df["period_row"]).sum().iloc[0] > 1.0
    assert summarise(df, by=())["rows_not_valued"].tolist() == [1]
    part = pd.DataFrame({"value_gbp": [math.nan], "period_row": [0], "period_share": [0.25]})
    assert summarise(part, by=())["rows_not_valued"].tolist() == [1]
    # A whole row and a quarter of another, both numbered 0 (two frames put together): 1.25
    # is more than one row's shares, so two rows.
    whole = part.assign(period_share=1.0)
    assert summarise(pd.concat([whole, part]), by=())["rows_not_valued"].tolist() == [2]


def test_summarise_when_two_apportioned_frames_are_put_together_counts_their_rows_apart(
        ) -> None:
    """Two returns' row 0 (supplier A's, supplier B's), each split over 2023/24 and 2024/25
    and not valued: each year holds a part of each, so each year counts 2 rows not valued
    (a share of 0.25 from each frame does not make one row)."""
    def one(supplier: str) -> pd.DataFrame:
        df = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12], "unit": ["kg"],
                           "region": ["uk"], "period_start": ["2024-01-01"],
                           "period_end": ["2024-12-31"], "supplier_id": [supplier]})
        return value_frame(sv.apportion(df), "uk-national", errors="collect")

    both = pd.concat([one("A"), one("B")])
    by_year = summarise(both, by="year")
    assert by_year["rows_not_valued"].tolist() == [2, 2]
    assert summarise(both, by=())["rows_not_valued"].tolist() == [2]


@pytest.mark.parametrize("by", ["region", "year", "team"])
def test_summarise_when_group_cells_hold_lists_or_tuples_groups_them_as_text(by: str) -> None:
    """Rows value_frame reported for a list in region or date, and a tuple in a column of
    the caller's, are grouped as their text: never a crash, never a tuple read as a key of
    several columns."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 3, "quantity": [1, 2, 3], "unit": "FTE",
                       "region": ["uk", ["uk"], "uk"],
                       "date": ["2024-05-01", "2024-05-01", ["2024-05-01"]],
                       "team": ["a", ("t1", "t2"), ("a",)]})
    out = value_frame(df, "uk-national", errors="collect")
    got = summarise(out, by=by)
    assert got["rows"].sum() + got["rows_not_valued"].sum() == 3
    if by == "team":
        assert sorted(map(str, got["team"])) == ["('a',)", "('t1', 't2')", "a"]


def test_annotate_when_tables_given_then_theme_and_illustrative(valued: pd.DataFrame,
                                                               tiny: sv.ProxyTable) -> None:
    """Measure info comes from the tables that valued the rows."""
    a = annotate(valued, tiny)
    assert a["theme"].tolist() == ["jobs", "environment", "environment", "social"]
    assert a["canonical_unit"].tolist() == ["FTE", "tCO2e", "tCO2e", "hour"]
    assert a["illustrative"].tolist() == [True] * 4


def _forget_editions(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a process that did not value the rows: no edition value_frame used is known."""
    from socialvalue_tom import explain

    monkeypatch.setattr(explain, "_EDITIONS", weakref.WeakValueDictionary())


def test_annotate_when_user_table_not_given_then_asks_for_tables(
        valued: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's own table no longer in use (or valued in another process) cannot be found
    again from attrs: the caller must pass it."""
    _forget_editions(monkeypatch)
    with pytest.raises(ValueError, match="tables="):
        annotate(valued)
    bare = valued.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="tables="):
        annotate(bare)


def _amended() -> sv.ProxyTable:
    """uk-national:2025 amended in memory with a figure for England (docs/proxies.md)."""
    source = {"id": "example-council-check", "title": "Made-up figure for this test",
              "publisher": "Example Council", "year": 2025,
              "url": "https://example.org/ashe-check", "licence": "OGL-3.0"}
    wage = {"value": 39026.00, "source": "example-council-check", "derivation": {
        "inputs": {"median_weekly_pay_ft": 750.5, "weeks_per_year": 52},
        "formula": "median_weekly_pay_ft * weeks_per_year"}}
    return sv.amend_table(sv.load_table("uk-national", version="2025"),
                          version="2025-example.1", sources=[source],
                          proxies={"jobs-local-fte": {"england": wage}})


def test_summarise_when_valued_with_an_amended_edition_in_memory_finds_it_by_digest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An edition built in memory is found by its digest while it is in use, as explain_row
    finds it (a notebook analyst's review: summarise asked for tables= where explain_row
    found the edition); no longer in use (another process), tables= is asked for again."""
    mine = _amended()
    v = value_frame(pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0],
                                  "unit": ["FTE"], "region": ["england"],
                                  "date": ["2025-06-01"]}), tables=mine)
    assert "uk-national:2025-example.1" in sv.explain_row(v, 0)
    s = summarise(v)
    assert s[["theme", "rows"]].values.tolist() == [["jobs", 1]]
    assert s["net_gbp"].tolist() == [total(v["value_gbp"])]
    assert annotate(v)["theme"].tolist() == ["jobs"]
    _forget_editions(monkeypatch)
    with pytest.raises(RuleError, match=r"cannot find table edition uk-national:2025-example\.1"):
        summarise(v)


def test_annotate_when_a_remembered_digest_is_labelled_as_another_edition_refuses(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A digest in use is found only under the label it was recorded with: relabelled, the
    rows are not annotated from an edition they do not name."""
    relabelled = valued.copy()
    relabelled.attrs["socialvalue_tom"] = dict(valued.attrs["socialvalue_tom"], editions={
        "tiny:1999": tiny.digest})
    with pytest.raises(RuleError, match="cannot find table edition tiny:1999"):
        annotate(relabelled)


@pytest.mark.parametrize("column", ["measure", "region_used", "table", "version"])
def test_summarise_when_a_looked_up_column_is_the_index_says_so(valued: pd.DataFrame,
                                                                column: str) -> None:
    """measure (or the table, version, region_used that value_frame wrote) held as the index
    is told as contract_id is: the frame's index, mended with df.reset_index() (it read "column
    is missing")."""
    with pytest.raises(sv.OutcomeError, match=rf"'{column}' is the frame's index, not a "
                                              r"column: .*df\.reset_index\(\)") as info:
        summarise(valued.set_index(column), by="theme")
    assert info.value.field == column


def test_annotate_when_embedded_tables_then_found_from_attrs() -> None:
    """Embedded editions are found again from the digests value_frame records."""
    table = sv.load_table("uk-national", version="2024")
    code = next(iter(table.measures))
    v = value_frame(pd.DataFrame({"measure": [code], "quantity": [1],
                                  "unit": [table.measures[code].unit], "region": ["uk"],
                                  "date": ["2024-06-01"]}), "uk-national")
    assert annotate(v)["theme"].iloc[0] == table.measures[code].theme


def test_targets_vs_delivered_when_under_delivered_then_shortfall(tiny: sv.ProxyTable) -> None:
    """Committed 2 FTE (36,000), delivered 1.5 FTE (27,000): shortfall 9,000, 75%."""
    df = pd.DataFrame({
        "measure": ["jobs-local", "jobs-local", "env-carbon"], "quantity": [2, 1.5, 4],
        "unit": ["FTE", "FTE", "tCO2e"], "region": ["uk"] * 3, "date": ["2024-05-01"] * 3,
        "contract_id": ["c1", "c1", "c2"], "stage": ["commitment", "delivered", "delivered"]})
    v = value_frame(df, tiny, detail=True)
    with pytest.warns(sv.SocialValueWarning, match=r"no commitment \(£1,000\.00 in all"):
        t = targets_vs_delivered(v).set_index("contract_id")  # c2 delivered, never committed
    assert t.loc["c2", "uncommitted_gbp"] == t.loc["c2", "delivered_gbp"]
    assert t.loc["c1", "uncommitted_gbp"] == Decimal("0.00")
    assert t.loc["c1", "committed_gbp"] == Decimal("36000.00")
    assert t.loc["c1", "delivered_gbp"] == Decimal("27000.00")
    assert t.loc["c1", "shortfall_gbp"] == Decimal("9000.00")
    assert t.loc["c1", "delivered_pct"] == pytest.approx(75.0)
    assert t.loc["c2", "shortfall_gbp"] == Decimal("0.00")  # over-delivered: no shortfall
    m = targets_vs_delivered(v, by_measure=True, tables=tiny).set_index(["contract_id", "measure"])
    assert m.loc[("c1", "jobs-local"), "committed_quantity"] == 2.0
    assert m.loc[("c1", "jobs-local"), "delivered_quantity"] == 1.5
    assert m.loc[("c1", "jobs-local"), "unit"] == "FTE"


def test_targets_uncommitted_in_all_is_the_rows_amounts_rounded_once() -> None:
    """A reconciliation review: four contracts each delivering a measure never committed were
    told '(£38,319.68 in all)' (the groups' penny figures added) where the same rows total
    £38,319.66 (added, then rounded once, as every total is)."""
    df = pd.DataFrame({"measure": "jobs-priority-ltu", "quantity": 0.3, "unit": "FTE",
                       "region": "uk", "date": "2024-09-30",
                       "contract_id": ["c1", "c2", "c3", "c4", "c5"],
                       "stage": ["delivered"] * 4 + ["commitment"]})
    v = value_frame(df, "uk-national")
    exact = sum((Decimal(repr(x)) for x in v["value_gbp"].iloc[:4]), Decimal(0))
    in_all = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    by_group = sum((total([x]) for x in v["value_gbp"].iloc[:4]), Decimal(0))
    assert by_group == Decimal("38319.68") != in_all == Decimal("38319.66")  # as reviewed
    with pytest.warns(sv.SocialValueWarning, match=re.escape(
            f"4 group(s) have deliveries of measures with no commitment (£{in_all:,} in all")):
        targets_vs_delivered(v)


def test_report_targets_table_ends_in_a_total_row_that_ties_to_the_stage_totals() -> None:
    """A reconciliation review: the targets table had no Total row, so its columns could not
    be tied to the by-stage totals. Its footer's committed and delivered are the stage
    totals; its shortfall adds the contracts' (one over-delivered makes up for no other),
    with a note saying so."""
    df = pd.DataFrame({"measure": "jobs-local-fte", "unit": "FTE", "region": "uk",
                       "date": "2024-09-30", "quantity": [2.0, 1.0, 1.0, 3.0],
                       "contract_id": ["c1", "c1", "c2", "c2"],
                       "stage": ["commitment", "delivered", "commitment", "delivered"]})
    v = value_frame(df, "uk-national")
    page = report_html(v)
    assert "commitments and deliveries apart, in 2024/25 prices." in page  # the price basis
    section = page.split("<h2>Targets vs delivered</h2>", 1)[1].split("<h2>", 1)[0]
    foot = section.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    stages = summarise(v, by="stage").set_index("stage")["net_gbp"]
    shortfall = targets_vs_delivered(v)["shortfall_gbp"]
    assert shortfall.tolist() == [stages["commitment"] / 3, Decimal("0.00")]  # 1 FTE of 3
    assert re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", foot)[:4] == [
        "Total", format_gbp(stages["commitment"]), format_gbp(stages["delivered"]),
        format_gbp(shortfall.sum())]
    assert ("The Total’s shortfall adds the groups’ shortfalls" in section
            or "The Total&#x27;s shortfall adds the groups&#x27; shortfalls" in section)


def test_targets_total_note_says_what_keeps_the_groups_from_adding_to_the_total() -> None:
    """Nothing where the groups add up; the rounding where they are pennies apart; the
    shortfall where a group delivered over its target; both joined."""
    from socialvalue_tom.report import _targets_total_note

    def table(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
        return pd.DataFrame([{"committed_gbp": Decimal(c), "delivered_gbp": Decimal(d),
                              "shortfall_gbp": Decimal(f), "uncommitted_gbp": Decimal(u)}
                             for c, d, f, u in rows])

    groups = table(("1.00", "0.50", "0.50", "0.00"), ("2.00", "1.00", "1.00", "0.00"))
    assert _targets_total_note(groups, table(("3.00", "1.50", "1.50", "0.00"))) is None
    assert _targets_total_note(groups, table(("3.01", "1.50", "1.51", "0.00"))) == (
        "Each figure is rounded once from its exact sum, so the groups' figures can add to a "
        "penny or so more or less than the Total.")
    over = table(("1.00", "2.00", "0.00", "0.00"), ("2.00", "1.00", "1.00", "0.00"))
    assert _targets_total_note(over, table(("3.00", "3.00", "1.00", "0.00"))) == (
        "The Total's shortfall adds the groups' shortfalls: a group delivered over its target "
        "does not make up for another's shortfall.")
    note = _targets_total_note(over, table(("3.00", "3.01", "1.00", "0.00")))
    assert note is not None and note.startswith("Each figure is rounded once") and (
        "than the Total; the Total's shortfall adds" in note)


def test_targets_total_row_and_notes_agree_and_say_only_what_happened() -> None:
    """An adversarial review: the note's "in all" counted only groups above nothing while the
    Total's "not committed" counts every group; rounding alone (nothing delivered over a
    target) was told as a group delivered over its target; a header-only input's report had
    a Total row the command line leaves out."""
    from socialvalue_tom.report import _targets_and_total, _targets_total_note

    harm = pd.DataFrame({"contract_id": ["a", "a", "b", "b"],
                         "stage": ["commitment", "delivered"] * 2,
                         "measure": ["m1", "m2", "m1", "harm"],
                         "value_gbp": [100.0, 100.0, 100.0, -50.0]})
    table, total_row = _targets_and_total(harm, by_measure=False, by_supplier=False,
                                          tables=None)
    assert total_row["uncommitted_gbp"].iloc[0] == Decimal("50.00")
    assert ("2 group(s) have deliveries of measures with no commitment (£50.00 in all"
            in table.attrs["notes"][0])
    pennies = pd.DataFrame({"contract_id": ["a", "a", "b", "b", "c", "c"],
                            "stage": ["commitment", "delivered"] * 3,
                            "value_gbp": [0.006, 0.0] * 3})
    table, total_row = _targets_and_total(pennies, by_measure=False, by_supplier=False,
                                          tables=None)
    assert _targets_total_note(table, total_row) == (
        "Each figure is rounded once from its exact sum, so the groups' figures can add to a "
        "penny or so more or less than the Total.")
    empty = value_frame(pd.DataFrame({"contract_id": [], "stage": [], "measure": [],
                                      "quantity": [], "unit": [], "region": [], "date": []}),
                        "uk-national")
    section = report_html(empty).split("<h2>Targets vs delivered</h2>", 1)[1]
    assert "<tfoot>" not in section.split("</table>", 1)[0]


def _tenders() -> pd.DataFrame:
    """Two tenderers' commitments on T1 (the frame score_bids reads), and the winner's
    deliveries."""
    return pd.DataFrame({"contract_id": "T1", "supplier_id": ["A", "B", "A"],
                         "stage": ["commitment", "commitment", "delivered"],
                         "value_gbp": [11440.0, 9152.0, 11440.0]})


def test_targets_vs_delivered_when_several_suppliers_committed_warns_and_splits_on_request(
        ) -> None:
    """A target adding competing tenders (A's and B's) read 55.6% delivered by the winner,
    who delivered all it committed: the contract is named in a warning, and by_supplier
    sets each supplier against its own commitments."""
    with pytest.warns(sv.SocialValueWarning, match=r"1 contract\(s\) .*more than one "
                                                   r"supplier \(T1\).*by_supplier=True"):
        added = targets_vs_delivered(_tenders())
    assert added["committed_gbp"].tolist() == [Decimal("20592.00")]
    split = targets_vs_delivered(_tenders(), by_supplier=True)
    assert split[["contract_id", "supplier_id", "committed_gbp", "delivered_gbp",
                  "delivered_pct"]].values.tolist() == [
        ["T1", "A", Decimal("11440.00"), Decimal("11440.00"), 100.0],
        ["T1", "B", Decimal("9152.00"), Decimal("0.00"), 0.0]]
    with pytest.raises(sv.OutcomeError, match="supplier_id"):
        targets_vs_delivered(_tenders().drop(columns="supplier_id"), by_supplier=True)


def test_targets_note_supplier_ids_written_two_ways(tiny: sv.ProxyTable) -> None:
    """A tender evaluator's review: 'W' committed and 'w' delivered read as a shortfall and
    a delivery not committed, with no word of the ids, where `value` names them."""
    rows = pd.DataFrame({"contract_id": "C1", "supplier_id": ["W", "W", "w"],
                         "stage": ["commitment", "delivered", "delivered"],
                         "measure": "jobs-local", "quantity": [3.0, 2.0, 1.0], "unit": "FTE",
                         "region": "uk", "date": "2024-06-01"})
    valued = value_frame(rows, tiny)
    with pytest.warns(sv.SocialValueWarning, match="'W' and 'w'"):
        out = targets_vs_delivered(valued, by_supplier=True)
    assert any("'W' and 'w'" in n for n in out.attrs["notes"])
    page = report_html(valued, tables=tiny)
    assert page.count("differ only by case") == 1  # among the caveats, not again below


def test_targets_vs_delivered_when_one_supplier_per_contract_does_not_warn() -> None:
    """The usual frame (the winner's rows; or no supplier column) says nothing more."""
    import warnings

    one = _tenders()[_tenders()["supplier_id"] == "A"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert targets_vs_delivered(one)["delivered_pct"].tolist() == [100.0]
        targets_vs_delivered(_tenders().drop(columns="supplier_id"))


def test_report_when_tenders_share_a_contract_shows_targets_per_supplier(
        tiny: sv.ProxyTable) -> None:
    """The report's targets table is per supplier where commitments come from several, and
    the report is made without a warning."""
    import warnings

    rows = pd.DataFrame({"contract_id": "T1", "supplier_id": ["A", "B", "A"],
                         "stage": ["commitment", "commitment", "delivered"],
                         "measure": "jobs-local", "quantity": [2.0, 1.0, 2.0], "unit": "FTE",
                         "region": "uk", "date": "2024-06-01"})
    valued = value_frame(rows, tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        text = report_html(valued, tables=tiny)
    targets = text[text.index("<h2>Targets vs delivered</h2>"):]
    assert "Per contract and supplier" in targets
    assert '<th scope="col">Supplier</th>' in targets.split("</table>")[0]


def test_targets_vs_delivered_when_no_stage_then_value_error(valued: pd.DataFrame) -> None:
    """The stage column is required and named."""
    with pytest.raises(ValueError, match="stage"):
        targets_vs_delivered(valued)


def test_report_html_when_valued_then_self_contained_with_sections(valued: pd.DataFrame,
                                                                   tiny: sv.ProxyTable) -> None:
    """Totals, themes, suppliers, editions with digest, illustrative caveat, inline PNGs."""
    text = report_html(valued, title="Q1 <portfolio>", tables=tiny)
    assert "<h1>Q1 &lt;portfolio&gt;</h1>" in text
    assert "£57,700.00" in text
    for heading in ("By theme", "By supplier", "By region", "Editions used", "Caveats"):
        assert f"<h2>{heading}</h2>" in text
    assert tiny.digest in text
    assert "illustrative" in text
    assert "Targets vs delivered" not in text  # no stage column
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 3  # theme, supplier, region (the rows name three regions)
    assert base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "http://" not in text and "https://" not in text  # nothing fetched from outside


def test_report_html_when_many_suppliers_then_charts_are_bounded_and_backend_kept(
        tmp_path: Path) -> None:
    """Thousands of suppliers: the chart draws the largest few and one bar for the rest (the
    table lists them all), and the caller's matplotlib backend is left as it was."""
    import struct

    import matplotlib

    before = matplotlib.get_backend()
    n = 500
    df = pd.DataFrame({"measure": "env-carbon-saved", "quantity": np.arange(1.0, n + 1),
                       "unit": "tCO2e", "region": "uk", "date": "2024-05-01",
                       "supplier_id": [f"S{i}" for i in range(n)]})
    text = report_html(value_frame(df))
    assert matplotlib.get_backend() == before
    assert ('alt="Bar chart of net social value by supplier (the largest 29 of 500), the '
            "others drawn as one bar. The figures of every group are in the table above, "
            'titled Social value by supplier."') in text
    assert text.count('<th scope="row">S') >= n  # every supplier is in the table
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    png = base64.b64decode(images[-1])
    height = struct.unpack(">I", png[20:24])[0]  # IHDR
    assert height <= 150 * (0.5 + 0.45 * 30) + 1  # 30 bars at 150 dots per inch


def test_report_html_when_a_label_is_very_long_then_the_chart_is_bounded() -> None:
    """A 100,000-character supplier id is drawn cut (with an ellipsis) in the chart, whose
    width stays that of any chart; the table shows it whole."""
    import struct

    long_id = "S" * 100_000
    df = pd.DataFrame({"measure": "env-carbon-saved", "quantity": [1.0, 2.0], "unit": "tCO2e",
                       "region": "uk", "date": "2024-05-01", "supplier_id": [long_id, "S2"]})
    text = report_html(value_frame(df))
    assert long_id in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    png = base64.b64decode(images[-1])
    width = struct.unpack(">I", png[16:20])[0]  # IHDR
    assert width <= 1_500


def test_report_html_when_issues_then_counted_in_caveats(portfolio: pd.DataFrame,
                                                         tiny: sv.ProxyTable,
                                                         tmp_path: Path) -> None:
    """Rows that were not valued are reported as left out."""
    portfolio.loc[2, "measure"] = "nope"
    v = value_frame(portfolio, tiny, errors="collect")
    path = render_report(v, tmp_path / "r.html", tables=tiny)
    text = path.read_text(encoding="utf-8")
    assert "1 row(s) with problems in the input were not valued" in text
    # A report sent on its own says which rows, and why (it said "see the issues").
    section = text.split("<h2>Rows not valued</h2>", 1)[1]
    # Row and field head each line (an accessibility review: a row with three problems had
    # three lines headed "2" alone, which a screen reader could not tell apart).
    assert ('<th scope="row">2</th><th scope="row">measure</th>'
            '<td class="text">unknown-measure</td>') in section
    assert "more, listed" not in section


def test_report_html_without_quoted_cells_lists_rows_by_code_only(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A privacy review: the rows not valued quoted the cells at fault (a name and National
    Insurance number typed where a region goes) in a report meant to be published.
    quote_cells=False lists row, field and code only, and says where the reasons are; the
    issues keep them."""
    portfolio.loc[2, "region"] = "Mary Roe AB123456C"
    v = value_frame(portfolio, tiny, errors="collect")
    quoted = report_html(v, tables=tiny)
    assert "Mary Roe" in quoted
    page = report_html(v, tables=tiny, quote_cells=False)
    assert "Mary Roe" not in page and "AB123456C" not in page
    section = page.split("<h2>Rows not valued</h2>", 1)[1]
    assert ('<th scope="row">2</th><th scope="row">region</th>'
            '<td class="text">unknown-region</td></tr>') in section
    assert "The reasons, which quote the cells at fault, are left out" in section
    assert "Mary Roe" in v.attrs["issues"]["reason"].iloc[0]
    with pytest.raises(TypeError, match="quote_cells must be True or False"):
        report_html(v, tables=tiny, quote_cells="no")  # type: ignore[arg-type]


def test_report_html_without_quoted_cells_hides_them_in_the_tables_too(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A privacy review (second round): with quote_cells=False a name typed as a stage still
    headed a row of "By stage" (the tables count rows not valued in their groups), and a
    name typed as a region a row of "By region". The cells an issue names read "(not
    shown)"; other cells of the row (its supplier) and the counts stay."""
    rows = pd.concat([portfolio, portfolio.iloc[[0, 3]]], ignore_index=True)
    rows["stage"] = ["commitment", "commitment", "delivered", "delivered",
                     "Jane Doe", "delivered"]
    rows.loc[5, "region"] = "Bob Smith"
    v = value_frame(rows, tiny, errors="collect")
    assert set(v.attrs["issues"]["field"]) == {"stage", "region"}
    assert "Jane Doe" in report_html(v, tables=tiny)
    page = report_html(v, tables=tiny, quote_cells=False)
    assert "Jane Doe" not in page and "jane" not in page.lower()
    assert "Bob Smith" not in page and "bob-smith" not in page
    stage = page.split("<h2>By stage</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<th scope="row">(not shown)</th><td>0</td><td>1</td>' in stage
    region = page.split("<h2>By region</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<th scope="row">(not shown)</th><td>0</td><td>1</td>' in region
    assert 'reads (not shown)' in page.split("<h2>Rows not valued</h2>", 1)[1]
    # An adversarial review: a row with an unknown measure has its stage unchecked (no issue
    # names it), and masking by the issues' index labels hid a valued row sharing a label.
    # A grouped cell of a row not valued is hidden unless a valued row holds it.
    other = rows.copy()
    other.loc[4, "measure"] = "nope"
    other.loc[4, "stage"] = "SECRETSTAGE John"
    other.index = [*range(len(other) - 1), 0]  # the last row shares the first's label
    v = value_frame(other, tiny, errors="collect")
    assert set(v.attrs["issues"]["field"]) == {"measure", "region"}
    page = report_html(v, tables=tiny, quote_cells=False)
    assert "SECRETSTAGE" not in page and "bob-smith" not in page
    stage = page.split("<h2>By stage</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<th scope="row">(not shown)</th><td>0</td><td>1</td>' in stage
    assert '<th scope="row">commitment</th><td>2</td>' in stage  # row 0 still counted there


def test_report_html_lists_the_first_issues_and_counts_the_rest(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    from socialvalue_tom.report import REPORT_ISSUES

    bad = pd.concat([portfolio] * 30, ignore_index=True).assign(quantity=-1.0)
    text = report_html(value_frame(bad, tiny, errors="collect"), tables=tiny)
    section = text.split("<h2>Rows not valued</h2>", 1)[1]
    assert section.count("<tr>") == REPORT_ISSUES + 1  # the header row too
    assert (f"and {len(bad) - REPORT_ISSUES:,} more problems (a row may have several, one per "
            "field), listed in the issues file") in section


def test_render_report_replaces_a_link_at_its_path_and_leaves_the_target(
        valued: pd.DataFrame, tiny: sv.ProxyTable, tmp_path: Path) -> None:
    """The report was written through a symbolic link at its path, overwriting whatever the
    link pointed at: it is written to a temporary file and renamed into place, as the valued
    files are, so the link is replaced and its target kept."""
    precious = tmp_path / "precious.txt"
    precious.write_text("precious", encoding="utf-8")
    link = tmp_path / "rep.html"
    link.symlink_to(precious)
    path = render_report(valued, link, tables=tiny)
    assert precious.read_text(encoding="utf-8") == "precious"
    assert not path.is_symlink() and path.read_text(encoding="utf-8").startswith("<!DOCTYPE")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt", "rep.html"]


def test_editions_used_when_valued_then_one_triple(valued: pd.DataFrame,
                                                   tiny: sv.ProxyTable) -> None:
    """The edition and digest used are listed once, also when the version was read back from
    a file as the number 2024.0."""
    assert editions_used(valued) == [("tiny", "2024", tiny.digest)]
    read_back = valued.assign(version=valued["version"].astype(float))
    assert editions_used(read_back) == [("tiny", "2024", tiny.digest)]


def test_import_extra_when_module_missing_then_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing optional dependency raises ImportError with the pip command."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'socialvalue_tom[report]'")):
        import_extra("matplotlib", "report")


def test_report_html_when_matplotlib_missing_then_import_error(
        valued: pd.DataFrame, tiny: sv.ProxyTable, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report extra is imported lazily and its absence is actionable."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=re.escape("socialvalue_tom[report]")):
        report_html(valued, tables=tiny)


#: The browser the script runs: $CHROMIUM, as the script reads it, else /usr/bin/chromium.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs {CHROMIUM} (or $CHROMIUM)")
def test_render_report_script_when_chromium_then_screenshot(valued: pd.DataFrame,
                                                            tiny: sv.ProxyTable,
                                                            tmp_path: Path) -> None:
    """scripts/render_report.sh renders the report to a non-trivial PNG."""
    import subprocess

    html = render_report(valued, tmp_path / "report.html", tables=tiny)
    script = Path(__file__).parent.parent / "scripts" / "render_report.sh"
    png = tmp_path / "report.png"
    subprocess.run(["bash", str(script), str(html), str(png)], check=True, timeout=180,
                   capture_output=True)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_targets_vs_delivered_when_quantities_asked_without_detail_refuses(
        tiny: sv.ProxyTable) -> None:
    """Quantities per measure need canonical units: summing raw quantities in mixed units
    (kgCO2e and tCO2e) would be a wrong number, so the call says how to get them."""
    df = pd.DataFrame({"contract_id": ["c1", "c1"], "stage": ["commitment", "delivered"],
                       "measure": ["env-carbon", "env-carbon"], "quantity": [1.0, 500.0],
                       "unit": ["tCO2e", "kgCO2e"], "region": ["uk", "uk"],
                       "date": ["2024-09-30", "2024-09-30"]})
    with pytest.raises(sv.RuleError, match=r"detail=True"):
        targets_vs_delivered(value_frame(df, tiny), by_measure=True, tables=tiny)
    m = targets_vs_delivered(value_frame(df, tiny, detail=True), by_measure=True, tables=tiny)
    assert m[["committed_quantity", "delivered_quantity"]].values.tolist() == [[1.0, 0.5]]


# -- text cells as value_frame reads them (surrounding spaces stripped) --------------------------

def _jobs(n: int, **cols: list) -> pd.DataFrame:
    """``n`` rows of 1 FTE jobs-local in uk (18,000 each), with ``cols`` on top."""
    base = {"measure": ["jobs-local"] * n, "quantity": [1.0] * n, "unit": ["FTE"] * n,
            "region": ["uk"] * n, "date": ["2024-05-01"] * n}
    return pd.DataFrame({**base, **cols})


def test_targets_vs_delivered_when_stage_has_spaces_then_read_as_validated(
        tiny: sv.ProxyTable) -> None:
    """' delivered' and 'delivered ' pass validation as delivered, so they count as delivered."""
    df = _jobs(3, contract_id=["c1"] * 3, stage=[" commitment", " delivered", "delivered "])
    t = targets_vs_delivered(value_frame(df, tiny)).set_index("contract_id")
    assert t.loc["c1", "committed_gbp"] == Decimal("18000.00")
    assert t.loc["c1", "delivered_gbp"] == Decimal("36000.00")


def test_measure_with_spaces_when_annotated_and_grouped_then_one_code(
        tiny: sv.ProxyTable) -> None:
    """' jobs-local' is valued as jobs-local: same theme, same group, same caveat, same row."""
    df = _jobs(3, measure=[" jobs-local", "jobs-local ", "jobs-local"],
               contract_id=["c1"] * 3, stage=["commitment", "delivered", "delivered"])
    v = value_frame(df, tiny, detail=True)
    assert annotate(v, tiny)["theme"].tolist() == ["jobs"] * 3
    assert annotate(v, tiny)["illustrative"].tolist() == [True] * 3
    assert summarise(v, by="theme", tables=tiny)["theme"].tolist() == ["jobs"]
    assert summarise(v, by="measure", tables=tiny)["measure"].tolist() == ["jobs-local"]
    m = targets_vs_delivered(v, by_measure=True, tables=tiny)
    assert m[["measure", "unit", "committed_quantity", "delivered_quantity"]].values.tolist() == [
        ["jobs-local", "FTE", 1.0, 2.0]]
    assert "3 of 3 valued rows" in report_html(v, tables=tiny)


@pytest.mark.parametrize("dates", [
    [" 2024-03-31", "2024-05-01", "2025-01-15"],
    ["2024-05-01", " 2024-03-31", "2025-01-15"],
    ["2025-01-15 ", "2024-05-01", " 2024-03-31"],
])
def test_summarise_when_dates_have_spaces_then_year_whatever_the_order(dates: list) -> None:
    """Each date is read as value_frame reads it, not by a format guessed from the first."""
    df = pd.DataFrame({"date": dates, "value_gbp": [1.0, 2.0, 4.0]})
    years = summarise(df, by="year").set_index("year")["rows"].to_dict()
    assert years == {2023: 1, 2024: 2}


def test_summarise_by_quarter_gives_financial_quarters_in_time_order() -> None:
    """A skills lead's review: a quarterly return could be totalled by year, not by quarter.
    ``quarter`` is the UK financial quarter of each date (Q1 April to June, Q4 January to
    March), as text that sorts in time order; no date is a group of its own; the frame's own
    ``quarter`` column is passed over with a warning, as ``year``'s is."""
    df = pd.DataFrame({"date": ["2025-01-15", "2024-04-01", " 2024-06-30", "2024-07-01",
                                "2024-03-31", dt.date(2024, 12, 31), None, "2025-03-31"],
                       "value_gbp": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]})
    quarters = summarise(df, by="quarter")
    assert quarters["quarter"].tolist()[:5] == ["2023/24 Q4", "2024/25 Q1", "2024/25 Q2",
                                                "2024/25 Q3", "2024/25 Q4"]
    assert pd.isna(quarters["quarter"].iloc[5])
    assert quarters["net_gbp"].tolist() == [16, 6, 8, 32, 129, 64]
    both = summarise(df.assign(stage="delivered"), by=["quarter", "stage"])
    assert both["quarter"].tolist()[:5] == quarters["quarter"].tolist()[:5]
    with pytest.warns(sv.SocialValueWarning, match="frame's own 'quarter' column"):
        own = summarise(df.assign(quarter="Q1"), by="quarter")
    assert own["quarter"].tolist()[:5] == quarters["quarter"].tolist()[:5]
    with pytest.raises(sv.OutcomeError, match="no date column"):
        summarise(df.drop(columns="date"), by="quarter")


def test_summarise_by_quarter_warns_of_apportioned_periods_that_span_quarters() -> None:
    """Periods are split only where the editions change (1 April), so a year's row
    apportioned is one part dated 1 April: by quarter, all of it fell in Q1 without a word.
    A warning counts the rows whose period runs over several quarters; rows a quarter long
    say nothing."""
    year = pd.DataFrame({"measure": ["env-carbon-saved"] * 2, "quantity": [4, 4],
                         "unit": ["tCO2e"] * 2, "region": ["uk"] * 2,
                         "period_start": ["2024-04-01", "2024-07-01"],
                         "period_end": ["2025-03-31", "2024-09-30"]})
    valued = value_frame(sv.apportion(year, start="period_start", end="period_end"))
    with pytest.warns(sv.SocialValueWarning, match=r"^1 valued row\(s\) report a period "
                      "running over more than one financial quarter"):
        quarters = summarise(valued, by="quarter")
    assert quarters["quarter"].tolist() == ["2024/25 Q1", "2024/25 Q2"]
    quarterly = value_frame(sv.apportion(year.iloc[1:], start="period_start",
                                         end="period_end"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        summarise(quarterly, by="quarter")
        summarise(valued, by="year")  # split at 1 April: each year's part is its own


def test_summarise_when_datetimes_then_year_of_their_date() -> None:
    """Datetimes (naive, aware, datetime64) give the financial year of their own date."""
    df = pd.DataFrame({"date": [dt.datetime(2024, 3, 31, 23, 30), dt.date(2024, 4, 1),
                                pd.Timestamp("2024-03-31 23:30", tz="Europe/London")],
                       "value_gbp": [1.0, 2.0, 4.0]})
    years = summarise(df, by="year").set_index("year")["rows"].to_dict()
    assert years == {2023: 2, 2024: 1}


def test_summarise_when_one_instant_in_two_zones_then_each_its_own_wall_clock_year() -> None:
    """The same instant, 31 March on one wall clock and 1 April on another, is two days (as
    value_frame reads them), not one merged with the first row's day."""
    west, east = (dt.timezone(dt.timedelta(hours=h)) for h in (-1, 5))
    dates = pd.Series([dt.datetime(2024, 3, 31, 23, 30, tzinfo=west),
                       dt.datetime(2024, 4, 1, 5, 30, tzinfo=east)], dtype=object)
    assert dates[0] == dates[1]  # equal instants: what made factorize merge them
    df = pd.DataFrame({"date": dates, "value_gbp": [1.0, 2.0]})
    years = summarise(df, by="year").set_index("year")["net_gbp"].to_dict()
    assert years == {2023: 1.0, 2024: 2.0}


def test_annotate_when_the_result_metadata_is_edited_the_input_is_not(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """The annotated frame's attrs are a copy (as pandas makes), the issues table shared."""
    from socialvalue_tom.report import annotate

    frame = valued.copy()
    frame.attrs["request"] = {"tags": ["t"]}
    out = annotate(frame, tiny)
    out.attrs["request"]["tags"].append("annotated")
    assert frame.attrs["request"] == {"tags": ["t"]}
    assert out.attrs["issues"] is frame.attrs["issues"]


def test_annotate_when_input_has_theme_columns_then_tables_win(tiny: sv.ProxyTable) -> None:
    """A supplier's theme/illustrative columns cannot relabel rows or hide the caveat."""
    df = pd.DataFrame({"measure": ["growth-local-spend"], "quantity": [1000.0], "unit": ["GBP"],
                       "region": ["uk"], "date": ["2024-05-01"], "theme": ["jobs"],
                       "illustrative": [False], "canonical_unit": ["FTE"], "title": ["x"]})
    v = value_frame(df, tiny)
    a = annotate(v, tiny)
    assert a[["theme", "illustrative", "canonical_unit", "title"]].values.tolist() == [
        ["growth", True, "GBP", "Spend with local SMEs"]]
    assert summarise(v, by="theme", tables=tiny)["theme"].tolist() == ["growth"]
    assert "1 of 1 valued rows" in report_html(v, tables=tiny)


def test_annotate_when_not_value_frame_output_then_outcome_error() -> None:
    """Measure information needs the table columns value_frame adds: a typed error says so,
    the OutcomeError summarise gives for a frame without value_gbp (annotate, and so
    render_report, gave a RuleError)."""
    frame = pd.DataFrame({"theme": ["jobs"], "value_gbp": [1.0]})
    with pytest.raises(sv.OutcomeError, match="value_frame"):
        annotate(frame, "uk-national")
    with pytest.raises(sv.OutcomeError, match="value_frame"):
        summarise(frame.drop(columns="value_gbp"))


@pytest.mark.parametrize("supplier", ["$\\foo$", "A$^{x$", "Jones $5 & $6 Ltd", "a\\$b$"])
def test_report_html_when_supplier_has_dollars_then_plain_text_label(
        valued: pd.DataFrame, tiny: sv.ProxyTable, supplier: str) -> None:
    """Supplier names are text, never mathtext: no crash, and no label is read as maths."""
    from matplotlib import cbook

    from socialvalue_tom.report import _plain

    v = valued.assign(supplier_id=supplier)
    assert "By supplier" in report_html(v, tables=tiny)
    label = _plain(supplier)
    assert not cbook.is_math_text(label)
    assert label.replace("\\$", "$") == supplier  # matplotlib shows \\$ as $


def test_summarise_when_some_contracts_unvalued_then_ratio_of_valued_contracts() -> None:
    """sv_ratio = net of the rows of contracts with a value / those contracts' values."""
    df = pd.DataFrame({"supplier_id": ["a", "a", "b"], "contract_id": ["c1", "c2", "c3"],
                       "contract_value": [1000.0, None, None],
                       "value_gbp": [100.0, 900.0, 50.0]})
    s = summarise(df, by="supplier").set_index("supplier_id")
    assert s.loc["a", "net_gbp"] == Decimal("1000.00")
    assert s.loc["a", "contract_value_gbp"] == Decimal("1000.00")
    assert s.loc["a", "sv_ratio"] == pytest.approx(0.1)
    assert math.isnan(s.loc["b", "sv_ratio"])


def test_summarise_when_contract_value_on_unvalued_row_then_still_used() -> None:
    """Contract values are read from every row: a row that was not valued still says what
    its contract is worth, and cannot contradict a valued row unnoticed."""
    df = pd.DataFrame({"contract_id": ["c1", "c1"], "contract_value": [None, 1000.0],
                       "value_gbp": [100.0, math.nan]})
    s = summarise(df, by=())
    assert s["contract_value_gbp"].iloc[0] == Decimal("1000.00")
    assert s["sv_ratio"].iloc[0] == pytest.approx(0.1)
    clash = df.assign(contract_value=[500.0, 1000.0])
    with pytest.raises(RuleError, match="'c1'"):
        summarise(clash, by=())


def test_targets_vs_delivered_when_no_contract_id_then_kept_like_summarise() -> None:
    """Rows with no contract_id form their own group, as in summarise(by='contract')."""
    df = pd.DataFrame({"contract_id": ["c1", None, None],
                       "stage": ["commitment", "commitment", "delivered"],
                       "value_gbp": [10.0, 100.0, 40.0]})
    t = targets_vs_delivered(df)
    assert len(t) == 2 == len(summarise(df, by="contract"))
    assert t["committed_gbp"].sum() == Decimal("110.00")
    none = t[t["contract_id"].isna()]
    assert none["delivered_gbp"].tolist() == [Decimal("40.00")]


def test_targets_vs_delivered_when_pct_then_from_exact_sums() -> None:
    """delivered_pct is delivered / committed before rounding (0.01 / 0.015, not 0.01 / 0.02)."""
    df = pd.DataFrame({"contract_id": ["c1", "c1"], "stage": ["commitment", "delivered"],
                       "value_gbp": [0.015, 0.01]})
    assert targets_vs_delivered(df)["delivered_pct"].iloc[0] == pytest.approx(200 / 3)


def test_summarise_when_region_names_differ_then_grouped_by_table_code(
        tiny: sv.ProxyTable) -> None:
    """'UK', 'uk' and 'United Kingdom' are one region of the table: one group, its code."""
    v = value_frame(_jobs(3, region=["UK", "United Kingdom", " uk"]), tiny)
    r = summarise(v, by="region", tables=tiny)
    assert r[["region", "rows"]].values.tolist() == [["uk", 3]]


def test_annotate_when_edition_not_found_then_typed_error(
        valued: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edition that cannot be found again is a SocialValueError naming tables=."""
    _forget_editions(monkeypatch)
    with pytest.raises(sv.SocialValueError, match="tables="):
        annotate(valued)


def test_summarise_when_contract_ids_mix_types_counts_one_contract(tiny: sv.ProxyTable) -> None:
    """1001 and "1001" are one contract for reports, as for double-counting exclusions: its
    two contract values clash, and once they agree the contract is counted once."""
    df = pd.DataFrame({"contract_id": pd.Series([1001, "1001 "], dtype=object),
                       "contract_value": [1e6, 2e6], "value_gbp": [100.0, 50.0]})
    with pytest.raises(RuleError, match="more than one contract_value"):
        sv.summarise(df, by="contract")
    s = sv.summarise(df.assign(contract_value=1e6), by="contract")
    assert s["contract_id"].tolist() == ["1001"]
    assert s["net_gbp"].tolist() == [Decimal("150.00")] and s["sv_ratio"].tolist() == [150e-6]


def test_reports_when_a_collected_row_holds_a_list_id_do_not_crash(tiny: sv.ProxyTable) -> None:
    """value_frame reports a list in contract_id as a row issue; the reports of that output
    still work (the row has no value and counts in no total)."""
    df = pd.DataFrame({"contract_id": pd.Series(["C1", ["x"]], dtype=object),
                       "stage": ["delivered"] * 2, "contract_value": [1000.0] * 2,
                       "measure": ["jobs-local"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2, "date": ["2024-09-30"] * 2})
    out = sv.value_frame(df, tiny, errors="collect")
    assert out.attrs["issues"]["code"].tolist() == ["not-a-value"]
    by_contract = sv.summarise(out, by="contract")
    assert by_contract["contract_id"].tolist() == ["C1", "['x']"]
    assert by_contract["rows"].tolist() == [1, 0]
    assert by_contract["rows_not_valued"].tolist() == [0, 1]
    with pytest.warns(sv.SocialValueWarning, match="no commitment"):  # delivered only
        tvd = sv.targets_vs_delivered(out)  # the bad row's contract is listed, with no value
    assert tvd["rows_not_valued"].tolist() == [0, 1]
    assert tvd["delivered_gbp"].tolist() == [Decimal("18000.00"), Decimal("0.00")]


def test_targets_vs_delivered_counts_the_rows_not_valued_per_contract(
        tiny: sv.ProxyTable) -> None:
    """A contract whose delivered return was rejected shows it: its nil delivery is the
    rejection, not a shortfall of the supplier's own making; a contract of rejected rows only
    is listed too."""
    df = pd.DataFrame({"contract_id": ["C1", "C1", "C2"],
                       "stage": ["commitment", "delivered", "delivered"],
                       "measure": ["jobs-local", "jobs-local", "jobs-local"],
                       "quantity": [2.0, -1.0, -1.0], "unit": ["FTE"] * 3,
                       "region": ["uk"] * 3, "date": ["2024-09-30"] * 3})
    out = sv.value_frame(df, tiny, errors="collect")
    tvd = sv.targets_vs_delivered(out)
    assert tvd["contract_id"].tolist() == ["C1", "C2"]
    assert tvd["rows_not_valued"].tolist() == [1, 1]
    assert tvd["committed_gbp"].tolist() == [Decimal("36000.00"), Decimal("0.00")]


# -- basis notes -------------------------------------------------------------------------------

def _uk(day: str, stage: str, quantity: float = 1.0) -> dict[str, object]:
    return {"measure": "jobs-local-fte", "quantity": quantity, "unit": "FTE", "region": "uk",
            "date": day, "stage": stage}



def _other_notes(valued: pd.DataFrame, tables: Any = None) -> list[str]:
    """basis_notes without the note on figures not checked against their publication, which
    the tests of other notes do not read (it has a test of its own)."""
    from socialvalue_tom.report import basis_notes

    return [n for n in basis_notes(valued, tables)
            if "not checked against the publication" not in n]


@pytest.mark.parametrize(("bound", "side", "net"), [
    ("low", "low bound", "£56,450.00"), ("high", "high bound", "£58,950.00"),
    ("least-favourable", "bound on that side", "£56,450.00"),
])
def test_basis_notes_when_a_bound_is_taken_count_the_rows_left_at_their_central_value(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable, bound: str, side: str, net: str) -> None:
    """Only env-carbon records bounds in tiny.yaml (125 / 250 / 375): jobs-local (2 x 30,000 x
    0.9 = 54,000), the added carbon (-250) and volunteering (100 x 14.50 = 1,450) stay at their
    central value, £55,200 of the net, and the bound's note says so (an appraisal review: a
    'range' moved by one row in four read as a range of the whole); where every row moves,
    the note is as before."""
    valued = value_frame(portfolio, tiny, assumptions={"bound": bound})
    (note,) = [n for n in basis_notes(valued, tiny) if n.startswith("Values use")]
    assert note.endswith(
        f"sensitivity figure, not the central value. 3 of 4 row(s) (£55,200.00 of {net}) have "
        f"no recorded {side} for their proxy (jobs-local, env-carbon-added, "
        "social-volunteering): they are at their central value here, so this figure leaves "
        "out their proxies' uncertainty.")
    carbon = value_frame(portfolio.iloc[[1]], tiny, assumptions={"bound": bound})
    (alone,) = [n for n in basis_notes(carbon, tiny) if n.startswith("Values use")]
    assert alone.endswith("a sensitivity figure, not the central value.")


def test_basis_notes_when_stages_prices_and_years_mix_then_say_so() -> None:
    """Commitments plus delivered, two editions' prices, two financial years: two notes, with
    the stage totals computed from the rows; a common basis or one stage leaves no note."""

    rows = pd.DataFrame([_uk("2023-06-01", "commitment", 2), _uk("2024-06-01", "delivered")]
                        ).assign(years=[3, 1])  # a three-year commitment is discounted
    valued = value_frame(rows, "uk-national")
    committed = Decimal(str(valued["value_gbp"].iloc[0])).quantize(Decimal("0.01"))
    notes = _other_notes(valued)
    assert len(notes) == 2
    assert f"commitments (£{committed:,})" in notes[0]
    assert ("(2023/24, 2024/25)" in notes[1]
            and "2 financial years, 2023/24 to 2024/25" in notes[1])
    same_basis = value_frame(rows, "uk-national", assumptions=sv.Assumptions(
        price_year=2023, discount_base_year=2023))
    (only,) = _other_notes(same_basis)
    assert only.startswith("The total adds commitments (£")
    one_stage = value_frame(rows.assign(stage="delivered"), "uk-national",
                            assumptions=sv.Assumptions(price_year=2023, discount_base_year=2023))
    assert _other_notes(one_stage) == []


def test_basis_notes_name_rows_a_fraction_of_their_own_counts_at_nothing() -> None:
    """A supplier wrote deadweights as per cents (12, 25, 1): told to write 0.12 and 0.25,
    the 1 then read as 100% and the row was valued at £0 with no word. A note counts such
    rows; a table default of 1 or a fraction below 1 gives none."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame([_uk("2024-06-01", "delivered")] * 3).assign(
        deadweight=[0.12, 0.25, 1.0], displacement=[0.0, 1.0, None])
    notes = basis_notes(value_frame(rows, "uk-national"))
    (note,) = [n for n in notes if "counted at nothing by" in n]
    assert note.startswith("2 row(s) are counted at nothing by a deadweight or displacement")
    assert "1% (0.01)" in note
    fine = rows.assign(deadweight=0.5, displacement=0.0)
    assert not [n for n in basis_notes(value_frame(fine, "uk-national"))
                if "counted at nothing by" in n]


def test_figures_not_checked_against_their_publication_reach_the_trace_and_the_notes(
        ) -> None:
    """A public audit body's review: "as recalled; verify" stood in the sources' notes alone,
    though the displacement default it qualifies cut the demo's total by £891k. A source's
    ``unverified`` is said at each trace step that uses its figures, and in a note under
    totals listing the sources behind the values; values that use none get no note."""
    from socialvalue_tom.report import basis_notes

    jobs = pd.DataFrame([{"measure": "jobs-local-fte", "quantity": 2.0, "unit": "FTE",
                          "region": "london", "date": "2024-06-01", "confidence": "3"}])
    valued = value_frame(jobs, "uk-national")
    trace = sv.explain_row(valued, 0)
    assert ("table defaults from hca-additionality-2014 [NOT CHECKED against the publication: "
            "the displacement levels") in trace
    assert "optimism-bias reduction" in trace and "[NOT CHECKED" in trace.split(
        "optimism-bias reduction")[1]
    (note,) = [n for n in basis_notes(valued) if "not checked against the publication" in n]
    assert note.startswith("Figures from 2 source(s) behind these values were not checked")
    assert "hca-additionality-2014: the displacement levels" in note
    assert "hmt-cba-2014: the grade definitions" in note
    carbon = pd.DataFrame([{"measure": "env-carbon-saved", "quantity": 1.0, "unit": "tCO2e",
                            "region": "uk", "date": "2024-06-01"}])
    plain = value_frame(carbon, "uk-national")
    assert "NOT CHECKED" not in sv.explain_row(plain, 0)
    assert not [n for n in basis_notes(plain) if "not checked against" in n]
    scotland = value_frame(jobs.assign(region="scotland", date="2023-06-01",
                                       displacement=0.0, confidence=None), "uk-national")
    assert "nomis-ashe-scotland-2023" in " ".join(basis_notes(scotland))
    assert "unofficial stored copy" in sv.explain_row(scotland, 0)
    # As the traces say it (a second adversarial review): no HCA caveat where every row's
    # displacement is its own or the run's, no grade caveat where grades reduce nothing.
    own = value_frame(jobs.assign(displacement=0.1, confidence="1"), "uk-national")
    run = value_frame(jobs.assign(confidence="1"), "uk-national",
                      assumptions=sv.Assumptions(displacement=0.1))
    for valued_so in (own, run):
        assert "NOT CHECKED" not in sv.explain_row(valued_so, 0)
        assert not [n for n in basis_notes(valued_so) if "not checked against" in n]


def test_basis_notes_stage_note_names_the_rows_with_no_stage_so_its_parts_add_up() -> None:
    """A reconciliation review: with a row of no stage beside commitments and deliveries, the
    note's two figures fell short of the total it explained; the third part is named, and the
    three (each rounded once) are the rows' own totals."""

    rows = pd.DataFrame([_uk("2024-06-01", "commitment", 2), _uk("2024-06-01", "delivered"),
                         _uk("2024-07-01", " ", 0.5)])
    valued = value_frame(rows, "uk-national")
    pennies = [Decimal(str(v)).quantize(Decimal("0.01")) for v in valued["value_gbp"]]
    note, unstaged = _other_notes(valued)
    assert unstaged.startswith("1 row(s) give no stage while others do")
    assert note == (f"The total adds commitments (£{pennies[0]:,}), delivered outcomes "
                    f"(£{pennies[1]:,}) and rows with no stage (£{pennies[2]:,}): group by "
                    "stage to see them apart.")
    (two,) = _other_notes(value_frame(rows.iloc[:2], "uk-national"))
    assert two == (f"The total adds commitments (£{pennies[0]:,}) and delivered outcomes "
                   f"(£{pennies[1]:,}): group by stage to see them apart.")


def test_basis_notes_say_when_an_exclusions_parts_are_delivered_under_another_supplier(
        ) -> None:
    """A carbon lead's review: a subcontractor's fleet saving under its own supplier_id was
    also counted in the prime's carbon saved (exclusions net within a supplier), silently.
    Deliveries only (tenders' commitments stay apart), and only where the suppliers' rows
    hold different measures of the exclusion."""
    from socialvalue_tom.report import basis_notes

    def row(supplier: str, measure: str, stage: str = "delivered") -> dict[str, object]:
        return {"contract_id": "C1", "supplier_id": supplier, "stage": stage,
                "measure": measure, "quantity": 10.0, "unit": "tCO2e", "region": "uk",
                "date": "2024-09-30"}

    apart = pd.DataFrame([row("PRIME", "env-carbon-saved"), row("SUB1", "env-carbon-saved-fleet")])
    notes = basis_notes(value_frame(apart, "uk-national"))
    assert any(n.startswith("1 contract(s) have delivered rows of measures a double-counting "
                            "exclusion nets (carbon-savings-by-source-counted-once) under more "
                            "than one supplier_id") for n in notes), notes
    for quiet in (apart.assign(supplier_id="PRIME"), apart.assign(stage="commitment"),
                  apart.assign(measure="env-carbon-saved")):
        assert not any("more than one supplier_id" in n
                       for n in basis_notes(value_frame(quiet, "uk-national")))


def test_basis_notes_say_when_double_counting_nets_rows_of_different_years() -> None:
    """An economist's review: a 3-year priority hire of 1 FTE took all of a 1-year row of 3
    local FTE (claims are totals over each row's years), and a 3-year whole was not netted
    against a part dated in its second year (claims net within an edition's year), both
    silently. A note names the exclusion and the way to net year by year; none where the
    rows are of one length and one year, or no row lasts more than a year."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"contract_id": ["C", "C"], "measure": ["jobs-priority-ltu",
                                                                "jobs-local-fte"],
                         "quantity": [1.0, 3.0], "unit": "FTE", "region": "uk",
                         "date": "2024-06-01", "years": [3, 1]})
    wanted = ("1 double-counting group(s) (priority-hires-within-local-employment) hold rows "
              "of different lengths (years)")
    later_part = rows.assign(years=[1, 3], date=["2025-06-01", "2024-06-01"])
    for spanning in (rows, later_part):
        notes = basis_notes(value_frame(spanning, "uk-national"))
        assert any(n.startswith(wanted) and "years 1, dated in that year" in n
                   for n in notes), notes
    # Two parts and no whole: parts are not netted against each other (an adversarial review).
    parts_only = rows.assign(measure=["jobs-priority-neet", "jobs-priority-ltu"])
    for quiet in (rows.assign(years=[3, 3]), rows.assign(years=[1, 1]),
                  later_part.assign(years=[1, 1]), rows.assign(contract_id=["C", "D"]),
                  parts_only):
        assert not any("double-counting group(s)" in n
                       for n in basis_notes(value_frame(quiet, "uk-national"))), quiet


def test_basis_notes_when_rows_carried_forward_then_counted() -> None:
    """Only rows dated after their edition's valid_to count as carried forward."""

    rows = pd.DataFrame([_uk("2026-09-30", "delivered"), _uk("2026-10-30", "delivered"),
                         _uk("2025-09-30", "delivered")])
    rows.loc[1, "region"] = "scotland"  # not the same post at two dates of one year
    valued = value_frame(rows, "uk-national", assumptions=sv.Assumptions(
        carry_forward=True, discount_base_year=2025))
    assert _other_notes(valued) == [
        "2 row(s) dated after their edition's valid_to were valued with it carried forward "
        "(carry_forward): check for a newer edition."]


def test_basis_notes_when_one_instant_in_two_zones_then_the_later_day_carried_forward() -> None:
    """31 March 2026 on one wall clock (in force) and 1 April on another (carried forward) are
    the same instant: the note still counts the row value_frame carried forward."""

    west, east = (dt.timezone(dt.timedelta(hours=h)) for h in (-1, 5))
    rows = pd.DataFrame([_uk("2026-03-31", "delivered"), _uk("2026-04-01", "delivered")])
    rows["date"] = pd.Series([dt.datetime(2026, 3, 31, 23, 30, tzinfo=west),
                              dt.datetime(2026, 4, 1, 5, 30, tzinfo=east)], dtype=object)
    valued = value_frame(rows, "uk-national", assumptions=sv.Assumptions(
        carry_forward=True, discount_base_year=2025))
    assert _other_notes(valued) == [
        "1 row(s) dated after their edition's valid_to were valued with it carried forward "
        "(carry_forward): check for a newer edition."]


def test_report_html_when_both_stages_then_totals_by_stage_and_note(
        portfolio: pd.DataFrame, valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A commitment beside delivered rows: a by-stage section and the note among the caveats."""
    staged = value_frame(portfolio.assign(stage=["commitment", "delivered", "delivered",
                                                 "delivered"]), tiny)
    page = report_html(staged, tables=tiny)
    assert "<h2>By stage</h2>" in page
    assert "The total adds commitments (£54,000.00) and delivered outcomes" in page
    assert "<h2>By stage</h2>" not in report_html(valued, tables=tiny)


def test_basis_notes_when_assumptions_unknown_then_only_the_stage_note() -> None:
    """Without the attrs value_frame records (a re-read file, pd.concat), nothing is said about
    prices, discounting or carrying forward but that the record is gone (a notebook
    analyst's review: results on two price bases put together drew no note at all), beside
    what the rows show (the stages)."""

    rows = pd.DataFrame([_uk("2023-06-01", "commitment"), _uk("2024-06-01", "delivered")])
    valued = value_frame(rows, "uk-national", assumptions=sv.Assumptions(
        price_year=2023, discount_base_year=2023))
    bare = valued.copy()
    bare.attrs = {}
    notes = _other_notes(bare, "uk-national")
    assert len(notes) == 2 and notes[0].startswith("The total adds commitments")
    assert notes[1].startswith("The rows carry no record of the settings they were valued "
                               "with (a frame read back from a file, or results put together "
                               "with pd.concat)")
    assert _other_notes(valued) == notes[:1]
    later = value_frame(rows, "uk-national", assumptions=sv.Assumptions(price_year=2025))
    assert notes[1] in _other_notes(pd.concat([valued, later]))


def test_basis_notes_say_when_a_restatement_rests_on_forecast_index_figures() -> None:
    """An error review: `--price-year 2030` printed its total with no word that the deflator's
    2030 figure is an OBR projection (only explain's trace said so). The note names the
    forecast years, from the price year or an edition's own price year, and is not given
    where every figure read is outturn or nothing was restated."""
    from socialvalue_tom.report import basis_notes

    index = sv.load_table("uk-national", version="2024").price_index
    assert index is not None and index.spec.projected_from == 2025
    rows = pd.DataFrame([_uk("2023-06-01", "delivered"), _uk("2024-06-01", "delivered")])

    def forecast(price_year: int | None) -> list[str]:
        a = sv.Assumptions(price_year=price_year, discount_base_year=2023)
        return [n for n in basis_notes(value_frame(rows, "uk-national", assumptions=a))
                if "forecasts" in n]

    assert forecast(None) == [] and forecast(2024) == [] and forecast(2023) == []
    assert forecast(2030) == [
        "The restatement into 2030 prices rests on price index figures that are forecasts, "
        "not outturn (uk-gdp-deflator 2030); the trace marks them projected."]
    # An edition whose own price year is a forecast year, restated into an outturn year.
    later = pd.DataFrame([_uk("2025-06-01", "delivered")])
    notes = basis_notes(value_frame(later, "uk-national",
                                    assumptions=sv.Assumptions(price_year=2024)))
    assert any("(uk-gdp-deflator 2025)" in n for n in notes)
    # In the edition's own prices: nothing restated, nothing said.
    assert not any("forecasts" in n for n in basis_notes(value_frame(
        later, "uk-national", assumptions=sv.Assumptions(price_year=2025))))


def test_basis_notes_when_editions_share_a_price_base_then_no_price_note(
        tiny: sv.ProxyTable) -> None:
    """Two editions with one price base year are one price basis; the note names only the
    option not set. Rows that each last one year keep their value discounted to their own
    first year, so they are on one basis already: no note (a contract manager's review)."""
    from socialvalue_tom.report import basis_notes

    later = sv.ProxyTable(tiny.spec.model_copy(update={
        "version": "2024-h2", "valid_from": dt.date(2025, 4, 1),
        "valid_to": dt.date(2026, 3, 31)}), price_index=tiny.price_index)
    rows = pd.DataFrame([{"measure": "env-carbon", "quantity": 1.0, "unit": "tCO2e",
                          "region": "uk", "date": d, "years": 1}
                         for d in ("2024-06-01", "2025-06-01")])
    assert basis_notes(value_frame(rows, [tiny, later]), [tiny, later]) == []
    assert basis_notes(value_frame(rows.drop(columns="years"), [tiny, later]),
                       [tiny, later]) == []
    rows.loc[1, "years"] = 3
    valued = value_frame(rows, [tiny, later])
    assert basis_notes(valued, [tiny, later]) == [
        "Values are each discounted to its own first year (2 financial years, 2024/25 to "
        "2025/26): a common discount_base_year, no later than 2024 (2024/25, the rows' first "
        "financial year), "
        "puts them on one basis."]
    based = value_frame(rows, [tiny, later], assumptions=sv.Assumptions(discount_base_year=2024))
    assert basis_notes(based, [tiny, later]) == []


def test_basis_notes_when_only_price_bases_differ_then_the_note_names_price_year_alone(
        tiny: sv.ProxyTable) -> None:
    """Two editions splitting one financial year, in 2023 and 2024 prices: the rows share a
    discounting year, so the note is on prices alone and names only price_year (no 'no later
    than', which is for discounting years); a common price_year leaves nothing to say."""
    from socialvalue_tom.report import basis_notes

    first = sv.ProxyTable(tiny.spec.model_copy(update={
        "version": "2024-h1", "valid_to": dt.date(2024, 9, 30), "price_base_year": 2023}),
        price_index=tiny.price_index)
    second = sv.ProxyTable(tiny.spec.model_copy(update={
        "version": "2024-h2", "valid_from": dt.date(2024, 10, 1)}), price_index=tiny.price_index)
    rows = pd.DataFrame([{"measure": "env-carbon", "quantity": 1.0, "unit": "tCO2e",
                          "region": "uk", "date": d} for d in ("2024-06-01", "2024-12-01")])
    both = [first, second]
    assert basis_notes(value_frame(rows, both), both) == [
        "Values are in the prices of each edition's own year (2023/24, 2024/25): a common "
        "price_year "
        "puts them on one basis."]
    common = value_frame(rows, both, assumptions=sv.Assumptions(price_year=2024))
    assert basis_notes(common, both) == []


def test_report_html_when_frame_annotated_then_needs_no_tables(
        valued: pd.DataFrame, tiny: sv.ProxyTable, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/reports.md: a frame annotate() made carries what the report looks up."""
    from socialvalue_tom.report import annotate

    with monkeypatch.context() as elsewhere:  # as in a process that did not value the rows
        _forget_editions(elsewhere)
        with pytest.raises(sv.SocialValueError):
            report_html(valued)  # tiny is a user's table: not found without tables=
    assert report_html(annotate(valued, tables=tiny)) == report_html(valued, tables=tiny)


@pytest.mark.parametrize("call", [
    lambda df: summarise(df, by=()), lambda df: editions_used(df),
    lambda df: __import__("socialvalue_tom.report", fromlist=["basis_notes"]).basis_notes(df),
])
def test_report_functions_when_not_given_value_frame_output_raise_a_typed_error(
        call: Any) -> None:
    with pytest.raises(sv.OutcomeError, match="pass the result of value_frame"):
        call(pd.DataFrame({"x": [1]}))


def test_basis_notes_when_user_editions_not_given_says_their_bases_are_unknown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two editions of a user's table valued the rows, in another process (or no longer in
    use): without tables= their price bases cannot be compared, and the note says so rather
    than nothing."""
    from conftest import TINY, TINY_2023, tiny_variant

    from socialvalue_tom.report import basis_notes

    older = tiny_variant(tmp_path, *TINY_2023, name="t2023.yaml")
    tables = [sv.load_table(path=older), sv.load_table(path=TINY)]
    df = pd.DataFrame({"measure": ["jobs-local"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2023-10-01", "2024-10-01"]})
    v = value_frame(df, tables)
    _forget_editions(monkeypatch)
    notes = " ".join(basis_notes(v))
    assert "from several editions (tiny:2023, tiny:2024) whose price bases are not known" in notes
    assert "not known" not in " ".join(basis_notes(v, tables=tables))


def test_report_html_when_only_rejected_rows_differ_in_stage_has_no_stage_section(
        tiny: sv.ProxyTable) -> None:
    df = pd.DataFrame({"measure": ["jobs-local", "jobs-local"], "quantity": [1.0, -1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2, "date": ["2024-09-30"] * 2,
                       "stage": ["delivered", "commitment"]})
    text = report_html(value_frame(df, tiny, errors="collect"), tables=tiny)
    assert "<h2>By stage</h2>" not in text  # one valued stage: nothing to set apart


def test_targets_vs_delivered_when_bad_cells_do_not_compare_and_rows_are_parts() -> None:
    """Rows not valued may hold cells that do not sort together (5 and a Timestamp as a
    measure): no TypeError. A row apportioned over a period counts once, not per part."""
    df = pd.DataFrame({"contract_id": ["C1"] * 3, "stage": ["delivered"] * 3,
                       "measure": pd.Series(["jobs-local-fte", 5, pd.Timestamp("2024-01-01")],
                                            dtype=object),
                       "quantity": [1.0] * 3, "unit": ["FTE"] * 3, "region": ["uk"] * 3,
                       "date": ["2024-06-01"] * 3})
    v = value_frame(df, "uk-national", errors="collect", detail=True)
    tvd = sv.targets_vs_delivered(v, by_measure=True)
    assert tvd["measure"].tolist()[0] == "jobs-local-fte"
    assert tvd["rows_not_valued"].tolist() == [0, 1, 1]
    periods = pd.DataFrame({"contract_id": ["C1"], "stage": ["delivered"],
                            "measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                            "region": ["uk"], "period_start": ["2023-01-01"],
                            "period_end": ["2025-12-31"]})
    parts = sv.apportion(periods)
    parts = parts.assign(region="mars")  # every part bad
    assert len(parts) > 1
    out = value_frame(parts, "uk-national", errors="collect")
    assert sv.targets_vs_delivered(out)["rows_not_valued"].tolist() == [1]


def test_summarise_when_tables_lack_an_edition_that_valued_rows_then_rule_error() -> None:
    """Rows valued by 2024 and 2025 grouped by theme with tables=2024 alone: the 2025 rows
    would have no theme and silently join "(none)"; the missing edition is named instead."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 2, "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                       "date": ["2024-09-30", "2025-09-30"]})
    v = value_frame(df)
    with pytest.raises(RuleError, match=r"lacks edition.*uk-national:2025"):
        summarise(v, by="theme", tables=sv.load_table("uk-national", version="2024"))
    assert summarise(v, by="theme", tables="uk-national")["theme"].tolist() == ["jobs"]


def test_summarise_when_rows_not_valued_name_a_region_by_an_alias_then_grouped_by_its_code(
        ) -> None:
    """'United Kingdom' on a row that was not valued groups with the valued 'UK' rows as uk."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"] * 3, "quantity": [1.0] * 3,
                       "unit": ["FTE"] * 3, "region": ["United Kingdom", "United Kingdom", "UK"],
                       "date": ["2024-09-30", "2026-09-30", "2026-09-30"]})
    s = summarise(value_frame(df, errors="collect"), by="region")
    assert s[["region", "rows", "rows_not_valued"]].values.tolist() == [["uk", 1, 2]]


def test_summarise_when_keys_clash_repeat_or_are_not_text_then_handled(
        valued: pd.DataFrame) -> None:
    """A group column named like a summary column is refused; supplier and supplier_id are one
    group; a non-text column name and list cells group without a crash."""
    clash = valued.assign(rows=["r1", "r2", "r1", "r2"])
    with pytest.raises(RuleError, match="cannot group by 'rows'"):
        summarise(clash, by="rows")
    both = summarise(valued, by=["supplier", "supplier_id"])
    assert list(both.columns[:2]) == ["supplier_id", "rows"]
    order = summarise(valued, by=["measure", "supplier", "region", "supplier_id"], tables=None)
    assert list(order.columns[:4]) == ["measure", "supplier_id", "region", "rows"]
    odd = valued.assign(**{"0": 1}).rename(columns={"0": 0})
    assert summarise(odd, by=0)["rows"].tolist() == [4]
    listed = valued.assign(evidence=pd.Series([["a"], ["a"], "b", None], dtype=object))
    s = summarise(listed, by="evidence")
    assert s["rows"].tolist() == [2, 1, 1]
    assert s["evidence"].tolist()[:2] == ["['a']", "b"]


def test_summarise_when_year_but_no_date_then_the_error_names_date() -> None:
    with pytest.raises(sv.OutcomeError, match="has no date column"):
        summarise(pd.DataFrame({"value_gbp": [1.0]}), by="year")


def test_targets_vs_delivered_when_valued_rows_have_no_stage_then_counted_not_dropped() -> None:
    b = {"unit": "FTE", "region": "uk", "date": "2024-09-30", "contract_id": "C1",
         "measure": "jobs-local-fte"}
    df = pd.DataFrame([dict(b, quantity=2, stage="commitment"),
                       dict(b, quantity=1, stage="delivered"), dict(b, quantity=5, stage=None)])
    tvd = targets_vs_delivered(value_frame(df))
    assert tvd[["rows_not_valued", "rows_without_stage"]].values.tolist() == [[0, 1]]
    assert tvd["committed_gbp"].iloc[0] == Decimal("56784.00")


def test_report_html_when_frame_built_by_hand_or_attrs_lost_then_renders_and_counts() -> None:
    """A frame of theme and value_gbp alone (no illustrative column) renders; a valued frame
    whose attrs pd.concat dropped still says how many rows were not valued."""
    assert "Net social value" in report_html(pd.DataFrame({"theme": ["jobs"],
                                                            "value_gbp": [1.0]}))
    df = pd.DataFrame({"measure": ["jobs-local-fte", "nope"], "quantity": [1.0, 1.0],
                       "unit": ["FTE"] * 2, "region": ["uk"] * 2, "date": ["2024-09-30"] * 2})
    v = value_frame(df, errors="collect")
    joined = pd.concat([_bare_copy(v), _bare_copy(v)], ignore_index=True)
    text = report_html(joined, tables="uk-national")
    assert "2 row(s) were not valued" in text
    assert "from 2 outcomes" in text


def _bare_copy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def test_report_html_headline_when_rows_were_apportioned_then_counts_input_rows() -> None:
    """A row split over two editions is one outcome in the headline, not two."""
    df = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
                       "region": ["uk"], "period_start": ["2024-01-01"],
                       "period_end": ["2024-12-31"]})
    v = value_frame(sv.apportion(df))
    assert len(v) == 2
    assert ("from 1 outcomes (valued in 2 parts of their reporting periods), in each "
            "edition's own prices.") in report_html(v)


def test_annotate_when_keys_repeat_and_cells_are_odd_then_as_looked_up_row_by_row() -> None:
    """annotate looks each distinct key up once and spreads it by position: the same as a
    lookup per row, with repeated index labels, blanks, booleans and lists among the rejected
    rows."""
    from socialvalue_tom.report import _editions, _measure_info

    measures = np.empty(7, dtype=object)  # a list in a cell needs an object array
    measures[:] = ["jobs-local-fte", "env-carbon-saved", " ", True, ["x"], "jobs-local-fte",
                   "nope"]
    df = pd.DataFrame({"measure": measures,
                       "quantity": [1.0] * 7, "unit": ["FTE", "tCO2e", "FTE", "FTE", "FTE",
                                                       "FTE", "FTE"],
                       "region": ["london", "wales", "uk", "uk", "uk", "scotland", "uk"],
                       "date": ["2024-09-30"] * 6 + ["2025-09-30"]}, index=[0, 0, 1, 1, 2, 2, 3])
    v = value_frame(df, errors="collect")
    got = annotate(v)
    eds = _editions(v, None)
    for i in range(len(v)):
        row = v.iloc[i]
        table = row["table"] if not pd.isna(row["table"]) else None
        key = (table, row["version"], row["measure"] if isinstance(row["measure"], str) else None,
               row["region_used"])
        want = _measure_info(eds, key)
        assert tuple(got.iloc[i][["theme", "title", "value_type", "methodology",
                                  "canonical_unit", "illustrative"]]) == want, i
    assert got["theme"].tolist()[:2] == ["jobs", "environment"]


def test_rows_not_valued_when_apportioned_rows_are_reordered_then_the_same() -> None:
    """Two bad rows, each split over two editions: 2 rows not valued in apportion's order,
    sorted by date, or shuffled (the count must not depend on the parts sitting together)."""
    df = pd.DataFrame({"contract_id": ["C1", "C2"], "measure": ["jobs-local-fte"] * 2,
                       "quantity": [1.0, 2.0], "unit": ["kg"] * 2, "region": ["uk"] * 2,
                       "period_start": ["2024-01-01", "2024-02-01"],
                       "period_end": ["2024-12-31", "2024-11-30"]})
    v = value_frame(sv.apportion(df), errors="collect")
    assert len(v) == 4 and v["value_gbp"].isna().all()
    for frame in (v, v.sort_values("date"), v.iloc[[3, 0, 2, 1]]):
        assert summarise(frame, by=())["rows_not_valued"].iloc[0] == 2
        assert targets_vs_delivered(frame.assign(stage="delivered"))[
            "rows_not_valued"].sum() == 2


def test_summarise_when_version_was_read_back_as_numbers_then_editions_found(
        tmp_path: Path) -> None:
    """A valued frame written to CSV and read back, with a row not valued, has version as
    2024.0: the editions are still found (by family name or from the frame) and the theme looked
    up, never a RuleError about uk-national:2024.0 nor a row under "(none)"."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "env-carbon-saved", "nope"],
                       "quantity": [1.0, 2.0, 1.0], "unit": ["FTE", "tCO2e", "FTE"],
                       "region": ["uk"] * 3, "date": ["2024-09-30", "2025-09-30", "2024-09-30"]})
    value_frame(df, errors="collect").to_csv(tmp_path / "v.csv", index=False)
    back = pd.read_csv(tmp_path / "v.csv")
    assert back["version"].dtype == np.float64
    s = summarise(back, by="theme", tables="uk-national")
    assert s[["theme", "rows", "rows_not_valued"]].values.tolist()[:2] == [
        ["environment", 1, 0], ["jobs", 1, 0]]
    assert pd.isna(s["theme"].iloc[2]) and s["rows_not_valued"].iloc[2] == 1


def test_chart_labels_and_titles_are_cut_to_their_limits_with_an_ellipsis() -> None:
    """Bars are labelled with at most MAX_LABEL characters and a chart titled with at most
    MAX_TITLE, the cut marked; shorter text is drawn as it is."""
    from socialvalue_tom import report

    assert report._short("S" * 41) == "S" * 39 + "…"
    assert len(report._short("S" * 41)) == report.MAX_LABEL == 40
    assert report._short("S" * 40) == "S" * 40
    assert report._short("T" * 500, report.MAX_TITLE) == "T" * 119 + "…"


@pytest.mark.parametrize("values", [[1_600_025.92, 1_298_090.71], [5e9, -3e9, 1.0],
                                    [12.5, 7.25]])
def test_chart_amount_ticks_do_not_run_into_each_other(values: list[float]) -> None:
    """The "By stage" chart of the demo portfolio put eight amounts in full pounds side by
    side (£1,000,000£1,200,000...): the amount axis now has at most five ticks, and the
    labels drawn do not overlap."""
    from socialvalue_tom import report

    fig = report._chart_figure([f"bar {i}" for i in range(len(values))], values, "By stage")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    low, high = ax.get_xlim()
    shown = [t for t in ax.xaxis.get_major_ticks() if low <= t.get_loc() <= high]
    assert 2 <= len(shown) <= 5
    boxes = sorted((t.label1.get_window_extent(renderer) for t in shown), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))


# -- review of 26 November: counts in caveats, contract values, grade groups ------------------

def _period_rows() -> pd.DataFrame:
    return pd.DataFrame([
        {"measure": "growth-local-spend", "quantity": 1000, "unit": "GBP", "region": "scotland",
         "period_start": "2024-01-01", "period_end": "2024-12-31"},
        {"measure": "jobs-local-fte", "quantity": 1, "unit": "FTE", "region": "scotland",
         "period_start": "2024-01-01", "period_end": "2024-12-31"}])


def test_report_caveats_count_input_rows_as_the_headline_does() -> None:
    """Each row spans two editions (two parts): '2 of 4 valued rows' beside 'from 2
    outcomes'; now 1 of 2, as summarise and the headline count."""
    valued = value_frame(sv.apportion(_period_rows()), errors="collect")
    text = report_html(valued)
    assert "from 2 outcomes" in text
    assert re.search(r"1 of 2 valued rows \(£[\d,.]+\) use proxy values labelled", text)


def test_report_caveats_count_bad_rows_of_the_frame_given_not_of_its_portfolio(
        tiny: sv.ProxyTable) -> None:
    """A filtered result keeps the whole portfolio's issues in attrs: 4 problems were
    reported for a frame holding 1 of the 4 bad rows."""
    df = pd.DataFrame({"measure": ["nope", "jobs-local", "nope", "nope", "nope"],
                       "quantity": 1.0, "unit": "FTE", "region": "uk", "date": "2024-06-01",
                       "supplier_id": ["A", "A", "B", "B", "B"]})
    valued = value_frame(df, tiny, errors="collect")
    text = report_html(valued[valued["supplier_id"] == "A"], tables=tiny)
    assert "1 row(s) with problems in the input were not valued" in text


def test_summarise_reads_contract_values_as_value_frame_does(tiny: sv.ProxyTable) -> None:
    """A boolean contract_value (refused by value_frame) was read as £1.00."""
    base = {"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
            "date": "2024-06-01", "contract_id": "C1"}
    df = pd.DataFrame([dict(base, contract_value=True), dict(base, contract_value=np.nan),
                       dict(base, contract_id="C2", contract_value=" 5e5")]).astype(
        {"contract_value": object})
    s = summarise(value_frame(df, tiny, errors="collect"), by="contract")
    c1 = s[s["contract_id"] == "C1"].iloc[0]
    # No value given: None (blank in reports), not £0.00, which value_frame would refuse
    assert c1["contract_value_gbp"] is None and math.isnan(c1["sv_ratio"])
    assert s[s["contract_id"] == "C2"].iloc[0]["contract_value_gbp"] == Decimal("500000.00")


def test_summarise_by_confidence_groups_grades_as_value_frame_reads_them(
        tiny: sv.ProxyTable) -> None:
    """3, 3.0 and "3" are one grade; ' B' is B; blank is no grade."""
    grades = pd.Series([3, "3", 3.0, " B", "B", "", None], dtype=object)
    df = pd.DataFrame({"measure": "jobs-local", "quantity": 1.0, "unit": "FTE",
                       "region": "uk", "date": "2024-06-01", "confidence": grades})
    s = summarise(value_frame(df, tiny, errors="collect"), by="confidence")
    counts = {("(none)" if pd.isna(k) else k): int(n) for k, n in zip(  # tiny has no grade 3
        s["confidence"], s["rows"] + s["rows_not_valued"], strict=True)}
    assert counts == {"3": 3, "B": 2, "(none)": 2}


def test_carried_forward_note_counts_input_rows() -> None:
    """One row over 2025-01..2028-03 is parts in three carried years: '2 row(s)' became 1."""
    from socialvalue_tom.report import basis_notes

    df = pd.DataFrame([{"measure": "jobs-local-fte", "quantity": 1, "unit": "FTE",
                        "region": "scotland", "period_start": "2025-01-01",
                        "period_end": "2028-03-31"}])
    parts = sv.apportion(df, carry_forward=True)
    valued = value_frame(parts, assumptions=sv.Assumptions(carry_forward=True))
    notes = basis_notes(valued)
    assert any(n.startswith("1 row(s) dated after their edition's valid_to") for n in notes), notes


def test_report_targets_table_labels_a_missing_contract_as_none(tiny: sv.ProxyTable) -> None:
    df = pd.DataFrame({"measure": "jobs-local", "quantity": 1.0, "unit": "FTE", "region": "uk",
                       "date": "2024-06-01", "contract_id": ["C1", None],
                       "stage": ["commitment", "delivered"]})
    text = report_html(value_frame(df, tiny), tables=tiny)
    targets = text.split("<h2>Targets vs delivered</h2>")[1].split("</table>")[0]
    assert '<th scope="row">(none)</th>' in targets


def test_annotate_on_a_wide_frame_adds_its_columns_without_fragmenting_it(
        tiny: sv.ProxyTable) -> None:
    """Setting the looked-up columns one at a time made pandas warn, six times per report,
    that a frame of 150 extra columns was highly fragmented."""
    import warnings

    df = pd.DataFrame({"measure": ["jobs-local"] * 3, "quantity": 1.0, "unit": "FTE",
                       "region": "uk", "date": "2024-06-01"})
    with warnings.catch_warnings():  # a frame built a column at a time: one block each
        warnings.simplefilter("ignore")
        for i in range(150):
            df[f"x{i}"] = float(i)
    valued = value_frame(df, tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = annotate(valued, tables=tiny)
    assert list(out.columns[:len(valued.columns)]) == list(valued.columns)
    assert out["theme"].tolist() == ["jobs"] * 3


def test_render_report_to_a_name_near_the_file_system_limit(valued: pd.DataFrame,
                                                            tiny: sv.ProxyTable,
                                                            tmp_path: Path) -> None:
    """The temporary file took the report's name and went over 255 bytes: a bare OSError."""
    path = render_report(valued, tmp_path / ("r" * 230 + ".html"), tables=tiny)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_basis_notes_when_a_region_borrows_another_regions_figure_say_so() -> None:
    """Wales has no wage figure of its own in 2024: its jobs are valued at the UK figure, so a
    2023-to-2024 change there comes from the data, not delivery. The total says how many rows
    (and how much) borrowed; a measure with one national figure everywhere borrows nothing."""
    from socialvalue_tom.report import basis_notes

    df = pd.DataFrame({"measure": ["jobs-local-fte", "jobs-local-fte", "env-carbon-saved",
                                   "jobs-local-fte", "env-waste-recycled"],
                       "quantity": [10.0, 10.0, 5.0, 1.0, 100.0],
                       "unit": ["FTE", "FTE", "tCO2e", "FTE", "tonne"],
                       "region": ["wales", "Wales", "wales", "scotland", "northern-ireland"],
                       "date": ["2024-04-01", "2024-05-01", "2024-05-01", "2024-05-01",
                                "2024-05-01"]})
    valued = value_frame(df)
    assert valued["region_used"].iloc[4] == "uk"
    note = [n for n in basis_notes(valued) if "another region's proxy" in n]
    # What the table says of the stand-in is told; Northern Ireland's landfill row took the
    # UK Landfill Tax, its own rate (a devolved-nations review): not counted.
    assert note == ["2 row(s) (£567,840.00) were valued with another region's proxy, the "
                    "fallback their edition declares where it has no figure for their own "
                    "region (wales -> uk); region_used names it for each row; what the tables "
                    "say of them: wales -> uk: the UK median stands in for Wales's, which was "
                    "not retrieved for April 2024: the wage in this value is likely about 8% "
                    "high (Wales's was 93.0% of the UK's in April 2023) and at most about 12% "
                    "high (no region was below the North East's GBP 651, nisra-ashe-2024); "
                    "docs/proxies.md, known gaps."]
    assert not any("another region" in n for n in basis_notes(valued.iloc[2:]))


def test_basis_notes_when_rows_give_no_unit_say_which_unit_read_them() -> None:
    """A blank unit cell reads the quantity in the measure's canonical unit: 61,200 kgCO2e
    left blank is valued as 61,200 tCO2e, 1,000 times the claim, with nothing said (a review
    found it). The note counts such rows, their value and the unit each measure read."""
    from socialvalue_tom.report import basis_notes

    df = pd.DataFrame({"measure": ["env-carbon-saved", "env-carbon-saved", "jobs-local-fte",
                                   "jobs-local-fte"],
                       "quantity": [61200.0, 61200.0, 2.0, 1.0],
                       "unit": [None, "kgCO2e", " ", "FTE"],
                       "region": ["london"] * 4, "date": ["2024-05-01"] * 4})
    valued = value_frame(df)
    note = [n for n in basis_notes(valued) if "give no unit" in n]
    blank = valued.iloc[[0, 2]]["value_gbp"]
    assert note == [f"2 row(s) ({sv.money.format_gbp(sv.money.total(blank))}) give no unit: "
                    "each quantity was read in its measure's own unit (env-carbon-saved in "
                    "tCO2e, jobs-local-fte in FTE); check that none was meant in another (a "
                    "quantity in kgCO2e read as tCO2e is 1,000 times too large)."]
    assert not any("give no unit" in n for n in basis_notes(valued.iloc[[1, 3]]))
    html = report_html(valued)
    assert "give no unit" in html
    # Read back from a file, the version may be the number 2024.0: still that edition's units.
    read_back = valued.assign(version=valued["version"].astype(float))
    assert [n for n in basis_notes(read_back) if "give no unit" in n] == note


def test_report_tables_show_small_ratios_in_plain_decimals() -> None:
    """A £1bn contract with £30 of net value: its ratio read 3.008e-08 in the report's table."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "env-carbon-saved"],
                       "quantity": [1.0, 0.1], "unit": ["FTE", "tCO2e"],
                       "region": ["uk", "uk"], "date": ["2024-05-01"] * 2,
                       "contract_id": ["big", "small"], "contract_value": [1e9, 1e9]})
    html_text = report_html(value_frame(df))
    cells = re.findall(r"<td>([^<]*)</td>", html_text)
    assert not [c for c in cells if re.fullmatch(r"-?[\d.,]+e[-+]\d+", c)]
    assert "0.00000003008" in cells  # £30.08 / £1,000,000,000


def test_report_of_a_selection_lists_only_its_own_rows_not_valued() -> None:
    """pandas keeps attrs through a selection: supplier A's report listed supplier B's bad
    rows (quoting their cells) while its caveats, rightly, did not count them."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "nope", "jobs-local-fte", "nope"],
                       "quantity": [1.0] * 4, "unit": ["FTE"] * 4, "date": ["2024-06-01"] * 4,
                       "region": ["wales"] * 4, "supplier_id": ["A", "B", "B", "A"]})
    v = value_frame(df, errors="collect")
    section = report_html(v[v["supplier_id"] == "A"]).split("<h2>Rows not valued</h2>", 1)[1]
    assert '<th scope="row">3</th>' in section and '<th scope="row">1</th>' not in section
    good = report_html(v[v["value_gbp"].notna()])
    assert "Rows not valued" not in good


def test_fallback_note_reads_measures_as_valuing_does() -> None:
    """' jobs-local-fte' (a padded cell) is valued as jobs-local-fte, and was left out of the
    count of rows borrowing another region's figure."""
    from socialvalue_tom.report import basis_notes

    df = pd.DataFrame({"measure": [" jobs-local-fte", "jobs-local-fte\u00a0"],
                       "quantity": [1.0, 1.0], "unit": ["FTE"] * 2, "date": ["2024-06-01"] * 2,
                       "region": ["Wales", "WALES "]})
    note = [n for n in basis_notes(value_frame(df)) if "another region" in n]
    assert note and note[0].startswith("2 row(s) (£56,784.00)")


def test_report_after_reset_index_lists_no_other_rows_issues() -> None:
    """After reset_index the issues' labels name other rows: supplier b's bad row was listed
    (its cell quoted) in supplier a's report, and a's own left out. None is listed then, and
    the caveat says where the issues are."""
    df = pd.DataFrame({"measure": ["jobs-local-fte", "BAD-B", "jobs-local-fte", "BAD-A"],
                       "quantity": [1.0] * 4, "unit": ["FTE"] * 4, "date": ["2024-06-01"] * 4,
                       "region": ["uk"] * 4, "supplier_id": ["a", "b", "a", "a"]})
    v = value_frame(df, errors="collect")
    text = report_html(v[v["supplier_id"] == "a"].reset_index(drop=True))
    assert "BAD-B" not in text and "Rows not valued" not in text
    assert "their issues are in the issues file" in text
    kept = report_html(v[v["supplier_id"] == "a"])  # labels kept: a's own row is listed
    assert "BAD-A" in kept.split("<h2>Rows not valued</h2>", 1)[1] and "BAD-B" not in kept


def test_report_of_a_renumbered_selection_lists_no_issue_by_a_reused_label() -> None:
    """Selected then renumbered, a bad row took the label of another bad row the selection
    left out, whose issue was listed instead of its own."""
    df = pd.read_csv(Path(__file__).parent.parent / "examples" / "portfolio.csv")
    df.loc[3, "quantity"] = -5
    df.loc[7, "measure"] = "nope"
    v = value_frame(df, errors="collect")
    text = report_html(v.iloc[[0, 1, 2, 7]].reset_index(drop=True))
    assert "Rows not valued" not in text and "-5 is negative" not in text
    whole = report_html(v).split("<h2>Rows not valued</h2>", 1)[1]
    assert "-5 is negative" in whole and "nope" in whole


# -- the report as published: reproducible, accessible, printable ------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "portfolio.csv"


def test_report_records_the_assumptions_and_version_the_values_were_worked_out_with() -> None:
    """A report with --price-year 2025 --discount-base-year 2023 changed every figure and said
    neither; no version of the library either. The Assumptions section lists every setting
    value_frame recorded, and the Generated line names the version."""
    df = pd.read_csv(EXAMPLE)
    a = sv.Assumptions(price_year=2025, discount_base_year=2023, bound="low")
    text = report_html(value_frame(df, assumptions=a))
    section = text.split("<h2>Assumptions</h2>", 1)[1]
    for needle in ("financial year 2025/26 prices",
                   "green-book rates, to financial year 2023/24",
                   "low bound of each proxy",
                   '<td class="text">the table&#x27;s default (an outcome&#x27;s own value '
                   "first)</td>",
                   '<td class="text">applied</td>',
                   "not used (each outcome valued with the edition"):
        assert needle in section, needle
    assert f"by socialvalue_tom {sv.__version__}" in text
    plain = report_html(value_frame(df))
    assert "each edition&#x27;s own price base" in plain
    assert "green-book rates, each outcome from its own first year" in plain


def test_report_caveats_follow_the_adjustments_and_discounting_used() -> None:
    """With deadweight and the rest set to 0 and no discounting, the caveats still said the
    values were net of them and each discounted to its own first year."""
    df = pd.read_csv(EXAMPLE)
    default = report_html(value_frame(df))
    assert ("after deadweight, displacement, attribution and drop-off; they are not cash"
            in default)
    assert "each discounted to its own first year" not in default  # every row lasts a year
    lasting = df.assign(years=[3] + [1] * (len(df) - 1))
    assert "each discounted to its own first year" in report_html(value_frame(lasting))
    none = sv.Assumptions(deadweight=0, displacement=0, attribution=0, drop_off=0,
                          discount_schedule="none", apply_confidence=False)
    text = report_html(value_frame(df, assumptions=none))
    assert ("open proxies with deadweight, displacement, attribution and drop-off set to 0 for "
            "every outcome that gives none of its own; they are not cash") in text
    assert "discounted to its own first year" not in text
    assert "<td class=\"text\">none (discount_schedule none)</td>" in text
    assert "<td class=\"text\">not applied</td>" in text
    some = report_html(value_frame(df, assumptions=sv.Assumptions(drop_off=0)))
    assert ("after deadweight, displacement and attribution, with drop-off set to 0" in some)
    reread = value_frame(df)
    reread.attrs = {}
    unknown = report_html(reread, tables="uk-national")
    assert "Not known: the valued rows do not carry the settings" in unknown
    # Nor can the caveat say what the values are net of (a concat of results valued with the
    # adjustments set to 0 said "after deadweight...").
    assert ("open proxies after whatever deadweight, displacement, attribution and drop-off "
            "they were valued with (not recorded with these rows); they are not cash") in unknown
    joined = pd.concat([value_frame(df.iloc[:5], assumptions=none),
                        value_frame(df.iloc[5:], assumptions=none)])
    assert "after whatever deadweight" in report_html(joined, tables="uk-national")


def test_report_tables_have_captions_headers_in_words_and_a_total_row() -> None:
    """Tables had no caption, no scope, code names as headers (rows_not_valued) and no Total
    row, so the theme nets visibly did not add to the headline: a Total row (the headline's
    figure) and the command line's note on rounding once."""
    df = pd.read_csv(EXAMPLE)
    valued = value_frame(df)
    text = report_html(valued)
    tables = re.findall(r"<table>.*?</table>", text, flags=re.S)
    assert len(tables) >= 4
    for table in tables:
        assert "<caption>" in table and '<th scope="col">' in table, table[:200]
        assert "_gbp" not in table.split("</thead>")[0]  # headers in words
    stage = text.split("<h2>By stage</h2>", 1)[1].split("</table>", 1)[0]
    net = summarise(valued, by=())["net_gbp"].iloc[0]
    assert '<tfoot><tr><th scope="row">Total</th><td>32</td>' in stage
    assert stage.split("<tfoot>", 1)[1].count(format_gbp(net)) == 1
    assert ('<p class="note">Each figure is rounded once from its exact sum, so a net can '
            "differ by a penny") in text


def test_report_groups_count_deliveries_where_the_rows_have_both_stages() -> None:
    """A council officer's review: "Net social value by supplier" charted a supplier's
    targets added to its deliveries (£307,488 committed + £521,138 delivered). With both
    stages, the tables and charts by theme, supplier and region count the deliveries, say
    so, and tie to the delivered figure of the headline; By stage keeps both."""
    valued = value_frame(pd.read_csv(EXAMPLE))
    text = report_html(valued)
    stages = valued["stage"].to_numpy()
    delivered = summarise(valued[stages == "delivered"], by=())["net_gbp"].iloc[0]
    committed = summarise(valued[stages == "commitment"], by=())["net_gbp"].iloc[0]
    assert f"delivered: <strong>{format_gbp(delivered)}</strong>" in text
    for heading in ("By theme", "By supplier", "By region"):
        section = text.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
        assert section.startswith(f"\n<p>Delivered outcomes only: the commitments "
                                  f"({format_gbp(committed)}) are targets"), heading
        foot = section.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
        assert f"<td>{(stages == 'delivered').sum()}</td>" in foot, heading
        assert format_gbp(delivered) in foot, heading
        assert "<caption>Delivered social value by" in section, heading
        assert 'alt="Bar chart of net delivered social value by' in section, heading
        by_supplier = summarise(valued[stages == "delivered"], by="supplier")
    careco = by_supplier.set_index("supplier_id").loc["S-CARECO", "net_gbp"]
    supplier = text.split("<h2>By supplier</h2>", 1)[1].split("</table>", 1)[0]
    assert f"S-CARECO</th><td>3</td><td>0</td><td>{format_gbp(careco)}" in supplier
    by_stage = text.split("<h2>By stage</h2>", 1)[1].split("</table>", 1)[0]
    assert "Delivered outcomes only" not in by_stage and "<caption>Social value by" in by_stage
    # Rows of one stage: every row is in the sections, and nothing is said of stages.
    only = report_html(valued[stages == "delivered"])
    assert "Delivered outcomes only" not in only and "<caption>Social value by theme" in only
    # A contract's value given on its commitment rows alone is read for its deliveries (an
    # adversarial review: the tables of deliveries read "n/a" beside By stage's value).
    rows = pd.DataFrame({
        "contract_id": ["C1", "C1", "C2", "C2"], "supplier_id": ["S1", "S1", "S2", "S2"],
        "stage": ["commitment", "delivered"] * 2, "measure": ["jobs-local-fte"] * 4,
        "quantity": [2.0, 1.0, 2.0, 1.0], "unit": ["FTE"] * 4, "region": ["london"] * 2 + [
            "uk"] * 2, "date": ["2025-06-01"] * 4,
        "contract_value": [1_000_000.0, None, 500_000.0, 500_000.0]})
    page = report_html(value_frame(rows))
    supplier = page.split("<h2>By supplier</h2>", 1)[1].split("</table>", 1)[0]
    assert "no contract in the group has a contract value" not in supplier
    assert "£1,000,000.00" in supplier and "£1,500,000.00" in supplier.split("<tfoot>")[1]


def test_report_title_must_not_be_blank(tmp_path: Path) -> None:
    """An empty title gave an empty <title> and <h1>: refused, by the API and by the command
    line before any work."""
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    valued = value_frame(pd.read_csv(EXAMPLE))
    for title in ("", "   "):
        with pytest.raises(RuleError, match="title must be text that is not blank") as info:
            report_html(valued, title=title)
        assert info.value.details["field"] == "title"
        out = tmp_path / "r.html"
        result = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out), "--title",
                                          title])
        assert result.exit_code == 2 and "--title is blank" in result.stderr
        assert not out.exists()


def test_report_prints_well_and_names_its_input(tmp_path: Path) -> None:
    """No print rules, no viewport, charts at screen resolution, counts without separators
    (200000 outcomes): print CSS, a viewport, charts at 150 dots per inch, 2,000; the
    command line names the input file and its sha256 in the Generated line."""
    import hashlib

    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    df = pd.read_csv(EXAMPLE)
    big = pd.concat([df.drop(columns="stage")] * 63, ignore_index=True)  # 2,016 outcomes
    text = report_html(value_frame(big))
    assert "@media print{" in text and "break-inside:avoid" in text
    assert '<meta name="viewport"' in text
    assert "from 2,016 outcomes," in text and "<td>1,008</td>" in text  # the jobs theme's rows
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert f"from portfolio.csv (sha256 {digest})." in out.read_text(encoding="utf-8")


def test_report_row_and_line_numbers_are_plain_and_a_crosswalk_may_be_named_alone() -> None:
    """Row 1499 was listed as '1,499' among the rows not valued (the issues file and an
    editor's go-to-line say 1499); counts keep their separators. ``crosswalks="ppn002"`` was
    read letter by letter ('unknown crosswalk 'p'')."""
    df = pd.concat([pd.read_csv(EXAMPLE)] * 47, ignore_index=True).iloc[:1500].copy()
    df.loc[1499, "measure"] = "nope"
    valued = value_frame(df, errors="collect")
    text = report_html(valued, crosswalks="ppn002")
    section = text.split("<h2>Rows not valued</h2>", 1)[1]
    assert '<th scope="row">1499</th>' in section and "1,499" not in section
    assert "of 1,499 rows" in text
    assert "<h2>By PPN 002 outcome</h2>" in text


def test_report_tells_a_group_named_none_from_the_rows_with_no_value() -> None:
    """A supplier (and a contract) with the id "(none)" beside rows with none were two row
    headers "(none)" and two bars of one label: the rows with no value read "(no value)"."""
    rows = [("(none)", "(none)", 100.0), (None, None, 250.0), ("A", "c1", 1.0)]
    df = pd.DataFrame([dict(supplier_id=s, contract_id=c, measure="social-donations-gbp",
                            quantity=q, unit="GBP", region="uk", date="2024-06-01",
                            stage="delivered") for s, c, q in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        text = report_html(value_frame(df))
    suppliers = text.split("<h2>By supplier</h2>", 1)[1].split("</table>", 1)[0]
    heads = re.findall(r'<th scope="row">(.*?)</th>', suppliers)
    assert sorted(heads) == ["(no value)", "(none)", "A", "Total"]
    targets = text.split("<h2>Targets vs delivered</h2>", 1)[1].split("</table>", 1)[0]
    assert sorted(re.findall(r'<th scope="row">(.*?)</th>', targets)) == [
        "(no value)", "(none)", "Total", "c1"]


def test_report_shows_a_bound_and_an_adjustment_given_and_a_group_named_total() -> None:
    """The Assumptions section names a bound other than central and an adjustment given for
    every outcome (0.25, not only 0); a supplier named "Total" does not read as the Total row;
    each crosswalk named twice is shown once, its caveat before its table."""
    df = pd.read_csv(EXAMPLE)
    a = sv.Assumptions(bound="high", deadweight=0.25)
    text = report_html(value_frame(df, assumptions=a), crosswalks=["toms", "toms"])
    section = text.split("<h2>Assumptions</h2>", 1)[1]
    assert "<td class=\"text\">high bound of each proxy</td>" in section
    assert "<td class=\"text\">0.25 (an outcome&#x27;s own value first)</td>" in section
    assert text.count("<h2>By National TOMs codes</h2>") == 1
    toms = text.split("<h2>By National TOMs codes</h2>", 1)[1]
    assert toms.index("verify every code against") < toms.index("<table>")
    # A supplier "Total" with deliveries (the sections by supplier count those).
    named = df.assign(supplier_id=df["supplier_id"].where(df["stage"] != "delivered", "Total"))
    suppliers = report_html(value_frame(named)).split("<h2>By supplier</h2>", 1)[1]
    assert '<tfoot><tr><th scope="row">Total (all groups)</th>' in suppliers
    with pytest.raises(RuleError, match="title must be text"):
        report_html(value_frame(df), title=None)  # type: ignore[arg-type]


def test_rounding_note_says_which_figures_may_not_add_up() -> None:
    """Across a row (a net against its rounded benefits and disbenefits), down the groups
    (their figures against the Total, each of the three columns), or both."""
    from socialvalue_tom.report import _rounding_note

    def rows(*figures: tuple[str, str, str]) -> pd.DataFrame:
        return pd.DataFrame([{"benefits_gbp": Decimal(b), "disbenefits_gbp": Decimal(d),
                              "net_gbp": Decimal(n)} for b, d, n in figures])

    fine = rows(("1.00", "-0.50", "0.50"))
    assert _rounding_note(fine, fine) is None
    across = rows(("1.01", "-0.50", "0.50"))
    assert "a net can differ by a penny from the rounded columns" in str(
        _rounding_note(across))
    groups = rows(("1.00", "-0.51", "0.49"), ("1.00", "-0.49", "0.51"))
    down = rows(("2.01", "-0.99", "1.00"))  # benefits and disbenefits each a penny off
    assert ("the groups' figures can add to a penny or so more or less than the Total"
            in str(_rounding_note(groups, rows(("2.00", "-1.00", "1.00")).assign(
                benefits_gbp=[Decimal("2.01")], net_gbp=[Decimal("1.01")]))))
    both = _rounding_note(rows(("1.01", "-0.50", "0.50"), ("1.00", "-0.49", "0.51")), down)
    assert ("a net can differ by a penny from the columns beside it, and the groups' figures "
            "add to a penny or so more or less than the Total") in str(both)
    # A reconciliation review: 400 groups were 15p off, told "a penny or so"; the most the
    # groups' figures are apart from the Total is said where it is more than 2p.
    many = rows(*[("0.01", "0.00", "0.01")] * 15)
    assert ("the groups' figures can add to as much as £0.15 more or less than the Total"
            in str(_rounding_note(many, rows(("0.00", "0.00", "0.00")))))


def test_report_of_an_annotated_frame_that_lost_a_column_still_flags_illustrative_rows() -> None:
    """An annotate()d frame cut to a few columns (illustrative not among them) was taken as
    annotated, so the report read no illustrative flags and dropped the caveat."""
    valued = value_frame(pd.read_csv(EXAMPLE))
    keep = ["theme", "title", "value_gbp", "table", "version", "digest", "measure",
            "region_used", "supplier_id", "contract_id", "quantity", "unit"]
    tidy = annotate(valued)[keep]
    caveat = re.search(r"\d+ of \d+ valued rows \([^)]*\) use proxy values labelled",
                       report_html(valued))
    assert caveat is not None
    assert caveat.group(0) in report_html(tidy)
    assert caveat.group(0) in report_html(valued[[c for c in keep if c != "theme"
                                                  and c != "title"]])


@pytest.mark.parametrize("reader", [
    lambda f: summarise(f, by="contract"), lambda f: summarise(f, by="theme"),
    lambda f: report_html(f), lambda f: annotate(f)])
def test_report_functions_when_contract_id_is_the_index_then_say_so(reader: Any) -> None:
    """value_frame refuses contract_id as the index; summarise and the report read it as no
    contract_id and left out the contracts' values, ratios and targets without a word."""
    valued = value_frame(pd.read_csv(EXAMPLE)).set_index("contract_id")
    with pytest.raises(sv.OutcomeError, match=r"'contract_id' is the frame's index, not a "
                       r"column: .* reads columns.*df\.reset_index\(\)") as info:
        reader(valued)
    assert info.value.field == "contract_id"


@pytest.mark.parametrize("call", [
    lambda: annotate(None), lambda: report_html(None), lambda: report_html([1, 2]),
    lambda: report_html(value_frame(pd.read_csv(EXAMPLE)), source=pd.Timestamp("2024-01-01"))])
def test_report_functions_when_not_given_a_frame_or_text_then_type_error(call: Any) -> None:
    """A wrong argument type is a TypeError naming what is wanted, not an AttributeError (or
    pandas' own error for a Timestamp as the source's name)."""
    with pytest.raises(TypeError,
                       match=r"needs a pandas DataFrame|source \(the input.s name\) must be text"):
        call()


def test_report_functions_when_an_unread_column_is_the_index_then_work_as_before() -> None:
    """Only the columns a report function reads are refused as the index: a date or region
    index changed nothing before and is not refused."""
    valued = value_frame(pd.read_csv(EXAMPLE))
    by_date = valued.set_index("date")
    assert summarise(by_date, by="theme").equals(summarise(valued, by="theme"))
    assert summarise(valued.set_index("region"), by="supplier").equals(
        summarise(valued, by="supplier"))
    # basis_notes reads the dates (the years outcomes are discounted to): refused.
    with pytest.raises(sv.OutcomeError, match="'date' is the frame's index"):
        basis_notes(by_date)
    with pytest.raises(sv.OutcomeError, match="'date' is the frame's index"):
        summarise(by_date, by="year")
    with pytest.raises(sv.OutcomeError, match=r"'supplier_id' is the frame's index, not a "
                       r"column: summarise reads columns, so it would be passed over; make"):
        summarise(valued.set_index("supplier_id"), by="theme")


# -- accessibility (WCAG 2.2 AA, which public bodies' published documents must meet) ----------


def _tables_of(page: str) -> list[str]:
    return re.findall(r'<div class="table-wrap".*?</table></div>', page, flags=re.S)


def test_report_writes_negative_amounts_with_a_minus_sign_inside_a_main_landmark(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """An accessibility review: '-£250.00' in a cell was the only sign of a negative amount,
    and some screen readers drop a hyphen, so a disbenefit sounded like a gain (WCAG 1.3.1);
    the page had no main landmark. Amounts show the minus sign, U+2212, which they read."""
    page = report_html(valued, tables=tiny)
    assert page.count("<main>") == 1 and page.endswith("</main>\n</body></html>\n")
    assert page.index("<body>") < page.index("<main>") < page.index("<h1>")
    cells = re.findall(r"<t[dh][^>]*>([^<]*£[^<]*)</t[dh]>", page)
    negative = [c for c in cells if c.startswith("\u2212£")]
    assert negative and not any(c.startswith("-£") for c in cells)
    assert "\u2212£250.00" in negative  # the carbon added, a disbenefit


def test_report_tables_scroll_on_their_own_and_digests_break_so_the_page_reflows(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """WCAG 1.4.10 (reflow): a 64-character digest cannot break, and a table of them was
    wider than the page; each table is in a region that scrolls sideways (named by its caption,
    reachable from the keyboard), digests may break anywhere, and so may the text around."""
    page = report_html(valued, tables=tiny, source="in.csv (sha256 " + "a" * 64 + ")")
    tables = _tables_of(page)
    assert len(tables) == page.count("<table>") > 3
    for table in tables:
        caption = re.search(r"<caption>(.*?)</caption>", table).group(1)  # type: ignore[union-attr]
        assert table.startswith(f'<div class="table-wrap" role="region" tabindex="0" '
                                f'aria-label="{caption}">')
    editions = next(t for t in tables if "Proxy table editions used" in t)
    digest = tiny.digest
    assert f'<td class="text hash">{digest}</td>' in editions
    # Each edition's dates and prices beside its digest (a contract manager's review).
    assert (f'<td class="text">{tiny.valid_from} to {tiny.valid_to}</td>'
            f'<td class="text">{tiny.spec.price_base_year}/') in editions
    css = page[page.index("<style>"):page.index("</style>")]
    assert ".table-wrap{overflow-x:auto}" in css
    assert ".hash{overflow-wrap:anywhere;word-break:break-all}" in css
    assert "p,li,caption,h1,h2{overflow-wrap:anywhere}" in css  # a sha256 in a <p>, a long title
    assert "padding:0 1rem" in css  # text off the screen's edge when the body is full width


def test_report_rows_are_named_by_every_cell_that_tells_them_apart(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """WCAG 1.3.1: a row header must tell the rows apart. Editions are named by table and
    edition ("tiny" alone would name each of a family's editions), and when tenders compete
    for a contract, its rows by contract and supplier."""
    rival = portfolio.iloc[[0]].assign(supplier_id="rival", stage="commitment")
    frame = pd.concat([portfolio.assign(stage="delivered"),
                       portfolio.assign(stage="commitment"), rival], ignore_index=True)
    page = report_html(value_frame(frame, tiny), tables=tiny)
    editions = next(t for t in _tables_of(page) if "Proxy table editions used" in t)
    assert f'<tr><th scope="row">tiny</th><th scope="row">{tiny.version}</th><td' in editions
    targets = next(t for t in _tables_of(page) if "Committed and delivered" in t)
    assert '<tr><th scope="row">c1</th><th scope="row">acme</th><td>' in targets
    assert '<tr><th scope="row">c1</th><th scope="row">rival</th><td>' in targets
    # One supplier per contract: the contract alone names its row.
    single = report_html(value_frame(pd.concat([portfolio.assign(stage="delivered"),
                                                portfolio.assign(stage="commitment")]), tiny),
                         tables=tiny)
    targets = next(t for t in _tables_of(single) if "Committed and delivered" in t)
    assert '<tr><th scope="row">c1</th><td>' in targets


def test_report_chart_text_says_what_the_chart_is_and_which_table_holds_its_figures(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """WCAG 1.1.1: each chart's text alternative names the chart and the table beside it,
    whose caption is on the page."""
    page = report_html(valued, tables=tiny)
    alts = re.findall(r'<img alt="([^"]*)"', page)
    assert len(alts) == page.count("<img ") >= 2
    for alt in alts:
        found = re.fullmatch(r"Bar chart of net social value by (\w+)\. The figures of every "
                             r"group are in the table above, titled (.+)\.", alt)
        assert found, alt
        assert f"<caption>{found.group(2)}</caption>" in page
        assert page.index(f"<caption>{found.group(2)}</caption>") < page.index(alt)


def test_report_text_is_aligned_left_and_figures_right(valued: pd.DataFrame,
                                                       tiny: sv.ProxyTable) -> None:
    """Prose right-aligned is hard to read (a ragged left edge); figures line up on the
    right. The settings' values are text, the totals numbers."""
    page = report_html(valued, tables=tiny)
    settings = next(t for t in _tables_of(page) if "Settings the values" in t)
    assert settings.count('<td class="text">') == settings.count("<td") > 3
    theme = next(t for t in _tables_of(page) if "Social value by theme" in t)
    assert 'class="text"' not in theme and "<td>£" in theme
    css = page[page.index("<style>"):page.index("</style>")]
    assert "text-align:right" in css and ".text,th:first-child,tbody th{text-align:left}" in css


def test_report_writes_a_figure_that_cannot_be_worked_out_as_na_and_says_why(
        portfolio: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A blank cell reads as a figure left out: where a ratio or share cannot be worked out
    (no contract value; nothing committed) the report writes n/a and a note says why, once
    per column."""
    frame = pd.concat([portfolio.assign(stage="delivered"),
                       portfolio.iloc[[0]].assign(stage="commitment")], ignore_index=True)
    frame.loc[frame["contract_id"] == "c2", "contract_value"] = np.nan
    page = report_html(value_frame(frame, tiny), tables=tiny)
    suppliers = page[page.index("<h2>By supplier</h2>"):]
    suppliers = suppliers[:suppliers.index("<h2>", 5)]
    assert re.search(r'<th scope="row">beta</th>(<td>[^<]*</td>){5}<td>n/a</td><td>n/a</td>',
                     suppliers), suppliers
    assert suppliers.count("n/a under Contract value: no contract in the group has a "
                           "contract value.") == 1
    assert suppliers.count("n/a under SV per £ of contract value:") == 1
    targets = page[page.index("<h2>Targets vs delivered</h2>"):]
    targets = targets[:targets.index("<h2>", 5)]
    assert re.search(r'<th scope="row">c2</th>(<td>[^<]*</td>){3}<td>n/a</td>', targets), targets
    assert re.search(r'<th scope="row">c1</th>(<td>[^<]*</td>){3}<td>\d+\.\d%</td>', targets)
    assert ("n/a under Delivered (% of committed): no value was committed (nothing, or on "
            "balance a harm)") in targets
    # Where every figure can be worked out, no n/a and no note.
    whole = report_html(value_frame(portfolio, tiny), tables=tiny)
    assert "n/a" not in whole


# -- notes on rows that may not say what was meant (a silent-wrong-number hunt) --------------

def _fte_rows(**cols: Any) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base: dict[str, Any] = {"measure": ["jobs-local-fte"] * n, "quantity": [1.0] * n,
                            "unit": ["FTE"] * n, "region": ["uk"] * n,
                            "date": ["2024-09-30"] * n}
    base.update(cols)
    return pd.DataFrame(base)


def _notes(df: pd.DataFrame) -> list[str]:
    from socialvalue_tom.report import basis_notes

    return basis_notes(value_frame(df, "uk-national"))


def test_notes_name_ids_that_differ_only_by_case_or_an_invisible_character() -> None:
    """'C3' and 'c3' (or a zero-width space pasted into an id) are two contracts to the
    rules: a priority hire on one was not netted against local jobs on the other, with no
    word. A note names them; ids written one way give none."""
    notes = _notes(_fte_rows(contract_id=["C3", "c3", "C4", "C4\u200b"],
                         supplier_id=["S1", "s1", "S2", "S2"]))
    assert ("Some contract ids differ only by case, spacing or an invisible character ('C3' and "
            "'c3'; 'C4' and 'C4\\u200b'): they are different contracts to the rules (grouping, "
            "double counting, contract values); write each id one way if they are one.") in notes
    assert any(n.startswith("Some supplier ids differ only by case") for n in notes)
    assert not any("differ only" in n for n in _notes(_fte_rows(contract_id=["C3", "C3", "C4"])))
    # A bid-scoring review: spaces run together read as one id too ("Acme  Ltd").
    spaced = _notes(_fte_rows(contract_id=["Acme Ltd", "Acme  Ltd", "C4"]))
    assert any("('Acme  Ltd' and 'Acme Ltd')" in n for n in spaced), spaced


def test_notes_name_rows_that_leave_a_grouping_column_blank_among_rows_that_fill_it() -> None:
    notes = _notes(_fte_rows(contract_id=["C1", None, "C2", ""],
                         supplier_id=["S1", "S1", None, "S2"],
                         stage=["delivered", None, "delivered", "delivered"],
                         confidence=["3", None, None, "2"]))
    assert any(n.startswith("2 row(s) name no contract_id while others do: they are one "
                            "group of their own") for n in notes)
    assert any(n.startswith("1 row(s) name no supplier_id while others do") for n in notes)
    assert any(n.startswith("1 row(s) give no stage while others do") for n in notes)
    assert ("2 row(s) give no confidence grade while others do: they are counted in full, as "
            "if their evidence were the best, while graded rows are reduced.") in notes
    # All given, or none: nothing to say.
    quiet = _notes(_fte_rows(contract_id=["C1", "C2"], confidence=[None, None]))
    assert not any("while others do" in n for n in quiet)


def test_notes_name_a_drop_off_on_a_one_year_outcome_and_repeated_rows() -> None:
    notes = _notes(_fte_rows(years=[None, 1, 3], drop_off=[0.2, 0.1, 0.2]))
    assert ("2 row(s) give a drop-off but last one year (years blank or 1): a drop-off "
            "applies from the second year on, so it changed nothing; give years for an outcome "
            "that lasts.") in notes
    twice = _notes(_fte_rows(contract_id=["C1", "C1", "C2"]))
    assert ("1 row(s) repeat another row exactly (every column the same): check each is an "
            "outcome of its own, not a block pasted twice.") in twice
    assert not any("repeat another row" in n
                   for n in _notes(_fte_rows(contract_id=["C1", "C2", "C3"])))


def test_notes_remind_of_fte_years_over_short_periods_and_name_overlapping_periods() -> None:
    """Quarterly returns of '12 FTE' counted 12 FTE-years each, four times a year of 12 FTE,
    with no word; periods of one contract's measure that overlap were both counted. Notes say
    so (read back from the period columns apportion records); a year's period, or periods that
    follow one another, give none."""
    from socialvalue_tom.periods import PERIODS_ATTR
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({
        "contract_id": ["C1", "C1", "C2", "C3", "C3"],
        "measure": ["jobs-local-fte"] * 4 + ["social-volunteering-hour"],
        "quantity": [3.0, 3.0, 12.0, 3.0, 40.0], "unit": ["FTE"] * 4 + ["hour"],
        "region": ["uk"] * 5,
        "period_start": ["2024-04-01", "2024-06-01", "2024-04-01", "2024-07-01", "2024-04-01"],
        "period_end": ["2024-06-30", "2024-09-30", "2025-03-31", "2024-09-30", "2024-06-30"]})
    parts = sv.apportion(rows, "uk-national")
    assert parts.attrs[PERIODS_ATTR] == {"start": "period_start", "end": "period_end",
                                         "carry_forward": False}
    notes = basis_notes(value_frame(parts, "uk-national"))
    assert ("3 row(s) give an FTE measure over a period that is not a year: the quantity is "
            "read as the FTE-years delivered in the period (12 FTE employed for a quarter is 3; "
            "for two years, 24), not the FTE employed.") in notes
    assert ("1 row(s) report a period that overlaps another row's alike in every other column "
            "(the same quantity, contract, measure...): both are counted in full; check the "
            "periods.") in notes
    following = rows.iloc[[2]]
    quiet = basis_notes(value_frame(sv.apportion(following, "uk-national"), "uk-national"))
    assert not any("period" in n for n in quiet)
    # Rows of one period that differ in a column of their own (a site) overlap by design;
    # two returns apportioned apart and put together (both numbered from row 0) stay apart.
    sites = pd.concat([rows.iloc[[2]], rows.iloc[[2]]], ignore_index=True).assign(
        site=["Leeds", "York"])
    assert not any("overlaps" in n for n in basis_notes(
        value_frame(sv.apportion(sites, "uk-national"), "uk-national")))
    a, b = (sv.apportion(rows.iloc[[i]], "uk-national") for i in (0, 3))
    together = pd.concat([a, b])
    assert not any("overlaps" in n for n in basis_notes(value_frame(together, "uk-national")))


def test_confidence_note_only_where_grades_are_applied() -> None:
    from socialvalue_tom.report import basis_notes

    rows = _fte_rows(confidence=["3", None])
    applied = basis_notes(value_frame(rows, "uk-national"))
    assert any("give no confidence grade" in n for n in applied)
    ignored = basis_notes(value_frame(rows, "uk-national",
                                      assumptions=sv.Assumptions(apply_confidence=False)))
    assert not any("confidence" in n for n in ignored)


def test_report_made_again_with_source_date_epoch_is_the_same_file(
        valued: pd.DataFrame, tiny: sv.ProxyTable, monkeypatch: pytest.MonkeyPatch) -> None:
    """A determinism review: the report said the day it was made and its charts carried
    matplotlib's version, so the same input never gave the same file twice. With
    SOURCE_DATE_EPOCH (the reproducible-builds convention) it says that day, and the charts
    carry no software stamp."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")  # 2025-01-01T00:00:00Z
    first = report_html(valued, tables=tiny)
    assert "<p>Generated 2025-01-01 by socialvalue_tom" in first
    assert report_html(valued, tables=tiny) == first
    png = base64.b64decode(re.findall(r'src="data:image/png;base64,([^"]+)"', first)[0])
    assert b"Software" not in png and b"matplotlib" not in png
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a time")
    assert f"<p>Generated {dt.date.today().isoformat()} by" in report_html(valued, tables=tiny)


def test_notes_say_when_values_are_discounted_to_one_year_and_priced_in_another() -> None:
    """A Green Book review: discount_base_year 2023 with values in 2025 prices (given, or the
    editions' own) was not said beside the total. One year for both says nothing."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame([_uk("2024-06-01", "delivered")])

    def said(**kw: Any) -> list[str]:
        notes = basis_notes(value_frame(rows, "uk-national", assumptions=sv.Assumptions(**kw)))
        return [n for n in notes if n.startswith("The discount base year")]

    assert said(price_year=2025, discount_base_year=2023) == [
        "The discount base year (2023) is not the year whose prices the values are in (2025): "
        "a present value on Green Book lines is in the prices of the year it is discounted to "
        "(price_year 2023)."]
    assert said(discount_base_year=2023) == [  # the 2024 edition's own prices
        "The discount base year (2023) is not the year whose prices the values are in (2024): "
        "a present value on Green Book lines is in the prices of the year it is discounted to "
        "(price_year 2023)."]
    assert said(price_year=2023, discount_base_year=2023) == []
    assert said(discount_base_year=2024) == [] and said(price_year=2025) == []
    assert said(price_year=2025, discount_base_year=2023, discount_schedule="none") == []


def test_period_columns_not_apportioned_are_warned_of_and_noted() -> None:
    """A hunt for silent wrong totals: a frame with period columns valued without apportion
    was valued whole at its date (12 FTE over calendar 2024 all at the 2024 edition, 1.6% off
    the split figure) with no word. value_frame warns, and the notes say so."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [12.0], "unit": ["FTE"],
                         "region": ["uk"], "date": ["2024-12-31"],
                         "period_start": ["2024-01-01"], "period_end": ["2024-12-31"]})
    with pytest.warns(sv.SocialValueWarning, match="apportion first"):
        valued = value_frame(rows, "uk-national")
    assert any(n.startswith("The rows have period_start and period_end columns, which were "
                            "not read") for n in basis_notes(valued))
    apportioned = value_frame(sv.apportion(rows, "uk-national"), "uk-national")
    assert not any("were not read" in n for n in basis_notes(apportioned))


def test_fte_period_note_reads_each_rows_whole_period_from_its_parts() -> None:
    """One edition's parts of full-year rows (a 2024/25 report filtered from a calendar-year
    return) said their periods were shorter than a year; a row over two years said nothing,
    though it is as easily misread."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"contract_id": ["C1", "C2"], "measure": ["jobs-local-fte"] * 2,
                         "quantity": [12.0] * 2, "unit": ["FTE"] * 2, "region": ["uk"] * 2,
                         "period_start": ["2024-01-01"] * 2, "period_end": ["2024-12-31"] * 2})
    valued = value_frame(sv.apportion(rows, "uk-national"), "uk-national")
    one_year = valued[valued["version"] == "2024"]
    assert not any("FTE measure" in n for n in basis_notes(one_year))
    two_years = rows.assign(period_start="2024-04-01", period_end="2026-03-31")
    notes = basis_notes(value_frame(sv.apportion(two_years, "uk-national", carry_forward=True),
                                    "uk-national",
                                    assumptions=sv.Assumptions(carry_forward=True)))
    assert any(n.startswith("2 row(s) give an FTE measure over a period that is not a year")
               for n in notes)


def test_period_note_edges() -> None:
    """The FTE note's year is 365 or 366 days (364 is short); an overlap is a day shared (the
    second row starting on the first's last day); rows alike but for their quantity are two
    returns, not one sent twice; an apportioned frame gets no 'not apportioned' warning."""
    import warnings as w

    from socialvalue_tom.report import basis_notes

    def notes(starts: list[str], ends: list[str], quantities: list[float]) -> list[str]:
        rows = pd.DataFrame({"contract_id": ["C1"] * len(starts),
                             "measure": ["jobs-local-fte"] * len(starts),
                             "quantity": quantities, "unit": ["FTE"] * len(starts),
                             "region": ["uk"] * len(starts), "period_start": starts,
                             "period_end": ends})
        with w.catch_warnings():
            w.simplefilter("error", sv.SocialValueWarning)  # apportioned: no warning
            return basis_notes(value_frame(sv.apportion(rows, "uk-national"), "uk-national"))

    assert any("not a year" in n for n in notes(["2024-04-01"], ["2025-03-30"], [1.0]))
    assert not any("not a year" in n for n in notes(["2024-04-01"], ["2025-03-31"], [1.0]))
    touching = notes(["2024-04-01", "2024-06-30"], ["2024-06-30", "2024-09-30"], [1.0, 1.0])
    assert any("overlaps" in n for n in touching)
    apart = notes(["2024-04-01", "2024-07-01"], ["2024-06-30", "2024-09-30"], [1.0, 1.0])
    assert not any("overlaps" in n for n in apart)
    other_amounts = notes(["2024-04-01", "2024-06-01"], ["2024-06-30", "2024-09-30"], [1.0, 2.0])
    assert not any("overlaps" in n for n in other_amounts)


def test_two_identical_rows_alone_are_repeated_rows() -> None:
    from socialvalue_tom.report import basis_notes

    notes = basis_notes(value_frame(_fte_rows(contract_id=["C1", "C1"]), "uk-national"))
    assert "1 row(s) repeat another row exactly" in " ".join(notes)


def test_generated_day_past_the_calendar_is_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from socialvalue_tom.report import _generated_day

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1" + "0" * 20)
    assert _generated_day() == dt.date.today()


def test_notes_ask_for_one_year_as_both_price_and_discount_base() -> None:
    """Mutation review: the wording for two bases (one year for both) was untested."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"measure": "jobs-local-fte", "quantity": 1, "unit": "FTE",
                         "region": "uk", "years": 3, "date": ["2024-10-01", "2025-04-01"]})
    notes = basis_notes(value_frame(rows, "uk-national"))
    assert any(n.endswith("one year as both price_year and discount_base_year, no later than "
                          "2024 (2024/25, the rows' first financial year), puts them on one "
                          "basis.")
               for n in notes), notes


def test_summarise_by_a_grouping_mistyped_names_the_groupings(valued: pd.DataFrame) -> None:
    """A newcomer's review: by="themes" was told only that the input has no themes column,
    as if one should be added; the named groupings are listed and the close one named."""
    groupings = ("groupings by name: theme, measure, supplier, contract, region, year, quarter, "
                 "stage, value_type, methodology; or any column of the input")
    with pytest.raises(sv.OutcomeError) as info:
        summarise(valued, by="themes")
    assert info.value.message == (f"cannot group by themes: the input has no themes column "
                                  f"({groupings}); did you mean theme?")
    with pytest.raises(sv.OutcomeError) as plain:
        summarise(valued, by="colour")
    assert plain.value.message.endswith(f"({groupings})")
    # A named grouping whose column is absent is told the column, not the list.
    with pytest.raises(sv.OutcomeError) as named:
        summarise(valued.drop(columns="stage", errors="ignore"), by="stage")
    assert named.value.message == "cannot group by stage: the input has no stage column"


def test_notes_count_the_wholes_their_parts_left_nothing_of() -> None:
    """A newcomer's review: 5 FTE of priority hires beside 2 FTE of local jobs valued the
    local jobs at £0 with no word; the note counts such rows and names the exclusions. A
    whole only reduced is told too (a supplier's review: 12 FTE of local jobs counted as 10
    beside 2 FTE of priority hires, without a word), with the exclusion's reason."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"contract_id": ["C1", "C1", "C2", "C2"],
                         "measure": ["jobs-local-fte", "jobs-priority-ltu"] * 2,
                         "quantity": [2.0, 5.0, 5.0, 2.0], "unit": "FTE", "region": "uk",
                         "date": "2024-06-30"})
    valued = value_frame(rows, "uk-national")
    assert valued["claim_share"].tolist() == [0.0, 1.0, 0.6, 1.0]
    [note] = [n for n in basis_notes(valued) if "counted at nothing" in n]
    assert note.startswith("1 row(s) were counted at nothing after double counting "
                           "(priority-hires-within-local-employment): ")
    reduced = value_frame(rows.iloc[2:], "uk-national")
    [part] = [n for n in basis_notes(reduced) if "double counting" in n]
    local = sv.money.format_gbp(sv.money.total([float(reduced["value_gbp"].iloc[0])]))
    assert part.startswith(f"1 row(s) ({local}) were counted in part after double counting")
    assert "(claim_share gives the share); priority-hires-within-local-employment: A hire " \
           "from a priority group is also a local employee" in part


def test_basis_notes_say_when_the_ratio_leaves_out_contracts_without_a_value() -> None:
    """An analyst's review: the Total's SV per £ (0.2839) was C1's net over C1's value, beside
    a Net that adds C2, which gives no contract value; nothing said so. The note counts the
    valued rows left out of the ratio and their value; none where every contract gives one,
    or none does (no ratio)."""
    from socialvalue_tom.report import basis_notes

    def rows(c2_value: float | None) -> pd.DataFrame:
        return pd.DataFrame([{**_uk("2024-06-01", "delivered"), "contract_id": c,
                              "contract_value": v}
                             for c, v in (("C1", 100000.0), ("C2", c2_value), ("C2", c2_value),
                                          (" C1", 100000.0))])

    valued = value_frame(rows(None), "uk-national")
    net = summarise(valued, by=())
    c2 = Decimal(str(valued["value_gbp"].iloc[1] + valued["value_gbp"].iloc[2])).quantize(
        Decimal("0.01"))
    assert [n for n in basis_notes(valued) if n.startswith("SV per £")] == [
        f"SV per £ of contract value counts only the contracts that give a contract_value (1): "
        f"2 valued row(s) (£{c2:,}) with no contract value (or no contract_id) are in the Net "
        "but not in the ratio."]
    assert float(net["sv_ratio"].iloc[0]) * 100000 == pytest.approx(float(net["net_gbp"].iloc[0]
                                                                         - c2))
    every = value_frame(rows(50000.0), "uk-national")
    assert not any(n.startswith("SV per £") for n in basis_notes(every))
    none = value_frame(rows(None).assign(contract_value=None), "uk-national")
    assert not any(n.startswith("SV per £") for n in basis_notes(none))
    # A blank contract_id is no contract, whatever value its row gives.
    blank = value_frame(rows(50000.0).assign(contract_id=["C1", "  ", "C2", " C1"]),
                        "uk-national")
    assert next(n for n in basis_notes(blank) if n.startswith("SV per £")).startswith(
        "SV per £ of contract value counts only the contracts that give a contract_value (2): "
        "1 valued row(s)")


def _lasting_commitment() -> pd.DataFrame:
    """10 FTE committed for three years, met by three yearly deliveries of 10 FTE, and a
    measure delivered that was never committed."""
    return pd.DataFrame({
        "contract_id": "C1", "stage": ["commitment", *["delivered"] * 4],
        "measure": [*["jobs-local-fte"] * 4, "social-volunteering-hour"],
        "quantity": [10, 10, 10, 10, 200], "unit": [*["FTE"] * 4, "hour"], "region": "uk",
        "date": ["2025-06-01", "2025-12-01", "2026-12-01", "2027-12-01", "2025-12-01"],
        "years": [3, 1, 1, 1, 1]})


def test_targets_vs_delivered_counts_quantities_over_their_years() -> None:
    """A commitment of 10 FTE for three years is 30 FTE-years, met by three yearly rows of
    10 (it had read as 10 committed against 30 delivered); on one discounting basis the
    value is met exactly too."""
    v = sv.value_frame(_lasting_commitment(), detail=True, assumptions={
        "carry_forward": True, "discount_base_year": 2025, "price_year": 2025})
    with warnings.catch_warnings():
        # by measure, each measure stands against its own commitment (no note on offsets),
        # and with a common discount base year there is no note on bases either
        warnings.simplefilter("error", sv.SocialValueWarning)
        m = targets_vs_delivered(v, by_measure=True).set_index("measure")
    jobs = m.loc["jobs-local-fte"]
    assert (jobs["committed_quantity"], jobs["delivered_quantity"]) == (30.0, 30.0)
    assert jobs["delivered_pct"] == pytest.approx(100.0, abs=1e-9)
    assert m.loc["social-volunteering-hour", "uncommitted_gbp"] == m.loc[
        "social-volunteering-hour", "delivered_gbp"] > 0


def test_targets_vs_delivered_warns_when_discounting_bases_differ() -> None:
    """Without a common discount_base_year the three-year commitment's later years are
    discounted and the yearly deliveries are not: exact delivery reads as 103.5%, which a
    note says (a warning from the function, at the caller's line, the same words under the
    report's table). Commitments and deliveries lasting alike in one financial year are on
    one basis: no note."""
    v = sv.value_frame(_lasting_commitment().iloc[:4], detail=True,
                       assumptions={"carry_forward": True})
    with pytest.warns(sv.SocialValueWarning, match="one year as both price_year and "
                      "discount_base_year") as told:
        t = targets_vs_delivered(v)
    assert t["delivered_pct"].iloc[0] > 100.0
    assert t.attrs["notes"] == [str(w.message) for w in told
                                if isinstance(w.message, sv.SocialValueWarning)]
    assert {w.filename for w in told} == {__file__}
    html_text = sv.report.report_html(v)
    assert "one year as both price_year and discount_base_year" in html_text
    assert "Of which not committed" in html_text
    alike = _lasting_commitment().iloc[:2].assign(date="2025-06-01", years=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        targets_vs_delivered(sv.value_frame(alike))


def test_targets_vs_delivered_tells_commitments_and_deliveries_of_different_editions() -> None:
    """A commitment valued with the 2023 edition met by deliveries valued with 2023 to 2025:
    on one price and discounting basis it still reads 102%, the proxies revised between
    editions (pay growth); a note says the money is compared at different proxies."""
    df = pd.DataFrame({"contract_id": "C1", "stage": ["commitment", *["delivered"] * 3],
                       "measure": "jobs-local-fte", "quantity": 10, "unit": "FTE",
                       "region": "uk", "years": [3, 1, 1, 1],
                       "date": ["2023-06-01", "2023-12-01", "2024-12-01", "2025-12-01"]})
    v = sv.value_frame(df, assumptions={"price_year": 2023, "discount_base_year": 2023})
    with pytest.warns(sv.SocialValueWarning, match="valued with different editions") as told:
        t = targets_vs_delivered(v)
    assert len(told) == 1 and t["delivered_pct"].iloc[0] == pytest.approx(102.36, abs=0.01)
    same = df.assign(date=["2023-06-01", "2023-12-01", "2024-01-01", "2024-02-01"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        targets_vs_delivered(sv.value_frame(same, assumptions={"discount_base_year": 2023}))


def sum_pounds(rows: pd.DataFrame) -> Decimal:
    return total(rows["value_gbp"])


def test_report_headline_keeps_commitments_and_deliveries_apart() -> None:
    """With both stages the headline gives the committed and the delivered totals, not their
    sum (a target added to what met it), which is still named below them as such."""
    valued = value_frame(pd.read_csv(EXAMPLE))
    text = report_html(valued)
    by_stage = summarise(valued, by="stage").set_index("stage")["net_gbp"]
    net = summarise(valued, by=())["net_gbp"].iloc[0]
    assert (f'Committed: <strong>{format_gbp(by_stage["commitment"])}</strong>; '
            f'delivered: <strong>{format_gbp(by_stage["delivered"])}</strong>') in text
    assert f"All rows together net {format_gbp(net)}, a sum that adds targets" in text
    assert "Net social value: <strong>" not in text
    # Commitments are targets, not outcomes: the line under the figures counts rows.
    rows = len(valued)
    assert f"Net social value of {rows:,} rows, commitments and deliveries apart" in text
    assert f"{rows:,} outcomes" not in text
    one_stage = report_html(value_frame(pd.read_csv(EXAMPLE).query("stage == 'delivered'")))
    assert "Net social value: <strong>" in one_stage and "Committed: <strong>" not in one_stage
    # Rows with no stage are in neither figure: the headline gives them too.
    blanked = pd.read_csv(EXAMPLE)
    blanked.loc[:9, "stage"] = None
    valued = value_frame(blanked)
    bare = valued[valued["stage"].isna()]
    text = report_html(valued)
    assert f"; with no stage: <strong>{format_gbp(sum_pounds(bare))}</strong>" in text
    assert "(and the rows with no stage)" in text


def test_contract_values_of_competing_bids_are_refused_with_the_way_out() -> None:
    """Tenderers' prices given as one contract's contract_value: the refusal says the rows name
    several suppliers and where a bid's price goes (score_bids), or a contract_id per bid."""
    df = pd.DataFrame({"contract_id": "T-100", "supplier_id": ["A", "B"], "stage": "commitment",
                       "measure": "jobs-local-fte", "quantity": [1, 2], "unit": "FTE",
                       "region": "uk", "date": "2025-06-01", "contract_value": [3e6, 5e6]})
    with pytest.raises(RuleError, match=r"2 suppliers: competing bids\?") as info:
        summarise(value_frame(df), by="contract")
    assert "score_bids(bid_prices=...)" in info.value.advice
    with pytest.raises(RuleError) as alone:  # one supplier: no word of bids
        summarise(value_frame(df.assign(supplier_id="A")), by="contract")
    assert alone.value.advice == "" and "bids" not in str(alone.value)


def test_targets_read_supplier_ids_written_two_ways_as_one_supplier() -> None:
    """A contract's commitments from "ACME Ltd" and "ACME LTD" are one supplier writing its
    id two ways, not competing tenders: no warning of several suppliers, and the report's
    targets table keeps one row for the contract (it had split it per supplier, showing a
    5834% delivery)."""
    df = value_frame(pd.DataFrame({
        "contract_id": "C1", "supplier_id": ["ACME Ltd", "ACME LTD", "ACME Ltd"],
        "stage": ["commitment", "commitment", "delivered"], "measure": "jobs-local-fte",
        "quantity": [2.0, 1.0, 2.0], "unit": "FTE", "region": "uk", "date": "2024-09-30"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        t = targets_vs_delivered(df)
    assert len(t) == 1 and t["delivered_pct"].iloc[0] == pytest.approx(200 / 3)
    assert "Per contract and supplier" not in report_html(df)
    rival = df.assign(supplier_id=["ACME Ltd", "Rival", "ACME Ltd"])
    with pytest.warns(sv.SocialValueWarning, match="more than one supplier"):
        targets_vs_delivered(rival)
    assert "Per contract and supplier" in report_html(rival)


def test_basis_notes_tell_a_corrected_return_sent_beside_the_one_it_corrects() -> None:
    """Two returns of one contract, supplier, measure and stage for the same quarter with
    different quantities (a correction sent again) are both counted: a note says so. The
    quarters before and after, which only touch it, draw no note."""
    df = pd.DataFrame({
        "contract_id": "C1", "supplier_id": "S", "stage": "delivered",
        "measure": "innov-digital-skills-hour", "quantity": [150, 120, 135, 160],
        "unit": "hour", "region": "uk",
        "period_start": ["2024-06-01", "2024-09-01", "2024-09-01", "2024-12-01"],
        "period_end": ["2024-08-31", "2024-11-30", "2024-11-30", "2025-02-28"]})
    notes = basis_notes(value_frame(sv.apportion(df)))
    assert [n for n in notes if "corrected return" in n] == [
        "1 row(s) report the same period as another row alike in every other column but the "
        "quantity (a corrected return sent beside the one it corrects?): both are counted "
        "in full; keep the return that stands."]
    assert not basis_notes(value_frame(sv.apportion(df.drop(index=2))))
    # Another region, or a column telling two sites apart, makes two returns: no note.
    for apart in (df.assign(region=["uk", "uk", "scotland", "uk"]),
                  df.assign(site=["Leeds", "Leeds", "Bradford", "Leeds"])):
        assert not [n for n in basis_notes(value_frame(sv.apportion(apart)))
                    if "corrected return" in n]
    # The same figure given in another unit is still a correction's figure: told.
    other_unit = df.assign(unit=["hour", "hour", "hours", "hour"])
    assert [n for n in basis_notes(value_frame(sv.apportion(other_unit)))
            if "corrected return" in n]


def test_a_frame_read_back_from_a_file_finds_its_editions_by_its_digest_column(
        tmp_path: Path) -> None:
    """A valued CSV read back has no attrs; its table, version and digest columns name the
    editions, found by name and checked against the digest, so annotate and the targets by
    measure work without tables= (they had asked for it). A digest that does not match is
    still refused."""
    valued = value_frame(pd.read_csv(EXAMPLE), detail=True)
    valued.to_csv(tmp_path / "v.csv", index=False)
    back = pd.read_csv(tmp_path / "v.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sv.SocialValueWarning)
        got = targets_vs_delivered(back, by_measure=True)
        want = targets_vs_delivered(valued, by_measure=True)
    pd.testing.assert_frame_equal(got[["contract_id", "measure", "unit", "committed_quantity"]],
                                  want[["contract_id", "measure", "unit", "committed_quantity"]])
    tampered = back.assign(digest="0" * 64)
    with pytest.raises(RuleError, match="cannot find table edition"):
        annotate(tampered)
    # One row's digest changed: refused whatever its place among the edition's rows.
    first = back["version"].astype(str).eq("2023").to_numpy().nonzero()[0]
    for at in (first[0], first[-1]):
        one = back.copy()
        one.loc[at, "digest"] = "0" * 64
        with pytest.raises(RuleError, match="2 different digests"):
            annotate(one)
    # A cell naming a file is not a digest: never loaded.
    (tmp_path / "t.yaml").write_text("not read", encoding="utf-8")
    named = back.assign(digest=str(tmp_path / "t.yaml"))
    with pytest.raises(RuleError, match="not a content digest"):
        annotate(named)


def test_a_read_back_frame_reads_digests_as_written_blank_upper_case_or_prefixed(
        tmp_path: Path) -> None:
    """Rows not valued read back as blank text (keep_default_na=False) name no edition; a
    digest in capitals, or after 'sha256:', is that digest."""
    valued = value_frame(pd.read_csv(EXAMPLE).assign(
        quantity=lambda d: d["quantity"].astype(object).where(d.index != 4, "x")),
        errors="collect")
    valued.to_csv(tmp_path / "v.csv", index=False)
    blank = pd.read_csv(tmp_path / "v.csv", keep_default_na=False)
    want = annotate(pd.read_csv(tmp_path / "v.csv"))["theme"].tolist()
    assert annotate(blank)["theme"].tolist()[:4] == want[:4]
    for spelled in (blank["digest"].str.upper(), "sha256:" + blank["digest"]):
        shown = blank.assign(digest=spelled.where(blank["digest"] != "", ""))
        assert annotate(shown)["theme"].tolist()[:4] == want[:4]


def test_report_html_gives_totals_by_region_where_the_rows_name_several(
        tiny: sv.ProxyTable) -> None:
    """A devolved-nations review: a reader in Wales could not find the Welsh rows' total in
    the report. Rows in several regions get a By region section (spellings of one region
    are one group); rows in one region do not."""
    df = pd.DataFrame({"measure": ["jobs-local"] * 3, "quantity": [1.0, 2.0, 3.0],
                       "unit": "FTE", "region": ["London", " london", "scotland"],
                       "date": "2024-06-01"})
    text = report_html(value_frame(df, tiny), tables=tiny)
    section = text.split("<h2>By region</h2>", 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', section) == [
        ("london", "2"), ("scotland", "1"), ("Total", "3")]
    one = report_html(value_frame(df.assign(region="uk"), tiny), tables=tiny)
    assert "By region" not in one


def test_basis_notes_flag_contracts_claiming_more_than_they_are_worth() -> None:
    """A supplier's review: 1,800 hours typed as FTE on an £8.5m contract were valued at £51m
    (SV per £ 6.01) in silence. A contract whose rows claim more than the contract is worth
    is named, with its figures; one within its value is not."""
    from socialvalue_tom.report import basis_notes

    def rows(fte: float) -> pd.DataFrame:
        return pd.DataFrame({"measure": ["jobs-local-fte", "jobs-local-fte"],
                             "quantity": [fte, 1.0], "unit": "FTE", "region": "uk",
                             "date": "2024-09-30", "contract_id": ["C-WAL-01", "C-2"],
                             "contract_value": [8_500_000.0, 1_000_000.0]})

    valued = value_frame(rows(1800.0), "uk-national")
    claimed = sv.money.format_gbp(sv.money.total([float(valued["value_gbp"].iloc[0])]))
    assert [n for n in basis_notes(valued) if "more social value" in n] == [
        f"Rows claim more social value than their contract is worth (C-WAL-01: {claimed} on "
        "£8,500,000.00): worth checking before use, for a quantity in the wrong unit (hours "
        "given as FTE)."]
    assert not [n for n in basis_notes(value_frame(rows(12.0), "uk-national"))
                if "more social value" in n]
    # Competing tenders on one contract, each within its value, are two claims, not one (a
    # diff review: 2 x 57% read as 114%).
    tenders = rows(2.0).assign(contract_id="C1", contract_value=100_000.0, stage="commitment",
                               supplier_id=["A", "B"], quantity=[2.0, 2.0])
    assert not [n for n in basis_notes(value_frame(tenders, "uk-national"))
                if "more social value" in n]
    over = value_frame(tenders.assign(quantity=[5.0, 2.0]), "uk-national")
    [note] = [n for n in basis_notes(over) if "more social value" in n]
    assert "(C1 (commitment, A): £" in note and ", B)" not in note
    # The furthest beyond named first (a review: ten contracts a little over hid the one
    # claiming six times its value behind "and 8 more").
    many = pd.DataFrame({"measure": "jobs-local-fte", "quantity": [4.0] * 10 + [1800.0],
                         "unit": "FTE", "region": "uk", "date": "2024-09-30",
                         "contract_id": [f"A{i}" for i in range(10)] + ["Z"],
                         "contract_value": [100_000.0] * 10 + [8_500_000.0]})
    [note] = [n for n in basis_notes(value_frame(many, "uk-national")) if "more social" in n]
    assert note.startswith("Rows claim more social value than their contract is worth (Z: ")
    assert "; and 8 more)" in note


def test_the_partly_counted_note_quotes_each_rows_own_editions_reason(tmp_path: Path) -> None:
    """A review: with two editions wording one exclusion differently, rows valued under the
    2023 edition alone were told the 2024 edition's reason."""
    from conftest import TINY, TINY_2023, tiny_variant

    from socialvalue_tom.report import basis_notes

    old = sv.load_table(path=tiny_variant(tmp_path / "a", *TINY_2023, (
        "reason: a priority-group hire is also a local job",
        "reason: the 2023 wording")))
    new = sv.load_table(path=TINY)
    rows = pd.DataFrame({"contract_id": "C1", "measure": ["jobs-local", "jobs-priority"],
                         "quantity": [5.0, 2.0], "unit": "FTE", "region": "uk",
                         "date": "2023-06-01"})
    valued = value_frame(rows, [old, new])
    [note] = [n for n in basis_notes(valued, [old, new]) if "counted in part" in n]
    assert note.endswith("; priority-within-local: the 2023 wording.")
    both = value_frame(pd.concat([rows, rows.assign(date="2024-06-01", contract_id="C2")]),
                       [old, new])
    [note] = [n for n in basis_notes(both, [old, new]) if "counted in part" in n]
    assert note.endswith("; priority-within-local: a priority-group hire is also a local job; "
                         "priority-within-local: the 2023 wording.")


@pytest.mark.parametrize("reader", ["summarise", "basis_notes", "report_html", "annotate"])
def test_report_readers_refuse_a_frame_with_a_column_twice(valued: pd.DataFrame,
                                                           reader: str) -> None:
    """A review: a valued frame given a second stage column crashed basis_notes and the report
    with an AttributeError ('DataFrame' object has no attribute 'dtype'); value_frame refuses
    such input. The readers refuse it as a typed error naming the column."""
    import socialvalue_tom.report as rep

    twice = pd.concat([valued, valued[["measure"]]], axis=1)
    with pytest.raises(sv.OutcomeError, match=r"duplicated column\(s\) measure: which would "
                                              r"be read\? Drop or rename one") as info:
        getattr(rep, reader)(twice)
    assert info.value.field == "measure"


def test_targets_note_rows_counted_in_part_after_double_counting() -> None:
    """A supplier's review: 20 FTE of local jobs committed and 18 delivered beside 3 and 4
    priority hires read as a local-jobs shortfall, the local rows counted in part with no
    word. The targets notes say so, and that the quantities are counted so too."""
    rows = pd.DataFrame({"contract_id": "C1", "stage": ["commitment", "commitment",
                                                          "delivered", "delivered"],
                         "measure": ["jobs-local-fte", "jobs-priority-ltu"] * 2,
                         "quantity": [20.0, 3.0, 18.0, 4.0], "unit": "FTE", "region": "uk",
                         "date": "2024-09-30"})
    valued = value_frame(rows, "uk-national", detail=True)
    with pytest.warns(sv.SocialValueWarning, match="reduced differently"):
        out = sv.targets_vs_delivered(valued, by_measure=True)
    [note] = [n for n in out.attrs["notes"] if "reduced differently" in n]
    assert note.startswith("1 group(s) have commitments and deliveries that double counting "
                           "reduced differently (claim_share)")
    assert "(and so do the quantities beside them: claimed less the parts)" in note
    local = out[out["measure"] == "jobs-local-fte"].iloc[0]
    assert (local["committed_quantity"], local["delivered_quantity"]) == (17.0, 14.0)
    alone = value_frame(rows[rows["measure"] == "jobs-local-fte"], "uk-national", detail=True)
    # The same split committed and delivered moves nothing between the sides (a review: the
    # note fired wherever a row was reduced).
    alike = value_frame(rows.assign(quantity=[20.0, 3.0, 20.0, 3.0]), "uk-national",
                        detail=True)
    for frame in (alone, alike):
        with warnings.catch_warnings():
            warnings.simplefilter("error", sv.SocialValueWarning)  # nothing to say
            assert not sv.targets_vs_delivered(frame, by_measure=True).attrs["notes"]


def test_a_column_held_twice_that_a_reader_does_not_read_is_left_alone(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """A review: refusing every repeated column broke summarise and annotate on a frame with
    a note column kept twice, which they never read (annotate replaces its theme column):
    only the report and basis_notes, which read every column, refuse it."""
    import socialvalue_tom.report as rep

    extra = pd.DataFrame({"note": ["x"] * len(valued)}, index=valued.index)
    twice = pd.concat([valued, extra, extra], axis=1)
    assert rep.summarise(twice, by=()).equals(rep.summarise(valued, by=()))
    theme = pd.DataFrame({"theme": ["x"] * len(valued)}, index=valued.index)
    annotated = rep.annotate(pd.concat([valued, theme, theme], axis=1), tables=tiny)
    assert list(annotated.columns).count("theme") == 1  # replaced, as its docstring says
    for reader in (rep.basis_notes, rep.report_html):
        with pytest.raises(sv.OutcomeError, match=r"duplicated column\(s\) note"):
            reader(twice)


def test_sv_ratio_of_groups_sharing_a_contract_is_told() -> None:
    """A council officer's review: Wales read 0.028 SV per £ because one small Welsh row of
    a £2.4m English contract put the whole contract value in Wales's denominator. The ratio
    is as documented; a note now says where contracts span groups (not by stage)."""
    from socialvalue_tom.report import CONTRACTS_SPREAD, ratio_spread_note

    df = pd.DataFrame({
        "contract_id": ["C1", "C1", "C2"], "stage": ["delivered"] * 3,
        "measure": ["jobs-local-fte"] * 3, "quantity": [10.0, 0.05, 1.0], "unit": ["FTE"] * 3,
        "region": ["england", "wales", "wales"], "date": ["2025-06-01"] * 3,
        "contract_value": [2_400_000.0, 2_400_000.0, 100_000.0]})
    valued = value_frame(df)
    by_region = summarise(valued, by="region")
    wales = by_region.set_index("region").loc["wales"]
    assert wales["contract_value_gbp"] == Decimal("2500000.00")  # as documented
    assert by_region.attrs[CONTRACTS_SPREAD] == 1
    note = ratio_spread_note(by_region)
    assert note is not None and note.startswith("1 contract(s) have rows in more than one group")
    # One region each, by stage, or no grouping: nothing to say.
    alone = valued[valued["region"].to_numpy() != "wales"]
    for summary in (summarise(alone, by="region"), summarise(valued, by="stage"),
                    summarise(valued, by=())):
        assert ratio_spread_note(summary) is None
    assert ratio_spread_note(summarise(valued.drop(columns="contract_value"), by="region")) \
        is None
    text = report_html(valued)
    region = text.split("<h2>By region</h2>", 1)[1].split("<h2>", 1)[0]
    assert "1 contract(s) have rows in more than one group" in region


def test_report_has_a_section_by_financial_year_where_rows_span_several() -> None:
    """A contract manager's review: a cabinet report of a three-year contract had tables by
    theme, stage and supplier, none by year. Rows of several financial years get one, its
    years as a reader writes them (2023/24), counting deliveries as the other group
    sections do; rows of one year get none."""
    df = pd.read_csv(EXAMPLE)
    valued = value_frame(df)
    page = report_html(valued)
    section = page.split("<h2>By financial year</h2>", 1)[1].split("<h2>", 1)[0]
    delivered = valued[valued["stage"] == "delivered"]
    expected = sv.summarise(delivered, by="year")
    for year, net in zip(expected["year"], expected["net_gbp"], strict=True):
        row = section.split(f">{year}/{(year + 1) % 100:02d}<", 1)[1].split("</tr>", 1)[0]
        assert format_gbp(net).replace("-", "−") in row, (year, row)
    one_year = value_frame(df[df["date"].between("2024-04-01", "2025-03-31")])
    assert "By financial year" not in report_html(one_year)


def test_basis_notes_name_rows_repeated_but_for_case_or_spaces() -> None:
    """A data-quality steward's review: one return typed again as 'C1 ' and 'SCOTLAND ' was
    valued three times with no note (an exact copy drew one). Rows alike once text is read
    without case and surrounding spaces are counted; exact copies keep their own note."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"contract_id": ["C1", "C1 ", "C1"],
                         "measure": "jobs-local-fte", "quantity": [10.0, 10.0, 10.0],
                         "unit": ["FTE", "FTE", "fte"], "region": ["Scotland", "scotland",
                                                                   "SCOTLAND "],
                         "date": "2024-06-30"}).astype({"contract_id": "string"})
    notes = basis_notes(value_frame(rows))
    (note,) = [n for n in notes if "but for case or surrounding spaces" in n]
    assert note.startswith("2 row(s) repeat another row but for case")
    assert not any("repeat another row exactly" in n for n in notes)
    other = rows.assign(quantity=[10.0, 11.0, 12.0])
    assert not any("surrounding spaces" in n for n in basis_notes(value_frame(other)))
    # Categorical text columns alike (a performance review: their categories were compared
    # as written, so the note never fired).
    as_categories = rows.astype({"contract_id": "category", "region": "category",
                                 "unit": "category"})
    notes = basis_notes(value_frame(as_categories))
    assert any(n.startswith("2 row(s) repeat another row but for case") for n in notes)


def test_basis_notes_name_returns_of_the_year_to_date() -> None:
    """A contract manager's review: returns of the year to date (April-June 100 hours,
    April-September 210, ...) were each counted in full, 1,030 hours for the 400 the year
    gave, with no note. Periods that start on one day and end on others, alike in every other
    column, draw one; consecutive quarters do not."""
    from socialvalue_tom.report import basis_notes

    ends = ["2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31"]
    rows = pd.DataFrame({"contract_id": "FM-1", "measure": "social-volunteering-hour",
                         "quantity": [100.0, 210.0, 320.0, 400.0], "unit": "hour",
                         "region": "london", "period_start": "2024-04-01",
                         "period_end": ends})
    notes = basis_notes(value_frame(sv.apportion(rows)))
    (note,) = [n for n in notes if "start on the same day" in n]
    assert note.startswith("4 row(s) report periods that start on the same day")
    quarters = rows.assign(period_start=["2024-04-01", "2024-07-01", "2024-10-01",
                                         "2025-01-01"])
    assert not any("start on the same day" in n
                   for n in basis_notes(value_frame(sv.apportion(quarters))))


def test_basis_notes_name_an_fte_measure_given_at_several_dates_of_a_year() -> None:
    """A contract manager's review: four quarterly returns of the same 10 FTE, dated without
    a period, were delivered 40 FTE, 400% of a 10 FTE target, with no note. Rows of an FTE
    measure alike but for quantity and date, at several dates of one financial year, draw
    one; the same rows a year apart, or an hours measure, do not."""
    from socialvalue_tom.report import basis_notes

    days = ["2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31"]
    rows = pd.DataFrame({"contract_id": "FM-1", "measure": "jobs-local-fte",
                         "quantity": 10.0, "unit": "FTE", "region": "london", "date": days})
    notes = basis_notes(value_frame(rows))
    (note,) = [n for n in notes if "at several dates of one financial year" in n]
    assert note.startswith("4 row(s) give an FTE measure at several dates")
    yearly = rows.assign(date=["2023-06-30", "2024-06-30", "2025-06-30", "2025-06-30"],
                         contract_id=["FM-1", "FM-1", "FM-1", "FM-2"])
    assert not any("several dates" in n for n in basis_notes(value_frame(yearly)))
    hours = rows.assign(measure="social-volunteering-hour", unit="hour")
    assert not any("several dates" in n for n in basis_notes(value_frame(hours)))


def test_basis_notes_name_period_columns_written_another_way() -> None:
    """A data-quality steward's review: 'Period Start' and 'Period End' columns were passed
    over, each row valued whole at its date, with no note (period_start drew one). Names that
    differ only by case or separators draw it, naming the columns as given and the --period
    that reads them."""
    from socialvalue_tom.report import basis_notes

    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                         "region": ["uk"], "date": ["2024-06-30"],
                         "Period Start": ["2024-01-01"], "Period End": ["2024-12-31"]})
    with pytest.warns(sv.SocialValueWarning, match="the rows have Period Start and Period End"):
        valued = value_frame(rows)
    (note,) = [n for n in basis_notes(valued) if "were not read" in n]
    assert note.startswith("The rows have Period Start and Period End columns")
    assert note.endswith("--period 'Period Start,Period End').")


def test_summarise_by_year_warns_of_a_year_column_of_the_frames_own() -> None:
    """A notebook analyst's review: a frame with a year column of its own (calendar 2024)
    was grouped by the financial year of its dates (2023) with no word."""
    rows = pd.DataFrame([_uk("2024-02-01", "delivered")]).assign(year=2024)
    valued = value_frame(rows)
    with pytest.warns(sv.SocialValueWarning, match="not by the frame's own 'year' column"):
        out = sv.summarise(valued, by="year")
    assert out["year"].tolist() == [2023]
    # The report's own section by year groups so without the caller asking (an adversarial
    # review: it warned of a grouping no one asked for).
    two = value_frame(pd.DataFrame([_uk("2024-02-01", "delivered"),
                                    _uk("2024-06-01", "delivered")]).assign(year=2024))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sv.SocialValueWarning)
        warnings.simplefilter("ignore", sv.IllustrativeValueWarning)
        assert "By financial year" in report_html(two)


def test_source_notes_when_other_sheets_need_their_header_fixed_says_what_to_fix() -> None:
    """A data-quality review: sheets whose header names the outcome columns but for case or
    spacing, or sits below a title, were left out with no word; the note on other sheets
    names them after the sheets read as they are, each with what to fix first."""
    from socialvalue_tom.report import source_notes

    frame = pd.DataFrame({"quantity": [1.0]})
    frame.attrs["socialvalue_tom.source"] = {
        "sheet": "Q1", "alike_sheets": ["Q4"],
        "near_sheets": {"Q2": "rename 'Measure' to measure", "Q3": "delete the row(s) above "
                        "its header, row 2"}}
    assert source_notes(frame) == [
        "Only sheet 'Q1' was read; the workbook's sheet(s) 'Q4', 'Q2', 'Q3' have outcome "
        "columns too and were not: value each with sheet=NAME; first, in sheet 'Q2' rename "
        "'Measure' to measure; in sheet 'Q3' delete the row(s) above its header, row 2."]
    frame.attrs["socialvalue_tom.source"]["near_sheets"] = {}
    assert source_notes(frame) == [
        "Only sheet 'Q1' was read; the workbook's sheet(s) 'Q4' have outcome columns too and "
        "were not: value each with sheet=NAME."]


def test_year_labels_write_whole_years_as_financial_years_and_leave_the_rest() -> None:
    """An adversarial review: True read '1/02', infinity raised, 2024.5 read '2024/25'."""
    from socialvalue_tom.report import year_labels

    keys = pd.Series([2024, np.int64(2023), 2025.0, True, float("inf"), 2024.5, None, "Total"],
                     dtype=object)
    assert year_labels(keys) == ["2024/25", "2023/24", "2025/26", "True", "inf", "2024.5",
                                 "(none)", "Total"]


def _glossary_terms(page: str) -> list[str]:
    """The terms the page's "Terms used in this report" section lists, in order."""
    if "<h2>Terms used in this report</h2>" not in page:
        return []
    section = page.split("<h2>Terms used in this report</h2>", 1)[1].split("<h2>", 1)[0]
    return [html_module.unescape(t) for t in re.findall(r"<dt>(.*?)</dt>", section)]


def test_report_glossary_explains_the_method_words_the_page_uses(
        valued: pd.DataFrame, tiny: sv.ProxyTable) -> None:
    """An audit committee's review: deadweight, edition, digest, claim_share and region_used
    were used on the page and explained nowhere on it. A "Terms used in this report" section,
    after the caveats that use most of them, explains in plain words each term the page uses,
    and none it does not."""
    page = report_html(value_frame(pd.read_csv(EXAMPLE)))
    terms = _glossary_terms(page)
    for term in ("Committed, delivered", "Proxy", "Illustrative", "Edition", "Digest (sha256)",
                 "Deadweight", "Displacement", "Attribution", "Drop-off",
                 "Double counting, claim_share", "region_used", "FTE"):
        assert term in terms, term
    assert terms == [t for t, _, _ in _GLOSSARY if t in terms]  # in the glossary's order
    assert (page.index("<h2>Caveats</h2>") < page.index("<h2>Terms used in this report</h2>")
            < page.index("<h2>By theme</h2>"))
    # Each entry is found by its term on the rest of the page, not by the glossary itself.
    rest = page.replace(page.split("<h2>Terms used in this report</h2>", 1)[1]
                        .split("<h2>", 1)[0], "")
    words = html_module.unescape(re.sub(r"<[^>]*>", " ", rest))
    for term, pattern, _ in _GLOSSARY:
        assert (term in terms) == bool(re.search(pattern, words)), term
    # A page with no stages nor double counting leaves those terms out.
    tiny_terms = _glossary_terms(report_html(valued, tables=tiny))
    assert tiny_terms and "Committed, delivered" not in tiny_terms
    assert "Double counting, claim_share" not in tiny_terms


def test_report_caveats_lead_with_what_the_figures_are_and_are_not_for() -> None:
    """An audit committee's review: "they are not cash" and "not for decisions" came last of
    seven caveats, after the notes on regions, double counting and prices. They come first,
    the notes on the totals' basis after them."""
    page = report_html(value_frame(pd.read_csv(EXAMPLE)))
    caveats = page.split('<div class="caveats"><ul>', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", caveats)
    assert items[0].startswith("Values are estimates of social value from open proxies")
    assert items[0].endswith("they are not cash.")
    assert "<strong>illustrative</strong>" in items[1] and "not for decisions" in items[1]
    assert items[2].startswith("The total adds commitments")
