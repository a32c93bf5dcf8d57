"""Check the register of sources and every record's citation against the articles.

Usage: ``python scripts/check_sources.py [--articles ../shared/sources]``. The articles are not
copied into the project; they sit beside it at ``../shared/sources/`` (override with
``--articles`` or ``CORRIDORS_ARTICLES``). Checks (``geo.citations``):

* the register ``data/sources/sources.csv``: ids unique, kinds known, each article file there,
  each related item's heading found after the ``相关文章``/``相关阅读`` line and in order;
* every record of ``data/sources/`` and of ``data/industries.csv``: its ``source_id`` names a
  register source, its ``source`` file is that source's file, and its ``source_excerpt`` occurs
  verbatim inside the part of the file the source covers (an article's body up to the marker, or
  one related item's snippet).

Exits non-zero and names file, row and field of every problem.
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
#: Tables outside data/sources/ whose records cite the register too.
EXTRA_TABLES = (ROOT / "data" / "industries.csv",)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path,
                        default=Path(os.environ.get("CORRIDORS_ARTICLES") or DEFAULT_ARTICLES))
    parser.add_argument("--sources", type=Path, default=ROOT / "data" / "sources")
    parser.add_argument("--extra", type=Path, action="append", default=None,
                        help="another table whose records cite the register (default: data/industries.csv)")
    args = parser.parse_args(argv)
    extra = args.extra if args.extra is not None else [p for p in EXTRA_TABLES if p.exists()]
    checked, problems = check_excerpts(args.sources, args.articles, extra)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"check-sources: the register and {checked} citations checked against {args.articles}, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
