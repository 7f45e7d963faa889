"""Crosswalks: totals in the languages buyers report in (PPN 002, PPN 06/20, National TOMs
codes), every row in exactly one group."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import socialvalue_tom as sv
from socialvalue_tom.cli import app
from socialvalue_tom.tables import crosswalk as cw

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "portfolio.csv"


def test_the_three_embedded_crosswalks_load_as_tables_of_every_measure() -> None:
    assert sv.available_crosswalks() == ["ppn002", "ppn0620", "toms"]
    shipped = {code for ref in sv.available_tables()
               for code in sv.load_table(ref.name, version=ref.version).measures}
    for name in sv.available_crosswalks():
        table = sv.load_crosswalk(name)
        raw = yaml.safe_load((ROOT / "proxies" / "crosswalks" / f"{name}.yaml")
                             .read_text(encoding="utf-8"))
        assert set(table["measure"]) == shipped and table["measure"].is_unique
        assert table["codes"].tolist() == [", ".join(m["codes"]) for m in raw["mappings"]]
        assert table.attrs["crosswalk"]["title"] == raw["title"]
        for field in cw.CROSSWALK_GROUPS[name]:
            assert field in table.columns
    toms = sv.load_crosswalk("toms").set_index("measure")
    assert toms.loc["jobs-local-fte", "codes"] == "NT1"


def test_an_unknown_crosswalk_names_the_embedded_ones() -> None:
    with pytest.raises(sv.ProxyTableError, match="unknown crosswalk 'tom': the embedded ones "
                                                 "are ppn002, ppn0620, toms"):
        sv.load_crosswalk("tom")


@pytest.mark.parametrize(("text", "field"), [
    ("mappings:\n- {measure: a, codes: [x]}\n- {measure: a, codes: [y]}\n",
     "mappings[1].measure"),
    ("mappings:\n- {measure: a, codes: [x], colour: red}\n", "mappings[0].colour"),
    ("mappings:\n- {measure: a, codes: x}\n", "mappings[0].codes"),
])
def test_a_malformed_crosswalk_is_refused_naming_the_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, field: str) -> None:
    """A measure mapped twice would count its value in two groups; an unknown key or a code
    list that is not a list is a typo. Each is a ProxyTableError naming the field."""
    head = ("format: socialvalue_tom.crosswalk/v1\nname: mine\nfamily: uk-national\ntitle: Mine\n"
            "source: {title: x}\n")
    (tmp_path / "mine.yaml").write_text(head + text, encoding="utf-8")
    monkeypatch.setattr(cw, "_folder", lambda: tmp_path)
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_crosswalk("mine")
    assert info.value.details["field"] == field, str(info.value)


def test_with_crosswalk_puts_every_row_in_one_group_and_the_groups_add_up() -> None:
    """Each row is in one group of each crosswalk (a measure of two TOMs codes in the group
    'NT12, NT13'; one with no counterpart, or not in the crosswalk, in a group saying so), so
    the groups' exact sums add to the whole; the input is left as it was."""
    valued = sv.value_frame(pd.read_csv(EXAMPLE))
    valued.loc[0, "measure"] = " jobs-local-fte "  # read as valuing reads it
    extra = pd.DataFrame({"measure": ["my-own-measure"], "value_gbp": [10.0]})
    frame = pd.concat([valued, extra], ignore_index=True)
    before = frame.copy()
    whole = sum((Decimal(repr(v)) for v in frame["value_gbp"]), Decimal(0))
    for name, fields in cw.CROSSWALK_GROUPS.items():
        out = sv.with_crosswalk(frame, name)
        pd.testing.assert_frame_equal(frame, before)
        for field in fields:
            groups = out[f"{name}_{field}"]
            assert groups.notna().all() and (groups != "").all()
            assert groups.iloc[-1] == cw.NOT_IN_CROSSWALK
            parts = out.groupby(groups)["value_gbp"].apply(
                lambda s: sum((Decimal(repr(v)) for v in s), Decimal(0)))
            assert sum(parts, Decimal(0)) == whole
    toms = sv.with_crosswalk(frame, "toms")["toms_codes"]
    assert toms.iloc[0] == "NT1" and cw.NO_COUNTERPART in set(toms)
    assert "NT12, NT13" in set(toms)
    ppn = sv.with_crosswalk(frame, "ppn002")
    totals = sv.summarise(ppn, by="ppn002_outcome")
    assert "Outcome 1: Fair work" in set(totals["ppn002_outcome"])
    assert totals["rows"].sum() == len(frame)


def test_with_crosswalk_leaves_out_measures_of_another_family_under_a_shared_code(
        tmp_path: Path) -> None:
    """A table-author review: a council's own table with a measure coded ``growth-local-spend``
    (its own definition, at its own proxy) was grouped under the uk-national measure's TOMs code
    and PPN 002 outcome without a word. The crosswalks map uk-national's measures: a row
    valued with another family's table is not in them, whatever its code."""
    text = (ROOT / "tests" / "data" / "tables" / "tiny.yaml").read_text(encoding="utf-8")
    assert "family: tiny" in text and "code: growth-local-spend" in text
    (tmp_path / "tiny.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "tiny-deflator.index.yaml").write_bytes(
        (ROOT / "tests" / "data" / "tables" / "tiny-deflator.index.yaml").read_bytes())
    rows = pd.DataFrame({"measure": ["growth-local-spend"], "quantity": [1000.0],
                         "unit": ["GBP"], "region": ["uk"], "date": ["2024-06-01"]})
    mine = sv.value_frame(rows, sv.load_table(path=tmp_path / "tiny.yaml"))
    theirs = sv.value_frame(rows, "uk-national")
    for name, fields in cw.CROSSWALK_GROUPS.items():
        for field in fields:
            assert sv.with_crosswalk(mine, name)[f"{name}_{field}"].tolist() == [
                cw.NOT_IN_CROSSWALK]
            assert sv.with_crosswalk(theirs, name)[f"{name}_{field}"].tolist() != [
                cw.NOT_IN_CROSSWALK]
    # A row that was not valued (no table) is matched on its measure, as before.
    unvalued = theirs.assign(table=None)
    assert (sv.with_crosswalk(unvalued, "toms")["toms_codes"].tolist()
            == sv.with_crosswalk(theirs, "toms")["toms_codes"].tolist())
    assert sv.load_crosswalk("toms").attrs["crosswalk"]["family"] == "uk-national"


def test_totals_by_a_crosswalk_list_its_codes_in_their_own_order() -> None:
    """Sorted as text, NT10 came between NT1 and NT3 (a social value manager's review): the
    groups are in the codes' order, the rows with no counterpart last; the cells read as
    before."""
    table = cw.load_crosswalk("toms")
    rows = pd.DataFrame({"measure": [*table["measure"], "my-own"], "value_gbp": 1.0})
    grouped = cw.with_crosswalk(rows, "toms")
    order = sv.summarise(grouped, by="toms_codes")["toms_codes"].tolist()
    assert order.index("NT3") < order.index("NT10") < order.index("NT12, NT13") < order.index(
        "NT13") < order.index("NT31") < order.index("NT31, NT32")
    assert order[-2:] == [cw.NO_COUNTERPART, cw.NOT_IN_CROSSWALK]
    assert grouped["toms_codes"].iloc[-1] == cw.NOT_IN_CROSSWALK
    assert sorted(order) == sorted(set(grouped["toms_codes"].astype(str)))
    assert cw._in_code_order("NT2") < cw._in_code_order("NT10") < cw._in_code_order("NTa")


def test_with_crosswalk_needs_a_measure_column() -> None:
    with pytest.raises(sv.OutcomeError, match="measure"):
        sv.with_crosswalk(pd.DataFrame({"value_gbp": [1.0]}), "toms")


@pytest.mark.parametrize(("by", "column", "group"), [
    ("ppn002", "ppn002_outcome", "Outcome 1: Fair work"),
    ("ppn0620", "ppn0620_outcome", "Create new businesses, new jobs and new skills"),
    ("toms", "toms_codes", "NT1"),
])
def test_value_by_a_crosswalk_prints_and_writes_its_totals(tmp_path: Path, by: str,
                                                           column: str, group: str) -> None:
    """`value --by ppn002` totals the portfolio by the PPN 002 outcome (and --totals writes
    them), with the same Total as by theme."""
    totals = tmp_path / "t.csv"
    result = CliRunner().invoke(app, ["value", str(EXAMPLE), "--by", by, "--totals",
                                      str(totals)])
    assert result.exit_code == 0, result.output
    assert f"Social value by {column}" in result.stdout and group in result.stdout
    written = pd.read_csv(totals)
    assert written.columns[0] == column and written[column].iloc[-1] == "Total"
    by_theme = CliRunner().invoke(app, ["value", str(EXAMPLE), "--by", "theme"])
    theme_total = next(x for x in by_theme.stdout.splitlines() if "│ Total" in x)
    total = next(x for x in result.stdout.splitlines() if "│ Total" in x)
    assert theme_total.split()[-4:] == total.split()[-4:]  # rows, benefits, ... net


def test_report_adds_a_section_per_crosswalk_asked_for(tmp_path: Path) -> None:
    """`report --crosswalk ppn002 --crosswalk toms`: a section of totals by PPN 002 outcome and
    one by TOMs codes, each with its Total (the headline's delivered figure) and the crosswalk's
    caveat."""
    from socialvalue_tom.money import format_gbp

    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out),
                                      "--crosswalk", "ppn002", "--crosswalk", "TOMS"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    valued = sv.value_frame(pd.read_csv(EXAMPLE))
    # The rows hold both stages: the sections by group count the deliveries (the headline's
    # delivered figure).
    delivered = valued[valued["stage"].to_numpy() == "delivered"]
    net = format_gbp(sv.summarise(delivered, by=())["net_gbp"].iloc[0])
    for heading, header, group, said in (
            ("By PPN 002 outcome", "PPN 002 outcome", "Outcome 1: Fair work",
             "the model document itself was not read; outcome 5, under Take back our streets, "
             "is not covered"),
            ("By National TOMs codes", "National TOMs codes", "NT1",
             "compiled from memory of the published framework rather than read from a licensed "
             "copy; verify every code against the TOMs edition you hold a licence for")):
        section = text.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
        assert f'<th scope="col">{header}</th>' in section
        assert f'<th scope="row">{group}</th>' in section
        # Each file's own caveat (a crosswalk review: the TOMs codes, recalled, were said to
        # be "compiled from public sources").
        assert " ".join(said.split()) in " ".join(section.split())
        assert "compiled from public sources" not in section
        assert net in section.split("<tfoot>", 1)[1]
    assert "By PPN 06/20 outcome" not in text
    bad = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out), "--crosswalk", "x"])
    assert bad.exit_code == 2 and "'x' is not one of" in bad.output


def test_a_crosswalk_whose_file_names_another_is_refused(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text(
        "format: socialvalue_tom.crosswalk/v1\nname: other\nfamily: uk-national\ntitle: x\n"
        "source: {title: x}\n"
        "mappings: []\n", encoding="utf-8")
    monkeypatch.setattr(cw, "_folder", lambda: tmp_path)
    with pytest.raises(sv.ProxyTableError, match="names itself 'other'") as info:
        sv.load_crosswalk("mine")
    assert info.value.details["field"] == "name"


def test_a_crosswalk_names_its_family_and_a_blank_one_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head = ("format: socialvalue_tom.crosswalk/v1\nname: mine\nfamily: {}\ntitle: Mine\n"
            "source: {{title: x}}\nmappings: []\n")
    monkeypatch.setattr(cw, "_folder", lambda: tmp_path)
    (tmp_path / "mine.yaml").write_text(head.format("tiny"), encoding="utf-8")
    assert sv.load_crosswalk("mine").attrs["crosswalk"]["family"] == "tiny"
    (tmp_path / "mine.yaml").write_text(head.format('""'), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError) as info:
        sv.load_crosswalk("mine")
    assert info.value.details["field"] == "family"


def test_with_crosswalk_reads_the_table_column_stripped() -> None:
    rows = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                         "region": ["uk"], "date": ["2024-06-01"]})
    valued = sv.value_frame(rows, "uk-national")
    assert (sv.with_crosswalk(valued.assign(table=" uk-national "), "toms")["toms_codes"].tolist()
            == sv.with_crosswalk(valued, "toms")["toms_codes"].tolist() == ["NT1"])


def test_a_crosswalk_caveat_is_one_short_sentence_or_the_default() -> None:
    """The caveat printed beside totals: at most 400 characters, not blank; a file without
    one gets the generic sentence."""
    import pydantic

    from socialvalue_tom.tables.crosswalk import DEFAULT_CAVEAT, _CrosswalkFile

    base = {"format": "socialvalue_tom.crosswalk/v1", "name": "x", "family": "uk-national",
            "title": "t", "source": {}, "mappings": []}
    assert _CrosswalkFile.model_validate(base).caveat is None
    assert "verify it against the current model" in DEFAULT_CAVEAT
    for bad in ("", "x" * 401):
        with pytest.raises(pydantic.ValidationError):
            _CrosswalkFile.model_validate({**base, "caveat": bad})


@pytest.mark.parametrize(("by", "column"), [("toms", "toms_codes"),
                                            ("ppn002", "ppn002_outcome"),
                                            ("ppn002_mission", "ppn002_mission"),
                                            ("ppn0620_theme", "ppn0620_theme")])
def test_value_by_a_crosswalk_groups_by_it_not_by_the_input_s_own_column(
        tmp_path: Path, by: str, column: str) -> None:
    """A social value manager's review: a return carrying its own ``toms_codes`` column (the
    supplier's codes, here one for every row) was totalled by that column under the note
    that the crosswalk had grouped the rows. The crosswalk's groups replace it, as
    with_crosswalk and the report replace it."""
    frame = pd.read_csv(EXAMPLE).assign(**{column: "NT99"})
    path = tmp_path / "own.csv"
    frame.to_csv(path, index=False)
    totals = tmp_path / "t.csv"
    result = CliRunner().invoke(app, ["value", str(path), "--by", by, "--totals", str(totals)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(totals, dtype=str)
    name = by.split("_")[0]
    want = sv.summarise(sv.with_crosswalk(sv.value_frame(pd.read_csv(EXAMPLE)), name),
                        by=column)
    assert written[column].tolist()[:-1] == want[column].tolist()
    assert "NT99" not in written[column].tolist()
    assert [str(x) for x in want["net_gbp"]] == written["net_gbp"].tolist()[:-1]


@pytest.mark.parametrize("name", ["toms", "ppn002", "ppn0620"])
def test_totals_by_a_crosswalk_say_the_amounts_are_the_tables_not_the_framework_s(
        tmp_path: Path, name: str) -> None:
    """A social value manager's review: a board read "NT1 £788,346.00" under "by National
    TOMs codes" as a TOMs-valued figure. The terminal, the totals workbook and the report say
    the amounts are the open proxy tables' values regrouped, never the framework's."""
    said = {"toms": ("not with National TOMs proxy values", "not TOMs figures",
                     "holds only what they leave"),
            "ppn002": ("does not monetise its outcomes", "valued with the proxy tables"),
            "ppn0620": ("does not monetise its outcomes", "valued with the proxy tables")}[name]
    assert all(s in sv.load_crosswalk(name).attrs["crosswalk"]["amounts"] for s in said)
    totals = tmp_path / "t.xlsx"
    result = CliRunner().invoke(app, ["value", str(EXAMPLE), "--by", name, "--totals",
                                      str(totals)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    notes = " ".join(str(x) for x in pd.read_excel(totals, sheet_name="Notes",
                                                      header=None).to_numpy().ravel())
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(EXAMPLE), "-o", str(out),
                                      "--crosswalk", name])
    assert result.exit_code == 0, result.output
    page = " ".join(out.read_text(encoding="utf-8").split())
    for s in said:
        assert s in flat and s in " ".join(notes.split()) and s in page
    # Said once, beside the crosswalk's caveat, not for every group.
    assert flat.count(said[0]) == 1


def test_report_totals_by_ppn_theme_and_mission_after_the_outcomes() -> None:
    """A social value manager's review: central-government contracts report by PPN 06/20
    theme, which `value --by ppn0620_theme` totalled and the report did not. A crosswalk with
    a higher group (PPN 002's missions, PPN 06/20's themes) gets a section by it after the one
    by its outcome, the deliveries' totals as summarise gives them; TOMs codes have none."""
    from socialvalue_tom.money import format_gbp
    from socialvalue_tom.report import report_html

    valued = sv.value_frame(pd.read_csv(EXAMPLE))
    text = report_html(valued, crosswalks=["ppn0620", "ppn002", "toms"])
    delivered = valued[valued["stage"].to_numpy() == "delivered"]
    for name, column, heading, after in (
            ("ppn0620", "ppn0620_theme", "By PPN 06/20 theme", "By PPN 06/20 outcome"),
            ("ppn002", "ppn002_mission", "By PPN 002 mission", "By PPN 002 outcome")):
        assert text.index(f"<h2>{after}</h2>") < text.index(f"<h2>{heading}</h2>")
        section = text.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
        want = sv.summarise(sv.with_crosswalk(delivered, name), by=column)
        assert len(want) > 1
        for group, net in zip(want[column], want["net_gbp"], strict=True):
            row = section.split(f'<th scope="row">{group}</th>', 1)[1].split("</tr>", 1)[0]
            assert format_gbp(net).lstrip("-") in row
        total = sv.summarise(delivered, by=())["net_gbp"].iloc[0]
        assert format_gbp(total) in section.split("<tfoot>", 1)[1]
    assert "<h2>By toms" not in text  # the TOMs codes are one group, with no higher one
    assert "<h2>By National TOMs codes</h2>" in text
