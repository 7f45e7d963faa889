"""Phase 2 of bulk valuation: the rule pipeline on the valid rows, in blocks.

Blocks bound the memory of intermediates; contiguous blocks are views, not copies. The
arithmetic is :func:`socialvalue_tom.rules.run_pipeline`, the same as the scalar engine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from socialvalue_tom._bulk.issues import Issues
from socialvalue_tom._bulk.lookups import FloatArray, Rows, field_values
from socialvalue_tom.outcome import MAX_AMOUNT, Assumptions, proxy_bound
from socialvalue_tom.rules.pipeline import RuleInputs, peak_amount, run_pipeline, too_large
from socialvalue_tom.tables.stack import EditionStack

__all__ = ["BLOCK", "Columns", "arithmetic"]

#: Rows valued at once: 49,152 keeps one block's intermediates (about 28 float arrays) near
#: 10 MiB, so the peak at 1e6 rows stays within four float64 columns (65,536 went 3% over, for
#: no speed a benchmark could tell apart from this machine's noise).
BLOCK = 3 << 14


@dataclass
class Columns:
    """Output arrays for the whole input; ``gross`` and ``canonical`` only with ``detail``."""

    value: FloatArray
    proxy: FloatArray
    gross: FloatArray | None
    canonical: FloatArray | None
    region: np.ndarray
    edition: np.ndarray

    @classmethod
    def empty(cls, n: int, detail: bool, n_editions: int, n_regions: int) -> Columns:
        """NaN values and -1 codes, with the smallest integer type that holds the codes."""
        code = np.int8 if max(n_editions, n_regions) < 127 else np.int16
        return cls(np.full(n, np.nan), np.full(n, np.nan),
                   np.full(n, np.nan) if detail else None,
                   np.full(n, np.nan) if detail else None,
                   np.full(n, -1, dtype=code), np.full(n, -1, dtype=code))


def arithmetic(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: Rows, issues: Issues,
               scale: FloatArray | None, out: Columns, start: int, uplift: FloatArray) -> None:
    """Value the valid rows of one block (``df`` is the block; it starts at row ``start``)."""
    if not issues.bad.any():  # the common case: a contiguous range, views instead of copies
        _block(df, s, a, rows, slice(0, len(df)), uplift, scale, out, issues, start)
        return
    valid = np.flatnonzero(~issues.bad)
    if valid.size:
        _block(df, s, a, rows, valid, uplift, scale, out, issues, start)


Sel = np.ndarray | slice  # which rows a block covers: positions, or a contiguous range


def _proxies(s: EditionStack, bound: str, emr: np.ndarray, sign: np.ndarray) -> FloatArray:
    """Each row's proxy value: the bound asked for, or per row by its measure's sign for a
    bound that treats benefits and disbenefits apart (as :func:`proxy_bound`)."""
    benefit, harm = proxy_bound(bound, False), proxy_bound(bound, True)
    values: FloatArray = s.proxy[benefit].ravel().take(emr)
    if harm != benefit:
        values = np.where(sign < 0, s.proxy[harm].ravel().take(emr), values)
    return values


def _pick(rows: Rows, name: str, sel: Sel, call: float | None,
          default: FloatArray) -> FloatArray:
    base = default if call is None else np.full(default.shape, call)
    col = rows.extra.get(name)
    if col is None:
        return base
    vals = col[sel]
    return np.where(np.isnan(vals), base, vals)


def _block(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: Rows, sel: Sel,
           uplift: FloatArray, scale: FloatArray | None, out: Columns, issues: Issues,
           start: int) -> None:
    health = s.health.ravel().take(rows.em[sel])
    if not health.any():
        _run(df, s, a, rows, sel, uplift, scale, a.discount_schedule, out, issues, start)
        return
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    other = "health" if a.discount_schedule == "green-book" else a.discount_schedule
    for schedule, mask in ((a.discount_schedule, ~health), (other, health)):
        if mask.any():
            _run(df, s, a, rows, idx[mask], uplift, scale, schedule, out, issues, start)


def _run(df: pd.DataFrame, s: EditionStack, a: Assumptions, rows: Rows, sel: Sel,
         uplift: FloatArray, scale: FloatArray | None, schedule: str, out: Columns,
         issues: Issues, start: int) -> None:
    per = {k: v.ravel() for k, v in s.measure_arrays.items()}
    em, emr = rows.em[sel], rows.emr[sel]
    n = len(em)
    q = rows.q[sel] if scale is None else rows.q[sel] * scale[sel]
    cap: FloatArray | float = np.inf
    cv = rows.extra.get("contract_value")
    if cv is not None and s.has_caps:
        ratio, cvs = per["cap_ratio"].take(em), cv[sel]
        has = ~np.isnan(ratio) & ~np.isnan(cvs)
        cap = np.full(n, np.inf)
        cap[has] = ratio[has] * cvs[has]
        share = rows.extra.get("period_share")
        if share is not None:  # a part of a row reported for a period: its share of the cap
            part = share[sel]
            scaled = has & ~np.isnan(part)
            cap[scaled] = cap[scaled] * part[scaled]
    base = a.discount_base_year
    x: RuleInputs[Any] = RuleInputs(  # arrays and scalars mix
        quantity=q, factor=rows.factor[sel], proxy=_proxies(s, a.bound, emr, per["sign"].take(em)),
        sign=per["sign"].take(em),
        deadweight=_pick(rows, "deadweight", sel, a.deadweight, per["deadweight"].take(em)),
        displacement=_pick(rows, "displacement", sel, a.displacement,
                           per["displacement"].take(em)),
        attribution=_pick(rows, "attribution", sel, a.attribution,
                          per["attribution"].take(em)),
        reduction=rows.reduction[sel],
        years=_pick(rows, "years", sel, None, np.ones(n)),
        drop_off=_pick(rows, "drop_off", sel, a.drop_off, per["drop_off"].take(em)),
        offset=np.zeros(n, dtype=np.intp) if base is None
        else rows.fy[sel].astype(np.intp) - base,
        uplift=uplift.take(rows.ed[sel]) if (uplift != 1.0).any() else 1.0, cap=cap,
        schedule=schedule,
    )
    st = run_pipeline(x, _custom_gross(df, s, x, rows, sel))
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    # The gross is checked, not only the value: a cap would turn an infinite gross into the
    # cap, and a disbenefit's sign a negative gross into a benefit.
    finite = np.isfinite(st.value) & np.isfinite(st.gross)
    negative = finite & (st.gross < 0)
    if not finite.all() or negative.any():
        bad = np.zeros(issues.n, dtype=bool)
        bad[idx[~finite]] = True
        issues.add(bad, "measure", "non-finite",
                   "the measure's expression gave a non-finite value")
        bad[:] = False
        bad[idx[negative]] = True
        # Each row's reason quotes its measure's expression and the parameters it uses.
        words = {p: s.editions[e].expression_words(s.editions[e].measure_codes[k])
                 for p, e, k in zip(idx[negative].tolist(), rows.ed[sel][negative].tolist(),
                                    rows.m[sel][negative].tolist(), strict=True)}
        issues.add(bad, "measure", "negative-gross",
                   lambda p: f"the measure's expression ({words[p]}) gave a negative amount: "
                   "it gives the size of a benefit or disbenefit, the measure's sign says "
                   "which (a parameter written as a percentage, 20 for 0.2?)")
        finite &= ~negative
    peak = peak_amount(st)
    large = finite & ~(peak <= MAX_AMOUNT)  # NaN and infinity too: a step overflowed
    if large.any():
        bad = np.zeros(issues.n, dtype=bool)
        bad[idx[large]] = True
        peaks = dict(zip(idx[large].tolist(), peak[large].tolist(), strict=True))
        issues.add(bad, "quantity", "too-large", lambda p: too_large(peaks[p]))
        finite &= ~large
    pairs: list[tuple[np.ndarray, np.ndarray]] = [
        (out.value, st.value), (out.proxy, x.proxy), (out.edition, rows.ed[sel]),
        (out.region, s.region_used.ravel().take(emr))]
    if out.gross is not None and out.canonical is not None:
        pairs += [(out.gross, st.gross * x.sign + 0.0), (out.canonical, st.canonical)]
    _store(pairs, sel, idx, finite, start)


def _store(pairs: list[tuple[np.ndarray, np.ndarray]], sel: Sel, idx: np.ndarray,
           finite: np.ndarray, start: int) -> None:
    """Write results for the rows that gave a finite value (all of them, usually)."""
    if finite.all():
        where: Sel = (slice(start + sel.start, start + sel.stop) if isinstance(sel, slice)
                      else idx + start)
        for target, col in pairs:
            target[where] = col
        return
    ok = idx[finite] + start
    for target, col in pairs:
        target[ok] = col[finite]


def _custom_gross(df: pd.DataFrame, s: EditionStack, x: RuleInputs[Any], rows: Rows,
                  sel: Sel) -> FloatArray | None:
    if not s.custom:
        return None
    ed, m = rows.ed[sel], rows.m[sel]
    idx = np.arange(sel.start, sel.stop) if isinstance(sel, slice) else sel
    gross: FloatArray | None = None
    for c in s.custom:
        mask = (ed == c.edition) & (m == c.measure)
        if not mask.any():
            continue
        if gross is None:
            gross = x.quantity * x.factor * x.proxy
        t = s.editions[c.edition]
        env: dict[str, Any] = dict(t.parameters_for(c.code))
        for name in c.requires:
            env[name] = field_values(df, name)[idx[mask]]
        emr = rows.emr[sel][mask]
        canonical = (x.quantity * x.factor)[mask]
        share = _part_shares(rows, sel, mask)
        # A part of a row reported for a period: the expression is evaluated on the whole
        # row's quantity and the part takes its share of the result (engine.whole_quantity).
        env.update(quantity=canonical if share is None else canonical / share,
                   proxy=x.proxy[mask], proxy_low=s.proxy["low"].ravel().take(emr),
                   proxy_high=s.proxy["high"].ravel().take(emr))
        result = c.expression.evaluate(env)
        gross[mask] = result if share is None else result * share
    return gross


def _part_shares(rows: Rows, sel: Sel, mask: np.ndarray) -> FloatArray | None:
    """The period shares of the selected rows (1.0 for whole rows), ``None`` when none is a
    part of a row."""
    col = rows.extra.get("period_share")
    if col is None:
        return None
    share = col[sel][mask]
    parts = ~np.isnan(share) & (share != 1.0)
    if not parts.any():
        return None
    return np.where(parts, share, 1.0)
