"""``python -m socialvalue_tom`` and the ``socialvalue-tom`` command.

The command line needs the ``cli`` extra (typer and rich). Without it the command says so in
one line and exits 2 (a usage problem), rather than ending in a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line, or say which extra it needs (exit 2)."""
    try:
        from socialvalue_tom.cli import main as run
    except ImportError as exc:
        sys.stderr.write(f"error: {getattr(exc, 'message', exc)}\n")
        raise SystemExit(2) from None
    run()


if __name__ == "__main__":
    main()
