"""The demo EMS as landing-zone files: `meters` (one snapshot per plant), `meter_readings` (Ningbo: one PME wide
CSV a month; Foshan: one EBO trend-log CSV a month plus the hourly steam calculation log; a change-of-value log
exported by mistake), in the monthly event drops (3rd of the following month). Artefacts written on purpose:
gaps (empty PME cells, absent EBO rows), a gas-meter change, one NaN cell, an unknown EBO point. The manifest's
`ems` section states what a reader must make of them (per meter: readings, intervals expected and missing;
monthly metered totals of the billed meters)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from orchestration.demo import ems, ems_ledger
from orchestration.demo import events as ev
from orchestration.demo import formats as fm
from orchestration.demo import world as w
from orchestration.demo.manifest import DOWNSTREAM_FAULT_KINDS, BadRow, Correction, DownstreamFault

if TYPE_CHECKING:
    from orchestration.demo.generator import _Recorder

PME_TIME = "%Y-%m-%d %H:%M:%S"
EBO_TIME = "%Y/%m/%d %H:%M:%S"
ZJ_METER_HEADERS = {"meter_id": "表计编号", "carrier": "能源类型", "role": "用途"}
STEAM_HEADERS = {"point_name": "点位名称", "timestamp": "时间", "value": "数值"}
UNKNOWN_POINT = "GD.TEST01"  # a commissioning test point the meter list does not know
COV_FILE_DROP = dt.date(2025, 7, 3)
METER_COLUMNS = (
    "meter_id",
    "installation_id",
    "process_id",
    "carrier",
    "role",
    "parent_meter_id",
    "register",
    "stamp",
    "interval_minutes",
    "unit",
    "multiplier",
    "timezone",
    "description",
)


def write_meters(rec: _Recorder, scale: float) -> list[ems.Meter]:
    """Ningbo's PME device list as CSV with Chinese headers; Foshan's EBO point list as XLSX."""
    meters = ems.meters(scale)
    frame = pl.DataFrame(
        [{c: getattr(m, c) for c in METER_COLUMNS} for m in meters],
        schema={c: (pl.Int64 if c == "interval_minutes" else pl.Float64 if c == "multiplier" else pl.String)
                for c in METER_COLUMNS},
    )  # fmt: skip
    zj = frame.filter(pl.col("installation_id") == w.ZJ)
    rec.put(
        "meters",
        w.MASTER_DROP_1,
        "zj_pme_meters.csv",
        zj,
        lambda p: fm.write_csv(zj, p, headers=ZJ_METER_HEADERS),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
    )
    gd = frame.filter(pl.col("installation_id") == w.GD)
    rec.put(
        "meters",
        w.MASTER_DROP_1,
        "gd_ebo_points.xlsx",
        gd,
        lambda p: fm.write_xlsx(gd, p, created=w.MASTER_DROP_1, sheet="meters"),
        fmt="xlsx",
        header_row=1,
    )
    return meters


def _key_rows(rec: _Recorder, drop: dt.date, keys: pl.DataFrame) -> None:
    """Accepted readings' keys for the manifest's current-row count: meter and timestamp as written (one
    meter's stamp convention is fixed, so these are as unique as the business key after the stamp shift)."""
    k = keys.select(_key=pl.concat_str([pl.col("meter_id"), pl.col("timestamp")], separator="|"))
    rec.accepted_keys.setdefault("meter_readings", []).append(k.with_columns(_drop=pl.lit(drop)))


def _stamps(start: np.ndarray, fmt: str) -> pl.Series:
    """Timestamps as text, formatted once for every meter that uses them."""
    return pl.Series(start.astype("datetime64[ms]")).dt.strftime(fmt)


def _stats(info: dict[str, Any], meter: str, written: int = 0, bad: int = 0, missing: int = 0) -> None:
    m = info["meters"][meter]
    m["readings_written"] += written
    m["readings_quarantined"] += bad
    m["intervals_missing"] += missing


def write_readings(
    rec: _Recorder,
    cal: ev.Calendar,
    ser: ems.Series,
    meters: list[ems.Meter],
    downstream: list[DownstreamFault],
) -> dict[str, Any]:
    clock = ser.clock
    n = clock.start.size
    info: dict[str, Any] = {
        "period": {
            "first_interval_start": str(clock.start[0]),
            "last_interval_end": str(clock.start[-1] + ems.INTERVAL),
            "timezone": "Asia/Shanghai",
        },
        "meters": {
            m.meter_id: {
                "installation_id": m.installation_id,
                "role": m.role,
                "unit": m.unit,
                "interval_minutes": m.interval_minutes or 15,
                "intervals_expected": n // ((m.interval_minutes or 15) // 15),
                "readings_written": 0,
                "readings_quarantined": 0,
                "intervals_missing": 0,
            }
            for m in meters
        },
        "gaps": [],
        "meter_changes": [],
        "monthly_metered": {},
    }
    written: dict[str, np.ndarray] = {}  # what the files say, in the meter's unit after the multiplier

    # ---- Ningbo: PME wide CSV, readings stamped at the interval end, 2 decimals, gaps as empty cells
    zj = [m for m in meters if m.installation_id == w.ZJ]
    cols: dict[str, pl.Series] = {}
    for m in zj:
        v = np.round(ser.values[m.meter_id], 2)
        for meter, at, count in ems.ZJ_GAPS:
            if meter == m.meter_id:
                i = clock.index(at)
                v[i : i + count] = np.nan
                info["gaps"].append({"meter_id": meter, "from": at.isoformat(), "intervals": count})
                _stats(info, meter, missing=count)
        written[m.meter_id] = v.copy()
        s = pl.Series(f"{m.meter_id}#{m.quantity}#{m.unit}", v, nan_to_null=True)
        if m.meter_id == "ZJ-M-PV-01":
            nan_at = clock.index(ems.PV_NAN_AT)
            s = s.scatter(nan_at, float("nan"))
            written[m.meter_id][nan_at] = np.nan
            _stats(info, m.meter_id, missing=1)
        cols[m.meter_id] = s
    wide = pl.DataFrame([_stamps(clock.start + ems.INTERVAL, PME_TIME).alias("Timestamp"), *cols.values()])
    wide = wide.with_columns(_m=pl.Series(clock.month))
    for (i,), part in wide.partition_by("_m", as_dict=True, maintain_order=True).items():
        part = part.drop("_m")
        drop, ym = cal.drops[i], cal.ym(i)
        name = f"zj_pme_export_{ym}.csv"
        cells = part.drop("Timestamp")
        readings = int(cells.select(pl.all().is_not_null().sum()).sum_horizontal()[0])
        bad = []
        pv_col = cols["ZJ-M-PV-01"].name
        nan_rows = part.with_row_index("_r", 1).filter(pl.col(pv_col).is_nan())["_r"].to_list()
        for r in nan_rows:
            bad.append(BadRow(int(r), pv_col, "non_finite_value", "NaN", "PME cell reads NaN"))
            _stats(info, "ZJ-M-PV-01", bad=1)
        for m in zj:
            _stats(info, m.meter_id, written=part[cols[m.meter_id].name].is_not_null().sum())
        rec.put(
            "meter_readings",
            drop,
            name,
            None,
            lambda p, t=part, r=readings: _write_pme(t, p, r),
            fmt="csv",
            encoding="utf-8",
            separator=",",
            header_row=1,
            bad=bad,
            note="PME wide export: rows read = non-empty cells; readings stamped at the interval end",
        )
        keys = pl.concat(
            part.filter(pl.col(c.name).is_not_null() & ~pl.col(c.name).is_nan()).select(
                meter_id=pl.lit(meter), timestamp="Timestamp"
            )
            for meter, c in cols.items()
        )
        _key_rows(rec, drop, keys)

    # ---- Foshan: EBO trend logs (point_name, timestamp, value), stamped at the interval start
    gd = [m for m in meters if m.installation_id == w.GD and m.meter_id != "GD-M-STM-01"]
    logs = []
    text = _stamps(np.append(clock.start, clock.start[-1] + ems.INTERVAL), EBO_TIME)
    for m in gd:
        v = ser.values[m.meter_id]
        stamps = text.slice(0, n)
        if m.register == "cumulative":  # counter read at every interval end; replaced once
            v, stamps = _gas_counter(info, clock, v), text.slice(1, n)
            written[m.meter_id] = np.diff(np.concatenate([[np.nan], v]))
            written[m.meter_id][clock.index(ems.GD_GAS_CHANGE) - 1] = np.nan
        else:
            v = np.round(v / (m.multiplier or 1.0), 4)
            written[m.meter_id] = v * (m.multiplier or 1.0)
        keep = np.ones(n, dtype=bool)
        for meter, at, count in ems.GD_GAPS:
            if meter == m.meter_id:
                i = clock.index(at)
                keep[i : i + count] = False
                written[m.meter_id][i : i + count] = np.nan
                info["gaps"].append({"meter_id": meter, "from": at.isoformat(), "intervals": count})
                _stats(info, meter, missing=count)
        _stats(info, m.meter_id, written=int(keep.sum()))
        logs.append(
            pl.DataFrame(
                {
                    "point_name": pl.repeat(m.meter_id, int(keep.sum()), eager=True),
                    "timestamp": stamps.filter(pl.Series(keep)),
                    "value": v[keep],
                    "_m": clock.month[keep],
                }
            )
        )
    trend = pl.concat(logs)
    for (i,), part in trend.partition_by("_m", as_dict=True, maintain_order=True).items():
        part = part.drop("_m")
        drop, ym = cal.drops[i], cal.ym(i)
        name = f"gd_ebo_trend_{ym}.csv"
        if ym == "2025-11":  # two readings of a commissioning test point at the end of the export
            test = part.filter(pl.col("point_name") == "GD.PRESS01").head(2)
            part = pl.concat([part, test.with_columns(point_name=pl.lit(UNKNOWN_POINT))])
            downstream += [
                DownstreamFault(
                    f"meter_readings/{drop}/{name}",
                    part.height - 1 + k,
                    "unknown_meter",
                    DOWNSTREAM_FAULT_KINDS["unknown_meter"],
                    {"meter_id": UNKNOWN_POINT, "interval_start": str(test["timestamp"][k])},
                    "a commissioning test point the meters snapshot does not list",
                )
                for k in range(test.height)  # the test point may have no readings that month at large scales
            ]
        rec.put(
            "meter_readings",
            drop,
            name,
            None,
            lambda p, t=part: _write_long(t, p),
            fmt="csv",
            encoding="utf-8",
            separator=",",
            header_row=1,
            note="EBO interval trend logs, one block per point",
        )
        _key_rows(rec, drop, part.select(meter_id="point_name", timestamp="timestamp"))

    # ---- Foshan steam: EBO hourly calculation log stamped at the midpoint, Chinese headers
    hourly = ser.values["GD-M-STM-01"].reshape(-1, 4).sum(axis=1)
    hours = clock.start[::4]
    written["GD-M-STM-01"] = np.round(hourly, 4)
    _stats(info, "GD-M-STM-01", written=hours.size)
    steam = pl.DataFrame(
        {
            "point_name": pl.repeat("GD-M-STM-01", hours.size, eager=True),
            "timestamp": _stamps(hours + np.timedelta64(30, "m"), PME_TIME),
            "value": np.round(hourly, 4),
            "_m": clock.month[::4],
        }
    )
    for (i,), part in steam.partition_by("_m", as_dict=True, maintain_order=True).items():
        part = part.drop("_m")
        drop, ym = cal.drops[i], cal.ym(i)
        rec.put(
            "meter_readings",
            drop,
            f"gd_ebo_steam_hourly_{ym}.csv",
            None,
            lambda p, t=part: _write_long(t.rename(STEAM_HEADERS), p),
            fmt="csv",
            encoding="utf-8",
            separator=",",
            header_row=1,
            note="EBO hourly calculation log: 8:00-9:00 stamped 8:30",
        )
        _key_rows(rec, drop, part.select(meter_id="point_name", timestamp="timestamp"))

    _cov_log(rec)
    info["monthly_metered"] = {
        m.meter_id: {
            cal.ym(i): round(float(q), 6)
            for i, q in enumerate(_monthly(clock, written[m.meter_id], m.interval_minutes or 15))
        }
        for m in meters
        if m.meter_id in ems.BILLED or m.role == "grid_export"
    }
    return info


def _monthly(clock: ems.Clock, v: np.ndarray, minutes: int) -> np.ndarray:
    month = clock.month[:: minutes // 15]
    return np.bincount(month, np.nan_to_num(v, nan=0.0), minlength=clock.months)


def _gas_counter(info: dict[str, Any], clock: ems.Clock, v: np.ndarray) -> np.ndarray:
    """The counter at every interval end; at the meter change the new register starts near zero (that
    interval's consumption cannot be known: missing). The first interval has no earlier reading: missing."""
    change = clock.index(ems.GD_GAS_CHANGE) - 1  # the interval that ends at the change
    counter = ems.GD_GAS_COUNTER_START + np.cumsum(v)
    counter[change:] = 0.4 * v[change] + np.cumsum(v[change:]) - v[change]
    info["meter_changes"].append(
        {
            "meter_id": "GD-M-NG-01",
            "at": ems.GD_GAS_CHANGE.isoformat(),
            "missing_interval_start": (ems.GD_GAS_CHANGE - dt.timedelta(minutes=15)).isoformat(),
        }
    )
    _stats(info, "GD-M-NG-01", missing=2)
    return np.round(counter, 3)


def _write_pme(part: pl.DataFrame, path: Any, readings: int) -> int:
    """PME wide CSV; returns the readings (non-empty cells), which is what the file's accounting counts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part.write_csv(path, float_precision=2)
    return readings


def _write_long(part: pl.DataFrame, path: Any) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    part.write_csv(path, float_precision=4)
    return part.height


def _cov_log(rec: _Recorder) -> None:
    """A change-of-value log of the compressed-air meter exported instead of its interval log: irregular
    timestamps, not interval data; the file is quarantined whole."""
    stamps = ("2025/06/03 08:02:17", "2025/06/03 08:09:51", "2025/06/03 08:31:04", "2025/06/03 09:17:40")
    df = pl.DataFrame(
        {"point_name": ["GD.AIR01"] * 4, "timestamp": list(stamps), "value": ["86.2", "91.7", "88.9", "79.4"]}
    )
    rec.put(
        "meter_readings",
        COV_FILE_DROP,
        "gd_ebo_cov_air_compressor.csv",
        None,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[
            BadRow(
                r, "timestamp", "change_of_value_log", stamps[r - 1], "change-of-value log, not interval data"
            )
            for r in range(1, 5)
        ],  # fmt: skip
        note="a change-of-value log exported by mistake: quarantined whole",
    )


def write_ems(
    rec: _Recorder,
    cal: ev.Calendar,
    bills: pl.DataFrame,
    scale: float,
    seed: int,
    corrections: list[Correction],
) -> tuple[dict[str, Any], list[DownstreamFault]]:
    """Every EMS dataset of the demo; returns the manifest's `ems` section and the rows a later stage rejects."""
    downstream: list[DownstreamFault] = []
    meters = write_meters(rec, scale)
    info = write_readings(rec, cal, ems.series(cal, bills, scale, seed), meters, downstream)
    ems_ledger.write_parks(rec)
    claims = ems_ledger.write_certificates(rec, cal, bills, scale, corrections, downstream)
    info["certificate_claims"] = [
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in c.items()} for c in claims
    ]
    ems_ledger.write_credits(rec, scale)
    return info, downstream
