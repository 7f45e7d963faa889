"""Portfolio analysis: summarise, targets vs delivered, HTML report (hand-computed from tiny.yaml).

tiny.yaml, 2024 prices, no discounting for one-year outcomes:
- jobs-local: £20,000/FTE (uk), £30,000/FTE (london), deadweight 0.1
- env-carbon: £250/tCO2e; env-carbon-added: £250/tCO2e, a disbenefit (negative)
- social-volunteering: £15/hour (uk), £14.50/hour (scotland)
"""

from __future__ import annotations

import base64
import re
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import socialvalue_tom as sv
from socialvalue_tom.errors import RuleError
from socialvalue_tom.frame import value_frame
from socialvalue_tom.report import (
    annotate,
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


def test_summarise_when_rows_not_valued_then_left_out(portfolio: pd.DataFrame,
                                                      tiny: sv.ProxyTable) -> None:
    """Bad rows (value NaN under errors='collect') count in no total."""
    portfolio.loc[0, "quantity"] = -1
    v = value_frame(portfolio, tiny, errors="collect")
    s = summarise(v, by=())
    assert s["rows"].iloc[0] == 3
    assert s["net_gbp"].iloc[0] == Decimal("3700.00")


def test_annotate_when_tables_given_then_theme_and_illustrative(valued: pd.DataFrame,
                                                               tiny: sv.ProxyTable) -> None:
    """Measure info comes from the tables that valued the rows."""
    a = annotate(valued, tiny)
    assert a["theme"].tolist() == ["jobs", "environment", "environment", "social"]
    assert a["canonical_unit"].tolist() == ["FTE", "tCO2e", "tCO2e", "hour"]
    assert a["illustrative"].tolist() == [True] * 4


def test_annotate_when_user_table_not_given_then_asks_for_tables(valued: pd.DataFrame) -> None:
    """A user's own table cannot be found again from attrs: the caller must pass it."""
    with pytest.raises(ValueError, match="tables="):
        annotate(valued)
    bare = valued.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="tables="):
        annotate(bare)


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
    t = targets_vs_delivered(v).set_index("contract_id")
    assert t.loc["c1", "committed_gbp"] == Decimal("36000.00")
    assert t.loc["c1", "delivered_gbp"] == Decimal("27000.00")
    assert t.loc["c1", "shortfall_gbp"] == Decimal("9000.00")
    assert t.loc["c1", "delivered_pct"] == pytest.approx(75.0)
    assert t.loc["c2", "shortfall_gbp"] == Decimal("0.00")  # over-delivered: no shortfall
    m = targets_vs_delivered(v, by_measure=True, tables=tiny).set_index(["contract_id", "measure"])
    assert m.loc[("c1", "jobs-local"), "committed_quantity"] == 2.0
    assert m.loc[("c1", "jobs-local"), "delivered_quantity"] == 1.5
    assert m.loc[("c1", "jobs-local"), "unit"] == "FTE"


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
    for heading in ("By theme", "By supplier", "Editions used", "Caveats"):
        assert f"<h2>{heading}</h2>" in text
    assert tiny.digest in text
    assert "illustrative" in text
    assert "Targets vs delivered" not in text  # no stage column
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2
    assert base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "http://" not in text and "https://" not in text  # nothing fetched from outside


def test_report_html_when_issues_then_counted_in_caveats(portfolio: pd.DataFrame,
                                                         tiny: sv.ProxyTable,
                                                         tmp_path: Path) -> None:
    """Rows that were not valued are reported as left out."""
    portfolio.loc[2, "measure"] = "nope"
    v = value_frame(portfolio, tiny, errors="collect")
    path = render_report(v, tmp_path / "r.html", tables=tiny)
    assert "1 problem(s) in the input" in path.read_text(encoding="utf-8")


def test_editions_used_when_valued_then_one_triple(valued: pd.DataFrame,
                                                   tiny: sv.ProxyTable) -> None:
    """The edition and digest used are listed once."""
    assert editions_used(valued) == [("tiny", "2024", tiny.digest)]


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


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
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
