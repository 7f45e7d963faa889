"""``python -m socialvalue_tom``: the same command line as ``socialvalue-tom``."""

from socialvalue_tom.cli import main

if __name__ == "__main__":
    main()
