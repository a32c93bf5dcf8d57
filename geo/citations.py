"""Citations: every record names its article (``source``) and a short verbatim ``source_excerpt``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


def iter_citations(sources_dir: Path) -> Iterator[tuple[str, int, str, str]]:
    """Yield (file, row, source, source_excerpt) for every record of every source table."""
    for path in sorted(Path(sources_dir).glob("*.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for row_no, rec in enumerate(table.to_dict("records"), start=1):
            yield path.name, row_no, rec.get("source", ""), rec.get("source_excerpt", "")
    for path in sorted(Path(sources_dir).glob("*.geojson")):
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        for row_no, feature in enumerate(features, start=1):
            props = feature.get("properties") or {}
            yield path.name, row_no, props.get("source", ""), props.get("source_excerpt", "")


def check_excerpts(sources_dir: Path, articles_dir: Path) -> tuple[int, list[str]]:
    """Check each excerpt occurs verbatim in its article; return (count checked, problems)."""
    texts: dict[str, str | None] = {}
    problems: list[str] = []
    checked = 0
    for file, row, source, excerpt in iter_citations(sources_dir):
        checked += 1
        if source not in texts:
            article = Path(articles_dir) / source
            texts[source] = article.read_text(encoding="utf-8") if source and article.is_file() else None
        text = texts[source]
        where = f"data/sources/{file}, row {row}"
        if text is None:
            problems.append(f"{where}, field 'source': article {source!r} not found in {articles_dir}")
        elif not excerpt or excerpt not in text:
            problems.append(f"{where}, field 'source_excerpt': {excerpt!r} does not occur verbatim in {source}")
    return checked, problems
