"""The deliberately bad input: small extra files beside the good drops, so the main numbers stay complete.
Every fault kind of manifest.FAULT_KINDS occurs here at least once (the unresolvable-country typo in the
2026 suppliers snapshot is in master.py). Keys never collide with good rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from orchestration.demo import formats as fm
from orchestration.demo import world as w
from orchestration.demo.manifest import BadRow

if TYPE_CHECKING:
    from orchestration.demo.generator import _Recorder


def _text(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """Rows as text exactly as they will be written (no type inference, so bad cells survive)."""
    cols = list(rows[0])
    return pl.DataFrame({c: [r.get(c) for r in rows] for c in cols}, schema={c: pl.String for c in cols})


def write_faults(rec: _Recorder) -> None:
    """The same bad rows at every seed and scale (ingestion tests can name them)."""
    _missing_unit_column(rec)
    _manual_invoices(rec)
    _negative_production(rec)
    _exports_addendum(rec)
    _truncated_invoices(rec)
    _impossible_date(rec)
    _empty_file(rec)
    _utf16_file(rec)


def _missing_unit_column(rec: _Recorder) -> None:
    """A manual meter sheet without the `unit` column: readable, every row quarantined."""
    drop = dt.date(2025, 3, 3)
    df = _text(
        [
            {
                "bill_id": f"ZJ-AIR-202502-{k}",
                "installation_id": w.ZJ,
                "meter_id": f"ZJ-M-AIR-0{k}",
                "carrier": "electricity",
                "period_start": "2025-02-01",
                "period_end": "2025-02-28",
                "quantity": q,
            }
            for k, q in ((1, "18450"), (2, "17320"), (3, "9210"))
        ]
    )
    rec.put(
        "energy_bills",
        drop,
        "补录表计读数.csv",
        df,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[
            BadRow(r, "unit", "missing_required_column", None, "file has no unit column") for r in (1, 2, 3)
        ],
        note="compressed-air sub-meters typed in by hand",
    )


def _manual_invoices(rec: _Recorder) -> None:
    """Hand-keyed invoice lines: one quantity not a number, one unit not in the unit table."""
    drop = dt.date(2025, 5, 3)
    base = {"line_no": "1", "invoice_date": "2025-04-28", "installation_id": w.ZJ, "currency": "CNY"}
    rows = [
        {
            **base,
            "invoice_id": "MAN-2025-04-001",
            "supplier_id": "SUP-MRO",
            "material_id": "GLOVE",
            "quantity": "240",
            "unit": "pcs",
            "net_amount": "504.00",
        },
        {
            **base,
            "invoice_id": "MAN-2025-04-002",
            "supplier_id": "SUP-ZJ-CHEM",
            "material_id": "QUENCH-OIL",
            "quantity": "待定",
            "unit": "L",
            "net_amount": "2900.00",
        },
        {
            **base,
            "invoice_id": "MAN-2025-04-003",
            "supplier_id": "SUP-ZJ-PKG",
            "material_id": "STRAP-PET",
            "quantity": "85.5",
            "unit": "kg",
            "net_amount": "940.50",
        },
        {
            **base,
            "invoice_id": "MAN-2025-04-004",
            "supplier_id": "SUP-ZJ-CHEM",
            "material_id": "QUENCH-OIL",
            "quantity": "1",
            "unit": "桶",
            "net_amount": "2900.00",
        },
        {
            **base,
            "invoice_id": "MAN-2025-04-005",
            "supplier_id": "SUP-MRO",
            "material_id": "SVC-MAINT",
            "quantity": "1",
            "unit": "pcs",
            "net_amount": "4650.00",
        },
    ]
    df = _text(rows)
    rec.put(
        "supplier_invoices",
        drop,
        "manual_invoices.csv",
        df,
        lambda p: fm.write_csv(df, p, bom=True),
        fmt="csv",
        encoding="utf-8-sig",
        separator=",",
        header_row=1,
        bad=[
            BadRow(2, "quantity", "non_numeric", "待定", "quantity 'to be determined'"),
            BadRow(4, "unit", "unknown_unit", "桶", "'barrel' is not in the unit table"),
        ],
    )


def _negative_production(rec: _Recorder) -> None:
    """A 'negative adjustment' of April's washer output sent as a production row: produced_t must be >= 0."""
    drop = dt.date(2025, 6, 3)
    df = _text(
        [
            {
                "installation_id": w.ZJ,
                "process_id": "P1",
                "product_id": "ZJ-WSH-M10",
                "period_start": "2025-04-01",
                "period_end": "2025-04-30",
                "produced_t": "-12.5",
            }
        ]
    )
    rec.put(
        "production",
        drop,
        "production_adjustment.csv",
        df,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[
            BadRow(
                1,
                "produced_t",
                "negative_quantity",
                "-12.5",
                "if accepted it would replace April's washer row; quarantined, April stays",
            )
        ],
    )


def _exports_addendum(rec: _Recorder) -> None:
    """Late export lines: a duplicated key, a Chinese 10-digit customs code in cn_code, a destination that is
    not a country, and one good line."""
    drop = dt.date(2025, 9, 3)
    base = {
        "line_no": "1",
        "declaration_date": "2025-08-29",
        "product_id": "ZJ-BLT88-M12",
        "cn_code": None,
        "quantity": "95238",
        "unit": "pcs",
        "importer_eori": "NL812345678",
        "importer_name": "Holland Fasteners B.V.",
        "importer_country": "NL",
        "destination_country": "NL",
        "installation_id": w.ZJ,
    }
    rows = [
        {**base, "export_id": "310420251999000002"},
        {**base, "export_id": "310420251999000002", "quantity": "95300"},
        {**base, "export_id": "310420251999000003", "cn_code": "7318150001"},
        {**base, "export_id": "310420251999000004", "destination_country": "欧洲"},
        {**base, "export_id": "310420251999000005", "quantity": "12700"},
    ]
    df = _text(rows)
    rec.put(
        "exports",
        drop,
        "exports_addendum.csv",
        df,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[
            BadRow(1, "export_id+line_no", "duplicate_key", "310420251999000002#1", "same key as row 2"),
            BadRow(2, "export_id+line_no", "duplicate_key", "310420251999000002#1", "same key as row 1"),
            BadRow(
                3,
                "cn_code",
                "hs_code_in_cn_column",
                "7318150001",
                "10-digit Chinese customs code; it is never turned into a CN code",
            ),
            BadRow(4, "destination_country", "unresolvable_country", "欧洲", "'Europe' is not a country"),
        ],
    )


def _truncated_invoices(rec: _Recorder) -> None:
    """A late invoice file cut off mid-row by a failed upload: four complete lines and a broken fifth."""
    drop = dt.date(2025, 9, 3)
    rows = [
        {
            "invoice_id": f"25332999000000{k:06d}",
            "line_no": "1",
            "invoice_date": f"2025-08-{20 + k}",
            "supplier_id": "SUP-ZJ-PKG",
            "installation_id": w.ZJ,
            "material_id": "CARTON-L",
            "quantity": str(400 + 25 * k),
            "unit": "pcs",
            "net_amount": f"{(400 + 25 * k) * 4.2:.2f}",
            "currency": "CNY",
        }
        for k in range(1, 6)
    ]
    df = _text(rows)

    def write(path: Path) -> int:
        text = df.write_csv()
        lines = text.splitlines()
        last = lines[-1]
        cut = last[: last.index(",SUP-ZJ-PKG") + 5]  # "...,2025-08-25,SUP-": mid-field, no newline
        path.write_bytes(("\n".join([*lines[:-1], cut])).encode("utf-8"))
        return df.height

    rec.put(
        "supplier_invoices",
        drop,
        "late_invoices.csv",
        df,
        write,
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[BadRow(5, None, "truncated_row", rows[-1]["invoice_id"], "file ends in the middle of row 5")],
    )


def _impossible_date(rec: _Recorder) -> None:
    """Sample parcels keyed in by hand; one ship date does not exist."""
    drop = dt.date(2026, 3, 3)
    base = {
        "leg_no": "1",
        "direction": "outbound",
        "mode": "road",
        "destination": "CNNGB",
        "distance_km": "38",
        "carrier": "顺丰快运 SF Freight",
    }
    rows = [
        {
            **base,
            "shipment_id": "SMP-2602-01",
            "ship_date": "2026-02-12",
            "origin": "宁波北仑厂区",
            "mass_t": "0.35",
            "product_id": w.NEW_PRODUCT,
        },
        {
            **base,
            "shipment_id": "SMP-2602-02",
            "ship_date": "2026-02-30",
            "origin": "宁波北仑厂区",
            "mass_t": "0.42",
            "product_id": "ZJ-BLT109-M16",
        },
        {
            **base,
            "shipment_id": "SMP-2602-03",
            "ship_date": "2026-02-26",
            "origin": "佛山南海厂区",
            "destination": "CNNSA",
            "distance_km": "62",
            "mass_t": "0.8",
            "product_id": "GD-PRF-H6063",
        },
    ]
    df = _text(rows)
    rec.put(
        "shipments",
        drop,
        "sample_parcels.csv",
        df,
        lambda p: fm.write_csv(df, p),
        fmt="csv",
        encoding="utf-8",
        separator=",",
        header_row=1,
        bad=[BadRow(2, "ship_date", "impossible_date", "2026-02-30", "February has 28 days in 2026")],
    )


def _empty_file(rec: _Recorder) -> None:
    drop = dt.date(2025, 11, 3)

    def write(path: Path) -> int:
        path.write_bytes(b"")
        return 0

    rec.put(
        "stream_readings",
        drop,
        "readings_gd_manual.csv",
        None,
        write,
        fmt="csv",
        encoding=None,
        bad=[BadRow(None, None, "empty_file", "", "0 bytes: rejected whole")],
    )


def _utf16_file(rec: _Recorder) -> None:
    """Excel's 'Unicode text' export: UTF-16 with BOM, tab-separated. Not an accepted encoding: rejected whole."""
    drop = dt.date(2026, 4, 3)
    df = _text(
        [
            {
                "bill_id": f"GD-SUB-{m}-202603",
                "installation_id": w.GD,
                "meter_id": f"GD-M-{m}",
                "carrier": "electricity",
                "period_start": "2026-03-01",
                "period_end": "2026-03-31",
                "quantity": q,
                "unit": "kWh",
                "process_id": "P1",
            }
            for m, q in (("AIR", "61230"), ("LIGHT", "12880"), ("OFFICE", "20310"), ("PRESS", "144500"))
        ]
    )
    rec.put(
        "energy_bills",
        drop,
        "gd_submeters_utf16.csv",
        df,
        lambda p: fm.write_csv(df, p, separator="\t", encoding="utf-16", crlf=True),
        fmt="csv",
        encoding="utf-16",
        separator="\t",
        header_row=1,
        bad=[BadRow(None, None, "unsupported_encoding", None, "UTF-16: rejected whole, rows_read 0")],
    )
