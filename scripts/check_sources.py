"""Check that every ``source_excerpt`` of the data occurs verbatim in the article it cites.

Usage: ``python scripts/check_sources.py [--articles ../shared/sources]``. The articles are not
copied into the project; they sit beside it at ``../shared/sources/`` (override with
``--articles`` or ``CORRIDORS_ARTICLES``). Exits non-zero and names file, row and field of
every excerpt that is not found.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.citations import check_excerpts

DEFAULT_ARTICLES = ROOT.parent / "shared" / "sources"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path,
                        default=Path(os.environ.get("CORRIDORS_ARTICLES") or DEFAULT_ARTICLES))
    parser.add_argument("--sources", type=Path, default=ROOT / "data" / "sources")
    args = parser.parse_args(argv)
    checked, problems = check_excerpts(args.sources, args.articles)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"check-sources: {checked} excerpts checked against {args.articles}, {len(problems)} not found")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
