"""The demo's zero-carbon evidence beside the meters: the park the two plants form (`parks`), their green-
electricity certificate accounts (`green_certificates`) and the carbon credits they retired (`carbon_credits`).

Certificates follow the bills: every month a bill carries `gec_mwh` (Ningbo from October 2025, Foshan in 2026)
the plant's registry export shows one batch cancelled for that site and month with exactly that MWh, so the
ledger reconciles with the bills. Around them: batches bought and held (two of them expire before the demo's
`today`), one bought and later transferred (the later row corrects the first), and two bad claims the ledger
must quarantine: a batch cancelled for a period past its 24-month validity, and a batch already cancelled for
Ningbo cancelled again for Foshan (the first claim stands)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from orchestration.demo import events as ev
from orchestration.demo import formats as fm
from orchestration.demo import world as w
from orchestration.demo.manifest import DOWNSTREAM_FAULT_KINDS, Correction, DownstreamFault

if TYPE_CHECKING:
    from orchestration.demo.generator import _Recorder

PARK_ID = "PK-YY-001"
GEC_COLUMNS = (
    "certificate_batch_id",
    "scheme",
    "mwh",
    "generation_month",
    "technology",
    "project_id",
    "project_province",
    "status",
    "cancelled_for_installation_id",
    "cancelled_for_period",
    "cancelled_on",
    "bundled",
)
ZJ_GEC_HEADERS = {
    "certificate_batch_id": "绿证编号",
    "mwh": "电量",
    "generation_month": "生产年月",
    "status": "状态",
}
# Each plant buys from one project (technology, project id, province) and claims certificates generated this
# many months before the consumption month.
PROJECTS = {
    w.ZJ: ("solar", "QH-GEHE-PV-0217", "青海", 3),
    w.GD: ("hydro", "YN-LCJ-HY-0088", "云南", 4),
}
EXPIRED_CLAIM_BATCH = "GEC-202401-YN-LCJ-HY-0088-0007"
TWICE_DROP = (2026, 1)  # the month whose drop carries the second claim of Ningbo's November 2025 batch


def write_parks(rec: _Recorder) -> None:
    df = pl.DataFrame(
        {
            "park_id": [PARK_ID, PARK_ID],
            "installation_id": [w.ZJ, w.GD],
            "park_name": ["甬粤零碳制造示范园区 (demo park of both plants)"] * 2,
            "province": [None, None],
            "park_level": ["provincial", "provincial"],
        },
        schema={c: pl.String for c in ("park_id", "installation_id", "park_name", "province", "park_level")},
    )
    rec.put(
        "parks",
        w.MASTER_DROP_1,
        "parks.csv",
        df,
        lambda p: fm.write_csv(df, p, headers={"park_id": "园区编号", "park_name": "园区名称"}),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
    )


def _ym(y: int, m: int, back: int = 0) -> tuple[int, int]:
    k = y * 12 + (m - 1) - back
    return k // 12, k % 12 + 1


def _batch(inst: str, gen: tuple[int, int], k: int) -> str:
    _, project, _, _ = PROJECTS[inst]
    return f"GEC-{gen[0]}{gen[1]:02d}-{project}-{k:04d}"


def _row(inst: str, batch: str, mwh: float, gen: tuple[int, int], status: str, **kw: Any) -> dict[str, Any]:
    tech, project, province, _ = PROJECTS[inst]
    return {
        "certificate_batch_id": batch,
        "scheme": "GEC",
        "mwh": mwh,
        "generation_month": f"{gen[0]}-{gen[1]:02d}",
        "technology": tech,
        "project_id": project,
        "project_province": province,
        "status": status,
        "cancelled_for_installation_id": kw.get("site"),
        "cancelled_for_period": kw.get("period"),
        "cancelled_on": kw.get("on"),
        "bundled": False,
    }


def write_certificates(
    rec: _Recorder,
    cal: ev.Calendar,
    bills: pl.DataFrame,
    scale: float,
    corrections: list[Correction],
    downstream: list[DownstreamFault],
) -> list[dict[str, Any]]:
    """One registry export per plant and monthly drop with activity; returns the claims that stand."""
    claims = (
        bills.filter(pl.col("gec_mwh").is_not_null()).select("installation_id", "_m", "gec_mwh").sort("_m")
    )
    by_drop: dict[tuple[dt.date, str], list[tuple[dict[str, Any], str | None]]] = {}

    def add(i: int, inst: str, row: dict[str, Any], fault: str | None = None) -> None:
        by_drop.setdefault((cal.drops[i], inst), []).append((row, fault))

    month_index = {ym: i for i, ym in enumerate(cal.months)}
    standing: list[dict[str, Any]] = []
    for inst, i, mwh in claims.iter_rows():
        y, m = cal.months[i]
        gen = _ym(y, m, PROJECTS[inst][3])
        row = _row(inst, _batch(inst, gen, 1), mwh, gen, "cancelled", site=inst, period=f"{y}-{m:02d}",
                   on=w.month_end(y, m) + dt.timedelta(days=1))  # fmt: skip
        add(i, inst, row)
        standing.append(row)
    twice = next(
        r
        for r in standing
        if r["cancelled_for_installation_id"] == w.ZJ and r["cancelled_for_period"] == "2025-11"
    )
    ty, tm = TWICE_DROP
    add(month_index[TWICE_DROP], w.GD,
        {**twice, "cancelled_for_installation_id": w.GD, "cancelled_for_period": f"{ty}-{tm:02d}",
         "cancelled_on": dt.date(2026, 2, 1)}, "certificate_claimed_twice")  # fmt: skip
    # generated 2024-01: valid through 2025-12, so a claim for the whole of 2026 is outside validity
    add(month_index[(2026, 3)], w.GD,
        {**_row(w.GD, EXPIRED_CLAIM_BATCH, round(80.0 * scale, 3), (2024, 1), "cancelled", site=w.GD,
                period="2026", on=dt.date(2026, 4, 1)), "certificate_batch_id": EXPIRED_CLAIM_BATCH},
        "certificate_expired_claim")  # fmt: skip
    # held batches: two expire before today (2023-03 -> 2025-02; 2024-09 -> 2026-08), one stays valid
    add(0, w.ZJ, _row(w.ZJ, _batch(w.ZJ, (2023, 3), 2), round(50.0 * scale, 3), (2023, 3), "held"))
    add(0, w.GD, _row(w.GD, _batch(w.GD, (2024, 9), 2), round(200.0 * scale, 3), (2024, 9), "held"))
    add(
        month_index[(2025, 12)],
        w.ZJ,
        _row(w.ZJ, _batch(w.ZJ, (2025, 12), 2), round(120.0 * scale, 3), (2025, 12), "held"),
    )
    # bought in June 2025, transferred to a group company in August: the later row replaces the first
    sold = _row(w.GD, _batch(w.GD, (2025, 5), 3), round(60.0 * scale, 3), (2025, 5), "held")
    add(month_index[(2025, 6)], w.GD, sold)
    add(month_index[(2025, 8)], w.GD, {**sold, "status": "transferred"})

    for (drop, inst), rows in sorted(by_drop.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        df = pl.DataFrame([r for r, _ in rows], schema=_schema())
        name = f"{'zj' if inst == w.ZJ else 'gd'}_gec_account_{drop:%Y%m%d}.csv"
        downstream += [
            DownstreamFault(f"green_certificates/{drop}/{name}", k + 1, f, DOWNSTREAM_FAULT_KINDS[f],
                            {"certificate_batch_id": r["certificate_batch_id"]}, _NOTES[f])
            for k, (r, f) in enumerate(rows)
            if f
        ]  # fmt: skip
        writer = (
            (lambda p, d=df: fm.write_csv(d, p, headers=ZJ_GEC_HEADERS, encoding="gb18030", crlf=True))
            if inst == w.ZJ
            else (lambda p, d=df: fm.write_csv(d, p))
        )
        rec.put("green_certificates", drop, name, df, writer, fmt="csv",
                encoding="gb18030" if inst == w.ZJ else "utf-8", separator=",", header_row=1,
                note="registry account export")  # fmt: skip
        if inst == w.GD and any(r["status"] == "transferred" for r, _ in rows):
            first = f"green_certificates/{cal.drops[month_index[(2025, 6)]]}/gd_gec_account_{cal.drops[month_index[(2025, 6)]]:%Y%m%d}.csv"
            corrections.append(Correction("green_certificates", {"certificate_batch_id": sold["certificate_batch_id"]},
                                          "status", "held", "transferred", first, 1, f"green_certificates/{drop}/{name}",
                                          next(k + 1 for k, (r, _) in enumerate(rows) if r["status"] == "transferred"),
                                          "a held batch transferred later: the later row replaces the first"))  # fmt: skip
    return standing


_NOTES = {
    "certificate_claimed_twice": "batch already cancelled for CN-ZJ-001 2025-11: a second claim",
    "certificate_expired_claim": "generated 2024-01, valid through 2025-12; claimed for 2026",
}


def _schema() -> dict[str, Any]:
    return {c: pl.Float64 if c == "mwh" else pl.Date if c == "cancelled_on" else pl.Boolean if c == "bundled"
            else pl.String for c in GEC_COLUMNS}  # fmt: skip


def write_credits(rec: _Recorder, scale: float) -> None:
    """Credits retired after year end for 2025 (each site, the park), one for 2024 (another period: never
    counts for 2025), and Foshan's 2026 retirement in the last drop."""
    cols = ("credit_id", "standard", "vintage", "tco2e", "project_type", "retired_for_installation_id",
            "retired_for_period")  # fmt: skip
    rows = [
        ("CCER-2024-OW-0031-00012000-00013199", "CCER", 2024, 1200.0, "avoidance", w.ZJ, "2025"),
        ("VCS-1529-2022-000884100-000884899", "VCS", 2022, 800.0, "avoidance", w.GD, "2025"),
        ("CCER-2025-AF-0007-00000400-00000699", "CCER", 2025, 300.0, "removal", PARK_ID, "2025"),
        ("GS-4410-2023-000120-000269", "GS", 2023, 150.0, "avoidance", w.ZJ, "2024"),
    ]
    schema = {c: pl.Int64 if c == "vintage" else pl.Float64 if c == "tco2e" else pl.String for c in cols}
    df = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], schema=schema, orient="row")
    df = df.with_columns(tco2e=(pl.col("tco2e") * scale).round(3))
    rec.put("carbon_credits", dt.date(2026, 3, 3), "credits_retired_2025.csv", df,
            lambda p: fm.write_csv(df, p), fmt="csv", encoding="utf-8", separator=",", header_row=1)  # fmt: skip
    late = pl.DataFrame(
        [dict(zip(cols, ("VCS-2250-2024-001200000-001200399", "VCS", 2024, 400.0, "avoidance", w.GD, "2026"),
                  strict=True))],
        schema=schema,
    ).with_columns(tco2e=(pl.col("tco2e") * scale).round(3))  # fmt: skip
    drop = w.drop_of_month(*w.LAST_MONTH)
    rec.put("carbon_credits", drop, "gd_credits_retired_2026.jsonl", late, lambda p: fm.write_jsonl(late, p),
            fmt="jsonl", encoding="utf-8")  # fmt: skip
