"""`generate`: write the demo landing zone and its manifest.

Layout `<landing>/<dataset>/<YYYY-MM-DD>/<file>`: master data snapshots on 2025-01-05 (products again on
2025-07-05, suppliers on 2026-01-05), monthly event drops on the 3rd of the following month from 2025-02-03 to
2026-11-03, supplier communications on the day they arrived. File formats, encodings, header spellings and
cell spellings vary the way real plant exports do; a handful of deliberately bad rows sit in small extra files
(faults.py) and are listed in the manifest with the counts ingestion must reproduce."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from orchestration.demo import ems_files, faults, master
from orchestration.demo import events as ev
from orchestration.demo import formats as fm
from orchestration.demo import world as w
from orchestration.demo.manifest import (
    FILE_LEVEL_FAULTS,
    MANIFEST_NAME,
    BadRow,
    Correction,
    DatasetEntry,
    DemoManifest,
    FileEntry,
    TrickyCell,
)
from transforms.contracts import dataset as contract

# Every landing dataset of docs/landing-zone.md (in its order), with kind and business key from its contract.
DATASET_NAMES = (
    "installations",
    "processes",
    "source_streams",
    "products",
    "materials",
    "suppliers",
    "supplier_invoices",
    "supplier_emissions",
    "energy_bills",
    "stream_readings",
    "production",
    "process_flows",
    "shipments",
    "exports",
    "precursor_consumption",
    "carbon_prices",
    "parks",
    "meters",
    "meter_readings",
    "green_certificates",
    "carbon_credits",
)
DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    name: (contract(name).kind, tuple(contract(name).keys)) for name in DATASET_NAMES
}

STORY = (
    "Two Chinese exporters of CBAM goods, January 2025 to October 2026 (2026 year-to-date, provisional). "
    "Ningbo Yongjian Fasteners (CN-ZJ-001, Zhejiang, CNNGB) draws and cold-heads wire rod into washers and "
    "grade-4.8 bolts (P1) and heat-treats the rest into 8.8/10.9 bolts, nuts and, from July 2025, 12.9 socket "
    "screws (P2); it burns natural gas (billed in m3 at 20 degC, metered with laboratory NCV in six months), "
    "methanol for furnace atmosphere and forklift diesel, runs on grid power sub-metered per process plus "
    "rooftop PV, and cancels green certificates from October 2025. Its wire rod comes from a Jiangsu mill with "
    "verified actual emissions (a preliminary unverified communication for 2025 is later replaced by the "
    "verified one), from a Hebei mill without any data (default values with mark-up) and from a Vietnamese mill "
    "(2025 default values passed on, 2026 actual but unverified); it measures wire rod into P1 from January to "
    "June 2026. Foshan Nanyue Aluminium (CN-GD-002, Guangdong, CNFOS) extrudes billets from a Yunnan smelter "
    "(verified actual) and an Inner-Mongolian one (defaults) into profiles and bars, on grid power, a wind PPA "
    "(D.4.3.2, evidence of physical delivery needed before CBAM accepts it), green certificates in 2026 and park "
    "steam (heat imported). Both export to importers in DE, NL, IT, PL and GR by road, sea via Rotterdam, Hamburg "
    "and Piraeus, and China-Europe rail to Duisburg; one illustrative regional-ETS carbon price row is included "
    "for the Foshan plant. Both plants log every meter every 15 minutes (Ningbo in Schneider PME, Foshan in "
    "Schneider EBO, whose gas meter is replaced in August 2025), cancel green certificates for the months their "
    "bills name, retire carbon credits for 2025 and form one demo park."
)


@dataclass
class _Recorder:
    root: Path
    entries: dict[str, DatasetEntry] = field(default_factory=dict)
    accepted_keys: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    quarantined_keys: dict[str, list[pl.DataFrame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = {name: DatasetEntry(name, kind) for name, (kind, _) in DATASETS.items()}

    def path(self, dataset: str, drop: dt.date, name: str) -> tuple[Path, str]:
        rel = f"{dataset}/{drop.isoformat()}/{name}"
        return self.root / rel, rel

    def put(
        self,
        dataset: str,
        drop: dt.date,
        name: str,
        df: pl.DataFrame | None,
        write: Callable[[Path], int],
        *,
        fmt: str,
        encoding: str | None = None,
        separator: str | None = None,
        header_row: int | None = None,
        bad: Sequence[BadRow] = (),
        note: str = "",
    ) -> FileEntry:
        """Write one file with `write(path) -> rows written` and record what ingestion must make of it.
        `df` holds the rows in file order with their contract key columns (for the current-row counts)."""
        path, rel = self.path(dataset, drop, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = write(path)
        bad = list(bad)
        rejected_whole = any(b.fault in FILE_LEVEL_FAULTS for b in bad)
        bad_rows = {b.row_number for b in bad if b.row_number is not None}
        read = 0 if rejected_whole else rows
        quarantined = 0 if rejected_whole else len(bad_rows)
        accepted = read - quarantined
        status = "rejected" if accepted == 0 else ("partial" if quarantined else "ok")
        entry = FileEntry(
            dataset=dataset,
            drop_date=drop.isoformat(),
            file=rel,
            format=fmt,
            encoding=encoding,
            separator=separator,
            header_row=header_row,
            rows_written=rows,
            expected_rows_read=read,
            expected_accepted=accepted,
            expected_quarantined=quarantined,
            expected_status=status,
            bad_rows=bad,
            note=note,
        )
        d = self.entries[dataset]
        d.files.append(entry)
        d.rows_written += rows
        d.expected_rows_read += read
        d.expected_accepted += accepted
        d.expected_quarantined += quarantined
        if df is not None and not rejected_whole:
            keys = _key_frame(dataset, df).with_columns(_drop=pl.lit(drop))
            row_no = pl.int_range(1, pl.len() + 1)
            self.accepted_keys.setdefault(dataset, []).append(keys.filter(~row_no.is_in(sorted(bad_rows))))
            self.quarantined_keys.setdefault(dataset, []).append(keys.filter(row_no.is_in(sorted(bad_rows))))
        return entry

    def finish(self) -> None:
        """Rows of each raw-lake table once every drop is in: event keys replace earlier rows; a snapshot is
        its newest drop, plus keys quarantined there that keep their previous valid version."""
        for name, d in self.entries.items():
            acc = pl.concat(
                self.accepted_keys.get(name)
                or [pl.DataFrame({"_key": [], "_drop": []}, schema={"_key": pl.String, "_drop": pl.Date})]
            )
            if d.kind == "event":
                d.expected_current_rows = acc["_key"].n_unique()
                continue
            newest = acc["_drop"].max()
            current = set(acc.filter(pl.col("_drop") == newest)["_key"])
            quarantined = pl.concat(self.quarantined_keys.get(name) or [acc.clear()])
            earlier = set(acc.filter(pl.col("_drop") < newest)["_key"])
            current |= set(quarantined.filter(pl.col("_drop") == newest)["_key"]) & earlier
            d.expected_current_rows = len(current)


def _key_frame(dataset: str, df: pl.DataFrame) -> pl.DataFrame:
    cols = DATASETS[dataset][1]
    return df.select(
        _key=pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") if c in df.columns else pl.lit("") for c in cols],
            separator="|",
        )
    )


def generate(landing: Path, scale: float = 1.0, seed: int = 7) -> DemoManifest:
    """Write a demo landing zone under `landing` (emptied first if it holds an earlier demo) and return its
    manifest (also written to `<landing>/_demo_manifest.json`). Same seed and scale give the same bytes."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    landing = Path(landing)
    if (landing / MANIFEST_NAME).exists():  # regenerate cleanly over an earlier demo, never over other data
        for child in landing.iterdir():
            if child.is_dir() and child.name in DATASETS:
                shutil.rmtree(child)
    landing.mkdir(parents=True, exist_ok=True)
    rec = _Recorder(landing)
    tricky: list[TrickyCell] = []
    corrections: list[Correction] = []
    snapshot_changes: list[Correction] = []

    cal = ev.Calendar.build()
    production, flows, out = ev.production(cal, scale, seed)
    bills = ev.energy_bills(cal, out, scale, seed)
    readings = ev.stream_readings(cal, out, bills, seed)
    invoices = ev.supplier_invoices(cal, out, scale, seed)
    consumption = ev.precursor_consumption(invoices, cal, seed)
    exports = ev.exports(cal, out, scale, seed)
    shipments = ev.shipments(invoices, exports, seed)
    invoices_by_month = invoices.partition_by("_m", as_dict=True, maintain_order=True)
    del invoices  # the biggest frame: keep only its monthly parts (memory at scale 100)

    master.write_master(rec, tricky, snapshot_changes)
    _write_invoices(rec, cal, invoices_by_month, tricky, corrections)
    _write_monthly(rec, cal, production, flows, bills, readings, consumption, exports, shipments, tricky)
    master.write_supplier_emissions(rec, corrections)
    master.write_carbon_prices(rec)
    ems_info, downstream = ems_files.write_ems(rec, cal, bills, scale, seed, corrections)
    faults.write_faults(rec)
    rec.finish()

    manifest = DemoManifest(
        seed=seed,
        scale=scale,
        today=w.TODAY.isoformat(),
        first_period=cal.ym(0),
        last_period=cal.ym(-1),
        datasets=rec.entries,
        corrections=corrections,
        snapshot_changes=snapshot_changes,
        tricky_cells=tricky,
        places=w.PLACES,
        story=STORY,
        ems=ems_info,
        downstream_faults=downstream,
    )
    for d in manifest.datasets.values():
        d.files.sort(key=lambda f: f.file)
    (landing / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


# ------------------------------------------------------------------------------------------ invoices

ZJ_INVOICE_HEADERS = {
    "invoice_id": "发票号码",
    "line_no": "行号",
    "invoice_date": "开票日期",
    "supplier_id": "供应商编号",
    "installation_id": "收货装置",
    "material_id": "物料编号",
    "cn_code": "商品编码",
    "country_of_origin": "原产国",
    "quantity": "数量",
    "unit": "单位",
    "net_amount": "金额",
    "currency": "币种",
}
ZJ_UNITS = {"t": "吨", "kg": "千克", "pcs": "件", "L": "升"}
ZJ_COUNTRIES = {"VN": "越南", "JP": "日本", "HK": "中国香港"}
GD_COUNTRIES = {"VN": "Vietnam", "JP": "Japan", "HK": "Hong Kong"}


def _zj_invoice_text(df: pl.DataFrame) -> pl.DataFrame:
    """Ningbo's ERP export: Chinese headers and units, amounts with thousands separators, no supplier installation."""
    return df.select(
        "invoice_id",
        "line_no",
        "invoice_date",
        "supplier_id",
        "installation_id",
        "material_id",
        "cn_code",
        pl.col("country_of_origin").replace_strict(ZJ_COUNTRIES, default=None),
        fm.number_text(pl.col("quantity")).alias("quantity"),
        pl.col("unit").replace_strict(ZJ_UNITS),
        fm.thousands_text(pl.col("net_amount"), 2).alias("net_amount"),
        "currency",
    )


def _write_invoices(
    rec: _Recorder,
    cal: ev.Calendar,
    by_month: dict[tuple[object, ...], pl.DataFrame],
    tricky: list[TrickyCell],
    corrections: list[Correction],
) -> None:
    for i, drop in enumerate(cal.drops):
        ym = cal.ym(i)
        month = by_month[(i,)]
        zj = month.filter(pl.col("_plant") == w.ZJ).drop("_plant", "_m", "_drop", "_true_quantity_t")
        text = _zj_invoice_text(zj)
        if i == 0:  # a quantity typed on a Chinese keyboard: full-width digits (NFKC reads them as ASCII)
            decimals = (
                text.head(50).with_row_index().filter(pl.col("quantity").str.contains(".", literal=True))
            )
            row = int(decimals["index"][0]) if decimals.height else 0
            raw = fm.fullwidth(text["quantity"][row])
            text = text.with_columns(
                quantity=pl.when(pl.int_range(pl.len()) == row).then(pl.lit(raw)).otherwise("quantity")
            )
            tricky.append(
                TrickyCell(
                    f"supplier_invoices/{drop}/zj_fapiao_{ym}.csv",
                    row + 1,
                    "quantity",
                    raw,
                    float(zj["quantity"][row]),
                )
            )
        if i == 1:  # a typo (x10) on a wire-rod line, corrected in the next drop
            row = zj.with_row_index().filter(pl.col("supplier_id") == "SUP-WR-01")["index"][0]
            true_qty = float(zj["quantity"][row])
            typo = round(true_qty * 10, 3)
            text = text.with_columns(
                quantity=pl.when(pl.int_range(pl.len()) == row).then(pl.lit(str(typo))).otherwise("quantity")
            )
            old_file = f"supplier_invoices/{drop}/zj_fapiao_{ym}.csv"
            fix_drop = cal.drops[2]
            fix = _zj_invoice_text(zj.slice(row, 1))
            rec.put(
                "supplier_invoices",
                fix_drop,
                "zj_fapiao_corrections.csv",
                zj.slice(row, 1),
                lambda p, f=fix: fm.write_csv(
                    f, p, headers=ZJ_INVOICE_HEADERS, encoding="gb18030", date_style="slash", crlf=True
                ),
                fmt="csv",
                encoding="gb18030",
                separator=",",
                header_row=1,
                note="re-sends one February line with the quantity corrected",
            )
            corrections.append(
                Correction(
                    dataset="supplier_invoices",
                    key={"invoice_id": zj["invoice_id"][row], "line_no": int(zj["line_no"][row])},
                    column="quantity",
                    old_value=typo,
                    new_value=true_qty,
                    old_file=old_file,
                    old_row=int(row) + 1,
                    new_file=f"supplier_invoices/{fix_drop}/zj_fapiao_corrections.csv",
                    new_row=1,
                    note="x10 typo in the February file; the later drop's row replaces it",
                )
            )
        rec.put(
            "supplier_invoices",
            drop,
            f"zj_fapiao_{ym}.csv",
            zj,
            lambda p, t=text: fm.write_csv(
                t, p, headers=ZJ_INVOICE_HEADERS, encoding="gb18030", date_style="slash", crlf=True
            ),
            fmt="csv",
            encoding="gb18030",
            separator=",",
            header_row=1,
        )

        gd = (
            month.filter(pl.col("_plant") == w.GD)
            .drop("_plant", "_m", "_drop", "_true_quantity_t")
            .with_columns(pl.col("country_of_origin").replace_strict(GD_COUNTRIES, default=None))
        )
        if ym == "2025-12":
            rec.put(
                "supplier_invoices",
                drop,
                f"gd_invoices_{ym}.parquet",
                gd,
                lambda p, g=gd: fm.write_parquet(g, p),
                fmt="parquet",
            )
        elif ym < "2026":
            rec.put(
                "supplier_invoices",
                drop,
                f"gd_invoices_{ym}.csv",
                gd,
                lambda p, g=gd: fm.write_csv(g, p),
                fmt="csv",
                encoding="utf-8",
                separator=",",
                header_row=1,
            )
        else:
            rec.put(
                "supplier_invoices",
                drop,
                f"gd_invoices_{ym}.jsonl",
                gd,
                lambda p, g=gd: fm.write_jsonl(g, p),
                fmt="jsonl",
                encoding="utf-8",
            )


# ------------------------------------------------------------------------------------------ monthly drops

ZJ_BILL_HEADERS = {
    "bill_id": "账单编号",
    "meter_id": "表计编号",
    "carrier": "能源类型",
    "quantity": "用量",
    "unit": "单位",
    "gec_mwh": "绿证",
}
ZJ_BILL_UNITS = {"kWh": "千瓦时", "m3": "立方米", "L": "升"}
ZJ_EXPORT_HEADERS = {
    "export_id": "报关单号",
    "declaration_date": "申报日期",
    "product_id": "产品编号",
    "importer_eori": "进口商EORI",
    "importer_name": "进口商",
}
GD_EXPORT_HEADERS = {
    "export_id": "Export_ID",
    "line_no": " Line_No ",
    "declaration_date": "Declaration_Date",
    "product_id": "PRODUCT_ID",
    "cn_code": "CN_Code",
    "quantity": "Quantity",
    "unit": "Unit",
    "importer_eori": "Importer_EORI",
    "importer_name": "Importer_Name",
    "importer_country": "Importer_Country",
    "destination_country": "Destination_Country",
    "installation_id": "Installation_ID",
    "production_period": "Production_Period",
}
HELPERS = ("_plant", "_m", "_drop", "_mass_t", "_decl_mass_t", "_true_quantity_t")


def _public(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop([c for c in HELPERS if c in df.columns])


def _write_monthly(
    rec: _Recorder,
    cal: ev.Calendar,
    production: pl.DataFrame,
    flows: pl.DataFrame,
    bills: pl.DataFrame,
    readings: pl.DataFrame,
    consumption: pl.DataFrame,
    exports: pl.DataFrame,
    shipments: pl.DataFrame,
    tricky: list[TrickyCell],
) -> None:
    exports_by_month = exports.partition_by("_m", as_dict=True, maintain_order=True)
    for i, drop in enumerate(cal.drops):
        ym = cal.ym(i)
        at = pl.col("_m") == i

        # energy bills: Ningbo GB18030 with Chinese headers, units and dates; Foshan tab-separated UTF-8
        zj = _public(bills.filter(at, pl.col("_plant") == w.ZJ))
        zj_text = zj.with_columns(
            quantity=fm.thousands_text(pl.col("quantity"), 0),
            unit=pl.col("unit").replace_strict(ZJ_BILL_UNITS),
        )
        zj_text = zj_text.with_columns(
            unit=pl.when(pl.col("bill_id").str.starts_with("ZJ-EL-SITE")).then(pl.lit("度")).otherwise("unit")
        )
        name = f"zj_nengyuan_{ym}.csv"
        if ym == "2025-08":
            row = zj.with_row_index().filter(pl.col("bill_id").str.starts_with("ZJ-PV"))["index"][0]
            raw = fm.fullwidth(zj_text["quantity"][row])
            zj_text = zj_text.with_columns(
                quantity=pl.when(pl.int_range(pl.len()) == row).then(pl.lit(raw)).otherwise("quantity")
            )
            tricky.append(
                TrickyCell(
                    f"energy_bills/{drop}/{name}", int(row) + 1, "quantity", raw, float(zj["quantity"][row])
                )
            )
        rec.put(
            "energy_bills",
            drop,
            name,
            zj,
            lambda p, t=zj_text: fm.write_csv(
                t, p, headers=ZJ_BILL_HEADERS, encoding="gb18030", date_style="cn", crlf=True
            ),
            fmt="csv",
            encoding="gb18030",
            separator=",",
            header_row=1,
        )
        gd = _public(bills.filter(at, pl.col("_plant") == w.GD))
        rec.put(
            "energy_bills",
            drop,
            f"gd_energy_{ym}.csv",
            gd,
            lambda p, g=gd: fm.write_csv(g, p, separator="\t"),
            fmt="csv",
            encoding="utf-8",
            separator="\t",
            header_row=1,
        )

        # stream readings: one JSON array per drop
        rd = _public(readings.filter(at))
        rec.put(
            "stream_readings",
            drop,
            f"readings_{ym}.json",
            rd,
            lambda p, r=rd: fm.write_json_array(r, p),
            fmt="json",
            encoding="utf-8",
        )

        # production: Ningbo CSV with BOM and semicolons (slash dates); Foshan XLSX with date cells
        zp = _public(production.filter(at, pl.col("_plant") == w.ZJ)).select(
            "installation_id", "process_id", "product_id", "period_start", "period_end", "produced_t"
        )
        zp_text = zp.with_columns(pl.col("produced_t").cast(pl.String))
        name = f"zj_production_{ym}.csv"
        if ym == "2025-03":
            row = 2
            raw = fm.fullwidth(zp_text["produced_t"][row])
            zp_text = zp_text.with_columns(
                produced_t=pl.when(pl.int_range(pl.len()) == row).then(pl.lit(raw)).otherwise("produced_t")
            )
            tricky.append(
                TrickyCell(
                    f"production/{drop}/{name}", row + 1, "produced_t", raw, float(zp["produced_t"][row])
                )
            )
        rec.put(
            "production",
            drop,
            name,
            zp,
            lambda p, t=zp_text: fm.write_csv(
                t, p, headers={"produced_t": "产量"}, separator=";", bom=True, date_style="slash"
            ),
            fmt="csv",
            encoding="utf-8-sig",
            separator=";",
            header_row=1,
        )
        gp = _public(production.filter(at, pl.col("_plant") == w.GD))
        rec.put(
            "production",
            drop,
            f"gd_production_{ym}.xlsx",
            gp,
            lambda p, g=gp, d=drop: fm.write_xlsx(g, p, created=d, sheet="production"),
            fmt="xlsx",
            header_row=1,
        )

        fl = _public(flows.filter(at))
        rec.put(
            "process_flows",
            drop,
            f"zj_process_flows_{ym}.csv",
            fl,
            lambda p, f=fl: fm.write_csv(f, p),
            fmt="csv",
            encoding="utf-8",
            separator=",",
            header_row=1,
        )

        pc = _public(consumption.filter(at))
        if pc.height:
            rec.put(
                "precursor_consumption",
                drop,
                f"zj_wire_rod_weighed_{ym}.csv",
                pc,
                lambda p, f=pc: fm.write_csv(f, p),
                fmt="csv",
                encoding="utf-8",
                separator=",",
                header_row=1,
            )

        # exports: Ningbo with Chinese headers and units; Foshan with BOM, semicolons and odd header case
        month_exports = exports_by_month[(i,)]
        ze = _public(month_exports.filter(pl.col("_plant") == w.ZJ)).drop("cn_code", "production_period")
        ze_text = ze.with_columns(
            unit=pl.col("unit").replace_strict({"pcs": "件", "t": "吨", "kg": "千克"}),
            quantity=fm.number_text(pl.col("quantity")),
        )
        rec.put(
            "exports",
            drop,
            f"zj_baoguan_{ym}.csv",
            ze,
            lambda p, t=ze_text: fm.write_csv(t, p, headers=ZJ_EXPORT_HEADERS),
            fmt="csv",
            encoding="utf-8",
            separator=",",
            header_row=1,
        )
        ge = _public(month_exports.filter(pl.col("_plant") == w.GD))
        rec.put(
            "exports",
            drop,
            f"gd_exports_{ym}.csv",
            ge,
            lambda p, g=ge: fm.write_csv(g, p, headers=GD_EXPORT_HEADERS, separator=";", bom=True),
            fmt="csv",
            encoding="utf-8-sig",
            separator=";",
            header_row=1,
        )

    # shipments: JSON Lines per drop (legs land in the month they were shipped)
    for (drop,), legs in shipments.partition_by("_drop", as_dict=True, maintain_order=True).items():
        sh = _public(legs)
        shipped = drop - dt.timedelta(days=3)  # the month the legs were shipped in
        rec.put(
            "shipments",
            drop,
            f"shipments_{shipped:%Y-%m}.jsonl",
            sh,
            lambda p, s=sh: fm.write_jsonl(s, p),
            fmt="jsonl",
            encoding="utf-8",
        )
