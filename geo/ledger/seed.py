"""The articles' records as seed changes: the first build loads them, later builds merge without losing an edit.

``run.py build`` validates ``data/sources/`` and calls :func:`load_seed`. On an empty store every record
is added by one seed change. On a store that has a ledger, each record of the sources is compared with
the store:

- a record no user has changed (its last change is a seed change, or it has no history: a store built
  before the ledger) takes the new seed values;
- a record a user has changed (an import, an edit, an undo) keeps the user's values; when the seed
  has changed it too, the record is reported as a *conflict* and left as the user made it;
- a record the sources no longer hold is deleted when no user changed it, else reported;
- a record a user deleted stays deleted.

The reference layers (the districts and the register of sources) are replaced from the sources; the
register keeps the entries the ledger added (imports, edits). Running the same build twice writes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import shapely

from geo.ledger.changes import (
    LEDGER_LAYERS,
    LOG,
    RecordChange,
    canonical,
    commit,
    plan,
    record_of,
    records_of,
)
from geo.schema import REGISTER_LAYER
from geo.store import Layer, Update, appended, in_store_order, is_spatial

#: Who a build's changes are recorded as.
SEED_USER = "build"
#: Register kinds the ledger adds (kept when the register is rebuilt from the sources).
LEDGER_SOURCE_KINDS = ("import", "edit")


@dataclass
class SeedReport:
    """What a build did: the change id (None if nothing changed), counts, and records kept as users made them."""

    change_id: str | None
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    conflicts: list[dict[str, str]] = field(default_factory=list)
    reference_written: bool = False


def _owners(log: pd.DataFrame | None) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(layer, id) -> (kind of its last change, the after-record of its last seed change as JSON)."""
    if log is None or log.empty:
        return {}
    rows = log.sort_values("change_seq", kind="stable")
    last = rows.drop_duplicates(["layer", "record_id"], keep="last")
    seeds = rows[rows["kind"] == "seed"].drop_duplicates(["layer", "record_id"], keep="last")
    seed_after = {(r.layer, r.record_id): r.after_json for r in seeds.itertuples(index=False)}
    return {(r.layer, r.record_id): (str(r.kind), seed_after.get((r.layer, r.record_id)))
            for r in last.itertuples(index=False)}


def _register(seed: pd.DataFrame | None, current: Layer | None) -> pd.DataFrame | None:
    """The register of the sources, with the entries the ledger added kept after them."""
    if seed is None:
        return None
    if current is None or is_spatial(current) or "kind" not in current.columns:
        return seed
    kept = current[current["kind"].isin(LEDGER_SOURCE_KINDS) & ~current["id"].isin(seed["id"])]
    return appended(seed, kept.reset_index(drop=True))


def _valid_from(register: pd.DataFrame | None) -> dict[str, str]:
    """source id -> its publication day (a seed record stands so from the day its article appeared)."""
    if register is None or "published_date" not in register.columns:
        return {}
    days = register.set_index("id")["published_date"].dropna().astype(str)
    return {k: v for k, v in days.items() if len(v) == 10}


def _same_layer(stored: Layer | None, built: Layer) -> bool:
    """Whether a stored layer holds the same rows as a built one (as read back: missing-value dtypes aside)."""
    if stored is None or len(stored) != len(built) or set(stored.columns) != set(built.columns):
        return False
    if is_spatial(built):
        if not is_spatial(stored) or not shapely.equals_exact(stored.geometry.values, built.geometry.values,
                                                               tolerance=1e-9).all():
            return False
        stored, built = stored.drop(columns=stored.geometry.name), built.drop(columns=built.geometry.name)
    rows = [canonical(record_of(r, None)) for r in pd.DataFrame(stored)[list(built.columns)].to_dict("records")]
    return rows == [canonical(record_of(r, None)) for r in pd.DataFrame(built).to_dict("records")]


def load_seed(store, sources: Mapping[str, Layer], progress: Callable[[str], None] | None = None) -> SeedReport:
    """Merge the validated layers of ``data/sources/`` into the store as seed changes (see the module)."""
    say = progress or (lambda _msg: None)
    report = SeedReport(None)
    ordered = in_store_order(sources)

    def planner(layers: dict[str, Layer], change_id: str) -> tuple[list[RecordChange], Update]:
        owners = _owners(layers.get(LOG))
        register = _register(ordered.get(REGISTER_LAYER), layers.get(REGISTER_LAYER))
        days = _valid_from(register)
        changes: list[RecordChange] = []
        for name in LEDGER_LAYERS:
            if name not in ordered:
                continue
            seeds = records_of(ordered[name])
            frame = layers.get(name)
            current = records_of(frame) if frame is not None and is_spatial(frame) and len(frame) else {}
            proposed: dict[str, dict | None] = {}
            for rid in [*seeds, *(r for r in current if r not in seeds)]:
                seed, now = seeds.get(rid), current.get(rid)
                kind, last_seed = owners.get((name, rid), ("seed", None))
                if kind != "seed":  # a user's record: theirs stays, a changed seed is reported
                    if canonical(seed) != (last_seed or canonical(None)) and canonical(seed) != canonical(now):
                        report.conflicts.append({"layer": name, "id": rid, "last_change": kind})
                    continue
                legacy = (name, rid) not in owners and now is not None and seed is not None
                if legacy and canonical(now) == canonical(seed):  # a store from before the ledger: log its baseline
                    cited = seed["properties"].get("source_id")
                    changes.append(RecordChange(name, rid, "update", now, seed, cited, days.get(str(cited))))
                    continue
                proposed[rid] = seed
            for change in plan(name, current, proposed):
                day = days.get(str(change.source_id or ""))
                changes.append(RecordChange(change.layer, change.record_id, change.operation, change.before,
                                            change.after, change.source_id, day))
        touched = {(c.layer, c.record_id) for c in changes} | {(c["layer"], c["id"]) for c in report.conflicts}
        report.unchanged = sum(1 for n in LEDGER_LAYERS if n in ordered for rid in ordered[n]["id"]
                               if (n, str(rid)) not in touched)
        reference = {n: f for n, f in ordered.items() if n not in LEDGER_LAYERS}
        if register is not None:
            reference[REGISTER_LAYER] = register
        replace = {n: f for n, f in reference.items() if not _same_layer(layers.get(n), f)}
        report.reference_written = bool(replace)
        return changes, Update(replace=replace)

    done = commit(store, planner, user=SEED_USER, kind="seed", progress=say)
    counts = done.counts()
    report.change_id = done.change_id
    report.added, report.updated, report.deleted = counts["add"], counts["update"], counts["delete"]
    say(f"  seed change {done.change_id or '(none)'}: {report.added} added, {report.updated} updated, "
        f"{report.deleted} deleted, {report.unchanged} unchanged")
    for c in report.conflicts:
        say(f"  kept as a user left it: {c['layer']}/{c['id']} (last changed by {c['last_change']}); "
            "the sources now say otherwise")
    return report
