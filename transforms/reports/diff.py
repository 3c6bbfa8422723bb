"""What changed between two versions of a report: the figures that moved (by how much) and the inputs that
moved them (landing files the report draws on, reference tables, code). Pure; the readable form is Markdown."""

from __future__ import annotations

import math
from typing import Any

from transforms.reports.base import Figure


def figure_changes(old: dict[str, Figure], new: dict[str, Figure]) -> dict[str, list[dict[str, Any]]]:
    """Changed, added and removed figures, sorted by name. Numbers carry the absolute and relative change."""
    changed, added, removed = [], [], []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            added.append({"figure": name, "new": new[name]})
        elif name not in new:
            removed.append({"figure": name, "old": old[name]})
        elif not _same(old[name], new[name]):
            row: dict[str, Any] = {"figure": name, "old": old[name], "new": new[name]}
            a, b = old[name], new[name]
            if _number(a) and _number(b):
                row["change"] = b - a
                row["relative_change"] = (b - a) / abs(a) if a else None
            changed.append(row)
    return {"changed": changed, "added": added, "removed": removed}


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _same(a: Figure, b: Figure) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def input_causes(
    old_inputs: dict[str, str],
    new_inputs: dict[str, str],
    sources: frozenset[str],
    old_reference: dict[str, str],
    new_reference: dict[str, str],
    old_code: str | None,
    new_code: str | None,
) -> dict[str, Any]:
    """Which inputs of this report differ between the two versions' runs.

    `*_inputs` map `dataset/drop/file` → sha256 for every landing file of the run; only files among `sources`
    (the files the report's numbers come from) or new files of the same datasets are named. `*_reference`
    map reference seed table → hash."""
    datasets = {s.split("/", 1)[0] for s in sources}
    relevant = {
        f for f in old_inputs.keys() | new_inputs.keys() if f in sources or f.split("/", 1)[0] in datasets
    }
    return {
        "input_files_changed": sorted(
            f for f in relevant if f in old_inputs and f in new_inputs and old_inputs[f] != new_inputs[f]
        ),
        "input_files_added": sorted(f for f in relevant if f not in old_inputs),
        "input_files_removed": sorted(f for f in relevant if f not in new_inputs),
        "reference_tables_changed": sorted(
            t
            for t in old_reference.keys() | new_reference.keys()
            if old_reference.get(t) != new_reference.get(t)
        ),
        "code_version": None if old_code == new_code else {"old": old_code, "new": new_code},
    }


def diff_markdown(diff: dict[str, Any]) -> str:
    """The readable diff: a heading, the causes, then one table row per changed figure."""
    lines = [
        f"# {diff['kind']} {diff['key']}: v{diff['from_version']} → v{diff['to_version']}",
        "",
        f"Published {diff['published_at']} by run `{diff['run_id']}`.",
        "",
        "## Why it changed / 变更原因",
        "",
    ]
    causes = diff["causes"]
    named = False
    for label, key in (
        ("Input files changed", "input_files_changed"),
        ("Input files added", "input_files_added"),
        ("Input files removed", "input_files_removed"),
        ("Reference tables (factors) changed", "reference_tables_changed"),
    ):
        if causes.get(key):
            named = True
            lines.append(f"- {label}: " + ", ".join(f"`{x}`" for x in causes[key]))
    if causes.get("code_version"):
        named = True
        lines.append(f"- Code version: `{causes['code_version']['old']}` → `{causes['code_version']['new']}`")
    if not named:
        lines.append("- No input, reference table or code difference found between the two runs.")
    changes = diff["figures"]
    lines += ["", "## Numbers / 数值", ""]
    lines += [
        f"{len(changes['changed'])} changed, {len(changes['added'])} added, {len(changes['removed'])} removed.",
        "",
    ]
    if changes["changed"]:
        lines += ["| figure | old | new | change | relative |", "|---|---|---|---|---|"]
        for c in changes["changed"]:
            rel = c.get("relative_change")
            lines.append(
                f"| `{_cell(c['figure'])}` | {_cell(c['old'])} | {_cell(c['new'])} | {_cell(c.get('change'))} | "
                f"{'' if rel is None else f'{rel:+.4%}'} |"
            )
    for title, key, side in (("Added", "added", "new"), ("Removed", "removed", "old")):
        if changes[key]:
            lines += ["", f"### {title}", ""]
            lines += [f"- `{_cell(c['figure'])}`: {_cell(c[side])}" for c in changes[key]]
    return "\n".join(lines) + "\n"


def _cell(v: object) -> str:
    """Markdown-safe text of a value (pipes and newlines would break the table)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v).replace("|", "\\|").replace("\n", " ").replace("`", "'")
