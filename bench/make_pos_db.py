"""Write a realistic point-of-sale SQLite database of a given size.

    python bench/make_pos_db.py OUT.db --size 1GiB [--journal wal|delete] [--seed N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wizard.core.demo import make_pos_database

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(text: str) -> int:
    """Bytes in "1GiB", "200MiB", "500MB", "1.5G" or "123456" (k/m/g alone are decimal)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GiB, 200MiB, 500MB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a realistic POS SQLite database.")
    parser.add_argument("out", type=Path, help="database file to write (replaced if it exists)")
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="target size (1GiB)")
    parser.add_argument("--journal", choices=["wal", "delete"], default="wal", help="journal mode (wal)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = make_pos_database(args.out, args.size, seed=args.seed, journal_mode=args.journal)
    size = path.stat().st_size
    print(f"{path}: {size:,} bytes ({size / args.size:.1%} of the target) "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
