"""The catalogue: edition selection, TableSet checks, and tamper evidence of the embedded
tables (a copy of proxies/ with embedded_dir() pointed at it)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import TINY, amendment_yaml

import socialvalue_tom as sv
from socialvalue_tom.tables import catalogue
from socialvalue_tom.tables.catalogue import TableSet, write_manifest
from socialvalue_tom.tables.schema import TableFile
from socialvalue_tom.tables.table import ProxyTable


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _first_value_line(path: Path) -> str:
    return next(line for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip().startswith("value: ") and line.strip()[7:8].isdigit())


def test_catalogue_when_copy_unmodified_loads(proxies_copy: Path) -> None:
    """An untouched copy loads and has the same digests as the shipped tables."""
    refs = sv.available_tables()
    assert refs and all(Path(r.path).is_relative_to(proxies_copy) for r in refs)
    manifest = json.loads((proxies_copy / "manifest.json").read_text(encoding="utf-8"))["digests"]
    for r in refs:
        assert manifest[f"{r.name}/{r.version}.yaml"] == r.digest


def test_catalogue_when_value_modified_raises_integrity_error(proxies_copy: Path) -> None:
    """Changing one proxy value in an embedded edition is detected on every entry point."""
    path = proxies_copy / "uk-national" / "2024.yaml"
    line = _first_value_line(path)
    number = line.split("value: ")[1].split()[0].rstrip(",}")
    _edit(path, line, line.replace(number, str(float(number) + 1.0), 1))
    with pytest.raises(sv.TableIntegrityError, match=r"2024\.yaml") as info:
        sv.load_table("uk-national", version="2024")
    assert info.value.expected != info.value.actual
    assert isinstance(info.value, sv.ProxyTableError)
    with pytest.raises(sv.TableIntegrityError):
        sv.available_tables()
    with pytest.raises(sv.TableIntegrityError):
        sv.value(sv.Outcome(measure="x", quantity=1, region="uk", date=dt.date(2024, 6, 1)),
                 "uk-national")


def test_catalogue_when_only_comments_and_layout_change_keeps_digest(proxies_copy: Path) -> None:
    """The digest is of canonical content: comments, blank lines and flow style do not count."""
    path = proxies_copy / "uk-national" / "2024.yaml"
    before = sv.load_table("uk-national", version="2024").digest
    text = path.read_text(encoding="utf-8")
    path.write_text("# a reviewer's comment\n\n" + text.replace("\n", "   \n", 5)
                    + "\n# trailing comment\n", encoding="utf-8")
    catalogue._load_file.cache_clear()
    assert sv.load_table("uk-national", version="2024").digest == before


def test_catalogue_when_price_index_modified_raises_integrity_error(proxies_copy: Path) -> None:
    """Tampering with the embedded deflator is detected when a table uses it."""
    path = proxies_copy / "indices" / "uk-gdp-deflator.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    year = sorted(data["values"])[0]
    value = data["values"][year]  # a figure changed, the series still a valid index
    _edit(path, f"{year}: {value}", f"{year}: {round(value + 1.0, 4)}")
    with pytest.raises(sv.TableIntegrityError, match="uk-gdp-deflator"):
        sv.load_index("uk-gdp-deflator")


def test_catalogue_when_crosswalk_modified_raises_integrity_error(proxies_copy: Path) -> None:
    """A security review: an edited crosswalk put a table's totals under forged codes and
    title, silently. Crosswalks are pinned by the manifest, as tables and indices are."""
    assert len(sv.load_crosswalk("toms")) > 0  # the copy as shipped loads
    path = proxies_copy / "crosswalks" / "toms.yaml"
    text = path.read_text(encoding="utf-8")
    code = re.search(r"codes: \[(NT\d+)", text)
    assert code is not None
    path.write_text(text.replace(code.group(0), "codes: [NT99", 1), encoding="utf-8")
    with pytest.raises(sv.TableIntegrityError, match=r"toms\.yaml"):
        sv.load_crosswalk("toms")


@pytest.mark.parametrize("how", ["load_table", "value"])
def test_a_modified_price_index_is_refused_when_the_folder_is_reached_through_a_link(
        proxies_copy: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The index a table uses is checked against the manifest whatever spelling of the folder
    the catalogue was given: through a symbolic link, the table's path (resolved) and the
    folder's differed, and the index check was skipped."""
    link = proxies_copy.parent / "linked"
    link.symlink_to(proxies_copy, target_is_directory=True)
    monkeypatch.setattr(catalogue, "embedded_dir", lambda: link)
    path = proxies_copy / "indices" / "uk-gdp-deflator.yaml"
    _edit(path, "2023: 96.1117", "2023: 97.1117")  # still a valid index, but not the one shipped
    with pytest.raises(sv.TableIntegrityError, match="uk-gdp-deflator"):
        if how == "load_table":
            sv.load_table("uk-national", version="2024")
        else:
            sv.value(sv.Outcome(measure="jobs-local-fte", quantity=1, region="uk",
                                date=dt.date(2024, 6, 1)), "uk-national",
                     assumptions={"price_year": 2025})


@pytest.mark.parametrize("linked", ["edition", "family"])
def test_a_modified_edition_reached_through_a_link_is_refused(
        proxies_copy: Path, tmp_path: Path, linked: str) -> None:
    """An edition file (or the family folder) replaced by a symbolic link to a modified copy,
    in a folder with a manifest of its own, is checked against the embedded manifest: the
    catalogue resolved the path and took the manifest two folders above the link's target
    (a review found the modified value served, proxies/manifest.json untouched)."""
    elsewhere = tmp_path / "elsewhere"
    family = elsewhere / "uk-national"
    family.mkdir(parents=True)
    (elsewhere / "indices").mkdir()
    (elsewhere / "indices" / "uk-gdp-deflator.yaml").write_bytes(
        (proxies_copy / "indices" / "uk-gdp-deflator.yaml").read_bytes())
    for edition in (proxies_copy / "uk-national").glob("*.yaml"):
        (family / edition.name).write_bytes(edition.read_bytes())
    line = _first_value_line(family / "2024.yaml")
    number = line.split("value: ")[1].split()[0].rstrip(",}")
    _edit(family / "2024.yaml", line, line.replace(number, str(float(number) + 1.0), 1))
    write_manifest(elsewhere)  # the copy's own manifest agrees with its modified file
    if linked == "edition":
        target = proxies_copy / "uk-national" / "2024.yaml"
        target.unlink()
        target.symlink_to(family / "2024.yaml")
    else:
        target = proxies_copy / "uk-national"
        for edition in target.glob("*.yaml"):
            edition.unlink()
        target.rmdir()
        target.symlink_to(family, target_is_directory=True)
    catalogue._load_file.cache_clear()
    with pytest.raises(sv.TableIntegrityError, match=r"2024\.yaml"):
        sv.load_table("uk-national", version="2024")
    with pytest.raises(sv.TableIntegrityError):
        sv.available_tables()


def test_catalogue_when_edition_added_without_manifest_entry_raises(proxies_copy: Path) -> None:
    """A new file dropped into the embedded folder is not in the manifest: refused."""
    src = proxies_copy / "uk-national" / "2025.yaml"
    extra = proxies_copy / "uk-national" / "2026.yaml"
    text = src.read_text(encoding="utf-8").replace("2025-04-01", "2026-04-01").replace("2026-03-31",
                                                                       "2027-03-31")
    extra.write_text(text.replace("version: '2025'", "version: '2026'"), encoding="utf-8")
    with pytest.raises(sv.TableIntegrityError, match="not in the manifest"):
        sv.available_tables()


def test_catalogue_when_manifest_missing_raises(proxies_copy: Path) -> None:
    """Without the manifest nothing embedded loads."""
    (proxies_copy / "manifest.json").unlink()
    with pytest.raises(sv.TableIntegrityError, match="manifest"):
        sv.load_table("uk-national", version="2024")


def test_catalogue_when_manifest_corrupt_raises_integrity_error(proxies_copy: Path) -> None:
    """A manifest that is not valid JSON (or lacks digests) is a TableIntegrityError."""
    for text in ("{not json", '{"format": "x"}', "[]"):
        (proxies_copy / "manifest.json").write_text(text, encoding="utf-8")
        catalogue._load_file.cache_clear()
        with pytest.raises(sv.TableIntegrityError, match="manifest"):
            sv.load_table("uk-national", version="2024")


def test_catalogue_when_listed_edition_deleted_raises_integrity_error(proxies_copy: Path) -> None:
    """Deleting an edition the manifest lists is tampering too: it must not go unnoticed."""
    (proxies_copy / "uk-national" / "2025.yaml").unlink()
    with pytest.raises(sv.TableIntegrityError, match=r"2025\.yaml"):
        sv.available_tables()


def test_write_manifest_when_rerun_records_intended_change(proxies_copy: Path) -> None:
    """An edition recorded in the manifest is not edited in place: write_manifest() refuses
    the new digest, naming the file (a contributor's review: `make manifest` re-approved any
    edit, so "editions are immutable" held only by habit). With allow_changes (a change
    before a first release, or to the format) it records it, and the copy loads again."""
    path = proxies_copy / "uk-national" / "2024.yaml"
    line = _first_value_line(path)
    _edit(path, line, line.replace("value: ", "value: 1", 1))
    before = (proxies_copy / "manifest.json").read_bytes()
    with pytest.raises(sv.ProxyTableError, match=r"uk-national/2024\.yaml: recorded in "
                                                 r"manifest\.json with another digest.*issue a "
                                                 r"correction") as info:
        write_manifest(proxies_copy)
    assert info.value.missing == ["uk-national/2024.yaml"]
    assert (proxies_copy / "manifest.json").read_bytes() == before
    write_manifest(proxies_copy, allow_changes=True)
    assert sv.load_table("uk-national", version="2024").version == "2024"


def test_write_manifest_refuses_a_corrected_edition_left_beside_its_correction(
        proxies_copy: Path) -> None:
    """A correction (2024.1) with the superseded 2024 file not moved away: both were listed
    as valid on the same days, and only valuing by date failed."""
    family = proxies_copy / "uk-national"
    text = (family / "2024.yaml").read_text(encoding="utf-8")
    (family / "2024.1.yaml").write_text(text.replace("version: '2024'", "version: '2024.1'", 1)
                                        .replace('version: "2024"', 'version: "2024.1"', 1)
                                        .replace("version: 2024\n", "version: '2024.1'\n", 1),
                                        encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match=r"uk-national:2024(\.1)? and uk-national:"
                                                 r"2024(\.1)? \(2024(\.1)?\.yaml, valid to "
                                                 r"2025-03-31\) are both valid on 2024-04-01"
                                                 r".*superseded/"):
        write_manifest(proxies_copy, allow_changes=True)


# -- selection and TableSet --------------------------------------------------------------------

def _edition(version: str, start: dt.date, end: dt.date) -> ProxyTable:
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data.update(version=version, valid_from=start, valid_to=end, price_index=None)
    return ProxyTable(TableFile.model_validate(data))


def test_table_set_repr_names_its_editions_in_order() -> None:
    """A TableSet shows its editions by label, oldest first (it showed an object address)."""
    a = _edition("a", dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    b = _edition("b", dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    assert repr(TableSet([b, a])) == "TableSet(tiny:a, tiny:b)"
    assert repr(sv.TableSet(sv.load_table("uk-national", version=v)
                            for v in ("2025", "2023", "2024"))) == (
        "TableSet(uk-national:2023, uk-national:2024, uk-national:2025)")


def test_table_set_when_validity_overlaps_raises() -> None:
    """Two editions of one family whose validity overlaps are refused, naming both."""
    a = _edition("a", dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    b = _edition("b", dt.date(2025, 3, 31), dt.date(2026, 3, 31))
    with pytest.raises(sv.ProxyTableError, match=r"overlaps tiny:a") as info:
        TableSet([b, a])
    assert info.value.field == "valid_from"


def test_table_set_when_families_mixed_or_empty_raises(tiny_table: Any) -> None:
    """Editions must share one family; an empty set is an UnknownTableError."""
    other = ProxyTable(TableFile.model_validate(
        dict(yaml.safe_load(TINY.read_text(encoding="utf-8")), family="other", price_index=None)))
    with pytest.raises(sv.ProxyTableError, match="several families"):
        TableSet([tiny_table, other])
    with pytest.raises(sv.UnknownTableError):
        TableSet([])


def test_table_set_when_gap_between_editions_selects_strictly() -> None:
    """Dates in a gap are not in force unless carried forward from the earlier edition."""
    a = _edition("a", dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    b = _edition("b", dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    ts = TableSet([b, a])
    assert [t.version for t in ts.editions] == ["a", "b"]
    assert ts.select(dt.date(2026, 4, 1)) == (b, False)
    assert ts.select(dt.date(2025, 3, 31)) == (a, False)
    with pytest.raises(sv.NoTableInForceError, match="2025-06-01"):
        ts.select(dt.date(2025, 6, 1))
    assert ts.select(dt.date(2025, 6, 1), carry_forward=True) == (a, True)
    o = sv.Outcome(measure="jobs-priority", quantity=1, region="uk", date=dt.date(2026, 5, 1))
    assert sv.value(o, [a, b]).version == "b"


def test_covers_and_select_read_a_day_as_load_table_on_does() -> None:
    """An integrator's review: covers() and select() raised pandas' or Python's comparison
    TypeError for a datetime or Timestamp, which load_table(on=) and Outcome.date take as their
    own date. Now each counts as its wall-clock date, ISO text as that day; text naming no day
    is a RuleError naming the argument, anything else a TypeError saying what is taken."""
    import numpy as np

    a = _edition("a", dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    b = _edition("b", dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    ts = TableSet([a, b])
    late = dt.datetime(2025, 3, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    for day in (dt.datetime(2025, 3, 31, 23, 59), pd.Timestamp("2025-03-31 23:59"), late,
                np.datetime64("2025-03-31T23:59"), "2025-03-31"):
        assert a.covers(day) and not b.covers(day), day
        assert ts.select(day) == (a, False), day
    assert ts.select(pd.Timestamp("2025-04-01 00:00")) == (b, False)
    with pytest.raises(sv.RuleError, match=r"covers\(\): day '2025-02-30' is not a date") as bad:
        a.covers("2025-02-30")
    assert bad.value.field == "day"
    for wrong in (pd.NaT, 20250331, None):
        with pytest.raises(TypeError, match=r"select\(\): day must be a date \(a datetime"):
            ts.select(wrong)  # type: ignore[arg-type]


def test_load_table_when_on_date_picks_edition_in_force(uk_tables: Any) -> None:
    """load_table(name, on=day) returns the edition covering the day."""
    for t in uk_tables:
        assert sv.load_table("uk-national", on=t.valid_to).version == t.version
    last = uk_tables[-1]
    later = last.valid_to + dt.timedelta(days=1)
    with pytest.raises(sv.NoTableInForceError):
        sv.load_table("uk-national", on=later)
    assert sv.load_table("uk-national", on=later, carry_forward=True).digest == last.digest


def test_load_table_when_version_not_in_force_on_date_raises(uk_tables: Any) -> None:
    """version= and on= together must agree."""
    t = uk_tables[0]
    with pytest.raises(sv.NoTableInForceError, match=t.version):
        sv.load_table("uk-national", version=t.version, on=t.valid_to + dt.timedelta(days=1))


@pytest.mark.parametrize("kwargs", [{}, {"name": "uk-national"},
                                    {"name": "uk-national", "path": "x.yaml"}])
def test_load_table_when_arguments_incomplete_raises_type_error(kwargs: dict[str, Any]) -> None:
    """Missing or conflicting arguments are a TypeError that says what to pass."""
    with pytest.raises(TypeError, match=r"load_table|path="):
        sv.load_table(**kwargs)


@pytest.mark.parametrize("name", ["indices", "crosswalks", "../uk-national", "nope"])
def test_load_table_when_family_unknown_lists_available(name: str) -> None:
    """Folders that are not families and unknown names are UnknownTableError."""
    with pytest.raises(sv.UnknownTableError, match="uk-national"):
        sv.load_table(name, version="2024")


def test_available_tables_when_listed_are_sorted_and_carry_digests(uk_tables: Any) -> None:
    """TableRef list: sorted by family and start date, with the loaded digests."""
    refs = [r for r in sv.available_tables() if r.name == "uk-national"]
    assert [r.valid_from for r in refs] == sorted(r.valid_from for r in refs)
    assert [r.digest for r in refs] == [t.digest for t in uk_tables]
    assert str(refs[0]) == f"uk-national:{refs[0].version}"


def test_review_by_when_declared_is_on_the_table_and_its_ref(uk_tables: Any,
                                                            tiny_table: Any) -> None:
    """review_by comes from the file header; review_passed compares it with a given day, and a
    table declaring no review date is never past it."""
    refs = {r.version: r for r in sv.available_tables() if r.name == "uk-national"}
    for t in uk_tables:
        assert t.review_by == t.spec.review_by == refs[t.version].review_by is not None
        day = t.review_by
        assert not t.review_passed(day) and t.review_passed(day + dt.timedelta(days=1))
        assert refs[t.version].review_passed(day + dt.timedelta(days=1))
        assert not refs[t.version].review_passed(day - dt.timedelta(days=1))
    t = uk_tables[0]
    after = dt.datetime.combine(t.review_by + dt.timedelta(days=1), dt.time(9))
    assert t.review_passed(after) and t.ref.review_passed(pd.Timestamp(after))
    assert not t.review_passed(dt.datetime.combine(t.review_by, dt.time(23, 59)))
    assert tiny_table.review_by is None and tiny_table.ref.review_by is None
    assert not tiny_table.review_passed(dt.date(2999, 1, 1))


def test_load_table_when_user_file_claims_an_embedded_label_with_other_content_raises(
        tmp_path: Path) -> None:
    """A copy of uk-national/2024.yaml loads as itself; edited, it may not keep the published
    label (its results would read as uk-national:2024): a version of its own loads."""
    published = sv.load_table("uk-national", version="2024")
    text = published.path.read_text(encoding="utf-8")
    copy = tmp_path / "copy.yaml"
    copy.write_text(text, encoding="utf-8")
    assert sv.load_table(path=copy).digest == published.digest
    edited = text.replace("displacement: 0.25", "displacement: 0.0", 1)
    assert edited != text
    forged = tmp_path / "forged.yaml"
    forged.write_text(edited, encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="uk-national:2024, an embedded edition") as info:
        sv.load_table(path=forged)
    assert info.value.field == "version" and info.value.line is not None
    assert "source checkout" not in str(info.value)  # a user's file: no maintainer's advice
    own = tmp_path / "own.yaml"
    own.write_text(edited.replace('version: "2024"', 'version: "2024-local.1"', 1)
                   .replace("version: '2024'", "version: '2024-local.1'", 1), encoding="utf-8")
    assert sv.load_table(path=own).version == "2024-local.1"


def test_load_table_when_user_file_takes_a_correction_label_of_an_embedded_family_raises(
        tmp_path: Path) -> None:
    """A table author's review: a file of family uk-national labelled 2024.1 loaded, and every
    result read as an official correction (amendments refuse that label form). Refused for a
    file of an embedded family, not for the publisher's own folder nor another family."""
    text = sv.load_table("uk-national", version="2024").path.read_text(encoding="utf-8")
    edited = text.replace("displacement: 0.25", "displacement: 0.0", 1)
    for label in ("2024.1", "2026"):
        forged = tmp_path / f"{label}.yaml"
        forged.write_text(edited.replace("version: '2024'", f"version: '{label}'", 1),
                          encoding="utf-8")
        with pytest.raises(sv.ProxyTableError, match=rf"uk-national:{label} has the form of "
                           r"the publisher's editions and corrections") as info:
            sv.load_table(path=forged)
        assert info.value.field == "version" and info.value.line is not None
    other = tmp_path / "other.yaml"
    other.write_text(edited.replace("version: '2024'", "version: '2024.1'", 1).replace(
        "family: uk-national", "family: council-local", 1), encoding="utf-8")
    assert sv.load_table(path=other).version == "2024.1"


def test_load_table_when_another_embedded_edition_is_modified_still_refuses_a_forged_label(
        proxies_copy: Path, tmp_path: Path) -> None:
    """The label check compares with the manifest, so a modified embedded file (here only the
    title of 2023.yaml) does not switch it off for other files, nor for the modified file
    itself read by path."""
    _edit(proxies_copy / "uk-national" / "2023.yaml", "title: ", "title: Edited ")
    published = proxies_copy / "uk-national" / "2024.yaml"
    text = published.read_text(encoding="utf-8")
    forged = tmp_path / "forged.yaml"
    forged.write_text(text.replace("displacement: 0.25", "displacement: 0.0", 1),
                      encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="uk-national:2024, an embedded edition"):
        sv.load_table(path=forged)
    with pytest.raises(sv.ProxyTableError, match="uk-national:2023, an embedded edition"):
        sv.load_table(path=proxies_copy / "uk-national" / "2023.yaml")
    assert sv.load_table(path=published).version == "2024"  # unmodified: fine


def test_write_manifest_when_an_edition_is_stored_under_another_name_refuses(
        proxies_copy: Path) -> None:
    folder = proxies_copy / "uk-national"
    (folder / "2025.yaml").rename(folder / "latest.yaml")
    with pytest.raises(sv.ProxyTableError, match=r"says uk-national:2025, so give it the "
                                                 r"version of its name .*'latest'.* or name it "
                                                 r"uk-national/2025\.yaml"):
        write_manifest(proxies_copy)


def test_load_table_when_new_edition_drafted_before_manifest_refresh_validates(
        proxies_copy: Path) -> None:
    """A maintainer drafting next year's edition in proxies/ can validate it by path before
    `make manifest` (the label check has no published 2026 to compare against)."""
    draft = proxies_copy / "uk-national" / "2026.yaml"
    text = (proxies_copy / "uk-national" / "2025.yaml").read_text(encoding="utf-8")
    text = (text.replace("version: '2025'", "version: '2026'", 1)
            .replace("valid_from: 2025-04-01", "valid_from: 2026-04-01", 1)
            .replace("valid_to: 2026-03-31", "valid_to: 2027-03-31", 1)
            .replace("review_by: 2026-03-31", "review_by: 2027-03-31", 1))
    draft.write_text(text, encoding="utf-8")
    assert sv.load_table(path=draft).version == "2026"


def test_tables_validate_of_a_new_edition_in_the_folder_refuses_an_overlap_and_names_the_step(
        proxies_copy: Path) -> None:
    """A table author's review: a draft 2026 edition starting 2026-03-01 (a typo) passed
    `tables validate` and was refused by make manifest alone, told about corrections; a new
    file not yet in the manifest stopped every valuation with no way on named."""
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    draft = proxies_copy / "uk-national" / "2026.yaml"
    text = (proxies_copy / "uk-national" / "2025.yaml").read_text(encoding="utf-8")
    text = (text.replace("version: '2025'", "version: '2026'", 1)
            .replace("valid_to: 2026-03-31", "valid_to: 2027-03-31", 1)
            .replace("review_by: 2026-03-31", "review_by: 2027-03-31", 1))
    draft.write_text(text.replace("valid_from: 2025-04-01", "valid_from: 2026-03-01", 1),
                     encoding="utf-8")
    runner = CliRunner()
    told = runner.invoke(app, ["tables", "validate", str(draft)])
    assert told.exit_code == 1
    said = " ".join(told.stderr.split())
    assert "uk-national:2026 and uk-national:2025 (2025.yaml, valid to 2026-03-31) are both " \
           "valid on 2026-03-01" in said and "check the dates" in said
    with pytest.raises(sv.ProxyTableError, match="check the dates"):
        write_manifest(proxies_copy)
    # Mended, it validates; until the manifest records it, valuations say what to run.
    draft.write_text(text.replace("valid_from: 2025-04-01", "valid_from: 2026-04-01", 1),
                     encoding="utf-8")
    assert runner.invoke(app, ["tables", "validate", str(draft)]).exit_code == 0
    with pytest.raises(sv.TableIntegrityError, match=r"not in the manifest; adding an edition "
                                                     r"in a source checkout\?.*make manifest"):
        sv.load_table("uk-national", version="2025")
    write_manifest(proxies_copy)
    assert sv.load_table("uk-national", on="2026-06-01").version == "2026"
    # A file elsewhere may cover an edition's dates (a user's table takes its place).
    elsewhere = proxies_copy.parent / "mine.yaml"
    elsewhere.write_text(text.replace("version: '2025'", "version: '2026-local'", 1)
                         .replace("version: '2026'", "version: '2026-local'", 1),
                         encoding="utf-8")
    assert runner.invoke(app, ["tables", "validate", str(elsewhere)]).exit_code == 0


def test_load_table_when_copy_of_embedded_edition_has_a_local_index_raises(
        tmp_path: Path) -> None:
    """The same table read with another price index would give other numbers under the
    published label and digest: refused."""
    published = sv.load_table("uk-national", version="2024")
    copy = tmp_path / "copy.yaml"
    copy.write_text(published.path.read_text(encoding="utf-8"), encoding="utf-8")
    index = catalogue.embedded_dir() / "indices" / "uk-gdp-deflator.yaml"
    local = tmp_path / "uk-gdp-deflator.index.yaml"
    text = index.read_text(encoding="utf-8")
    local.write_text(text, encoding="utf-8")
    assert sv.load_table(path=copy).digest == published.digest  # same index: fine
    edited = yaml.safe_load(text)
    year = sorted(edited["values"])[0]
    edited["values"][year] = 50.0
    local.write_text(yaml.safe_dump(edited), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="another price index"):
        sv.load_table(path=copy)


@pytest.mark.parametrize(("tables", "message"), [
    (["uk-national"], "must hold editions .*not str 'uk-national': a family name goes alone"),
    ({"uk-national": 1}, "not dict"),
    (Path("tests/data/tables/tiny.yaml"), "not PosixPath: load a table file with "
                                          r"load_table\(path=\.\.\.\)"),
    (5, "not int"),
    (b"uk-national", "not bytes"),
])
def test_tables_argument_when_of_the_wrong_type_raises_type_error(tables: object,
                                                                   message: str) -> None:
    """A list of family names gave AttributeError ('str' object has no attribute
    'valid_from'), a Path 'PosixPath' object is not iterable."""
    outcome = sv.Outcome(measure="jobs-local-fte", quantity=1, unit="FTE", region="uk",
                         date="2024-05-01")
    frame = pd.DataFrame({"measure": ["jobs-local-fte"], "quantity": [1.0], "unit": ["FTE"],
                          "region": ["uk"], "date": ["2024-05-01"]})
    with pytest.raises(TypeError, match=message):
        sv.value(outcome, tables)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        sv.value_frame(frame, tables)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "hint"), [
    ("uk-national:2024", r"load_table\('uk-national', version='2024'\)"),
    ("my-table.yaml", r"load_table\(path='my-table.yaml'\)"),
])
def test_family_name_when_spelt_as_on_the_command_line_hints_the_python_call(
        name: str, hint: str) -> None:
    with pytest.raises(sv.UnknownTableError, match=hint):
        sv.load_table(name)


def test_load_table_when_on_is_nat_raises_type_error() -> None:
    """pandas.NaT passed the date check (its date() is NaT, a date) and failed comparing."""
    with pytest.raises(TypeError, match="on= must be a date"):
        sv.load_table("uk-national", on=pd.NaT)


def test_load_table_when_on_is_iso_text_reads_it_as_that_date() -> None:
    """Outcome.date and template_table(on=) took ISO text; load_table(on=) refused it."""
    assert sv.load_table("uk-national", on="2024-05-01").version == "2024"
    assert sv.load_table("uk-national", on=" 2026-03-31 ").version == "2025"
    for bad in ("2024-02-30", "01/05/2024", "2024-5-1", ""):
        with pytest.raises(sv.RuleError, match="YYYY-MM-DD"):
            sv.load_table("uk-national", on=bad)


def test_load_table_when_given_what_is_not_a_name_says_what_to_do(tmp_path: Path) -> None:
    """A loaded edition, a catalogue entry or a path given where a family name goes, and a
    folder given as a table file: typed errors that say what to pass instead."""
    table = sv.load_table("uk-national", version="2024")
    ref = next(r for r in sv.available_tables() if r.version == "2024")
    with pytest.raises(TypeError, match="a loaded edition already, pass it as tables="):
        sv.load_table(table)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"load_table\('uk-national', version='2024'\)"):
        sv.load_table(ref)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"load_table\(path=\.\.\.\)"):
        sv.load_table(tmp_path / "t.yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path= must be a file path"):
        sv.load_table(path=3)  # type: ignore[arg-type]
    with pytest.raises(sv.ProxyTableError, match="is a folder, not a table file"):
        sv.load_table(path=tmp_path)
    outcome = sv.Outcome(measure="jobs-local-fte", quantity=1, region="uk",
                         date=dt.date(2024, 6, 1))
    for tables in (ref, [ref]):
        with pytest.raises(TypeError, match=r"a TableRef describes an edition, load it with "
                                            r"load_table\('uk-national', version='2024'\)"):
            sv.value(outcome, tables)  # type: ignore[arg-type]


@pytest.mark.parametrize("given", ["2024-25", "2024/25", "2024-2025"])
def test_a_version_written_as_a_financial_year_is_told_how_editions_are_named(
        given: str) -> None:
    with pytest.raises(sv.UnknownTableError, match=re.escape(
            f"(editions are named by the year they start: '2024' for {given})")):
        sv.load_table("uk-national", version=given)


def test_load_table_with_a_digest_pin_loads_only_the_edition_recorded() -> None:
    """A determinism review: nothing tied a re-run to the edition a valuation recorded, so an
    edited or corrected table loaded silently. digest= (the whole sha256 or 12+ digits, any
    case) loads the edition only when its content digest is the one pinned."""
    table = sv.load_table("uk-national", version="2024")
    for pin in (table.digest, table.digest[:12], table.digest[:20].upper(), f" {table.digest} "):
        assert sv.load_table("uk-national", version="2024", digest=pin) is table
    assert sv.load_table("uk-national", on="2024-06-01", digest=table.digest[:12]) is table
    other = sv.load_table("uk-national", version="2023").digest
    with pytest.raises(sv.TableIntegrityError, match=re.escape(
            f"uk-national:2024 has content digest {table.digest[:16]}..., not the "
            f"{other[:16]}... pinned")) as info:
        sv.load_table("uk-national", version="2024", digest=other)
    assert info.value.details["expected"] == other
    assert info.value.details["actual"] == table.digest
    for bad in ("9a5677", "not-a-digest-at-all", "g" * 64, "0" * 65):
        with pytest.raises(sv.RuleError, match="is not a content digest"):
            sv.load_table("uk-national", version="2024", digest=bad)
    with pytest.raises(TypeError, match="digest must be text"):
        sv.load_table("uk-national", version="2024", digest=12345678901234)  # type: ignore


def test_load_table_path_with_a_digest_pin() -> None:
    tiny = sv.load_table(path=TINY)
    assert sv.load_table(path=TINY, digest=tiny.digest[:12]).digest == tiny.digest
    with pytest.raises(sv.TableIntegrityError, match="not the edition that was recorded"):
        sv.load_table(path=TINY, digest="0" * 64)


def test_a_version_written_with_an_en_dash_is_told_how_editions_are_named() -> None:
    with pytest.raises(sv.UnknownTableError, match="'2024' for 2024\u201325"):
        sv.load_table("uk-national", version="2024\u201325")


def test_a_digest_pin_may_carry_the_sha256_prefix_tables_validate_prints() -> None:
    """`tables validate` prints 'digest sha256:...': that text is a pin too, in Python and on
    the command line (it had been read as part of the version)."""
    table = sv.load_table("uk-national", version="2024")
    pinned = sv.load_table("uk-national", version="2024", digest=f"sha256:{table.digest}")
    assert pinned.digest == table.digest
    assert sv.load_table("uk-national", version="2024",
                         digest=f"SHA256:{table.digest[:12]}").digest == table.digest


def test_the_embedded_file_edited_in_a_checkout_is_told_what_a_maintainer_does(
        proxies_copy: Path) -> None:
    """A contributor's review: checking an edited edition with load_table(path=...) (the
    README's step) gave a user's advice (a version label of its own, an amendment); the
    embedded file itself gets the maintainer's: a correction, or make manifest
    ALLOW_CHANGES=1 before a first release."""
    path = proxies_copy / "uk-national" / "2025.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "displacement: 0.25", "displacement: 0.2", 1), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match=r"editing this edition in a source checkout\? "
                                                 r"A published edition gets a correction.*"
                                                 r"make manifest ALLOW_CHANGES=1"):
        sv.load_table(path=path)


def _correct_2024(root: Path) -> str:
    """Issue a correction 2024.1 of uk-national:2024 in ``root`` as proxies/README says (the
    corrected file moved to superseded/), and return the superseded edition's digest."""
    family = root / "uk-national"
    old = sv.load_table("uk-national", version="2024").digest
    text = (family / "2024.yaml").read_text(encoding="utf-8")
    (family / "superseded").mkdir()
    (family / "2024.yaml").rename(family / "superseded" / "2024.yaml")
    (family / "2024.1.yaml").write_text(
        text.replace("version: '2024'", "version: '2024.1'", 1).replace(
            "displacement: 0.25", "displacement: 0.2", 1), encoding="utf-8")
    write_manifest(root)
    from socialvalue_tom import engine

    engine._family.cache_clear()  # as a new process after the release would read them
    return old


def test_a_superseded_edition_is_kept_pinned_and_loads_with_its_digest(
        proxies_copy: Path, tmp_path: Path) -> None:
    """A contributor's and an auditor's review: after a correction, the corrected edition
    could not be loaded by the digest a valuation recorded (unknown version), its kept file
    was checked against nothing, and an archived copy of it was refused. The manifest pins
    superseded/ files; a pinned load finds one; an unpinned one is told to pin."""
    from socialvalue_tom.tables.catalogue import superseded_editions

    old = _correct_2024(proxies_copy)
    assert [r.version for r in sv.available_tables()] == ["2023", "2024.1", "2025"]
    assert superseded_editions() == [("uk-national", "2024", old)]
    with pytest.raises(sv.UnknownTableError, match=r"uk-national:2024 was superseded by a "
                                                   r"correction.*pin the digest"):
        sv.load_table("uk-national", version="2024")
    kept = sv.load_table("uk-national", version="2024", digest=old[:12])
    assert (kept.version, kept.digest) == ("2024", old)
    with pytest.raises(sv.TableIntegrityError):
        sv.load_table("uk-national", version="2024", digest="0" * 12)
    # A copy archived elsewhere loads as itself; edited, it may not keep the label.
    archived = tmp_path / "archive-2024.yaml"
    archived.write_bytes((proxies_copy / "uk-national" / "superseded" / "2024.yaml").read_bytes())
    assert sv.load_table(path=archived).digest == old
    archived.write_text(archived.read_text(encoding="utf-8").replace(
        "displacement: 0.25", "displacement: 0.3", 1), encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="uk-national:2024, an embedded edition"):
        sv.load_table(path=archived)
    # The kept file is pinned: edited, it is refused on load and by write_manifest.
    kept_file = proxies_copy / "uk-national" / "superseded" / "2024.yaml"
    kept_file.write_text(kept_file.read_text(encoding="utf-8").replace(
        "displacement: 0.25", "displacement: 0.3", 1), encoding="utf-8")
    from socialvalue_tom.tables import catalogue

    catalogue._load_file.cache_clear()
    with pytest.raises(sv.TableIntegrityError, match=r"superseded/2024\.yaml"):
        sv.load_table("uk-national", version="2024", digest=old)
    with pytest.raises(sv.ProxyTableError, match=r"superseded/2024\.yaml: recorded in manifest"):
        write_manifest(proxies_copy)
    kept_file.unlink()
    with pytest.raises(sv.TableIntegrityError, match="missing"):
        sv.available_tables()


def test_an_amendment_of_a_corrected_edition_loads_by_its_digest_pin(
        proxies_copy: Path, tmp_path: Path) -> None:
    """A table author's review: a buyer's amendment of uk-national:2024, pinned to its digest,
    could no longer be loaded, valued or verified once 2024.1 corrected 2024 ("superseded...
    pin the digest", though it was pinned): the pin loads the edition it was written
    against; without a pin the error says to give one, with no advice for one's own tables."""
    def amendment(pin: str | None) -> Path:
        path = tmp_path / f"england-2024-{pin and pin[:4]}.yaml"
        path.write_text(amendment_yaml(2024, 728, pin), encoding="utf-8")
        return path

    old = _correct_2024(proxies_copy)
    mine = sv.load_table(path=amendment(old))
    assert mine.proxy("jobs-local-fte", "england").value == 37856.0
    # The rest is the corrected-away edition's, as written against (displacement 0.25).
    assert "displacement 0.25" in sv.value(sv.Outcome(
        measure="jobs-local-fte", quantity=1, unit="FTE", region="wales", date="2024-06-01"),
        mine).explain()
    with pytest.raises(sv.UnknownTableError, match=r"superseded by a correction.*give the "
                                                   r"amendment's digest") as info:
        sv.load_table(path=amendment(None))
    assert "sv.amend_table" not in str(info.value)
    with pytest.raises(sv.ProxyTableError, match=r"with digest 000000000000\.\.\., but the "
                                                 r"installed edition has digest"):
        sv.load_table(path=amendment("0" * 64))
    # A kept edition edited in place fails its own check, pinned or not: said as such (an
    # adversarial review: it read as a pin to update, to the edited file).
    kept = proxies_copy / "uk-national" / "superseded" / "2024.yaml"
    kept.write_text(kept.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1),
                    encoding="utf-8")
    from socialvalue_tom.tables import catalogue

    catalogue._load_file.cache_clear()
    catalogue._load_amendment.cache_clear()
    with pytest.raises(sv.TableIntegrityError, match=r"superseded/2024\.yaml"):
        sv.load_table(path=amendment(old))


def test_a_valuation_made_before_a_correction_still_verifies_and_explains(
        proxies_copy: Path, tmp_path: Path) -> None:
    """The record of a valuation names uk-national:2024 and its digest: after the correction
    `verify` and `explain` find the kept edition by that digest."""
    from typer.testing import CliRunner

    from socialvalue_tom.cli import app

    src = tmp_path / "in.csv"
    src.write_text("measure,quantity,unit,region,date\n"
                   "jobs-local-fte,2,FTE,london,2024-06-01\n", encoding="utf-8")
    out = tmp_path / "v.parquet"
    pytest.importorskip("pyarrow")
    runner = CliRunner()
    assert runner.invoke(app, ["value", str(src), "-o", str(out)]).exit_code == 0
    valued = sv.value_frame(pd.read_csv(src))
    _correct_2024(proxies_copy)
    checked = runner.invoke(app, ["verify", str(out)])
    assert checked.exit_code == 0, checked.output
    told = runner.invoke(app, ["explain", str(out), "--row", "0"])
    assert told.exit_code == 0, told.output
    assert "uk-national:2024 [digest" in told.stdout and "Note: the file says" not in told.stdout
    assert "displacement 0.25" in told.stdout
    assert "uk-national:2024 " in sv.explain_row(valued, 0)
    # A CSV keeps no record: explained with the correction, the note names the edition the
    # row says valued it, and how to explain it as it was (it blamed other settings or an
    # edited cell).
    csv = tmp_path / "v.csv"
    valued.to_csv(csv, index=False)
    now = runner.invoke(app, ["explain", str(csv), "--row", "0"])
    said = " ".join(now.stdout.split())
    old = valued["digest"].iloc[0]
    assert (f"the row says it was valued with uk-national:2024 digest {old[:12]}, not the "
            f"edition used here: --tables uk-national:2024@{old[:12]} explains it as it was"
            ) in said, said
    again = runner.invoke(app, ["explain", str(csv), "--row", "0", "--tables",
                                f"uk-national:2024@{old[:12]}"])
    assert again.exit_code == 0 and "Note: the file says" not in again.stdout, again.output


def test_write_manifest_refuses_deletions_an_unreadable_manifest_and_a_doubled_label(
        proxies_copy: Path) -> None:
    """An adversarial review of the guard: deleting a published (or kept superseded) edition
    and re-running write_manifest dropped it without a word; a manifest with merge conflict
    markers was read as empty, letting any edit through; a superseded file with a label still
    in the catalogue was pinned and then unloadable; a family named "superseded" broke every
    table. Moving a corrected edition to superseded/ is not a deletion."""
    old = _correct_2024(proxies_copy)  # the move itself is accepted
    kept = proxies_copy / "uk-national" / "superseded" / "2024.yaml"
    text = kept.read_bytes()
    kept.unlink()
    with pytest.raises(sv.ProxyTableError, match=r"superseded/2024\.yaml: recorded in "
                                                 r"manifest\.json with another digest \(or "
                                                 r"deleted\)"):
        write_manifest(proxies_copy)
    kept.write_bytes(text)
    published = proxies_copy / "uk-national" / "2025.yaml"
    saved = published.read_bytes()
    published.unlink()
    with pytest.raises(sv.ProxyTableError, match=r"uk-national/2025\.yaml"):
        write_manifest(proxies_copy)
    published.write_bytes(saved)
    manifest = proxies_copy / "manifest.json"
    good = manifest.read_text(encoding="utf-8")
    manifest.write_text("<<<<<<< HEAD\n" + good, encoding="utf-8")
    with pytest.raises(sv.TableIntegrityError, match="unreadable"):
        write_manifest(proxies_copy)
    manifest.write_text(good, encoding="utf-8")
    (proxies_copy / "uk-national" / "superseded" / "2025.yaml").write_bytes(saved)
    with pytest.raises(sv.ProxyTableError, match=r"uk-national:2025 is both in the catalogue "
                                                 r"and superseded"):
        write_manifest(proxies_copy, allow_changes=True)
    (proxies_copy / "uk-national" / "superseded" / "2025.yaml").unlink()
    assert sv.load_table("uk-national", version="2024", digest=old).digest == old
    odd = proxies_copy / "superseded"
    odd.mkdir()
    (odd / "2023.yaml").write_text(text.decode("utf-8").replace(
        "family: uk-national", "family: superseded", 1), encoding="utf-8")
    write_manifest(proxies_copy, allow_changes=True)  # not a family: passed over
    assert [r.name for r in sv.available_tables()] == ["uk-national"] * 3
