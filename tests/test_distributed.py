"""value_frame over Dask partitions on a multi-process cluster (socialvalue_tom.distributed)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest
from conftest import TINY_INDEX, tiny_variant
from strategies import seeded_portfolio

import socialvalue_tom as sv
from socialvalue_tom.distributed import TableHandle, issues, value_dask
from socialvalue_tom.frame import value_frame


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:
        yield c



def _portfolio(n: int, bad: tuple[int, ...] = ()) -> pd.DataFrame:
    # Contracts are contiguous blocks of 25 rows: no contract spans two partitions of 50.
    return seeded_portfolio(n, seed=3, regions=("uk", "england", "london", "scotland"),
                            dates=("2024-04-01", "2024-12-01"),
                            contract_ids=[f"C{i // 25:03d}" for i in range(n)],
                            contract_value=5000.0, bad=bad)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.attrs = {}
    return out


def test_value_dask_when_computed_on_workers_equals_value_frame(
        client: object, tiny: sv.ProxyTable) -> None:
    """Every column of every row equals value_frame on the same pandas frame, bit for bit."""
    df = _portfolio(400)
    got = value_dask(dd.from_pandas(df, npartitions=8), tiny).compute()
    want = _plain(value_frame(df, tiny))
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()
    # Dask stores text as string[pyarrow] (NA for missing); the values are the same.
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_dtype=False,
                                  check_categorical=False)


def test_value_dask_when_collecting_reports_global_rows(
        client: object, tiny: sv.ProxyTable) -> None:
    """Collect mode keeps bad rows (NaN) and numbers issues as rows of the whole input."""
    df = _portfolio(400, bad=(5, 260, 399))
    valued = value_dask(dd.from_pandas(df, npartitions=8), tiny, errors="collect")
    found = issues(valued)
    assert found["row"].tolist() == [5, 260, 399]
    assert found["index"].tolist() == [5, 260, 399]
    assert set(found["code"]) == {"negative"}
    want = value_frame(df, tiny, errors="collect")
    pd.testing.assert_frame_equal(found, pd.DataFrame(want.attrs["issues"]), check_dtype=False)
    got = valued.compute()
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()
    assert got["issue_code"].notna().sum() == 3


def test_value_dask_when_worker_finds_bad_rows_raises_typed_error(
        client: object, tiny: sv.ProxyTable) -> None:
    """A BulkValidationError raised on a worker arrives on the client with its issues."""
    df = _portfolio(400, bad=(260,))
    valued = value_dask(dd.from_pandas(df, npartitions=8), tiny)
    with pytest.raises(sv.BulkValidationError) as info:
        valued.compute()
    assert [(i.row, i.field, i.code) for i in info.value.issues] == [(260, "quantity",
                                                                       "negative")]


def test_value_dask_when_contract_spans_partitions_counts_it_once_as_value_frame(
        client: object, tiny: sv.ProxyTable) -> None:
    """An exclusion group split across partitions is counted as in one frame, bit for bit."""
    df = _portfolio(400)
    df["contract_id"] = [f"C{i % 3}" for i in range(400)]  # every contract in every partition
    want = value_frame(df, tiny)
    assert (want["claim_share"] < 1.0).any()  # the exclusion really fires
    got = value_dask(dd.from_pandas(df, npartitions=4), tiny).compute()
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()
    assert got["claim_share"].to_numpy().tobytes() == want["claim_share"].to_numpy().tobytes()


def test_value_dask_when_contracts_span_partitions_the_client_never_holds_their_claims(
        client: object, tiny: sv.ProxyTable, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claims are shuffled on their group and summed on the workers: the client merges
    one total per group and rank. Indexing claim rows is made to fail in this (the client's)
    process only; the result is still value_frame's, bit for bit."""
    from socialvalue_tom.rules.exclusions import ClaimTotals

    def refused(cls: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the client indexed claim rows")

    monkeypatch.setattr(ClaimTotals, "from_pieces", classmethod(refused))
    df = _portfolio(400)
    df["contract_id"] = [f"C{i % 5}" for i in range(400)]
    got = value_dask(dd.from_pandas(df, npartitions=4), tiny).compute()
    monkeypatch.undo()
    want = value_frame(df, tiny)
    assert (want["claim_share"] < 1.0).any()
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()


def test_value_dask_when_shuffled_by_contract_equals_value_frame(
        client: object, tiny: sv.ProxyTable) -> None:
    """After a shuffle on contract_id, each row's value equals value_frame's for that row."""
    df = _portfolio(400)
    df["contract_id"] = [f"C{i % 7}" for i in range(400)]
    ddf = dd.from_pandas(df, npartitions=4).shuffle(on="contract_id")
    got = value_dask(ddf, tiny).compute().sort_index()
    want = value_frame(df, tiny)
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()


def test_value_dask_keeps_every_issue_of_a_row_with_several(tiny: sv.ProxyTable) -> None:
    """A row with several problems holds them all in its issue columns, and issues() gives
    value_frame's list, one line per issue (the columns held one issue: the others were lost)."""
    df = pd.DataFrame({"measure": ["jobs-local", "jobs-local", "jobs-local", "jobs-local"],
                       "quantity": ["x", "1", "-2", "3"], "unit": ["FTE"] * 4,
                       "region": ["uk", "uk", "narnia", "uk"],
                       "date": ["31/03/2025", "2024-05-01", "2024-05-01", "2024-05-01"],
                       "stage": ["Delivered", "delivered", "delivered", "commitment"]})
    want = value_frame(df, tiny, errors="collect").attrs["issues"]
    assert len(want) == 5 and want["row"].nunique() == 2
    valued = value_dask(dd.from_pandas(df, npartitions=2), tiny, errors="collect")
    got = issues(valued)
    assert got.to_dict("list") == want.to_dict("list")
    # The same frame, dtypes too (a scale review: object columns made .equals() false).
    assert pd.DataFrame(want).equals(got) and (got.dtypes == want.dtypes).all()
    first = valued.compute().iloc[0]
    assert (first["issue_field"], first["issue_code"]) == (
        "date; quantity; stage", "bad-date; not-a-number; bad-stage")
    assert first["issue_reason"].count("\n") == 2


def test_table_handle_when_pickled_resolves_same_editions(tiny: sv.ProxyTable) -> None:
    """The handle shipped to workers is small, pickles, and resolves to the same digests."""
    for tables in (tiny, [tiny]):
        handle = TableHandle.from_tables(tables)
        assert handle.paths == (str(tiny.path),)
        back = pickle.loads(pickle.dumps(handle))
        assert [t.digest for t in back.resolve().editions] == [tiny.digest]
    memory = sv.ProxyTable(tiny.spec, price_index=tiny.price_index)
    handle = TableHandle.from_tables(memory)
    assert handle.specs and not handle.paths
    assert pickle.loads(pickle.dumps(handle)).resolve().editions[0].digest == tiny.digest


def test_bulk_validation_error_when_pickled_keeps_issues() -> None:
    """BulkValidationError with issues round-trips through pickle (how Dask ships it)."""
    err = sv.BulkValidationError.from_issues([sv.RowIssue(7, "quantity", "negative", "bad", 7)])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is sv.BulkValidationError
    assert back.issues == err.issues
    assert str(back) == str(err)


def _claim_rows(measures: list[str], contract_ids: list[object]) -> pd.DataFrame:
    n = len(measures)
    return pd.DataFrame({"contract_id": pd.Series(contract_ids, dtype=object),
                         "measure": measures, "quantity": [1.0, 4.0, 1.0][:n],
                         "unit": ["FTE"] * n, "region": ["uk"] * n,
                         "date": ["2024-09-30"] * n})


@pytest.mark.parametrize("npartitions", [1, 2, 3])
def test_value_dask_when_measure_text_padded_counts_claims_as_value_frame(
        tiny: sv.ProxyTable, npartitions: int) -> None:
    """A part claimed as " jobs-priority" is subtracted from the whole on every path (the
    claim pass reads measures as validation does), and a whole claimed only as "jobs-local "
    is valued, not refused for want of claim totals."""
    df = _claim_rows(["jobs-priority", "jobs-local", " jobs-priority"], ["C1"] * 3)
    want = value_frame(df, tiny)
    assert want["claim_share"].tolist()[1] == 0.5  # both parts count against the whole
    got = value_dask(dd.from_pandas(df, npartitions=npartitions), tiny).compute(
        scheduler="sync")
    assert got["value_gbp"].tolist() == want["value_gbp"].tolist()
    alone = _claim_rows(["jobs-local", "jobs-local "], ["C1", "C2"])
    got = value_dask(dd.from_pandas(alone, npartitions=1), tiny).compute(scheduler="sync")
    assert got["value_gbp"].tolist() == value_frame(alone, tiny)["value_gbp"].tolist()


@pytest.mark.parametrize("ids", [[1001, 1001.0, "1001"], ["1001", 1001, " 1001 "],
                                 [7.0, "7", 7]])
@pytest.mark.parametrize("npartitions", [1, 2, 3])
def test_value_dask_when_contract_ids_mix_types_groups_as_value_frame(
        tiny: sv.ProxyTable, ids: list[object], npartitions: int) -> None:
    """1001, 1001.0 and "1001" are one contract (Excel gives numbers, CSV text), whatever the
    path and the partitioning: the part reduces the whole once."""
    import dask

    df = _claim_rows(["jobs-priority", "jobs-local", "jobs-priority"], ids)
    want = value_frame(df, tiny)
    assert want["claim_share"].tolist()[1] == 0.5
    with dask.config.set({"dataframe.convert-string": False}):
        got = value_dask(dd.from_pandas(df, npartitions=npartitions), tiny).compute(
            scheduler="sync")
    assert got["value_gbp"].tolist() == want["value_gbp"].tolist()


def _alternating(n: int = 8) -> pd.DataFrame:
    """Good rows at even positions, an unknown measure at odd ones."""
    return pd.DataFrame({"measure": ["env-carbon", "zzz"] * (n // 2), "quantity": [1] * n,
                         "unit": ["tCO2e"] * n, "region": ["uk"] * n,
                         "date": ["2024-06-01"] * n})


def test_value_dask_when_partitions_or_rows_selected_then_issue_rows_stay_global(
        tiny: sv.ProxyTable) -> None:
    """issue_row is the row's position in the input collection, whatever part of the result
    is computed: one partition, head/tail, a label slice."""
    valued = value_dask(dd.from_pandas(_alternating(), npartitions=4), tiny, errors="collect")

    def rows(frame: pd.DataFrame) -> list[object]:
        return [None if pd.isna(r) else int(r) for r in frame["issue_row"]]

    assert rows(valued.compute(scheduler="sync")) == [None, 1, None, 3, None, 5, None, 7]
    assert rows(valued.partitions[3].compute(scheduler="sync")) == [None, 7]
    assert rows(valued.partitions[1:3].compute(scheduler="sync")) == [None, 3, None, 5]
    assert rows(valued.tail(2, compute=False).compute(scheduler="sync")) == [None, 7]
    assert rows(valued.loc[6:7].compute(scheduler="sync")) == [None, 7]
    assert rows(valued.loc[3:4].compute(scheduler="sync")) == [3, None]
    assert rows(valued[valued["issue_row"].isna() | (valued.index > 4)].partitions[2:]
                .compute(scheduler="sync")) == [None, 5, None, 7]
    found = issues(valued.loc[5:7])
    assert found["row"].tolist() == [5, 7]
    assert found["index"].tolist() == [5, 7]


def test_value_dask_when_raising_on_selected_partition_then_issue_rows_stay_global(
        tiny: sv.ProxyTable) -> None:
    """BulkValidationError.issues from a selected partition carry the input's row numbers."""
    valued = value_dask(dd.from_pandas(_alternating(), npartitions=4), tiny)
    for part, want in ((valued.partitions[3], [7]), (valued.loc[4:5], [5]),
                       (valued.tail(1, compute=False), [7])):
        with pytest.raises(sv.BulkValidationError) as info:
            part.compute(scheduler="sync")
        assert [i.row for i in info.value.issues] == want
        assert [i.index for i in info.value.issues] == want


def _tiny_with_index(folder: Path, later_value: str) -> sv.ProxyTable:
    """The tiny edition with its own copy of the price index, 2025 set to ``later_value``."""
    path = tiny_variant(folder)
    index = folder / TINY_INDEX.name
    index.write_text(index.read_text(encoding="utf-8").replace("2025: 102.5",
                                                               f"2025: {later_value}"),
                     encoding="utf-8")
    return sv.load_table(path=path)


def test_value_dask_when_same_edition_has_another_price_index_uses_its_own(
        tmp_path: Path) -> None:
    """Workers cached editions by the editions' digests alone, and a price index is not part
    of an edition's digest: a second computation in the process restated prices with the
    first one's index."""
    frame = pd.DataFrame({"measure": ["jobs-local"], "quantity": [1.0], "unit": ["FTE"],
                          "region": ["uk"], "date": ["2024-06-01"]})
    a = {"price_year": 2025}
    first = _tiny_with_index(tmp_path / "a", "102.5")
    second = _tiny_with_index(tmp_path / "b", "110.0")
    assert first.digest == second.digest and first.index_digest != second.index_digest
    for table in (first, second):
        want = value_frame(frame, table, assumptions=a)["value_gbp"].tolist()
        got = value_dask(dd.from_pandas(frame, npartitions=1), table,
                         assumptions=a).compute(scheduler="sync")["value_gbp"].tolist()
        assert got == want
    assert want[0] == pytest.approx(18000 * 1.10)  # the second index's 2025 (110 on 100)


def test_table_handle_when_price_index_changed_on_worker_raises_typed_error(
        tmp_path: Path) -> None:
    table = _tiny_with_index(tmp_path, "102.5")
    handle = TableHandle.from_tables(table)
    index = tmp_path / TINY_INDEX.name
    index.write_text(index.read_text(encoding="utf-8").replace("2025: 102.5", "2025: 110.0"),
                     encoding="utf-8")
    with pytest.raises(sv.ProxyTableError, match="price indices loaded on this worker"):
        handle._load()


def test_value_dask_when_given_pandas_frame_then_raises_type_error(
        tiny: sv.ProxyTable) -> None:
    """A pandas DataFrame is the wrong type: a TypeError pointing to value_frame."""
    with pytest.raises(TypeError, match=r"dask DataFrame.*value_frame"):
        value_dask(_alternating(), tiny)
    with pytest.raises(TypeError, match="dask DataFrame"):
        value_dask(dd.from_pandas(_alternating(), npartitions=2)["quantity"], tiny)


def test_issues_when_given_raise_result_then_raises_outcome_error(
        tiny: sv.ProxyTable) -> None:
    """A result without the issue_* columns (errors="raise") is refused with a typed error."""
    valued = value_dask(dd.from_pandas(_alternating(), npartitions=2), tiny)
    with pytest.raises(sv.OutcomeError, match=r'errors="collect"') as info:
        issues(valued)
    assert set(info.value.details["columns"]) == {"issue_row", "issue_field", "issue_code",
                                                  "issue_reason"}


def test_issues_when_given_pandas_frame_then_raises_type_error(
        tiny: sv.ProxyTable) -> None:
    """A pandas frame (value_frame's result, or a computed value_dask result) is a TypeError
    naming what issues() needs."""
    with pytest.raises(TypeError, match=r'value_dask\(\.\.\., errors="collect"\)'):
        issues(value_frame(_alternating(), tiny, errors="collect"))
    valued = value_dask(dd.from_pandas(_alternating(), npartitions=2), tiny, errors="collect")
    with pytest.raises(TypeError, match="dask DataFrame"):
        issues(valued.compute(scheduler="sync"))


def test_table_handle_when_built_without_index_digests_resolves() -> None:
    """index_digests was added with a default of (), so a handle built as before failed,
    blaming a changed file; None (the default) leaves the indices unchecked."""
    editions = [sv.load_table("uk-national", version=v) for v in ("2023", "2024", "2025")]
    digests = tuple(t.digest for t in editions)
    assert len(TableHandle(digests, family="uk-national").resolve().editions) == 3


def test_table_handle_carries_price_index_digests_for_families_and_tables_in_memory(
        tiny: sv.ProxyTable) -> None:
    """A handle from a family name or from a table without a file must carry its indices'
    digests too, or the worker's check (and its cache key) would pass another index."""
    family = TableHandle.from_tables("uk-national")
    assert family.index_digests == tuple(
        t.index_digest for t in sv.engine.table_set("uk-national").editions)
    assert all(family.index_digests)
    from_file = TableHandle.from_tables(tiny)
    assert from_file.index_digests == (tiny.index_digest,) and from_file.paths
    in_memory = sv.ProxyTable(tiny.spec, price_index=tiny.price_index)
    handle = TableHandle.from_tables(in_memory)
    assert handle.specs and handle.index_digests == (in_memory.index_digest,)
    assert in_memory.index_digest is not None


def test_table_handle_cache_keeps_the_16_last_used_table_sets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A process valuing per-request tables (amend_table) keeps a bounded number of them,
    dropping the least recently used: it grew by one table set per request."""
    from socialvalue_tom import distributed as dist

    loads: list[tuple[str, ...]] = []

    def load(self: TableHandle) -> object:
        loads.append(self.digests)
        return object()

    monkeypatch.setattr(TableHandle, "_load", load)
    monkeypatch.setattr(dist, "_worker_tables", type(dist._worker_tables)())
    handles = [TableHandle(digests=(f"d{i}",)) for i in range(20)]
    for h in handles[:16]:
        h.resolve()
    first = handles[0].resolve()  # used again: now the most recent
    for h in handles[16:]:
        h.resolve()
    assert len(dist._worker_tables) == 16
    assert handles[0].resolve() is first  # kept, not loaded again
    loads.clear()
    handles[1].resolve()  # among the least recently used: dropped, loaded again
    assert loads == [("d1",)]


def test_value_dask_result_keeps_the_record_of_what_valued_it(
        client: object, tiny: sv.ProxyTable, tmp_path: Path) -> None:
    """The computed result carries value_frame's record (assumptions, editions, digests) in
    attrs, the same in every partition (so pd.concat keeps it), with the whole input's row
    count: explain_row works on it and a written Parquet file keeps its provenance."""
    from socialvalue_tom import io as svio

    df = _portfolio(200)
    a = {"price_year": 2024}
    got = value_dask(dd.from_pandas(df, npartitions=4), tiny, assumptions=a).compute()
    want = value_frame(df, tiny, assumptions=a)
    record, expected = got.attrs["socialvalue_tom"], want.attrs["socialvalue_tom"]
    assert record["rows"] == 200 and record["valuation_id"] != expected["valuation_id"]
    assert {k: v for k, v in record.items() if k != "valuation_id"} == {
        k: v for k, v in expected.items() if k != "valuation_id"}
    assert sv.explain_row(got, 123) == sv.explain_row(want, 123)
    assert svio.provenance(got) is not None
    svio.write_valuations(got, tmp_path / "v.parquet")
    import json

    import pyarrow.parquet as pq

    meta = pq.read_schema(tmp_path / "v.parquet").metadata or {}
    written = json.loads(meta[svio.PROVENANCE_KEY.encode()])
    assert written["assumptions"]["price_year"] == 2024
    assert written["editions"] == svio.provenance(want)["editions"]


def test_value_dask_keeps_the_record_when_partitions_have_issues_among_repeated_labels(
        client: object, tiny: sv.ProxyTable) -> None:
    """value_frame records where a partition's issues sit among repeated index labels: that
    entry differs between partitions and had made pd.concat drop the whole record."""
    df = _portfolio(200, bad=(3, 150))
    df.index = [i // 2 for i in range(len(df))]
    got = value_dask(dd.from_pandas(df, npartitions=2, sort=False), tiny,
                     errors="collect").compute()
    assert got.attrs["socialvalue_tom"]["rows"] == 200
    assert "index" not in got.attrs["socialvalue_tom"]
