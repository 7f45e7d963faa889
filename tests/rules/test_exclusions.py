"""rules.exclusions: an exclusion lists parts, then the whole they belong to.

The parts are distinct shares of the whole (a hire from one priority group, another priority
group's hire), so they are never reduced by each other; the whole (the last measure) is reduced by
the sum of the parts' claims. Values are hand-computed from tests/data/tables/tiny.yaml, and from
the embedded uk-national tables.
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, TINY_INDEX, tiny_variant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialvalue_tom as sv
from socialvalue_tom import frame
from socialvalue_tom.frame import claims_of, value_frame

#: A second priority measure (a copy of jobs-priority at £10,000), inserted before env-carbon.
_PRIORITY_B = """\
  - code: jobs-priority-b
    theme: jobs
    outcome: More people from another priority group in work
    title: Other priority-group hires (FTE)
    unit: FTE
    value_type: fiscal
    proxies:
      uk: {value: 10000.00, source: test-source, illustrative: true}
  - code: env-carbon
"""


def _three_part_table(tmp_path: Path, mode: str) -> Any:
    """tiny with exclusion [jobs-priority, jobs-priority-b, jobs-local] in ``mode``."""
    text = TINY.read_text(encoding="utf-8")
    text = text.replace("measures: [jobs-priority, jobs-local]",
                        "measures: [jobs-priority, jobs-priority-b, jobs-local]")
    text = text.replace("mode: count_once", f"mode: {mode}")
    text = text.replace("  - code: env-carbon\n", _PRIORITY_B, 1)
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    return sv.load_table(path=path)


def _rows(measures: list[str], quantities: list[float], **cols: Any) -> pd.DataFrame:
    n = len(measures)
    base: dict[str, Any] = {"contract_id": ["C1"] * n, "measure": measures,
                            "quantity": quantities, "unit": ["FTE"] * n, "region": ["uk"] * n,
                            "date": ["2024-09-30"] * n}
    base.update(cols)
    return pd.DataFrame(base)


def _pounds(out: pd.DataFrame) -> list[float]:
    return [round(float(v), 2) for v in out["value_gbp"]]


def test_count_once_when_two_parts_and_whole_reduces_only_the_whole(tmp_path: Path) -> None:
    """1 priority FTE + 1 other priority FTE + 5 local FTE: the parts count in full (25,000 and
    10,000); the whole loses both: 5 - 2 = 3 FTE x 20,000 x 0.9 = 54,000."""
    t = _three_part_table(tmp_path, "count_once")
    out = value_frame(_rows(["jobs-priority", "jobs-priority-b", "jobs-local"],
                            [1.0, 1.0, 5.0]), t)
    assert _pounds(out) == [25000.0, 10000.0, 54000.0]
    assert out["claim_share"].tolist() == [1.0, 1.0, 0.6]
    assert out["exclusion"].isna().tolist() == [True, True, False]


def test_count_once_when_parts_exceed_whole_never_goes_negative(tmp_path: Path) -> None:
    """Parts of 2 + 3 FTE against a whole of 4: the whole counts 0, the parts stay in full."""
    t = _three_part_table(tmp_path, "count_once")
    out = value_frame(_rows(["jobs-local", "jobs-priority-b", "jobs-priority"],
                            [4.0, 3.0, 2.0]), t)
    assert _pounds(out) == [0.0, 30000.0, 50000.0]
    assert out["claim_share"].tolist() == [0.0, 1.0, 1.0]


def test_count_once_when_a_part_is_below_the_wholes_last_digit_never_raises_the_whole(
        tiny_table: Any) -> None:
    """The whole, 0.29999999999999993 FTE, reads as 0.3 to 15 digits, where a part of 1e-17
    reads as nothing: the whole's share stays 1, never 1.0000000000000002, so it is valued
    exactly as when claimed alone (a review found a penny gained near half-pennies)."""
    whole = 0.29999999999999993
    out = value_frame(_rows(["jobs-priority", "jobs-local"], [1e-17, whole]), tiny_table)
    alone = value_frame(_rows(["jobs-local"], [whole]), tiny_table)
    assert out["claim_share"].tolist() == [1.0, 1.0]
    assert out["value_gbp"].iloc[1] == alone["value_gbp"].iloc[0]


@given(whole=st.floats(0.01, 1000.0), part=st.floats(0.0, 1e-12))
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_count_once_share_of_the_whole_is_never_above_one(tiny_table: Any, whole: float,
                                                          part: float) -> None:
    out = value_frame(_rows(["jobs-priority", "jobs-local"], [part, whole]), tiny_table)
    assert out.get("claim_share", pd.Series([1.0, 1.0])).iloc[1] <= 1.0


def test_count_once_when_part_and_whole_are_different_stages_or_suppliers_keeps_both(
        tiny_table: Any) -> None:
    """A commitment is not reduced by a delivered part (nor one supplier's claim by another's)
    on the same contract: 1 priority FTE committed and 4 local FTE delivered count in full
    (£25,000 and 4 x 20,000 x 0.9 = £72,000); the same rows in one stage share the reduction."""
    apart = value_frame(_rows(["jobs-priority", "jobs-local"], [1.0, 4.0],
                              stage=["commitment", "delivered"]), tiny_table)
    assert _pounds(apart) == [25000.0, 72000.0]
    assert apart.get("claim_share", pd.Series([1.0, 1.0])).tolist() == [1.0, 1.0]
    suppliers = value_frame(_rows(["jobs-priority", "jobs-local"], [1.0, 4.0],
                                  supplier_id=["S1", "S2"]), tiny_table)
    assert _pounds(suppliers) == [25000.0, 72000.0]
    together = value_frame(_rows(["jobs-priority", "jobs-local"], [1.0, 4.0],
                                 stage=["delivered", "delivered"]), tiny_table)
    assert _pounds(together) == [25000.0, 54000.0]  # 3 of the 4 local FTE count


def test_count_once_when_only_parts_claimed_changes_nothing(tmp_path: Path) -> None:
    t = _three_part_table(tmp_path, "count_once")
    out = value_frame(_rows(["jobs-priority-b", "jobs-priority"], [2.0, 1.0]), t)
    assert _pounds(out) == [20000.0, 25000.0]
    assert "claim_share" not in out.columns


def test_count_once_works_out_only_the_groups_of_each_block_or_piece(
        tiny_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each block (and each piece given the whole input's claims) works out the remainders of
    its own rows' groups, not of every group of the input: with a contract per pair of rows,
    that made valuing quadratic (1M rows 7 s, 2M 33 s; a scale review found it). Same bits."""
    from socialvalue_tom.rules import exclusions

    n = 400
    df = _rows(["jobs-priority", "jobs-local"] * (n // 2), [0.5, 2.0] * (n // 2),
               contract_id=[f"C{i // 2}" for i in range(n)])
    whole = value_frame(df, tiny_table)
    sizes: list[int] = []
    real = exclusions.remaining

    def recording(whole_claims: np.ndarray, parts: np.ndarray) -> np.ndarray:
        sizes.append(len(whole_claims))
        return real(whole_claims, parts)

    monkeypatch.setattr(exclusions, "remaining", recording)
    monkeypatch.setattr(frame, "BLOCK", 16)
    blocked = value_frame(df, tiny_table)
    assert blocked["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    assert sizes and max(sizes) <= 8  # 16 rows: 8 contracts, of the input's 200
    sizes.clear()
    claims = frame.claim_totals(claims_of(df, tiny_table), tiny_table)
    pieces = pd.concat([value_frame(df.iloc[i:i + 40], tiny_table, claims=claims)
                        for i in range(0, n, 40)])
    assert pieces["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    assert sizes and max(sizes) <= 8


def test_count_once_when_rows_shuffled_or_chunked_gives_same_bits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Order independence, and blocks and pieces agree with the whole, with three measures."""
    t = _three_part_table(tmp_path, "count_once")
    rng = np.random.default_rng(3)
    n = 300
    df = _rows(list(rng.choice(["jobs-priority", "jobs-priority-b", "jobs-local"], n)),
               list(rng.uniform(0, 5, n).round(2)),
               contract_id=list(rng.choice(np.array(["C1", "C2", "C3", None], dtype=object), n)),
               stage=list(rng.choice(["commitment", "delivered"], n)))
    whole = value_frame(df, t)
    assert (whole["claim_share"] < 1).any()
    order = rng.permutation(n)
    shuffled = value_frame(df.iloc[order], t)
    assert shuffled["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy()[
        order].tobytes()
    pieces = [df.iloc[i:i + 70] for i in range(0, n, 70)]
    claims = pd.concat([claims_of(p, t) for p in pieces], ignore_index=True)
    got = pd.concat([value_frame(p, t, claims=claims) for p in pieces])
    assert got["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    indexed = frame.claim_totals(claims, t)  # indexed once for all the pieces: same bits
    again = pd.concat([value_frame(p, t, claims=indexed) for p in pieces])
    assert again["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()
    assert again["claim_share"].tolist() == got["claim_share"].tolist()
    two_parts = sv.load_table(path=TINY)  # the same label, another exclusion: refused
    with pytest.raises(sv.RuleError, match=r"indexed \(claim_totals\) for other tables"):
        value_frame(pieces[0], two_parts, claims=indexed)
    monkeypatch.setattr(frame, "BLOCK", 16)
    blocked = value_frame(df, t)
    assert blocked["value_gbp"].to_numpy().tobytes() == whole["value_gbp"].to_numpy().tobytes()


def test_count_once_when_uk_national_priority_groups_count_each_hire(
        uk_tables: Any) -> None:
    """The reviewer's case on uk-national 2024: one long-term unemployed hire, one disabled hire
    and 5 local FTE: both priority hires count; 3 local FTE count (5 jobs in all, not 4)."""
    out = value_frame(_rows(["jobs-priority-ltu", "jobs-priority-disabled", "jobs-local-fte"],
                            [1.0, 1.0, 5.0], region=["london"] * 3), "uk-national")
    assert out["claim_share"].tolist() == [1.0, 1.0, 0.6]
    alone = [sv.value(sv.Outcome(measure=m, quantity=q, unit="FTE", region="london",
                                 date=pd.Timestamp("2024-09-30").date()), "uk-national").amount
             for m, q in (("jobs-priority-ltu", 1.0), ("jobs-priority-disabled", 1.0),
                          ("jobs-local-fte", 3.0))]
    assert out["value_gbp"].tolist() == alone


def test_reject_when_whole_claimed_with_a_part_rejects_the_whole_only(tmp_path: Path) -> None:
    t = _three_part_table(tmp_path, "reject")
    with pytest.raises(sv.BulkValidationError) as info:
        value_frame(_rows(["jobs-priority", "jobs-priority-b", "jobs-local"],
                          [1.0, 1.0, 5.0]), t)
    assert [(i.row, i.code) for i in info.value.issues] == [(2, "double-counting")]
    assert "'jobs-local' is also claimed as 'jobs-priority'" in info.value.issues[0].reason


def test_reject_when_only_parts_claimed_values_both(tmp_path: Path) -> None:
    """Two parts are distinct shares of the whole: claiming both is not double counting."""
    t = _three_part_table(tmp_path, "reject")
    out = value_frame(_rows(["jobs-priority", "jobs-priority-b"], [1.0, 2.0]), t)
    assert _pounds(out) == [25000.0, 20000.0]
    assert out.attrs["issues"].empty


@pytest.mark.parametrize("column", ["stage", "contract_id", "supplier_id"])
def test_exclusion_groups_when_key_has_surrounding_spaces_are_stripped(
        tiny_table: Any, column: str) -> None:
    """'delivered ' is validated as 'delivered', so it is the same group: 3 of the 4 local FTE
    count (54,000), not all 4 (72,000). The same for contract_id and supplier_id."""
    keys = {"stage": ["delivered", "delivered "], "contract_id": ["C1", " C1 "],
            "supplier_id": ["S1", "S1\t"]}
    df = _rows(["jobs-priority", "jobs-local"], [1.0, 4.0], **{column: keys[column]})
    out = value_frame(df, tiny_table)
    assert _pounds(out) == [25000.0, 54000.0]
    pieces = [df.iloc[:1], df.iloc[1:]]
    claims = pd.concat([claims_of(p, tiny_table) for p in pieces], ignore_index=True)
    got = pd.concat([value_frame(p, tiny_table, claims=claims) for p in pieces])
    assert _pounds(got) == [25000.0, 54000.0]


def test_exclusion_groups_when_key_is_categorical_with_spaces_are_stripped(
        tiny_table: Any) -> None:
    df = _rows(["jobs-priority", "jobs-local"], [1.0, 4.0],
               stage=pd.Categorical(["delivered", " delivered"]))
    assert _pounds(value_frame(df, tiny_table)) == [25000.0, 54000.0]


@pytest.fixture(scope="module")
def three_parts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _three_part_table(tmp_path_factory.mktemp("three"), "count_once")


_MEASURES = ["jobs-priority", "jobs-priority-b", "jobs-local"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1000), st.integers(0, 2)),
                       min_size=1, max_size=25),
       seed=st.integers(0, 2**32 - 1))
def test_count_once_when_any_claims_counts_parts_in_full_and_the_rest_of_the_whole(
        three_parts: Any, claims: list[tuple[int, int, int]], seed: int) -> None:
    """Property: per contract, every part counts in full; the whole counts max(whole - parts,
    0) of its claims; any row order gives the same bits per row."""
    df = _rows([_MEASURES[m] for m, _, _ in claims], [q / 100 for _, q, _ in claims],
               contract_id=[f"C{c}" for _, _, c in claims])
    out = value_frame(df, three_parts, detail=True)
    share = out["claim_share"] if "claim_share" in out else pd.Series(1.0, index=out.index)
    counted = out["canonical_quantity"]  # the quantity valued, after the share
    for c in {c for _, _, c in claims}:
        mine = df["contract_id"] == f"C{c}"
        whole = mine & (df["measure"] == "jobs-local")
        parts = mine & (df["measure"] != "jobs-local")
        assert (share[parts] == 1.0).all()
        left = max(df.loc[whole, "quantity"].sum() - df.loc[parts, "quantity"].sum(), 0.0)
        assert counted[whole].sum() == pytest.approx(left, abs=1e-9)
    order = np.random.default_rng(seed).permutation(len(df))
    again = value_frame(df.iloc[order], three_parts)
    assert again["value_gbp"].to_numpy().tobytes() == out["value_gbp"].to_numpy()[
        order].tobytes()


def test_value_frame_when_many_key_columns_of_many_values_keeps_contracts_apart(
        tmp_path: Path) -> None:
    """Five key columns of 65,535 values each would pack into more than 64 bits: different
    contracts must still be different groups (C1's priority hire must not reduce C2)."""
    text = TINY.read_text(encoding="utf-8").replace(
        "    reason: a priority-group hire is also a local job",
        "    reason: a priority-group hire is also a local job\n    key: [contract_id, a, b, c, d]",
        1)
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    shutil.copy(TINY_INDEX, tmp_path / TINY_INDEX.name)
    table = sv.load_table(path=tmp_path / "t.yaml")
    base = {"unit": "FTE", "region": "uk", "date": "2024-09-30", **dict.fromkeys("abcd", "x")}
    pad = 2 ** 16 - 2
    df = pd.concat([
        pd.DataFrame([{"contract_id": "C1", "measure": "jobs-priority", "quantity": 1.0, **base},
                      {"contract_id": "C2", "measure": "jobs-local", "quantity": 4.0, **base}]),
        pd.DataFrame({"contract_id": "P", "measure": "jobs-local", "quantity": 1.0,
                      "unit": "FTE", "region": "uk", "date": "2024-09-30",
                      **{k: [f"p{i}" for i in range(pad)] for k in "abcd"}}),
    ], ignore_index=True)
    out = value_frame(df, table)
    assert out["value_gbp"].iloc[1] == value_frame(df.iloc[:2], table)["value_gbp"].iloc[1]
    assert out["value_gbp"].iloc[1] == 4 * 20000 * 0.9


@pytest.mark.parametrize(("edit", "words"), [
    (lambda c: c.drop(columns=["edition"]), "lack column"),
    (lambda c: c.assign(rank=99), "ranks outside"),
    (lambda c: c.assign(rank=2), "ranks outside"),  # the exclusion has two measures: 0 and 1
    (lambda c: c.assign(rank=0.5), "ranks outside"),
    (lambda c: c.assign(quantity="a"), "not finite numbers"),
    (lambda c: c.assign(quantity=-1.0), "not finite numbers"),
    (lambda c: c.iloc[:0], "do not cover"),
])
def test_value_frame_when_claims_malformed_raises_rule_error(tiny_table: Any, edit: Any,
                                                             words: str) -> None:
    """claims= that are not what claims_of() gives are a RuleError saying what to pass,
    never a KeyError, IndexError or a silently wrong share."""
    df = _rows(["jobs-priority", "jobs-local"], [1.0, 4.0], contract_id=["C1", "C1"])
    claims = claims_of(df, tiny_table)
    assert len(claims) == 2
    with pytest.raises(sv.RuleError, match=words):
        value_frame(df, tiny_table, claims=edit(claims))


def test_value_frame_when_given_claims_of_nothing_claimed_values_them_as_its_own(
        tiny_table: Any) -> None:
    """A claim of 0 (a row reporting 0 FTE) is a claim like any other: given as claims=, it
    is accepted and gives what value_frame works out on its own."""
    df = _rows(["jobs-priority", "jobs-local", "jobs-local"], [0.0, 4.0, 4.0],
               contract_id=["C1", "C1", "C2"])
    claims = claims_of(df, tiny_table)
    assert (claims["quantity"] == 0.0).any()
    got = value_frame(df, tiny_table, claims=claims)["value_gbp"].tolist()
    assert got == value_frame(df, tiny_table)["value_gbp"].tolist()


def test_claims_of_when_index_labels_repeat_and_a_key_is_missing_then_as_value_frame() -> None:
    """A plain pd.concat of two returns repeats index labels; with a missing contract id the
    claim labels were built by label alignment and crashed (InvalidIndexError). claims_of,
    and value_frame given those claims, now agree with value_frame on the whole input."""
    cols = {"unit": "FTE", "region": "london", "date": "2024-06-01",
            "measure": "jobs-local-fte"}
    df = pd.concat([pd.DataFrame({"quantity": [2, 1], "contract_id": ["C1", None], **cols}),
                    pd.DataFrame({"quantity": [3], "contract_id": ["C2"], **cols})])
    assert df.index.tolist() == [0, 1, 0]
    whole = value_frame(df)["value_gbp"].tolist()
    claims = claims_of(df)
    assert len(claims) == 3
    assert value_frame(df, claims=claims)["value_gbp"].tolist() == whole
    assert value_frame(df.iloc[:2], claims=claims)["value_gbp"].tolist() == whole[:2]


_REASON = "    reason: a priority-group hire is also a local job"


def _keyed(folder: Path, key: str) -> Any:
    """tiny with its exclusion ``priority-within-local`` keyed on ``key`` (YAML list text)."""
    return sv.load_table(path=tiny_variant(folder, (_REASON, f"{_REASON}\n    key: {key}")))


def _two_contracts(**cols: Any) -> pd.DataFrame:
    """C1 claims 3 priority FTE, C2 4 local FTE: different contracts, nothing to reduce."""
    return _rows(["jobs-priority", "jobs-local"], [3.0, 4.0], contract_id=["C1", "C2"], **cols)


@pytest.mark.parametrize("errors", ["raise", "collect"])
def test_value_frame_when_declared_key_column_is_absent_raises_outcome_error(
        tmp_path: Path, errors: Any) -> None:
    """``key: [project]`` with an input that has no ``project`` column once dropped the absent
    column and made the whole input one group: C1's 3 priority hires took 3 of C2's 4 local
    FTE (18,000 instead of 72,000). A declared key column the input lacks is refused, naming
    the exclusion and the column, before anything is valued."""
    table = _keyed(tmp_path, "[project]")
    df = _two_contracts()
    with pytest.raises(sv.OutcomeError, match="project") as info:
        value_frame(df, table, errors=errors)
    err: Any = info.value
    assert not isinstance(err, sv.BulkValidationError)
    assert "priority-within-local" in str(err) and "tiny:2024" in str(err)
    assert (err.exclusion, err.columns, err.field) == (
        "priority-within-local", ["project"], "project")
    with pytest.raises(sv.OutcomeError, match="project"):
        claims_of(df, table)
    # A column named but for case is pointed out (names are matched exactly).
    with pytest.raises(sv.OutcomeError, match="found 'Project' for project"):
        value_frame(df.assign(Project=df["contract_id"]), table)
    # With the column the key names, the contracts are apart: 25,000 x 3 and 4 x 20,000 x 0.9.
    assert _pounds(value_frame(df.assign(project=df["contract_id"]), table)) == [
        75000.0, 72000.0]


def test_value_frame_when_declared_key_lacks_one_of_several_columns_names_the_missing(
        tmp_path: Path) -> None:
    """Each absent column of a declared key is named; the ones present are not."""
    table = _keyed(tmp_path, "[contract_id, lot, phase]")
    with pytest.raises(sv.OutcomeError, match="lot, phase") as info:
        value_frame(_two_contracts(), table)
    assert info.value.details["columns"] == ["lot", "phase"]
    got = value_frame(_two_contracts(lot=["L1", "L1"], phase=[1, 1]), table)
    assert _pounds(got) == [75000.0, 72000.0]


def test_an_empty_key_sets_every_contract_s_claims_against_each_other(tmp_path: Path) -> None:
    """``key: []`` is loaded as written: no column keeps contracts apart, so C1's 3 priority
    hires reduce C2's 4 local FTE (the documented, most conservative reading), while stage
    and supplier_id still separate groups."""
    table = _keyed(tmp_path, "[]")
    assert _pounds(value_frame(_two_contracts(), table)) == [75000.0, 18000.0]
    apart = _two_contracts(supplier_id=["S1", "S2"])
    assert _pounds(value_frame(apart, table)) == [75000.0, 72000.0]


def test_value_frame_when_declared_key_column_is_absent_in_a_multi_block_input_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The input's claims are gathered over all its blocks first: the same error, raised
    before any block is valued."""
    monkeypatch.setattr(frame, "BLOCK", 1)
    table = _keyed(tmp_path, "[project]")
    df = pd.concat([_rows(["env-carbon"], [1.0], unit=["tCO2e"]), _two_contracts()],
                   ignore_index=True)
    with pytest.raises(sv.OutcomeError, match="project"):
        value_frame(df, table)


def test_value_frame_when_declared_key_column_is_absent_but_no_claim_is_governed_values(
        tmp_path: Path) -> None:
    """The key groups only the claims the exclusion governs: an input with none of its
    measures needs none of its columns."""
    table = _keyed(tmp_path, "[project]")
    out = value_frame(_rows(["env-carbon"], [2.0], unit=["tCO2e"]), table)
    assert _pounds(out) == [500.0]
    assert claims_of(_rows(["env-carbon"], [2.0], unit=["tCO2e"]), table).empty


def test_value_frame_when_default_key_and_no_contract_id_is_one_contract(
        tiny_table: Any) -> None:
    """The default key (contract_id, with stage and supplier_id when present) keeps its
    documented reading: a frame without contract_id is one contract, so the priority hires
    reduce the local jobs (4 - 3 = 1 FTE x 20,000 x 0.9)."""
    df = _two_contracts().drop(columns=["contract_id"])
    assert _pounds(value_frame(df, tiny_table)) == [75000.0, 18000.0]
    assert len(claims_of(df, tiny_table)) == 2


def test_value_frame_when_declared_key_absent_from_distributed_pieces_raises(
        tmp_path: Path) -> None:
    """Pieces valued with the claims of the whole input raise the same error, from claims_of
    (the first pass) as from value_frame given other claims."""
    table = _keyed(tmp_path, "[project]")
    df = _two_contracts()
    claims = claims_of(df.assign(project=df["contract_id"]), table)
    with pytest.raises(sv.OutcomeError, match="project"):
        value_frame(df.iloc[1:], table, claims=claims)


def test_value_file_when_declared_key_column_is_absent_raises_and_writes_nothing(
        tmp_path: Path) -> None:
    """Streaming finds the claims of the whole file first: the same error, and no output."""
    table = _keyed(tmp_path / "tables", "[project]")
    src = tmp_path / "o.csv"
    _two_contracts().to_csv(src, index=False)
    out = tmp_path / "valued.csv"
    with pytest.raises(sv.OutcomeError, match="project"):
        sv.value_file(src, out, tables=table, chunksize=1)
    assert not out.exists()


def test_default_key_is_the_schema_default() -> None:
    """The key checked as the default is the one an exclusion gets when it declares none."""
    from socialvalue_tom.rules.exclusions import DEFAULT_KEY
    from socialvalue_tom.tables.schema import Exclusion

    assert Exclusion.model_fields["key"].default == DEFAULT_KEY


def _carried_claims(dates: list[str]) -> pd.DataFrame:
    """A priority hire (2 FTE) and local jobs (5 FTE) on one contract, past uk-national's last
    edition (2025/26) when dated after 31 March 2026."""
    return pd.DataFrame({"contract_id": ["C1", "C1"],
                         "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                         "quantity": [2, 5], "unit": "FTE", "region": "uk", "date": dates})


@pytest.mark.parametrize(("dates", "share"), [
    (["2026-09-30", "2026-10-30"], 0.6),   # one carried year: its claims net, as an edition's
    (["2026-09-30", "2027-10-30"], 1.0),   # two carried years: each year's against its own
    (["2026-09-30", "2025-10-30"], 1.0),   # a carried year and the edition's own year
    (["2025-09-30", "2025-10-30"], 0.6),   # in force: unchanged
])
@pytest.mark.parametrize("block", [None, 1])
def test_value_frame_when_carried_forward_sets_each_years_claims_against_that_year(
        monkeypatch: pytest.MonkeyPatch, dates: list[str], share: float,
        block: int | None) -> None:
    """With carry_forward, one edition values several financial years: as between editions,
    a part claimed in one year does not reduce a whole claimed in another (docs/rules.md, 10),
    in one block or many, and a piece valued with the claims of the whole input agrees."""
    if block is not None:
        monkeypatch.setattr(frame, "BLOCK", block)
    a = sv.Assumptions(carry_forward=True)
    df = _carried_claims(dates)
    out = value_frame(df, "uk-national", assumptions=a)
    got = out["claim_share"].tolist() if "claim_share" in out else [1.0, 1.0]
    assert got == [1.0, share]
    alone = value_frame(df.iloc[[1]], "uk-national", assumptions=a)
    assert out["value_gbp"].iloc[1] == pytest.approx(alone["value_gbp"].iloc[0] * share,
                                                     rel=1e-12)
    piece = value_frame(df.iloc[[1]], "uk-national", assumptions=a,
                        claims=claims_of(df, "uk-national", assumptions=a))
    assert piece["value_gbp"].iloc[0] == out["value_gbp"].iloc[1]


def test_claims_of_when_carried_forward_names_the_year_in_the_edition_label() -> None:
    """The claims of a carried year are labelled with it, so that pieces of one input (file
    chunks, Dask partitions) add up per year; claim_totals reads the labels back."""
    a = sv.Assumptions(carry_forward=True)
    claims = claims_of(_carried_claims(["2026-09-30", "2027-10-30"]), "uk-national",
                       assumptions=a)
    assert claims["edition"].tolist() == ["uk-national:2025 carried to 2026/27",
                                          "uk-national:2025 carried to 2027/28"]
    totals = frame.claim_totals(claims, "uk-national")
    assert sorted(totals.by_key) == [
        ("uk-national:2025 carried to 2026/27", "priority-hires-within-local-employment"),
        ("uk-national:2025 carried to 2027/28", "priority-hires-within-local-employment")]


def _failing_part_table(tmp_path: Path) -> Any:
    """tiny with the part (jobs-priority) valued by an expression over a required field
    ``weeks``: weeks 0 gives an infinite value, weeks -52 a negative one."""
    return sv.load_table(path=tiny_variant(
        tmp_path, ("    title: Priority-group hires (FTE)\n    unit: FTE\n"
                   "    value_type: fiscal\n",
                   "    title: Priority-group hires (FTE)\n    unit: FTE\n"
                   "    value_type: fiscal\n    requires: [weeks]\n"
                   "    expression: quantity * proxy * 52 / weeks\n")))


@pytest.mark.parametrize(("weeks", "code"), [(0, "non-finite"), (-52, "negative-gross")])
@pytest.mark.parametrize("block", [None, 1])
def test_value_frame_when_a_part_is_not_valued_it_does_not_reduce_the_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weeks: int, code: str,
        block: int | None) -> None:
    """A part whose expression gives no value is an issue, not a claim: the whole keeps all of
    its 4 FTE (4 x 20,000 x 0.9 = 72,000), in one block or many, and in the claims of pieces."""
    if block is not None:
        monkeypatch.setattr(frame, "BLOCK", block)
    table = _failing_part_table(tmp_path)
    df = pd.DataFrame({"contract_id": ["C1", "C1"], "measure": ["jobs-priority", "jobs-local"],
                       "quantity": [3, 4], "unit": "FTE", "region": "uk",
                       "date": "2024-09-30", "weeks": [weeks, None]})
    out = value_frame(df, table, errors="collect")
    assert np.isnan(out["value_gbp"].iloc[0])
    assert out["value_gbp"].iloc[1] == 72000.0
    assert out.attrs["issues"]["code"].tolist() == [code]
    assert claims_of(df, table)["rank"].tolist() == [1]
    with pytest.raises(sv.BulkValidationError) as err:
        value_frame(df, table)
    assert [i.code for i in err.value.issues] == [code]


@pytest.mark.parametrize(("years", "share"), [
    ([1, 3], 14 / 15),      # 1 FTE-year of the whole's 15
    ([3, 3], 12 / 15),      # 3 of 15 counted off: as per year (1 of 5)
    ([3, 1], 2 / 5),        # the part's 3 FTE-years of the whole's 5
    ([9, 1], 0.0),          # never below zero
])
def test_value_frame_when_years_differ_compares_claims_over_their_years(
        years: list[int], share: float) -> None:
    """A claim is its quantity over all its years (docs/rules.md, 10): a part claimed for one
    year does not take its FTE off every year of a three-year whole."""
    df = pd.DataFrame({"contract_id": ["C1", "C1"],
                       "measure": ["jobs-priority-ltu", "jobs-local-fte"],
                       "quantity": [1, 5], "unit": "FTE", "region": "uk",
                       "date": "2024-09-30", "years": years})
    out = value_frame(df, "uk-national")
    assert out["claim_share"].iloc[1] == pytest.approx(share, abs=1e-15)
    assert claims_of(df, "uk-national")["quantity"].tolist() == [1.0 * years[0],
                                                                5.0 * years[1]]


def test_value_frame_when_a_whole_is_not_valued_it_does_not_count_in_its_group(
        tmp_path: Path) -> None:
    """Two wholes of 5 FTE and a part of 3 on one contract; one whole's expression gives no
    value (level 1: a division by zero). It is an issue, not a claim: the other whole is
    reduced by 3 of its own 5 FTE (share 0.4: 2 x 20,000 x 0.9 = 36,000), not by 3 of 10."""
    table = sv.load_table(path=tiny_variant(
        tmp_path, ("    title: Local people employed (FTE)\n    unit: FTE\n"
                   "    value_type: economic\n",
                   "    title: Local people employed (FTE)\n    unit: FTE\n"
                   "    value_type: economic\n    requires: [level]\n"
                   "    expression: quantity * proxy / (level - 1)\n")))
    df = pd.DataFrame({"contract_id": ["C1"] * 3,
                       "measure": ["jobs-priority", "jobs-local", "jobs-local"],
                       "quantity": [3, 5, 5], "unit": "FTE", "region": "uk",
                       "date": "2024-09-30", "level": [2, 2, 1]})
    out = value_frame(df, table, errors="collect")
    assert out["value_gbp"].iloc[1] == 36000.0
    assert out["claim_share"].iloc[1] == 0.4
    assert out.attrs["issues"]["code"].tolist() == ["non-finite"]
    assert claims_of(df, table)["quantity"].tolist() == [3.0, 5.0]


@pytest.mark.parametrize(("whole", "part", "pounds"), [
    (89.57, 70.09, "7.31"),     # 19.48 x £0.50 x (1 - 0.25) = £7.305
    (1294.0, 1199.4, "35.48"),  # 94.6 x 0.375 = £35.475
    (1980.92, 1980.88, "0.02"),  # 0.04 x 0.375 = £0.015
])
def test_count_once_when_the_whole_s_remainder_is_a_half_penny_rounds_it_up(
        whole: float, part: float, pounds: str) -> None:
    """The whole's remainder was (W - P) / W x W in floats, ten ulps from the decimal W - P,
    so an exact half-penny rounded down; it is now the decimal's float, as sv.value gives
    for that quantity."""
    from socialvalue_tom.money import to_pounds

    df = pd.DataFrame({"contract_id": ["C1", "C1"],
                       "measure": ["growth-local-spend", "growth-local-sme-spend"],
                       "quantity": [whole, part], "unit": ["GBP", "GBP"],
                       "region": ["uk", "uk"], "date": ["2024-09-30"] * 2})
    out = value_frame(df, "uk-national")
    assert str(to_pounds(out["value_gbp"].iloc[0])) == pounds
    alone = sv.value(sv.Outcome(measure="growth-local-spend", region="uk", unit="GBP",
                                quantity=float(Decimal(repr(whole)) - Decimal(repr(part))),
                                date="2024-09-30"))
    assert str(to_pounds(alone.amount)) == pounds


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=4), st.integers(0, 10**6),
       st.booleans())
def test_count_once_when_claims_are_pounds_and_pence_the_whole_is_the_decimal_remainder(
        part_pence: list[int], j: int, half: bool) -> None:
    """Spend in pence: the whole's value is (W - sum of parts) x £0.50 x 0.75 rounded as
    Decimal rounds it. A remainder of 8j + 4 pence is worth an exact half-penny (3/8 of it),
    the case a review found a penny low in 71 of 40,000 random one-part pairs, and in about 1%
    of two- and three-part groups (the parts' float sum carries noise too); 8j + 1 is not."""
    from socialvalue_tom.money import to_pounds

    whole_pence = sum(part_pence) + 8 * j + (4 if half else 1)
    rows = [("growth-local-sme-spend", p / 100) for p in part_pence]
    rows.append(("growth-local-spend", whole_pence / 100))
    df = pd.DataFrame({"contract_id": "C1", "measure": [m for m, _ in rows],
                       "quantity": [q for _, q in rows], "unit": "GBP", "region": "uk",
                       "date": "2024-09-30"})
    got = to_pounds(value_frame(df, "uk-national")["value_gbp"].iloc[-1])
    exact = Decimal(whole_pence - sum(part_pence)) / 100 * Decimal("0.50") * Decimal("0.75")
    assert got == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_remaining_reads_claims_to_15_digits_only_within_its_range() -> None:
    """The snap covers claims from 1e-6 to 1e14 at 15 significant digits of the larger; claims
    outside are left to float arithmetic (a snap at 1e14 would round away half units)."""
    from socialvalue_tom.rules.exclusions import remaining

    def one(w: float, p: float) -> float:
        return float(remaining(np.array([w]), np.array([p]))[0])

    assert one(89.57, 70.09) == 19.48 and 89.57 - 70.09 != 19.48
    assert one(1.23456789012345, 0.1) == 1.13456789012345
    assert one(2e14 + 0.5, 1.0) == (2e14 + 0.5) - 1.0
    assert one(8.9e-7, 7.1e-7) == 8.9e-7 - 7.1e-7 == 1.7999999999999997e-07
    assert one(0.15, 0.07 + 0.04) == 0.04  # parts summed in floats: 0.11000000000000001
    assert np.isnan(one(float("nan"), 1.0)) and one(5.0, 0.0) == 5.0


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_a_claim_without_a_contract_is_a_group_of_its_own(tiny_table: Any, blank: Any) -> None:
    """A missing key value is a group of its own: a priority hire with no contract_id does not
    reduce contract C1's local jobs (25,000 x 1 and 4 x 20,000 x 0.9 in full)."""
    df = _rows(["jobs-priority", "jobs-local"], [1.0, 4.0], contract_id=[blank, "C1"])
    assert _pounds(value_frame(df, tiny_table)) == [25000.0, 72000.0]
    both = _rows(["jobs-priority", "jobs-local"], [1.0, 4.0], contract_id=[blank, blank])
    assert _pounds(value_frame(both, tiny_table)) == [25000.0, 54000.0]  # one group: 3 left


def test_claim_totals_from_pieces_are_those_of_the_pieces_put_together(
        tiny_table: Any) -> None:
    """value_file's first pass indexes each batch's claims as it goes (a code, rank and
    quantity per claim) instead of holding every claim's row: the same bits as indexing the
    claims put together, whatever the pieces."""
    from socialvalue_tom.rules.exclusions import ClaimTotals

    rng = np.random.default_rng(7)
    claims = _random_claims(rng, tiny_table)
    n = len(claims)
    cuts = sorted(rng.choice(np.arange(1, n), 17, replace=False).tolist())
    pieces = [claims.iloc[a:b] for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    split = ClaimTotals.from_pieces(iter(pieces), [tiny_table])
    _assert_same_totals(ClaimTotals.from_claims(claims, [tiny_table]), split)
    assert ClaimTotals.from_pieces(iter([]), [tiny_table]).by_key == {}


def _random_claims(rng: np.random.Generator, table: Any, n: int = 3000) -> pd.DataFrame:
    """The claims of ``n`` random priority and local hires over 200 contracts."""
    df = _rows(list(rng.choice(["jobs-priority", "jobs-local"], n)),
               list(rng.uniform(0, 9, n).round(3)),
               contract_id=[f"C{i}" for i in rng.integers(0, 200, n)])
    return claims_of(df, table)


def _assert_same_totals(whole: Any, other: Any) -> None:
    """``other`` holds the groups of ``whole``, each once, with the same bits."""
    assert whole.by_key.keys() == other.by_key.keys()
    assert other.editions == whole.editions
    for key, (labels, sums) in whole.by_key.items():
        other_labels, other_sums = other.by_key[key]
        at = other_labels.get_indexer(labels)
        assert len(other_labels) == len(labels)
        assert (at >= 0).all() and sums.tobytes() == other_sums[at].tobytes()


def test_claim_totals_merged_from_pieces_of_whole_groups_are_those_of_all_the_claims(
        tiny_table: Any) -> None:
    """value_dask sums each group where a shuffle on the label put all its claims, and the
    client merges one total per group: the same bits as indexing every claim at once. A group
    split between two pieces is refused, never summed in halves."""
    from socialvalue_tom.rules.exclusions import ClaimTotals

    claims = _random_claims(np.random.default_rng(11), tiny_table)
    n = len(claims)
    bucket = claims["group"].map(lambda g: int(g[1:]) % 5)  # every claim of a group together
    parts = [ClaimTotals.from_claims(claims[bucket == b], [tiny_table]) for b in range(5)]
    merged = ClaimTotals.merged(iter(parts), [tiny_table])
    _assert_same_totals(ClaimTotals.from_claims(claims, [tiny_table]), merged)
    halves = [ClaimTotals.from_claims(claims.iloc[:n // 4], [tiny_table]),
              ClaimTotals.from_claims(claims.iloc[n // 4:], [tiny_table])]
    with pytest.raises(sv.RuleError, match="hold the same group"):
        ClaimTotals.merged(halves, [tiny_table])
    assert ClaimTotals.merged([], [tiny_table]).by_key == {}


def test_claim_totals_from_pieces_keep_one_missing_label_across_pieces(
        tiny_table: Any) -> None:
    """Hand-built claims with a missing group label in two pieces: one label, as in the
    claims put together (NaN keys matched only by identity gave two, a duplicated index)."""
    from socialvalue_tom.rules.exclusions import ClaimTotals

    def piece(group: Any) -> pd.DataFrame:
        return pd.DataFrame({"edition": ["tiny:2024"], "exclusion": ["priority-within-local"],
                             "group": pd.Series([group], dtype=object), "rank": [0],
                             "quantity": [1.0]})

    totals = ClaimTotals.from_pieces([piece(np.nan), piece(float("nan")), piece(None),
                                      piece("a")], [tiny_table])
    labels, sums = totals.by_key[("tiny:2024", "priority-within-local")]
    assert labels.is_unique and len(labels) == 2 and sums[:, 0].tolist() == [3.0, 1.0]
