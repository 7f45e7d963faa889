"""rules.pipeline: the one ordered pipeline, on N = 1 floats and on arrays."""

from __future__ import annotations

import math

import numpy as np

from socialvalue_tom.rules.pipeline import RuleInputs, run_pipeline


def _inputs(**kw: float) -> RuleInputs[float]:
    base = dict(quantity=2.0, factor=1.0, proxy=30000.0, sign=1.0, deadweight=0.1,
                displacement=0.0, attribution=0.0, reduction=0.0, years=1, drop_off=0.0,
                offset=0, uplift=1.0, cap=math.inf)
    base.update(kw)
    return RuleInputs(schedule="green-book", **base)  # type: ignore[arg-type]


def test_run_pipeline_when_local_jobs_gives_stages() -> None:
    """2 FTE x £30,000 x 0.9 = £54,000 at every later stage."""
    s = run_pipeline(_inputs())
    assert (s.canonical, s.gross) == (2.0, 60000.0)
    assert s.net == s.confident == s.discounted == s.uplifted == s.capped == s.value == 54000.0
    assert s.duration == 1.0


def test_run_pipeline_when_all_rules_fire_applies_them_in_order() -> None:
    """Cap applies after uplift; the sign applies last; the confidence reduction cuts a benefit
    and leaves a disbenefit whole."""
    s = run_pipeline(_inputs(reduction=0.1, uplift=1.025, cap=40000.0))
    assert s.confident == 54000.0 * 0.9
    assert s.uplifted == s.confident * 1.025
    assert s.capped == 40000.0 and s.value == 40000.0
    harm = run_pipeline(_inputs(reduction=0.1, uplift=1.025, cap=60000.0, sign=-1.0))
    assert harm.confident == 54000.0 and harm.uplifted == 54000.0 * 1.025
    assert harm.capped == harm.uplifted and harm.value == -harm.uplifted


def test_run_pipeline_when_gross_given_overrides_quantity_times_proxy() -> None:
    """A custom measure's expression result replaces canonical x proxy."""
    assert run_pipeline(_inputs(), gross=1000.0).value == 900.0


def test_run_pipeline_when_arrays_match_scalars_bit_for_bit() -> None:
    """The same rule inputs as arrays give the scalar results exactly."""
    rows = [dict(quantity=3.7, drop_off=0.13, years=5, offset=2, reduction=0.1),
            dict(quantity=0.1, proxy=0.3, deadweight=0.7, uplift=1.025, cap=1e-3),
            dict(quantity=1e6, years=40, drop_off=0.01, offset=10),
            dict(quantity=2.5, sign=-1.0, reduction=0.4, years=3, drop_off=0.2)]
    scalars = [run_pipeline(_inputs(**r)).value for r in rows]
    keys = ("quantity", "factor", "proxy", "sign", "deadweight", "displacement", "attribution",
            "reduction", "years", "drop_off", "offset", "uplift", "cap")
    cols = {k: np.array([getattr(_inputs(**r), k) for r in rows], dtype=float) for k in keys}
    cols["offset"] = cols["offset"].astype(np.intp)
    arr = run_pipeline(RuleInputs(schedule="green-book", **cols)).value
    assert np.asarray(scalars).view(np.uint64).tolist() == arr.view(np.uint64).tolist()
