"""value_frame over Dask partitions on a multi-process cluster (socialvalue_tom.distributed)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest
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


def test_value_dask_when_shuffled_by_contract_equals_value_frame(
        client: object, tiny: sv.ProxyTable) -> None:
    """After a shuffle on contract_id, each row's value equals value_frame's for that row."""
    df = _portfolio(400)
    df["contract_id"] = [f"C{i % 7}" for i in range(400)]
    ddf = dd.from_pandas(df, npartitions=4).shuffle(on="contract_id")
    got = value_dask(ddf, tiny).compute().sort_index()
    want = value_frame(df, tiny)
    assert got["value_gbp"].to_numpy().tobytes() == want["value_gbp"].to_numpy().tobytes()


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
