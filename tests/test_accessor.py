"""The df.socialvalue accessor."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import socialvalue_tom as sv
import socialvalue_tom.accessor  # registers df.socialvalue

TINY = Path(__file__).parent / "data" / "tables" / "tiny.yaml"


@pytest.fixture
def outcomes() -> pd.DataFrame:
    return pd.DataFrame({"measure": ["jobs-local", "env-carbon"], "quantity": [1, 4],
                         "unit": ["FTE", "tCO2e"], "region": ["uk", "uk"],
                         "date": ["2024-06-01", "2024-06-01"]})


def test_value_when_called_then_same_as_value_frame(outcomes: pd.DataFrame) -> None:
    """df.socialvalue.value() is value_frame(df, tables)."""
    tiny = sv.load_table(path=TINY)
    valued = outcomes.socialvalue.value(tables=tiny)
    assert valued["value_gbp"].tolist() == [18_000.0, 1_000.0]  # 20,000 x 0.9; 4 x 250
    assert "value_gbp" not in outcomes.columns


def test_summarise_when_valued_then_totals_by_theme(outcomes: pd.DataFrame) -> None:
    """Totals per theme from the valued frame."""
    tiny = sv.load_table(path=TINY)
    valued = outcomes.socialvalue.value(tables=tiny)
    s = valued.socialvalue.summarise(by="theme", tables=tiny).set_index("theme")
    assert s.loc["jobs", "net_gbp"] == Decimal("18000.00")
    assert s.loc["environment", "net_gbp"] == Decimal("1000.00")


def test_summarise_when_not_valued_then_asks_to_value_first(outcomes: pd.DataFrame) -> None:
    """Summarising raw outcomes says what to do."""
    with pytest.raises(ValueError, match=r"socialvalue\.value\(\) first"):
        outcomes.socialvalue.summarise()


def test_explain_when_valued_then_trace_matches_scalar(outcomes: pd.DataFrame) -> None:
    """explain(i) is the scalar engine's derivation of row i."""
    tiny = sv.load_table(path=TINY)
    valued = outcomes.socialvalue.value(tables=tiny)
    text = valued.socialvalue.explain(1)
    scalar = sv.value(sv.Outcome(measure="env-carbon", quantity=4, unit="tCO2e", region="uk",
                                 date="2024-06-01"), tiny)
    assert text == scalar.explain()
    assert "£1,000.00" in text


@pytest.mark.parametrize("i", [2, 99, -3])
def test_explain_when_row_out_of_range_then_typed_error(outcomes: pd.DataFrame, i: int) -> None:
    """A row that does not exist is a SocialValueError naming how many rows there are."""
    valued = outcomes.socialvalue.value(tables=sv.load_table(path=TINY))
    with pytest.raises(sv.SocialValueError, match="2 rows"):
        valued.socialvalue.explain(i)


def test_summarise_when_not_valued_then_typed_error(outcomes: pd.DataFrame) -> None:
    """The 'value first' error is a SocialValueError (and still a ValueError)."""
    with pytest.raises(sv.SocialValueError):
        outcomes.socialvalue.summarise()
