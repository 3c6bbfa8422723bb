"""The demo EMS (orchestration/demo/ems*.py) read back from its files, independently of ingestion: meters as the
spec lists them, PME wide and EBO trend-log readings in the spec's layouts (gaps, the meter change, the
midpoint-stamped hourly log), metered totals that agree with the bills, realistic shapes, a certificate ledger
that follows the bills with its two bad claims, credits and the park; same seed, same bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest

from orchestration.demo import ems, ems_files, ems_ledger
from orchestration.demo import events as ev
from orchestration.demo import world as w
from orchestration.demo.generator import _Recorder
from orchestration.demo.manifest import DemoManifest, FileEntry
from transforms.contracts import dataset
from transforms.text import norm_key

PME = re.compile(r"^([^#]+)#[^#]+#([^#]+)$")


def _files(manifest: DemoManifest, dataset_name: str, prefix: str) -> list[FileEntry]:
    return [f for f in manifest.datasets[dataset_name].files if Path(f.file).name.startswith(prefix)]


def _csv(landing: Path, f: FileEntry, encoding: str = "utf-8") -> pl.DataFrame:
    data = (landing / f.file).read_bytes().decode(encoding).encode("utf-8")
    return pl.read_csv(io.BytesIO(data), infer_schema=False)


def _contract_names(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Headers (contract names or Chinese aliases) → contract names; an unknown header fails the test."""
    hmap = dataset(name).header_map()
    return df.rename({c: hmap[norm_key(c)] for c in df.columns})


def _bills(manifest: DemoManifest) -> pl.DataFrame:
    cal = ev.Calendar.build()
    _, _, out = ev.production(cal, manifest.scale, manifest.seed)
    return ev.energy_bills(cal, out, manifest.scale, manifest.seed)


def _meters(landing: Path, manifest: DemoManifest) -> pl.DataFrame:
    (zj,) = _files(manifest, "meters", "zj_")
    (gd,) = _files(manifest, "meters", "gd_")
    ws = openpyxl.load_workbook(landing / gd.file, read_only=True)["meters"]
    rows = [[None if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    gd_df = pl.DataFrame(rows[1:], schema=[str(h) for h in rows[0]], orient="row")
    return pl.concat(
        [_contract_names("meters", _csv(landing, zj)), _contract_names("meters", gd_df)], how="diagonal"
    )


def _pme(landing: Path, manifest: DemoManifest) -> pl.DataFrame:
    """Every PME wide file read back as one frame: interval end (parsed) + one column per header."""
    parts = [_csv(landing, f) for f in _files(manifest, "meter_readings", "zj_pme_export_")]
    df = pl.concat(parts)
    return df.with_columns(pl.col("Timestamp").str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S"))


def _ebo(landing: Path, manifest: DemoManifest) -> pl.DataFrame:
    parts = [_csv(landing, f) for f in _files(manifest, "meter_readings", "gd_ebo_trend_")]
    return pl.concat(parts).with_columns(
        pl.col("timestamp").str.strptime(pl.Datetime, "%Y/%m/%d %H:%M:%S"), pl.col("value").cast(pl.Float64)
    )


def test_meters_follow_the_spec_and_the_bills(small_demo):
    landing, manifest = small_demo
    m = _meters(landing, manifest)
    assert m["meter_id"].is_unique().all()
    assert set(m["role"]) <= set(dataset("meters").column("role").allowed)
    ids = set(m["meter_id"])
    parents = m.filter(pl.col("parent_meter_id").is_not_null())
    assert set(parents["parent_meter_id"]) <= set(m.filter(pl.col("role") == "grid_import")["meter_id"])
    assert set(parents["role"]) == {"sub_meter", "ppa_delivery"}
    # every metered bill names an EMS meter; the grid bills name exactly the grid-import meters
    bills = _bills(manifest).filter(pl.col("meter_id").is_not_null())
    assert set(bills["meter_id"]) <= ids
    grid_bills = bills.filter(pl.col("carrier") == "electricity", pl.col("supply_type") == "grid")
    assert set(grid_bills["meter_id"]) == set(m.filter(pl.col("role") == "grid_import")["meter_id"])
    ppa = m.filter(pl.col("role") == "ppa_delivery")
    assert ppa["parent_meter_id"].to_list() == ["GD-M-EL-01"]  # wheeled through the grid: inside the incomer
    assert m.filter(pl.col("register") == "cumulative")["carrier"].to_list() == ["natural_gas"]
    hourly = m.filter(pl.col("stamp") == "midpoint")
    assert hourly["interval_minutes"].to_list() == ["60"]
    assert set(m.filter(pl.col("installation_id") == w.ZJ)["stamp"]) == {"end"}  # PME stamps the interval end
    for inst, _, _, prefix, base, *_ in ems.SUB_METER_FAMILIES:
        n = m.filter(pl.col("meter_id").str.starts_with(prefix), pl.col("installation_id") == inst).height
        assert n == max(1, round(base * manifest.scale)), prefix


def test_scale_multiplies_the_sub_meters():
    base = ems.meters(1.0)
    subs = {s: sum(x.role == "sub_meter" for x in ems.meters(s)) for s in (1.0, 2.0, 10.0)}
    assert subs[2.0] == 2 * subs[1.0] and subs[10.0] == 10 * subs[1.0]
    assert len(ems.meters(10.0)) - subs[10.0] == len(base) - subs[1.0]  # incomers, PV, PPA, gas stay


def test_pme_wide_files_parse_per_the_spec(small_demo):
    landing, manifest = small_demo
    files = _files(manifest, "meter_readings", "zj_pme_export_")
    assert len(files) == 22  # one a month, January 2025 to October 2026
    meters = _meters(landing, manifest).filter(pl.col("installation_id") == w.ZJ)
    unit = dict(zip(meters["meter_id"], meters["unit"], strict=True))
    for f in files:
        df = _csv(landing, f)
        assert df.columns[0] == "Timestamp"
        heads = [PME.match(h) for h in df.columns[1:]]
        assert all(heads), f.file
        assert {
            h.group(1): h.group(2) for h in heads
        } == unit  # meter before the first '#', unit after the last
        cells = df.drop("Timestamp")
        assert int(cells.select(pl.all().is_not_null().sum()).sum_horizontal()[0]) == f.rows_written
        ts = df["Timestamp"].str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S")
        month = dt.datetime.strptime(f.file[-11:-4], "%Y-%m")
        assert ts[0] == month + dt.timedelta(minutes=15)  # the first interval, stamped at its end
        assert (ts.diff().drop_nulls() == dt.timedelta(minutes=15)).all()
        assert ts[-1].day == 1 and ts[-1].time() == dt.time(
            0, 0
        )  # the month's last interval ends at midnight
        for bad in f.bad_rows:  # the one not-finite cell
            assert bad.fault == "non_finite_value" and df[bad.column][bad.row_number - 1] == "NaN"
    assert sum(len(f.bad_rows) for f in files) == 1


def test_pme_gaps_are_empty_cells_where_the_manifest_says(small_demo):
    landing, manifest = small_demo
    df = _pme(landing, manifest)
    header = {PME.match(c).group(1): c for c in df.columns[1:]}
    empty = {m: df.filter(pl.col(c).is_null())["Timestamp"] for m, c in header.items()}
    gaps = {g["meter_id"]: g for g in manifest.ems["gaps"] if g["meter_id"].startswith("ZJ")}
    assert {m for m, e in empty.items() if e.len()} == set(gaps)
    for meter, g in gaps.items():
        first_end = dt.datetime.fromisoformat(g["from"]) + dt.timedelta(minutes=15)
        assert empty[meter].to_list() == [
            first_end + k * dt.timedelta(minutes=15) for k in range(g["intervals"])
        ]


def test_ebo_trend_logs_gap_meter_change_and_unknown_point(small_demo):
    landing, manifest = small_demo
    files = _files(manifest, "meter_readings", "gd_ebo_trend_")
    for f in files:
        assert _csv(landing, f).columns == ["point_name", "timestamp", "value"]
    df = _ebo(landing, manifest)
    assert df.height == sum(f.rows_written for f in files)
    n = manifest.ems["meters"]["GD-M-EL-02"]["intervals_expected"]
    steps = df.sort("point_name", "timestamp").with_columns(
        step=pl.col("timestamp").diff().over("point_name")
    )
    odd = steps.filter(pl.col("step") != dt.timedelta(minutes=15))
    # the only irregular step: the 5-hour hole in the grid incomer's log (20 intervals absent)
    assert odd.select("point_name", "step").rows() == [("GD-M-EL-01", dt.timedelta(minutes=15 * 21))]
    counts = dict(df.group_by("point_name").len().iter_rows())
    assert counts.pop("GD-M-EL-01") == n - 20
    assert counts.pop(ems_files.UNKNOWN_POINT) == 2
    assert set(counts.values()) == {n}
    # the cumulative gas register rises every interval but once: the new meter starts near zero
    gas = steps.filter(pl.col("point_name") == "GD-M-NG-01").with_columns(d=pl.col("value").diff())
    drops = gas.filter(pl.col("d") < 0)
    assert drops["timestamp"].to_list() == [ems.GD_GAS_CHANGE]
    assert gas.filter(pl.col("d") == 0).height == 0
    assert gas["timestamp"][0] == dt.datetime(2025, 1, 1, 0, 15)  # read at interval ends
    # the unknown point: accepted by ingestion, rejected by the interval engine, at the rows named
    unknown = [d for d in manifest.downstream_faults if d.fault == "unknown_meter"]
    assert len(unknown) == 2 and {d.stage for d in unknown} == {"interval_engine"}
    for d in unknown:
        raw = _csv(landing, manifest.file(d.file))
        assert raw["point_name"][d.row_number - 1] == ems_files.UNKNOWN_POINT


def test_steam_log_is_hourly_and_stamped_at_the_midpoint(small_demo):
    landing, manifest = small_demo
    files = _files(manifest, "meter_readings", "gd_ebo_steam_hourly_")
    assert len(files) == 22
    df = pl.concat([_contract_names("meter_readings", _csv(landing, f)) for f in files])  # Chinese headers
    ts = df["interval_start"].str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S")
    assert (ts.dt.minute() == 30).all() and (ts.diff().drop_nulls() == dt.timedelta(hours=1)).all()
    assert df.height == manifest.ems["meters"]["GD-M-STM-01"]["intervals_expected"]


def test_change_of_value_log_is_quarantined_whole(small_demo):
    landing, manifest = small_demo
    (f,) = _files(manifest, "meter_readings", "gd_ebo_cov_")
    assert (f.expected_quarantined, f.expected_accepted, f.expected_status) == (4, 0, "rejected")
    ts = _csv(landing, f)["timestamp"].str.strptime(pl.Datetime, "%Y/%m/%d %H:%M:%S")
    seconds = ts.diff().drop_nulls().dt.total_seconds()
    assert (seconds % 60 != 0).any()  # not on any grid of whole minutes


def _monthly(ts: pl.Series, values: pl.Series, shift: dt.timedelta) -> dict[str, float]:
    frame = pl.DataFrame({"m": (ts - shift).dt.strftime("%Y-%m"), "v": values.cast(pl.Float64)})
    return dict(frame.group_by("m").agg(pl.col("v").sum()).iter_rows())


def test_metered_totals_agree_with_the_bills(small_demo):
    landing, manifest = small_demo
    bills = _bills(manifest).filter(pl.col("meter_id").is_not_null())
    billed = {
        (r["meter_id"], f"{r['period_start']:%Y-%m}"): r["quantity"] * (1000.0 if r["unit"] == "MWh" else 1.0)
        for r in bills.iter_rows(named=True)
    }
    pme = _pme(landing, manifest)
    metered: dict[str, dict[str, float]] = {}
    for c in pme.columns[1:]:
        values = pme[c].cast(pl.Float64)
        ok = values.is_not_null() & values.is_not_nan()
        metered[c.split("#")[0]] = _monthly(
            pme["Timestamp"].filter(ok), values.filter(ok), dt.timedelta(minutes=15)
        )
    ebo = _ebo(landing, manifest).sort("point_name", "timestamp")
    el = ebo.filter(pl.col("point_name") == "GD-M-EL-01")
    metered["GD-M-EL-01"] = _monthly(el["timestamp"], el["value"] * 40.0, dt.timedelta(0))  # the CT ratio
    ppa = ebo.filter(pl.col("point_name") == "GD-M-EL-02")
    metered["GD-M-EL-02"] = _monthly(ppa["timestamp"], ppa["value"] * 1000.0, dt.timedelta(0))  # MWh meter
    gas = ebo.filter(pl.col("point_name") == "GD-M-NG-01").with_columns(d=pl.col("value").diff())
    gas = gas.filter(pl.col("d") >= 0)  # the meter change: that interval is missing, never negative
    metered["GD-M-NG-01"] = _monthly(gas["timestamp"], gas["d"], dt.timedelta(minutes=15))
    for (meter, ym), quantity in billed.items():
        if meter == "GD-M-STM-01":
            continue
        if meter == "GD-M-EL-01":  # the wheeled PPA passes the incomer: it reads both bills together
            quantity += billed[("GD-M-EL-02", ym)]
        got = metered[meter][ym]
        assert got == pytest.approx(quantity, rel=0.02), (
            meter,
            ym,
        )  # gaps and EMS deviation: a few tenths of %
        unit = 1000.0 if meter == "GD-M-EL-02" else 1.0
        assert got / unit == pytest.approx(manifest.ems["monthly_metered"][meter][ym], rel=1e-9, abs=1e-6)
    # Foshan's PPA never exceeds the load it serves (the incomer's reading), and nothing is negative
    both = el.join(ppa, on="timestamp", suffix="_ppa")
    assert (both["value_ppa"] * 1000.0 <= 0.95 * both["value"] * 40.0 + 1.0).all()
    assert (ebo.filter(pl.col("point_name") != "GD-M-NG-01")["value"] >= 0).all()


def test_load_and_generation_shapes_are_realistic(small_demo):
    landing, manifest = small_demo
    pme = _pme(landing, manifest).with_columns(start=pl.col("Timestamp") - pl.duration(minutes=15))
    pv = pme.select("start", v=pl.col("ZJ-M-PV-01#Real Energy Delivered#kWh").cast(pl.Float64)).filter(
        pl.col("v").is_not_nan()
    )
    by_hour = pv.group_by(pl.col("start").dt.hour().alias("h")).agg(pl.col("v").mean()).sort("h")
    night = by_hour.filter((pl.col("h") < 4) | (pl.col("h") >= 20))["v"]
    assert (night == 0).all()
    assert 11 <= by_hour.sort("v")["h"][-1] <= 12  # peak near solar noon (Ningbo: 11:53 Beijing time)
    daily = pv.group_by(pl.col("start").dt.date()).agg(pl.col("v").sum())["v"]
    assert daily.std() / daily.mean() > 0.3  # cloudy and clear days
    p1 = pme.select(
        "start", v=pl.col("ZJ-M-EL-01#Real Energy Into the Load#kWh").cast(pl.Float64)
    ).drop_nulls()
    hour, dow = p1["start"].dt.hour(), p1["start"].dt.weekday()
    weekday_day = p1.filter((dow <= 5) & (hour >= 10) & (hour < 16))["v"].mean()
    sunday = p1.filter(dow == 7)["v"].mean()
    assert weekday_day > 2.5 * sunday
    spring = p1.filter(pl.col("start").dt.date().is_between(dt.date(2025, 1, 28), dt.date(2025, 2, 4)))[
        "v"
    ].mean()
    assert spring < 0.35 * weekday_day  # Spring Festival shutdown
    ppa = _ebo(landing, manifest).filter(pl.col("point_name") == "GD-M-EL-02")
    days = ppa.group_by(pl.col("timestamp").dt.date()).agg(pl.col("value").sum())["value"]
    assert 0.1 < days.std() / days.mean() < 0.6 and (ppa["value"] > 0).all()  # wind: flat-ish, never off


def _gec(landing: Path, manifest: DemoManifest) -> pl.DataFrame:
    parts = []
    for f in manifest.datasets["green_certificates"].files:
        df = _contract_names("green_certificates", _csv(landing, f, f.encoding or "utf-8"))
        parts.append(
            df.with_columns(
                _file=pl.lit(f.file), _row=pl.int_range(1, pl.len() + 1), _drop=pl.lit(f.drop_date)
            )
        )
    return pl.concat(parts, how="diagonal").with_columns(pl.col("mwh").cast(pl.Float64))


def test_certificate_ledger_follows_the_bills_with_two_bad_claims(small_demo):
    landing, manifest = small_demo
    gec = _gec(landing, manifest)
    assert manifest.datasets["green_certificates"].expected_quarantined == 0  # contract-valid rows
    faults = {
        (d.file, d.row_number): d for d in manifest.downstream_faults if d.stage == "certificate_ledger"
    }
    assert sorted(d.fault for d in faults.values()) == [
        "certificate_claimed_twice",
        "certificate_expired_claim",
    ]
    is_fault = pl.struct("_file", "_row").map_elements(
        lambda r: (r["_file"], r["_row"]) in faults, pl.Boolean
    )
    gec = gec.with_columns(_fault=is_fault)
    claims = gec.filter(pl.col("status") == "cancelled", ~pl.col("_fault"))
    got = {
        (r["cancelled_for_installation_id"], r["cancelled_for_period"]): r["mwh"]
        for r in claims.iter_rows(named=True)
    }
    bills = _bills(manifest).filter(pl.col("gec_mwh").is_not_null())
    want = {
        (r["installation_id"], f"{r['period_start']:%Y-%m}"): r["gec_mwh"]
        for r in bills.iter_rows(named=True)
    }
    assert got == want  # one claim per billed month, exactly the bills' MWh: the ledger reconciles
    assert claims["certificate_batch_id"].is_unique().all()

    def last_valid(gen: str) -> tuple[int, int]:  # 24 months from the generation month, inclusive
        y, m = map(int, gen.split("-"))
        k = y * 12 + m - 1 + 23
        return k // 12, k % 12 + 1

    def period_end(p: str) -> tuple[int, int]:
        return (int(p), 12) if len(p) == 4 else (int(p[:4]), int(p[5:]))

    for r in claims.iter_rows(named=True):
        assert period_end(r["cancelled_for_period"]) <= last_valid(r["generation_month"])
    for (file, row), d in faults.items():
        r = gec.filter(pl.col("_file") == file, pl.col("_row") == row).row(0, named=True)
        if d.fault == "certificate_expired_claim":
            assert period_end(r["cancelled_for_period"]) > last_valid(r["generation_month"])
        else:  # the same batch was cancelled earlier, in an earlier drop, for another site or period
            first = claims.filter(pl.col("certificate_batch_id") == r["certificate_batch_id"]).row(
                0, named=True
            )
            assert first["_drop"] < r["_drop"]
            assert (first["cancelled_for_installation_id"], first["cancelled_for_period"]) != (
                r["cancelled_for_installation_id"],
                r["cancelled_for_period"],
            )
    today = dt.date.fromisoformat(manifest.today)
    current = gec.sort("_drop").unique("certificate_batch_id", keep="last")  # a later row replaces the first
    still_held = current.filter(pl.col("status") == "held")
    expired = [
        r
        for r in still_held.iter_rows(named=True)
        if last_valid(r["generation_month"]) < (today.year, today.month)
    ]
    assert len(expired) == 2 and still_held.height == 3
    assert any(
        c.dataset == "green_certificates" and c.new_value == "transferred" for c in manifest.corrections
    )


def test_credits_and_the_park(small_demo):
    landing, manifest = small_demo
    (pf,) = manifest.datasets["parks"].files
    parks = _contract_names("parks", _csv(landing, pf))
    assert parks["park_id"].unique().to_list() == [ems_ledger.PARK_ID]
    assert set(parks["installation_id"]) == {w.ZJ, w.GD}
    credits = pl.concat(
        [
            _csv(landing, f) if f.format == "csv" else pl.read_ndjson(landing / f.file).cast(pl.String)
            for f in manifest.datasets["carbon_credits"].files
        ],
        how="diagonal",
    )
    assert (credits["tco2e"].cast(pl.Float64) > 0).all()
    assert set(credits["retired_for_installation_id"]) == {w.ZJ, w.GD, ems_ledger.PARK_ID}
    assert set(credits["retired_for_period"]) == {"2024", "2025", "2026"}  # one for another period
    assert set(credits["project_type"]) == {"removal", "avoidance"}


def test_manifest_ems_section_adds_up(small_demo):
    _, manifest = small_demo
    meters = manifest.ems["meters"]
    written = sum(m["readings_written"] for m in meters.values())
    assert written + 2 + 4 == manifest.datasets["meter_readings"].rows_written  # + unknown point + COV log
    assert meters["GD-M-EL-01"]["intervals_missing"] == 20
    assert (
        meters["GD-M-NG-01"]["intervals_missing"] == 2
    )  # the first interval (no earlier reading), the change
    assert meters["ZJ-M-PV-01"]["readings_quarantined"] == 1
    assert [c["meter_id"] for c in manifest.ems["meter_changes"]] == ["GD-M-NG-01"]
    assert set(manifest.ems["monthly_metered"]) >= {"ZJ-M-EL-00", "ZJ-M-EL-01", "ZJ-M-EL-02", "GD-M-EL-01"}
    assert DemoManifest.from_dict(__import__("json").loads(manifest.to_json())) == manifest


def _write(root: Path, scale: float, seed: int) -> dict[str, str]:
    cal = ev.Calendar.build()
    _, _, out = ev.production(cal, scale, seed)
    ems_files.write_ems(_Recorder(root), cal, ev.energy_bills(cal, out, scale, seed), scale, seed, [])
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path):
    first, again, other = (_write(tmp_path / k, 0.1, s) for k, s in (("a", 7), ("b", 7), ("c", 8)))
    assert first == again and len(first) > 90  # 67 reading files, 2 meter lists, ledger, credits, park
    changed = {f for f in first if other.get(f) != first[f]}
    assert any("zj_pme_export" in f for f in changed) and any("gd_ebo_trend" in f for f in changed)


def test_series_are_deterministic_numbers():
    cal = ev.Calendar.build()
    _, _, out = ev.production(cal, 1.0, 7)
    bills = ev.energy_bills(cal, out, 1.0, 7)
    a, b = ems.series(cal, bills, 1.0, 7), ems.series(cal, bills, 1.0, 7)
    assert all(np.array_equal(a.values[k], b.values[k]) for k in a.values)
    assert all(np.isfinite(v).all() and (v >= 0).all() for v in a.values.values())
