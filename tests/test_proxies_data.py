"""The shipped proxy library: provenance of every value and derivations that cannot drift."""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import socialvalue_tom as sv
from socialvalue_tom.tables.catalogue import embedded_dir
from socialvalue_tom.tables.schema import THEME_PREFIXES, THEMES

#: The embedded editions of uk-national, as the catalogue lists them: a correction (2024.1)
#: replaces its edition here, and gets every data check, without editing this file.
EDITIONS = tuple(r.version for r in sv.available_tables() if r.name == "uk-national")
#: Open licences a shipped source may carry (docs/proxies.md, "Sources").
OPEN_LICENCES = ("OGL", "CC0", "CC-BY-4.0", "CC BY 4.0", "MIT",
                 "Scottish-Parliament-Copyright-Licence")


@pytest.fixture(scope="module", params=EDITIONS)
def edition(request: pytest.FixtureRequest) -> sv.ProxyTable:
    return sv.load_table("uk-national", version=request.param)


def _year(edition: sv.ProxyTable) -> str:
    """The financial year an edition is of, its label without a correction's suffix (2025
    for 2025.1): what the checks below look figures up by (a table author's review: a
    correction failed them on its label, though the data were right)."""
    return edition.version.partition(".")[0]


def test_three_editions_are_listed_with_financial_year_validity() -> None:
    """One edition for each financial year 2023/24 to 2025/26, labelled by its year (a
    correction by its year and a suffix: 2024.1)."""
    refs = [r for r in sv.available_tables() if r.name == "uk-national"]
    assert [r.version.partition(".")[0] for r in refs] == ["2023", "2024", "2025"]
    for ref in refs:
        year = int(ref.version.partition(".")[0])
        assert ref.valid_from == dt.date(year, 4, 1)
        assert ref.valid_to == dt.date(year + 1, 3, 31)
        assert len(ref.digest) == 64


@pytest.mark.parametrize(("day", "version"), [
    (dt.date(2023, 4, 1), "2023"), (dt.date(2024, 3, 31), "2023"), (dt.date(2024, 4, 1), "2024"),
    (dt.date(2024, 7, 1), "2024"), (dt.date(2025, 3, 31), "2024"), (dt.date(2025, 4, 1), "2025"),
    (dt.date(2026, 3, 31), "2025"),
])
def test_edition_in_force_on_each_boundary(day: dt.date, version: str) -> None:
    assert sv.load_table("uk-national", on=day).version == version


@pytest.mark.parametrize("day", [dt.date(2023, 3, 31), dt.date(2026, 4, 1), dt.date(1999, 1, 1)])
def test_no_edition_outside_the_series(day: dt.date) -> None:
    with pytest.raises(sv.NoTableInForceError, match=str(day)):
        sv.load_table("uk-national", on=day)


def test_edition_covers_the_issue_s_measure_set(edition: sv.ProxyTable) -> None:
    assert len(edition.measures) >= 40
    assert {m.theme for m in edition.measures.values()} == set(THEMES)
    codes = set(edition.measures)
    for needed in ("jobs-local-fte", "env-carbon-saved"):
        assert needed in codes
    for region in ("england", "scotland", "wales", "northern-ireland", "london"):
        assert region in edition.region_codes
    assert edition.spec.fallback_region == "uk"
    assert edition.spec.price_base_year == int(_year(edition))
    assert edition.price_index is not None


def test_every_shipped_code_starts_with_its_theme_s_prefix(edition: sv.ProxyTable) -> None:
    """The embedded editions' convention (a table of one's own may use codes of its own)."""
    for m in edition.measures.values():
        assert m.code.startswith(THEME_PREFIXES[m.theme]), (m.code, m.theme)


def test_every_value_has_source_licence_unit_price_base_and_derivation(
        edition: sv.ProxyTable) -> None:
    for source in edition.sources.values():
        assert source.url.startswith("https://"), source.id
        assert source.licence.startswith(OPEN_LICENCES), (source.id, source.licence)
        assert source.year >= 1990
    for m in edition.measures.values():
        assert m.unit and m.evidence, m.code
        assert m.value_type in ("economic", "fiscal", "social", "environmental")
        for region, pv in m.proxies.items():
            assert pv.source in edition.sources, (m.code, region)
            # Both ways: a value citing svt-illustrative without its flag passed every check
            # and was reported as a published figure, with no caveat (a table author's review).
            assert (pv.source == "svt-illustrative") == pv.illustrative, (m.code, region)
            if pv.illustrative:
                # Labelled in the table itself, and citing the source that says what an
                # illustrative value is (proxies/README, provenance rule 4).
                assert edition.spec.illustrative, (m.code, region)
                assert pv.source == "svt-illustrative", (m.code, region, pv.source)
            else:
                assert pv.derivation is not None, (m.code, region)


_DECIMAL_OPS: dict[type[ast.operator], Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow}
#: Functions of the expression language a derivation may call, in Decimal.
_DECIMAL_CALLS: dict[str, Callable[..., Decimal]] = {"min": min, "max": max}


def _decimal_eval(node: ast.AST, inputs: dict[str, Decimal]) -> Decimal:
    """A derivation formula worked out in Decimal, independently of the library's expression
    engine (which the loader already runs on every derivation: comparing it with itself would
    prove nothing). Only the arithmetic the shipped formulas use is known here."""
    if isinstance(node, ast.Expression):
        return _decimal_eval(node.body, inputs)
    if isinstance(node, ast.BinOp) and type(node.op) in _DECIMAL_OPS:
        return _DECIMAL_OPS[type(node.op)](_decimal_eval(node.left, inputs),
                                           _decimal_eval(node.right, inputs))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _decimal_eval(node.operand, inputs)
        return -inner if isinstance(node.op, ast.USub) else inner
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _DECIMAL_CALLS and not node.keywords):
        return _DECIMAL_CALLS[node.func.id](*(_decimal_eval(a, inputs) for a in node.args))
    if isinstance(node, ast.Name):
        return inputs[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return Decimal(str(node.value))
    raise AssertionError(f"derivation uses {ast.dump(node)}: teach _decimal_eval it")


def _recompute(formula: str, inputs: dict[str, object]) -> Decimal:
    """The stored figure the formula gives: exact, then to the penny half-up (the table rule)."""
    with localcontext(Context(prec=50)):
        exact = _decimal_eval(ast.parse(formula, mode="eval"),
                              {k: Decimal(str(v)) for k, v in inputs.items()})
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _raw_measures(version: str) -> list[dict[str, Any]]:
    """The edition's measures as the YAML file holds them, read without the library."""
    text = (embedded_dir() / "uk-national" / f"{version}.yaml").read_text(encoding="utf-8")
    measures: list[dict[str, Any]] = yaml.safe_load(text)["measures"]
    return measures


@pytest.mark.parametrize("version", EDITIONS)
def test_every_derived_value_recomputes_from_its_recorded_inputs(version: str) -> None:
    """Each stored value, low and high equals its formula worked out in Decimal from the
    recorded inputs, read from the file itself; and the loaded table holds the same figures."""
    loaded = sv.load_table("uk-national", version=version)
    checked = 0
    for m in _raw_measures(version):
        for region, pv in m["proxies"].items():
            d = pv.get("derivation")
            if d is None:
                continue
            where = f"{version} {m['code']} {region}"
            for bound, formula in (("value", "formula"), ("low", "low_formula"),
                                   ("high", "high_formula")):
                if d.get(formula) is None:
                    assert bound == "value" or bound not in pv, where
                    continue
                stored = Decimal(str(pv[bound]))
                assert _recompute(d[formula], d["inputs"]) == stored, (where, bound)
                got = getattr(loaded.measures[m["code"]].proxies[region], bound)
                assert Decimal(str(got)) == stored, (where, bound)
                checked += 1
    assert checked >= 60


def test_decimal_recompute_is_exact_where_floats_are_not() -> None:
    """The check can tell pennies apart: 7.55 x 37.5 is 283.125, stored half-up as 283.13
    (half-to-even would give 283.12, the value the 2025 edition once held); 2/3 is 0.67."""
    assert _recompute("rate * hours", {"rate": 7.55, "hours": 37.5}) == Decimal("283.13")
    assert _recompute("a * b / c", {"a": 1, "b": 2, "c": 3}) == Decimal("0.67")
    with pytest.raises(AssertionError, match="teach _decimal_eval"):
        _recompute("clip(a, 0, b)", {"a": 1, "b": 2})


def test_carbon_is_valued_with_low_and_high_bounds(edition: sv.ProxyTable) -> None:
    pv = edition.measures["env-carbon-saved"].proxies["uk"]
    assert pv.low is not None and pv.high is not None
    assert pv.low < pv.value < pv.high
    assert edition.measures["env-carbon-saved"].unit == "tCO2e"


def test_shipped_manifest_matches_the_embedded_files() -> None:
    import json

    manifest = json.loads((embedded_dir() / "manifest.json").read_text(encoding="utf-8"))["digests"]
    refs = {f"{r.name}/{r.version}.yaml": r.digest for r in sv.available_tables()}
    for rel, digest in refs.items():
        assert manifest[rel] == digest


def test_every_listed_source_is_cited_by_a_value_an_input_or_a_setting(
        edition: sv.ProxyTable) -> None:
    """A data audit found the DWP benefit rates and the deflator listed but cited by no value
    (named in notes alone): each source is now cited by a proxy, a derivation input
    (input_sources), a parameter, an additionality default or the confidence grades."""
    spec = edition.spec
    cited = {spec.confidence_grades.source} if spec.confidence_grades else set()
    cited |= {p.source for p in spec.parameters.values()}
    for m in spec.measures:
        cited.add(m.additionality_source)
        for pv in m.proxies.values():
            cited.add(pv.source)
            if pv.derivation is not None:
                cited |= set((pv.derivation.input_sources or {}).values())
    assert {s.id for s in spec.sources} - cited == set()


def test_notice_carries_an_attribution_for_every_licence_the_shipped_tables_use(
        edition: sv.ProxyTable) -> None:
    """The OGL and the Scottish Parliament licence ask for an attribution statement with the
    data: NOTICE (in every wheel, tests/test_packaging.py) has a paragraph per licence."""
    notice = (Path(__file__).resolve().parent.parent / "NOTICE").read_text(encoding="utf-8")
    index = edition.price_index
    cited = [*edition.sources.values(), *([index.spec.source] if index is not None else [])]
    for source in cited:
        assert f"\n* {source.licence}: " in notice, (source.id, source.licence)


def test_no_licensed_third_party_values_are_shipped() -> None:
    # TOMs/HACT values may not be embedded; their codes only live in proxies/crosswalks/.
    for path in (embedded_dir() / "uk-national").glob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        assert "socialvalueportal" not in text and "hact.org.uk" not in text, path


#: Regions with an ASHE median of their own in each edition; others use the declared fallback (uk).
OWN_WAGE_REGIONS = {"2023": {"uk", "london", "northern-ireland", "scotland", "wales"},
                    "2024": {"uk", "london", "northern-ireland", "scotland"},
                    "2025": {"uk", "london", "northern-ireland", "scotland"}}


def test_wage_based_proxies_cover_the_regions_with_a_published_median(
        edition: sv.ProxyTable) -> None:
    wage_based = [m for m in edition.measures.values()
                  if (d := m.proxies["uk"].derivation) and "median_weekly_pay_ft" in d.inputs]
    assert len(wage_based) == 8
    for m in wage_based:
        assert set(m.proxies) == OWN_WAGE_REGIONS[_year(edition)], m.code
        uk_pay = m.proxies["uk"].derivation.inputs["median_weekly_pay_ft"]  # type: ignore[union-attr]
        london_pay = m.proxies["london"].derivation.inputs["median_weekly_pay_ft"]  # type: ignore[union-attr]
        assert london_pay > uk_pay, m.code  # London is the highest-paid region in every year


def test_every_regional_fallback_is_explained_by_the_value_it_reaches(
        edition: sv.ProxyTable) -> None:
    """A devolved-nations review: a region without a figure of its own, for a measure that
    has regional figures, was valued at the UK's with no word of whether that is its own
    figure (the UK Landfill Tax in Northern Ireland) or a stand-in and what it costs (Wales's
    wage). Every such region is named by the value it reaches, in applies_in or
    stands_in_for; a measure at one national figure everywhere needs none."""
    parents = {r.code: r.parent for r in edition.spec.regions}
    for m in edition.measures.values():
        if len(m.proxies) == 1:
            continue
        for region in parents:
            if region in m.proxies:
                continue
            reached = parents[region]
            while reached not in m.proxies:
                reached = parents[reached]
            pv = m.proxies[reached]
            said = {**(pv.applies_in or {}), **(pv.stands_in_for or {})}
            assert region in said, (edition.version, m.code, region)
        wage = (d := m.proxies["uk"].derivation) is not None and "median_weekly_pay_ft" in d.inputs
        landfill = m.code.startswith(("env-waste-", "env-inert-"))
        assert wage or landfill, m.code  # the two kinds of regional figure the editions hold
        uk = m.proxies["uk"]
        # A wage median missing is a stand-in; the UK Landfill Tax is England's and NI's own.
        wage_gaps = {"england"} if _year(edition) == "2023" else {"england", "wales"}
        assert set(uk.stands_in_for or {}) == (wage_gaps if wage else set()), m.code
        assert set(uk.applies_in or {}) == (
            set() if wage else {"england", "london", "northern-ireland"}), m.code
        wales = (uk.stands_in_for or {}).get("wales")
        if wage and wales is not None:  # the bound it quotes is the source's, worked out
            floor = float(re.search(r"North East's GBP (\d+)", wales)[1])  # type: ignore[index]
            source = edition.sources[f"nisra-ashe-{_year(edition)}"]
            assert f"North East lowest at GBP {floor:.0f}" in " ".join(
                (source.notes or "").split())
            uk_pay = uk.derivation.inputs["median_weekly_pay_ft"]  # type: ignore[union-attr]
            assert f"at most about {round(100 * (uk_pay / floor - 1))}% high" in wales


def test_wales_and_scotland_2023_are_valued_at_their_own_medians_and_england_falls_back(
) -> None:
    on = dt.date(2023, 6, 1)

    def local_jobs(region: str) -> sv.Valuation:
        return sv.value(sv.Outcome(measure="jobs-local-fte", quantity=2, unit="FTE",
                                   region=region, date=on), "uk-national")

    wales, scotland, england = local_jobs("wales"), local_jobs("scotland"), local_jobs("england")
    assert (wales.region_used, scotland.region_used, england.region_used) == (
        "wales", "scotland", "uk")
    # 633.7 x 52 = 32,952.40 per FTE; x 2 FTE x (1 - 0.25 displacement) = 49,428.60
    assert wales.pennies == 4_942_860
    assert scotland.pennies == 5_531_760  # 709.2 x 52 = 36,878.40; x 2 x 0.75 = 55,317.60
    assert england.pennies == 5_319_600  # 682 x 52 x 2 x 0.75


#: Scotland's ASHE medians (Nomis NM_99_1, workplace, full-time, gross weekly) as recorded in the
#: sources of each edition; the proxies must be derived from these and no other figure.
SCOTLAND_PAY = {"2023": 709.2, "2024": 739.7, "2025": 773.8}


def test_scotland_wage_proxies_derive_from_the_recorded_nomis_figure(
        edition: sv.ProxyTable) -> None:
    source = edition.sources[f"nomis-ashe-scotland-{_year(edition)}"]
    assert source.licence == "OGL-3.0" and "NM_99_1" in source.url
    pay = SCOTLAND_PAY[_year(edition)]
    assert f"{pay}" in (source.notes or "")
    citing = [m for m in edition.measures.values()
              if "scotland" in m.proxies and m.proxies["scotland"].source == source.id]
    assert len(citing) == 8  # jobs-local-fte and the seven jobs-priority-* measures
    for m in citing:
        d = m.proxies["scotland"].derivation
        assert d is not None and d.inputs["median_weekly_pay_ft"] == pay, m.code


#: DESNZ data tables 1-19 (November 2023), table 3, central carbon values in 2022 prices: the
#: cross-check recorded in the desnz-carbon-values source notes.
DESNZ_CENTRAL_2022_PRICES = {"2023": 264.93, "2024": 268.97, "2025": 273.06}


def test_carbon_raw_figures_agree_with_the_later_desnz_series_up_to_rounding() -> None:
    inputs = {ed: sv.load_table("uk-national", version=ed).measures["env-carbon-saved"]
              .proxies["uk"].derivation.inputs for ed in EDITIONS}  # type: ignore[union-attr]
    factor = (sum(DESNZ_CENTRAL_2022_PRICES.values())
              / sum(i["central_2020_prices"] for i in inputs.values()))
    for ed, i in inputs.items():
        central = i["central_2020_prices"]
        # One price-base factor maps one series onto the other; the 2020-price figures are whole
        # pounds, so each may differ from the rescaled later figure by at most half a pound.
        assert abs(central - DESNZ_CENTRAL_2022_PRICES[ed] / factor) <= 0.5, ed
        assert (i["low_2020_prices"], i["high_2020_prices"]) == (central * 0.5, central * 1.5), ed


LANDFILL_MEASURES = ("env-waste-recycled", "env-waste-reused", "env-waste-recovered",
                     "env-inert-waste-diverted")


def test_landfill_proxies_use_each_nation_s_own_tax(edition: sv.ProxyTable) -> None:
    year = _year(edition)
    for code in LANDFILL_MEASURES:
        proxies = edition.measures[code].proxies
        assert set(proxies) == {"uk", "scotland", "wales"}, code
        assert proxies["uk"].source == f"hmrc-landfill-tax-{year}"
        assert proxies["scotland"].source == f"scot-slft-{year}"
        assert proxies["wales"].source == f"wra-ldt-rates-{year}"
        # Scotland has kept its rates equal to the UK's in every year of the series
        assert proxies["scotland"].value == proxies["uk"].value, code


def test_wales_2025_lower_rate_is_its_own_and_values_inert_waste() -> None:
    t = sv.load_table("uk-national", version="2025")
    inert = t.measures["env-inert-waste-diverted"].proxies
    standard = t.measures["env-waste-recycled"].proxies["wales"].value
    assert (inert["uk"].value, inert["wales"].value) == (4.05, 6.30)
    assert inert["wales"].value == pytest.approx(standard * 0.05, abs=0.01)  # 5% of standard
    v = sv.value(sv.Outcome(measure="env-inert-waste-diverted", quantity=10, unit="tonne",
                            region="wales", date=dt.date(2025, 6, 1)), "uk-national")
    assert v.region_used == "wales" and v.pennies == 6_300


# -- double counting -----------------------------------------------------------------------------

#: Breakdowns that are part of a whole claimed under another measure of the same unit.
PART_OF_WHOLE = {"carbon-savings-by-source-counted-once": (
                     ("env-carbon-saved-buildings", "env-carbon-saved-fleet"), "env-carbon-saved"),
                 "stem-outreach-within-school-engagement": (
                     ("innov-stem-engagement-hour",), "jobs-school-engagement-hour")}


@pytest.mark.parametrize("rule", sorted(PART_OF_WHOLE))
def test_a_breakdown_claimed_with_its_whole_is_counted_once(edition: sv.ProxyTable,
                                                            rule: str) -> None:
    """On one contract, 4 units of each part and 10 of the whole are 10 units in all: the parts
    in full, the whole reduced by them; on another contract the whole counts in full."""
    parts, whole = PART_OF_WHOLE[rule]
    (excl,) = [e for e in edition.spec.exclusions if e.id == rule]
    assert (excl.measures, excl.mode) == ((*parts, whole), "count_once")
    unit = edition.measures[whole].unit
    day = edition.valid_from
    rows = [(m, 4.0, "C1") for m in parts] + [(whole, 10.0, "C1"), (whole, 10.0, "C2")]
    frame = pd.DataFrame({"measure": [r[0] for r in rows], "quantity": [r[1] for r in rows],
                          "unit": unit, "region": "uk", "date": day,
                          "contract_id": [r[2] for r in rows]})
    out = sv.value_frame(frame, edition)
    proxy = edition.proxy(whole, "uk").value
    # The parts and their whole have one value a unit (a table author's review: changing the
    # whole alone failed an assertion that named nothing).
    differ = {m: edition.proxy(m, "uk").value for m in parts
              if edition.proxy(m, "uk").value != proxy}
    assert not differ, (f"{rule}: the parts of {whole} (GBP {proxy} a unit) are valued "
                        f"otherwise: {differ}; change the parts with their whole")
    assert out.loc[out["contract_id"] == "C1", "value_gbp"].sum() == pytest.approx(10 * proxy)
    assert out["value_gbp"].iloc[-1] == pytest.approx(10 * proxy)
    assert out["exclusion"].iloc[len(parts)] == rule


# -- crosswalks ---------------------------------------------------------------------------------

CROSSWALKS = Path(__file__).resolve().parent.parent / "proxies" / "crosswalks"
PPN002_MISSIONS = {"Kickstart economic growth", "Make Britain a clean energy superpower",
                   "Take back our streets", "Break down barriers to opportunity",
                   "Build an NHS fit for the future"}
#: The policy outcomes of PPN 002 found in public sources, by number (5 was not found).
PPN002_OUTCOMES = {1: "Fair work", 2: "Skills for growth",
                   3: "Resilient, innovative and flexible supply chains",
                   4: "Sustainable procurement practices", 6: "Employment and training",
                   7: "Creating a pipeline of opportunities",
                   8: "Increasing productivity through physical and mental wellbeing"}
PPN0620 = {"COVID-19 recovery": set(),
           "Tackling economic inequality": {"Create new businesses, new jobs and new skills",
                                            "Increase supply chain resilience and capacity"},
           "Fighting climate change": {"Effective stewardship of the environment"},
           "Equal opportunity": {"Reduce the disability employment gap",
                                 "Tackle workforce inequality"},
           "Wellbeing": {"Improve health and wellbeing", "Improve community cohesion"}}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.mark.parametrize("name", ["toms", "ppn002", "ppn0620"])
def test_crosswalk_maps_every_shipped_measure_once_with_codes_only(name: str) -> None:
    """Each crosswalk maps every measure of the shipped editions exactly once, in its format,
    and holds codes and names, never values."""
    data = yaml.safe_load((CROSSWALKS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert data["format"] == "socialvalue_tom.crosswalk/v1" and data["name"] == name
    measures = [m["measure"] for m in data["mappings"]]
    shipped = {code for ref in sv.available_tables()
               for code in sv.load_table(ref.name, version=ref.version).measures}
    assert len(measures) == len(set(measures)) and set(measures) == shipped
    for m in data["mappings"]:
        assert set(m) <= {"measure", "codes", "note", "mission", "theme", "outcome"}, m
        assert all(isinstance(c, str) for c in m["codes"]), m


def test_ppn002_crosswalk_is_one_mission_per_outcome_with_matching_codes() -> None:
    """Codes are the slugs of the mission and outcome named beside them; each outcome sits
    under one of the five PPN 002 missions, the same one wherever it appears."""
    data = yaml.safe_load((CROSSWALKS / "ppn002.yaml").read_text(encoding="utf-8"))
    mission_of: dict[str, str] = {}
    for m in data["mappings"]:
        if not m["codes"]:  # no counterpart: said so, and nothing else given
            assert set(m) == {"measure", "codes", "note"} and "No counterpart" in m["note"], m
            continue
        assert m["mission"] in PPN002_MISSIONS, m
        number, name = re.fullmatch(r"Outcome (\d): (.+)", m["outcome"]).groups()  # type: ignore[union-attr]
        assert PPN002_OUTCOMES[int(number)] == name, m
        assert m["codes"] == [_slug(m["mission"]), _slug(m["outcome"])], m
        assert mission_of.setdefault(m["outcome"], m["mission"]) == m["mission"], m


def test_ppn0620_crosswalk_names_the_model_s_themes_and_their_outcomes() -> None:
    data = yaml.safe_load((CROSSWALKS / "ppn0620.yaml").read_text(encoding="utf-8"))
    for m in data["mappings"]:
        assert m["outcome"] in PPN0620[m["theme"]], m
        assert m["codes"] == [_slug(m["theme"]), _slug(m["outcome"])], m


def test_every_source_is_listed_in_the_sources_table_of_docs_proxies_md() -> None:
    """docs/proxies.md says every value cites one of its listed sources: each source id of
    every edition appears in that table, in full or as a year suffix after its first year
    (`ons-ashe-2023`, `-2024`, `-2025`)."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "proxies.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    for version in EDITIONS:
        for source in sv.load_table("uk-national", version=version).sources:
            stem = re.sub(r"-\d{4}$", "", source)
            suffix = source[len(stem):]
            assert any(f"`{source}`" in row or (suffix and f"`{stem}-" in row
                                                and f"`{suffix}`" in row) for row in rows), source


@pytest.mark.parametrize(("formula", "expected"), [
    ("rate * 1.0 ** years", Decimal("11.44")), ("-rate + 2 * rate", Decimal("11.44")),
    ("max(rate, 12) - min(rate, 0)", Decimal("12"))])
def test_the_decimal_recomputation_knows_the_arithmetic_derivations_may_use(
        formula: str, expected: Decimal) -> None:
    """A contributor's review: a derivation written with ``**`` loaded (the expression
    language allows it) but failed the recomputation with "teach _decimal_eval it"."""
    assert _recompute(formula, {"rate": 11.44, "years": 3}) == expected


def test_the_editions_table_in_docs_proxies_counts_what_the_editions_hold() -> None:
    """A contributor's review: after a measure was added, every check passed while
    docs/proxies.md still gave the old count. Its table of editions lists each embedded
    edition once, with its measures and illustrative values counted."""
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "proxies.md").read_text(
        encoding="utf-8")
    rows = re.findall(r"^\| `uk-national` \| `([^`]+)` \|[^|]*\|[^|]*\| (\d+) \| (\d+) ", page,
                      flags=re.MULTILINE)
    assert [r[0] for r in rows] == list(EDITIONS)
    for version, measures, illustrative in rows:
        table = sv.load_table("uk-national", version=version)
        held = sum(pv.illustrative for m in table.measures.values() for pv in m.proxies.values())
        assert (int(measures), int(illustrative)) == (len(table.measures), held), version


def test_deflator_inputs_are_the_index_figures_for_their_years(edition: sv.ProxyTable) -> None:
    """A table author rehearsing a new edition: nothing tied a derivation's deflator inputs
    to the edition's price base, so a copied 2025 derivation in a 2026 edition (uplifted to
    the wrong year) would have passed. An input read from the index's source is the index's
    figure for the year it names: `gdp_deflator_price_base` for the edition's price base,
    `gdp_deflator_<year>` for that year."""
    index = edition.price_index
    assert index is not None
    figures = index.spec.values
    checked = 0
    for m in edition.measures.values():
        for region, pv in m.proxies.items():
            d = pv.derivation
            if d is None:
                continue
            for name, source in (d.input_sources or {}).items():
                if source != index.spec.source.id:
                    continue
                suffix = name.removeprefix("gdp_deflator_")
                year = edition.spec.price_base_year if suffix == "price_base" else int(suffix)
                assert d.inputs[name] == pytest.approx(figures[year], abs=5e-5), (
                    m.code, region, name, year)
                checked += 1
    assert checked > 0
