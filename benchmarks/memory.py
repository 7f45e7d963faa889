"""Peak memory of value_frame on N rows (default 1e6), against input size + 4 float64 columns.

Usage: ``python benchmarks/memory.py [N]``. Measures Python/numpy allocations with tracemalloc
(pyarrow-backed string buffers allocate outside it and are counted in the input size) and the
process's peak RSS growth. Prints one line per figure.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from portfolio import bench_tables, make_portfolio

from socialvalue_tom.frame import value_frame


def _status(key: str) -> int:
    """A size in bytes from /proc/self/status (Linux)."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss() -> int:
    """Reset the peak RSS mark (Linux clear_refs) and return the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5", encoding="utf-8")
    return _status("VmRSS")


def main(n: int) -> None:
    """Print input size, the 4-column budget, tracemalloc peak and RSS growth in MiB."""
    tables = bench_tables()
    df = make_portfolio(n, tables)
    value_frame(df.head(1000), tables)  # warm caches (pint, tables)
    mib = 1 << 20
    size = df.memory_usage(deep=True).sum()
    budget = size + 4 * 8 * n
    rss0 = _reset_peak_rss()
    tracemalloc.start()
    out = value_frame(df, tables)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = _status("VmHWM")
    print(f"rows                         {n}")
    print(f"input (deep)                 {size / mib:8.1f} MiB")
    print(f"input + 4 float64 columns    {budget / mib:8.1f} MiB")
    print(f"output (deep)                {out.memory_usage(deep=True).sum() / mib:8.1f} MiB")
    print(f"tracemalloc peak in call     {peak / mib:8.1f} MiB "
          f"({peak / (4 * 8 * n):.2f}x the 4 float64 columns)")
    print(f"peak RSS growth in call      {max(rss1 - rss0, 0) / mib:8.1f} MiB")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
