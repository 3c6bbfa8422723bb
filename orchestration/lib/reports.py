"""The report stage's I/O: read the published marts, build every report kind, write each document to staging,
run the report gate, and publish what passed as an immutable version (write-audit-publish).

Layout: `<home>/reports/<kind>/<key>/v<N>/` holds the writer's files and `report.json` (kind, key, version,
fingerprint, gates, files with hashes, the run manifest it came from); from v2 on also `diff.json` and
`diff.md` against v<N-1>. Each run that publishes anything also publishes its run manifest under
`run_manifest/<run_id>/v1/manifest.json`. A document whose fingerprint (what it says) equals the latest
version's publishes nothing. Staging is `<home>/reports/.staging/<run_id>/` (hidden, removed at the end and
at the start of the next stage), and a version folder appears with one rename, so a killed run leaves no
partial version visible.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from expectations import reports as gate
from expectations.gate import Gate
from orchestration.lib.home import Home
from orchestration.lib.locks import covered, locked_periods
from orchestration.lib.publish import publish, staging
from orchestration.lib.warehouse import read_marts
from transforms.reports.base import ReportConfig, ReportDoc, ReportKind
from transforms.reports.diff import diff_markdown, figure_changes, input_causes

MANIFEST_KIND = "run_manifest"
_ID_PART = re.compile(r"[A-Za-z0-9._-]+")
META = "report.json"
PRESIGN_SECONDS = 24 * 3600  # download links shown in the Dagster UI expire after a day


@dataclass(frozen=True)
class Version:
    kind: str
    key: str
    version: int
    path: Path
    meta: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.key}/v{self.version}"


@dataclass
class StageResult:
    published: list[Version] = field(default_factory=list)
    unchanged: list[Version] = field(default_factory=list)
    blocked: dict[str, list[str]] = field(default_factory=dict)  # "<kind>/<key>" → failure lines
    manifest: Version | None = None

    def by_kind(self, kind: str) -> StageResult:
        return StageResult(
            [v for v in self.published if v.kind == kind],
            [v for v in self.unchanged if v.kind == kind],
            {k: f for k, f in self.blocked.items() if k.split("/", 1)[0] == kind},
            self.manifest,
        )


def versions(home: Home, kind: str | None = None, key: str | None = None) -> list[Version]:
    """Published versions (those with a report.json), sorted by kind, key, version."""
    out = []
    root = home.reports
    if not root.exists():
        return out
    for meta in root.glob(f"{kind or '*'}/{key or '*'}/v*/{META}"):
        vdir = meta.parent
        if vdir.parent.parent.name.startswith(".") or not vdir.name[1:].isdigit():
            continue
        m = json.loads(meta.read_text(encoding="utf-8"))
        out.append(Version(m["kind"], m["key"], int(vdir.name[1:]), vdir, m))
    return sorted(out, key=lambda v: (v.kind, v.key, v.version))


def latest(home: Home, kind: str, key: str) -> Version | None:
    found = versions(home, kind, key)
    return found[-1] if found else None


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def run_manifest(home: Home, run_id: str) -> dict[str, Any]:
    """What this run read (landing files with hashes and row accounting), with which reference data, contracts
    and code (the run record's parts that exist before the run ends)."""
    from orchestration.lib.runrecord import code_version, input_files, reference_versions
    from transforms.contracts import datasets

    return {
        "run_id": run_id,
        "code_version": code_version(),
        "reference_seeds": reference_versions(),
        "contracts": {n: d.contract_version for n, d in datasets().items()},
        "input_files": input_files(home),
    }


def _inputs(manifest: dict[str, Any]) -> dict[str, str]:
    return {f["file"]: f["sha256"] for f in manifest.get("input_files", [])}


def _load_manifest(home: Home, version: Version) -> dict[str, Any]:
    rel = version.meta.get("manifest")
    path = home.reports / rel if rel else None
    return json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}


def run_report_stage(
    home: Home,
    kinds: Sequence[ReportKind],
    config: ReportConfig,
    run_id: str,
    now: datetime | None = None,
) -> StageResult:
    """Build, stage, gate and publish every report kind from the published warehouse. When nothing it reads
    changed since the last stage that blocked nothing (`_stage_stamp`), that stage's documents are reported
    unchanged without reading the marts."""
    now = now or datetime.now(UTC)
    stamp = _stage_stamp(home, kinds, config)
    if (kept := _same_stage(home, stamp)) is not None:
        return StageResult(unchanged=kept)
    result = StageResult()
    marts = read_marts(
        home.warehouse,
        [*gate.MARTS, *(m for k in kinds for m in k.marts)],
        optional=[*gate.OPTIONAL_MARTS, *(m for k in kinds for m in getattr(k, "optional_marts", ()))],
    )
    failures = (gate.content_failures(marts), gate.mart_failures(marts))
    manifest = run_manifest(home, run_id)
    manifest_rel = f"{MANIFEST_KIND}/{run_id}/v1/manifest.json"
    locked = locked_periods(home)
    # one report stage at a time (the warehouse pool): sweep what a killed run left behind
    with staging(home.reports / ".staging", run_id, sweep=True) as stage_dir:
        for kind in kinds:
            for doc in kind.build(marts, config):
                if locked and (kept := _kept_by_lock(home, kind, doc, locked)):
                    result.unchanged.append(kept)
                    continue
                _stage_one(
                    home, kind, doc, marts, failures, stage_dir, manifest, manifest_rel, run_id, now, result
                )
        if result.published:
            result.manifest = _publish_manifest(home, manifest, result, stage_dir, run_id, now)
    _save_stage(home, kinds, config, result)
    return result


# what the last report stage read and gave (`_stage_stamp`, the documents' version ids): beside the warehouse it
# read, not among the published versions (immutable)
STAGE_STAMP = "_report_stage.stamp.json"


def _stage_stamp(home: Home, kinds: Sequence[ReportKind], config: ReportConfig) -> str:
    """What decides every document of a stage: the code, the kinds' writers, the settings, the published
    warehouse (the file itself: publishing always puts a new file in place, so a build that changed nothing
    still counts as a change), the period locks and which versions are published (one removed by hand is
    written again)."""
    from dataclasses import asdict

    from orchestration.lib.incremental import code_fingerprint, digest, locks_state

    w = home.warehouse.stat() if home.warehouse.exists() else None
    published = sorted(
        p.parent.relative_to(home.reports).as_posix() for p in home.reports.glob(f"*/*/v*/{META}")
    )
    return digest(
        {
            "code": code_fingerprint(),
            "kinds": [(k.name, k.writer_version) for k in kinds],
            "config": asdict(config),
            "warehouse": [w.st_ino, w.st_size, w.st_mtime_ns] if w else None,
            "locks": locks_state(home),
            "published": published,
        }
    )


def _same_stage(home: Home, stamp: str) -> list[Version] | None:
    """The last stage's documents when it had this stamp (each still published), else None."""
    path = home.warehouse_dir / STAGE_STAMP
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("stamp") != stamp:
        return None
    kept = [find_version(home, i) for i in saved.get("documents", [])]
    return None if None in kept else [v for v in kept if v is not None]


def _save_stage(home: Home, kinds: Sequence[ReportKind], config: ReportConfig, result: StageResult) -> None:
    """The stamp after this stage (its versions published), when it blocked nothing: a blocked document is
    built and reported again by the next stage."""
    path = home.warehouse_dir / STAGE_STAMP
    path.unlink(missing_ok=True)
    if result.blocked:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    documents = [v.id for v in [*result.published, *result.unchanged]]
    tmp = path.with_name(f".{path.name}.tmp")
    _write_json(tmp, {"stamp": _stage_stamp(home, kinds, config), "documents": documents})
    tmp.replace(path)


def _stage_one(
    home: Home,
    kind: ReportKind,
    doc: ReportDoc,
    marts,
    failures: tuple[gate.FailureIndex, gate.MartFailureIndex],
    stage_dir: Path,
    manifest: dict[str, Any],
    manifest_rel: str,
    run_id: str,
    now: datetime,
    result: StageResult,
) -> None:
    ident = f"{kind.name}/{doc.key}"
    fingerprint = doc.fingerprint()
    prev = latest(home, kind.name, doc.key)
    if (
        prev
        and prev.meta.get("fingerprint") == fingerprint
        and prev.meta.get("writer_version") == kind.writer_version
    ):
        result.unchanged.append(prev)
        return
    out = stage_dir / kind.name / doc.key
    out.mkdir(parents=True)
    reads = (*kind.marts, *getattr(kind, "optional_marts", ()))
    problems = gate.doc_failures(doc, failures[0], failures[1], reads)  # only what this kind reads blocks it
    files: list[Path] = []
    if not problems:
        try:
            files = kind.write(doc, out)
            problems = kind.check(doc, out, marts)
        except Exception as e:  # a writer or check that breaks blocks this report, not the run
            problems = [f"report gate: {ident}: {type(e).__name__}: {e}"]
    verdict = Gate.of(gate.REPORT_GATE, problems)
    if not verdict.passed:
        result.blocked[ident] = list(verdict.failures)
        return
    number = prev.version + 1 if prev else 1
    meta: dict[str, Any] = {
        "kind": kind.name,
        "key": doc.key,
        "version": number,
        "title": doc.title,
        "published_at": now.isoformat(timespec="seconds"),
        "run_id": run_id,
        "manifest": manifest_rel,
        "writer_version": kind.writer_version,
        "fingerprint": fingerprint,
        "year": doc.meta.get("year"),
        "installations": sorted(doc.installations),
        "gates": {gate.REPORT_GATE: "passed"},
        "files": {p.relative_to(out).as_posix(): _sha(p) for p in sorted(files)},
        "figures": doc.figures,
    }
    if prev:
        diff = {
            "kind": kind.name,
            "key": doc.key,
            "from_version": prev.version,
            "to_version": number,
            "published_at": meta["published_at"],
            "run_id": run_id,
            "figures": figure_changes(prev.meta.get("figures", {}), doc.figures),
            "causes": _causes(home, prev, doc, manifest),
        }
        _write_json(out / "diff.json", diff)
        (out / "diff.md").write_text(diff_markdown(diff), encoding="utf-8")
    _write_json(out / META, meta)  # last: a version is complete once its report.json exists
    target = home.reports / kind.name / doc.key / f"v{number}"
    publish(verdict, [(out, target)], replace=False)  # refuses to replace an existing (non-empty) version
    result.published.append(Version(kind.name, doc.key, number, target, meta))


def _kept_by_lock(
    home: Home, kind: ReportKind, doc: ReportDoc, locked: set[tuple[str, int]]
) -> Version | None:
    """The published version a report keeps because every installation × year it covers is locked
    (`lingtan period lock`): a dimension it shows may change, its published numbers may not."""
    prev = latest(home, kind.name, doc.key)
    return prev if prev and covered(locked, doc.installations, doc.meta.get("year")) else None


def _causes(home: Home, prev: Version, doc: ReportDoc, manifest: dict[str, Any]) -> dict[str, Any]:
    old = _load_manifest(home, prev)
    return input_causes(
        _inputs(old),
        _inputs(manifest),
        doc.sources,
        old.get("reference_seeds", {}),
        manifest.get("reference_seeds", {}),
        old.get("code_version"),
        manifest.get("code_version"),
    )


def _publish_manifest(
    home: Home, manifest: dict[str, Any], result: StageResult, stage_dir: Path, run_id: str, now: datetime
) -> Version:
    data = {
        **manifest,
        "published_at": now.isoformat(timespec="seconds"),
        "report_gates": {
            **{v.id: "passed" for v in result.published},
            **{k: {"blocked": lines} for k, lines in result.blocked.items()},
        },
        "outputs": {f"{v.id}/{name}": sha for v in result.published for name, sha in v.meta["files"].items()},
    }
    out = stage_dir / MANIFEST_KIND / run_id
    out.mkdir(parents=True)
    _write_json(out / "manifest.json", data)
    meta = {
        "kind": MANIFEST_KIND,
        "key": run_id,
        "version": 1,
        "title": f"Run manifest {run_id}",
        "published_at": data["published_at"],
        "run_id": run_id,
        "manifest": f"{MANIFEST_KIND}/{run_id}/v1/manifest.json",
        "gates": {},
        "files": {"manifest.json": _sha(out / "manifest.json")},
    }
    _write_json(out / META, meta)
    target = home.reports / MANIFEST_KIND / run_id / "v1"
    publish(Gate(MANIFEST_KIND), [(out, target)], replace=False)  # published with the reports it lists
    return Version(MANIFEST_KIND, run_id, 1, target, meta)


def find_version(home: Home, report_id: str) -> Version | None:
    """`<kind>/<key>/v<N>` exactly, or `<kind>/<key>` for its latest version."""
    parts = report_id.strip("/").split("/")
    if not all(_ID_PART.fullmatch(p) and p not in (".", "..") for p in parts):
        return None  # ids are kind/key/vN made of safe characters: nothing else can name a version
    if len(parts) == 3 and parts[2].startswith("v"):
        return next((v for v in versions(home, parts[0], parts[1]) if f"v{v.version}" == parts[2]), None)
    if len(parts) == 2:
        return latest(home, parts[0], parts[1])
    return None


def copy_version(version: Version, to: Path) -> Path:
    """Copy a published version's files to `to/<kind>/<key>/v<N>/`; returns that folder."""
    target = to / version.kind / version.key / f"v{version.version}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(version.path, target)
    return target


def presign_published(uri: str, home: Home, result: StageResult) -> dict[str, dict[str, str]]:
    """Upload the versions just published to the S3 home `uri` now (the run pushes the rest at its end) and
    return time-limited download links per kind: `{kind: {"<id>/<file>": url}}`."""
    from orchestration.lib.storage import s3_client, split_s3

    bucket, prefix = split_s3(uri)
    client = s3_client()
    out: dict[str, dict[str, str]] = {}
    for v in result.published + ([result.manifest] if result.manifest else []):
        for p in sorted(v.path.rglob("*")):
            if not p.is_file():
                continue
            key = "/".join(x for x in (prefix, p.relative_to(home.root).as_posix()) if x)
            client.upload_file(str(p), bucket, key)
            if p.name != META:
                out.setdefault(v.kind, {})[f"{v.id}/{p.name}"] = client.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
                )
    return out
