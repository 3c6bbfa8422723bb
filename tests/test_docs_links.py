"""Every document the code and the docs cite is in the repository.

Comments, docstrings, contract and mart descriptions cite `docs/...md` files (and, before, `spec/*.md` and
`domain/*.md` files that lived outside the repo, which a user's clone does not have). This test fails when a
citation points at a file that is not in the repo, at a section label the cited document does not have, or
when a relative Markdown link in the docs (or its `#anchor`) leads nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Where product text lives; generated and run-time folders are skipped.
SCANNED = (
    "transforms",
    "orchestration",
    "expectations",
    "dbt_project",
    "data_contracts",
    "tools",
    "tests",
    "docs",
)
SCANNED_FILES = ("README.md", "Makefile")
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".json", ".md", ".j2", ".html"}
SKIPPED_DIRS = {"target", "logs", "dbt_packages", "__pycache__", "node_modules", ".venv"}

# A path to a document outside the repo, as the old citations wrote them (not preceded by a path character,
# so `docs/landing-zone.md` does not match `spec/...`).
OUTSIDE = re.compile(r"(?<![\w/.-])(?:spec|domain|engineering)/[\w-]+\.md")
CITED_DOC = re.compile(r"(?<![\w/.-])docs/[\w./-]+?\.md")
# Section labels the methodology docs promise to keep: cbam "(d)", zero-carbon/ghg-logistics "section 5", "§5".
CBAM_LABEL = re.compile(r"docs/methodology/cbam\.md`?\)?[ ,;]*\(?([a-h])\b\)?")
NUMBERED_LABEL = re.compile(
    r"docs/methodology/(zero-carbon|ghg-logistics)\.md`?[ ,;]*(?:sections?|§)\s*(\d)(?:\s*[-–]\s*(\d))?"
)
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def product_files() -> Iterator[Path]:
    # This file names the forbidden patterns itself.
    me = Path(__file__).resolve()
    for name in SCANNED_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            skipped = SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
            if path.suffix in SUFFIXES and not skipped and path.is_file() and path.resolve() != me:
                yield path


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", read(path), re.MULTILINE)}


def headings(path: Path) -> list[str]:
    return re.findall(r"^#{1,6}\s+(.+?)\s*$", read(path), re.MULTILINE)


def where(path: Path, text: str, pos: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, pos) + 1}"


def test_scan_sees_the_product_code() -> None:
    # Guards the test itself: a wrong root or pattern would make every other assertion vacuous.
    files = {p.relative_to(ROOT).as_posix() for p in product_files()}
    assert "transforms/ingest/cells.py" in files and "data_contracts/parks.odcs.yaml" in files
    assert "docs/landing-zone.md" in files
    cited = [m.group(0) for p in product_files() for m in CITED_DOC.finditer(read(p))]
    assert "docs/landing-zone.md" in cited and "docs/methodology/cbam.md" in cited


def test_no_citation_points_outside_the_repo() -> None:
    bad = [
        f"{where(p, text, m.start())}: {m.group(0)}"
        for p in product_files()
        for text in [read(p)]
        for m in OUTSIDE.finditer(text)
    ]
    assert not bad, "cites a document that is not in the repo (cite docs/… instead):\n" + "\n".join(bad)


def test_every_cited_doc_exists() -> None:
    missing = [
        f"{where(p, text, m.start())}: {m.group(0)}"
        for p in product_files()
        for text in [read(p)]
        for m in CITED_DOC.finditer(text)
        if not (ROOT / m.group(0)).is_file()
    ]
    assert not missing, "cited document missing:\n" + "\n".join(missing)


def test_cited_section_labels_exist() -> None:
    cbam = [h for h in headings(ROOT / "docs/methodology/cbam.md")]
    numbered = {
        name: {
            h.split(".", 1)[0]
            for h in headings(ROOT / f"docs/methodology/{name}.md")
            if re.match(r"\d+\.", h)
        }
        for name in ("zero-carbon", "ghg-logistics")
    }
    bad: list[str] = []
    for p in product_files():
        text = read(p)
        for m in CBAM_LABEL.finditer(text):
            if not any(h.startswith(f"({m.group(1)})") for h in cbam):
                bad.append(f"{where(p, text, m.start())}: cbam section ({m.group(1)})")
        for m in NUMBERED_LABEL.finditer(text):
            first, last = int(m.group(2)), int(m.group(3) or m.group(2))
            for n in range(first, last + 1):
                if str(n) not in numbered[m.group(1)]:
                    bad.append(f"{where(p, text, m.start())}: {m.group(1)} section {n}")
    assert not bad, "cited section label not in the document:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "doc",
    sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_relative_markdown_links_resolve(doc: Path) -> None:
    bad = []
    text = read(doc)
    for m in MD_LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            bad.append(f"{where(doc, text, m.start())}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{where(doc, text, m.start())}: {target} (no such heading)")
    assert not bad, "broken link:\n" + "\n".join(bad)


def first_column(doc: Path, after_heading: str) -> list[str]:
    """The backquoted names in the first column of the first table under a heading."""
    text = read(doc).split(f"\n{after_heading}\n", 1)[1]
    table = re.search(r"((?:^\|.*\n)+)", text, re.MULTILINE)
    assert table, f"no table under {after_heading} in {doc.name}"
    return re.findall(r"^\| `(\w+)` \|", table.group(1), re.MULTILINE)


def test_landing_zone_doc_lists_every_contract() -> None:
    # docs/landing-zone.md is read by people; the contracts are read by the code: they must name the same datasets.
    contracts = sorted(
        p.name.removesuffix(".odcs.yaml") for p in (ROOT / "data_contracts").glob("*.odcs.yaml")
    )
    assert sorted(first_column(ROOT / "docs/landing-zone.md", "## Datasets")) == contracts


def test_outputs_doc_lists_every_mart() -> None:
    marts = sorted(p.stem for p in (ROOT / "dbt_project/models/marts").rglob("*.sql"))
    assert sorted(first_column(ROOT / "docs/outputs.md", "## Warehouse")) == marts


def test_readme_names_every_dataset_and_mart() -> None:
    readme = read(ROOT / "README.md")
    names = [p.name.removesuffix(".odcs.yaml") for p in (ROOT / "data_contracts").glob("*.odcs.yaml")]
    names += [p.stem for p in (ROOT / "dbt_project/models/marts").rglob("*.sql")]
    assert not [n for n in names if f"`{n}`" not in readme]
