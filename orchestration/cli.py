"""The `lingtan` command line: demo data, the nightly run, reports, an SQL shell, reference data."""

from __future__ import annotations

import errno
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from orchestration.cli_errors import EXIT_BLOCKED, EXIT_OK, fail
from orchestration.cli_errors import error_line as _error_line


def _disk_full(e: BaseException | None) -> str:
    """The line for an error caused by a full disk (ENOSPC, or SQLite's "database or disk is full"), else ""."""
    while e is not None:
        if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "database or disk is full" in str(e):
            where = f" writing {e.filename}" if getattr(e, "filename", None) else ""
            return (
                f"the disk is full (no space left on device{where}): free space on the disk of the lingtan home "
                "and run again; what was published before stays as it was"
            )
        e = e.__cause__ or e.__context__
    return ""


class OneLineErrors(TyperGroup):
    """Every error is one line on stderr (`error: … `) and exit 1; a traceback only with --debug. Usage errors
    exit 1 too: 2 means a gate blocked publication."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:
            typer.echo(e.ctx.get_help() if e.ctx else "")
            code = EXIT_OK
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "lingtan"
            code = _error_line(f"{e.format_message().rstrip('.')}; see `{where} --help`")
        except click.ClickException as e:
            code = _error_line(e.format_message())
        except click.Abort:
            code = _error_line("aborted")
        except KeyboardInterrupt:
            code = _error_line("interrupted", 130)
        except Exception as e:  # anything unexpected: one line, unless --debug
            if debug:
                raise
            code = _error_line(
                _disk_full(e) or f"{type(e).__name__}: {e} (run `lingtan --debug …` for the traceback)"
            )
        code = code if isinstance(code, int) else EXIT_OK
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="lingtan (零碳): factory records in, CBAM embedded emissions, footprints and inventories out.",
)
reports_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="List and fetch published reports."
)
refdata_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Reference data (default values, factors) from official files.",
)
app.add_typer(reports_app, name="reports")
app.add_typer(refdata_app, name="refdata")
from orchestration.cli_period import period_app  # noqa: E402  (lingtan period lock|unlock|list)

app.add_typer(period_app, name="period")

_DEBUG = False


def _quiet_env() -> None:
    for k, v in {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }.items():
        os.environ.setdefault(k, v)


@app.callback()
def main_options(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    global _DEBUG
    _DEBUG = debug
    _quiet_env()


@app.command()
def demo(
    landing: Annotated[str, typer.Option(help="Folder (or s3://bucket/prefix) to fill.")] = "",
    scale: Annotated[float, typer.Option(help="Multiplies volumes (1 ≈ 20,000 invoice lines a year).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 7,
) -> None:
    """Write a realistic demo landing zone (two plants, suppliers, logistics, exports; a few bad rows)."""
    from orchestration.lib.home import landing_uri

    if not 0 < scale < float("inf"):
        fail(f"--scale must be a number above 0 (1 ≈ 20,000 invoice lines a year), got {scale}")

    target = landing_uri(landing or None)
    from orchestration.demo import generate

    if target.startswith("s3://"):
        import tempfile

        from orchestration.lib.storage import Landing

        with tempfile.TemporaryDirectory() as tmp:
            manifest = generate(Path(tmp), scale=scale, seed=seed)
            zone = Landing.open(target)
            for p in sorted(Path(tmp).rglob("*")):
                if p.is_file():
                    zone.write(p.relative_to(tmp).as_posix(), p.read_bytes())
    else:
        manifest = generate(Path(target), scale=scale, seed=seed)
    total = sum(getattr(manifest, "rows_written", {}).values()) if hasattr(manifest, "rows_written") else None
    typer.echo(f"demo landing zone written to {target}" + (f" ({total:,} rows)" if total else ""))


RUN_HELP = """The nightly job: ingest every unprocessed drop up to --date, compute, build marts, gate, publish.

\b
Defaults and environment:
  --landing         $LINGTAN_LANDING, else ./data/landing (a folder or s3://bucket/prefix)
  --home            $LINGTAN_HOME, else ./data (lake, warehouse, reports, run records, logs;
                    a folder or s3://bucket/prefix)
  --date            today
  LINGTAN_CACHE     local mirror of an s3:// home (default ./data/.s3home)
  AWS_ENDPOINT_URL  a non-AWS S3 endpoint (MinIO, Ceph, OSS…); credentials from AWS_*
  DAGSTER_HOME      the Dagster instance the run is recorded in, else <home>/dagster
                    (`make dev` opens the UI on the same instance)
  LINGTAN_CERTIFICATE_PRICE  EUR per CBAM certificate for the cost estimates in reports
                    (default none: reports give emissions and certificates, not money)

\b
Output: one line per stage (ingest, engines, dbt, publish, reports) and one per blocked gate;
dbt and Dagster output goes to <home>/logs/run-<timestamp>.log (its path is printed).

\b
Exit status:
  0  published
  2  a gate blocked publication (the line says which; details in fct_data_quality, the log, the UI)
  1  an error (one line saying what to do; add --debug before the command for the traceback)
"""


@app.command(help=RUN_HELP)
def run(
    landing: Annotated[str, typer.Option(help="Landing zone: folder or s3://bucket/prefix.")] = "",
    home: Annotated[str, typer.Option(help="Home for lake, warehouse, reports, run records.")] = "",
    date_: Annotated[str, typer.Option("--date", help="Process drops up to this date (YYYY-MM-DD).")] = "",
    certificate_price: Annotated[
        str,
        typer.Option(
            "--certificate-price",
            help="EUR per CBAM certificate for the reports' cost estimates (else $LINGTAN_CERTIFICATE_PRICE).",
        ),
    ] = "",
) -> None:
    from orchestration.lib.console import Console
    from orchestration.pipeline import LandingMissing, run_nightly

    try:
        up_to = date.fromisoformat(date_) if date_ else None
    except ValueError:
        fail(f"--date must be a real date as YYYY-MM-DD, got {date_!r}")
    price: float | None = None
    if certificate_price:
        try:
            price = float(certificate_price)
        except ValueError:
            price = -1.0
        if not 0 <= price < float("inf"):
            fail(f"--certificate-price must be a price in EUR ≥ 0, got {certificate_price!r}")
    console = Console(sys.stdout)
    try:
        out = run_nightly(landing or None, home or None, up_to, echo=console, certificate_price=price)
    except LandingMissing as e:
        fail(str(e))
    finally:
        console.close()
    if out.ingest:
        import polars as pl

        rows = []
        for name, c in sorted(out.ingest.items()):
            table = out.home.raw_table(name)
            current = pl.scan_parquet(table).select(pl.len()).collect().item() if table.exists() else 0
            rows.append((name, c["rows_read"], c["rows_accepted"], c["rows_quarantined"], current))
        typer.echo("")
        for line in ingest_table(rows):
            typer.echo(line)
    _print_goods_summary(out.home)
    _print_zero_carbon_summary(out.home)
    typer.echo("")
    typer.echo(f"lake:       {out.home.raw}")
    typer.echo(f"quarantine: {out.home.raw}/<dataset>/_quarantine.parquet")
    if out.home.warehouse.exists():
        typer.echo(f"warehouse:  {out.home.warehouse}  (lingtan sql)")
    if out.run_record:
        typer.echo(f"run record: {out.run_record}")
    for line in report_lines(out.home, out.run_id):
        typer.echo(line)
    from orchestration.lib.restatements import publish_lines

    for line in publish_lines(out.home, out.run_id):  # one line per locked period
        typer.echo(line)
    typer.echo(f"log:        {out.log}")
    typer.echo(f"dagster:    {out.dagster_home}  (make dev)")
    if out.failed_checks:
        what = out.failed_checks
        fail(
            f"gate blocked publication: {what[0]}"
            + (f" (+{len(what) - 1} more)" if len(what) > 1 else "")
            + f"; see fct_data_quality, {out.log} or the Dagster UI",
            code=EXIT_BLOCKED,
        )
    if not out.success:
        what = out.failed_steps or ["unknown failure"]
        fail(
            f"step failed: {what[0]}"
            + (f" (+{len(what) - 1} more)" if len(what) > 1 else "")
            + f"; see {out.log}"
        )


def report_lines(home, run_id: str) -> list[str]:
    """One line per report kind: how many reports, how many new versions this run, where they are."""
    from orchestration.lib.reports import MANIFEST_KIND, versions

    found = [v for v in versions(home) if v.kind != MANIFEST_KIND]
    kinds = sorted({v.kind for v in found})
    lines = []
    for kind in kinds:
        mine = [v for v in found if v.kind == kind]
        latest = {v.key: v for v in mine}  # sorted by version: the last one per key wins
        new = sum(1 for v in mine if v.meta.get("run_id") == run_id)
        lines.append(
            f"reports:    {kind:<24}{len(latest):>3} latest, {new} new this run  {home.reports / kind}"
        )
    if not lines:
        return [f"reports:    none published yet  {home.reports}"]
    return [*lines, "            (lingtan reports list; lingtan reports get KIND/KEY --to DIR)"]


def ingest_table(rows: list[tuple[str, int, int, int, int]]) -> list[str]:
    """The run summary's table of (dataset, read, accepted, quarantined, current rows): each column as wide as
    its widest figure plus two spaces, never narrower than its header (a 71,240,448-row dataset stays apart)."""
    w = [
        max(least, *(len(f"{r[i]:,}") + 2 for r in rows)) for i, least in ((1, 10), (2, 10), (3, 12), (4, 14))
    ]
    return [
        f"{'dataset':<24}{'read':>{w[0]}}{'accepted':>{w[1]}}{'quarantined':>{w[2]}}{'current rows':>{w[3]}}",
        f"{'':<24}{'(new drops this run)':>{w[0] + w[1] + w[2]}}",
        *(
            f"{name:<24}" + "".join(f"{n:>{wi},}" for n, wi in zip(counts, w, strict=True))
            for name, *counts in rows
        ),
    ]


def _print_goods_summary(home) -> None:
    """Per good and reporting year: SEE direct / indirect / chargeable (tCO2e/t, 5 dp half-up) and default share,
    from the published warehouse (marts.fct_goods_see): what analysts and reports read, also after a run
    whose gate kept the previous warehouse."""
    import polars as pl

    from orchestration.lib.warehouse import read_marts

    if not home.warehouse.exists():
        return
    try:
        goods = read_marts(home.warehouse, ["fct_goods_see"])["fct_goods_see"]
    except KeyError:  # a warehouse published before this mart existed
        return
    from transforms.cbam.engine import summarise_goods

    goods = goods.filter(pl.col("period_grain") == "year")
    if goods.is_empty():
        return
    s = summarise_goods(goods).sort("installation_id", "period", "product_id")
    typer.echo("")
    typer.echo("CBAM specific embedded emissions per good (tCO2e/t; current year to date is provisional)")
    typer.echo(
        f"{'installation':<13}{'year':<6}{'product':<16}{'CN':<10}{'direct':>10}{'indirect':>10}"
        f"{'chargeable':>12}{'default %':>11}"
    )
    for r in s.iter_rows(named=True):
        share = r["default_value_share"]
        typer.echo(
            f"{r['installation_id']:<13}{r['period']:<6}{r['product_id'][:15]:<16}{r['cn_code']:<10}"
            f"{_num(r['see_direct'])}{_num(r['see_indirect'])}{_num(r['see_chargeable'], 12)}"
            f"{'' if share is None else f'{float(share) * 100:.1f}':>11}"
        )


def _print_zero_carbon_summary(home) -> None:
    """Zero-carbon indicators per site and park and year, and whether neutrality may be claimed, from the published
    warehouse (marts.fct_zero_carbon_indicators, fct_carbon_neutrality_claim)."""
    from orchestration.lib.warehouse import read_marts
    from transforms.zero_carbon.summary import summary_lines

    if not home.warehouse.exists():
        return
    try:
        marts = read_marts(home.warehouse, ["fct_zero_carbon_indicators", "fct_carbon_neutrality_claim"])
    except KeyError:  # a warehouse published before these marts existed
        return
    lines = summary_lines(marts["fct_zero_carbon_indicators"], marts["fct_carbon_neutrality_claim"])
    if lines:
        typer.echo("")
        typer.echo("Zero-carbon indicators (F: factory, P: park; ✓/✗ against a threshold; claim ISO 14068-1)")
        for line in lines:
            typer.echo(line)


def _num(v, width: int = 10) -> str:
    return f"{'' if v is None else str(v):>{width}}"


@app.command()
def sql(home: Annotated[str, typer.Option(help="Home holding the warehouse.")] = "") -> None:
    """Open a read-only SQL shell on the warehouse (schema `marts`)."""
    from orchestration.lib.home import Home

    wh = Home.open(home or None).warehouse
    if not wh.exists():
        fail(f"no warehouse at {wh}; run `lingtan run` first")
    from orchestration.lib.sqlshell import open_shell

    sys.exit(open_shell(wh))


@reports_app.command("list")
def reports_list(
    home: Annotated[str, typer.Option(help="Home holding the reports (folder or s3://).")] = "",
) -> None:
    """List published reports: id (kind/key/version), date, status (latest or superseded) and gates."""
    from orchestration.lib.home import Home
    from orchestration.lib.reports import versions

    found = versions(Home.open(home or None))
    if not found:
        typer.echo("no reports published yet (run `lingtan run`)")
        return
    newest = {(v.kind, v.key): v.version for v in found}
    typer.echo(f"{'id':<58}{'published':<27}{'status':<12}gates")
    for v in found:
        status = "latest" if newest[(v.kind, v.key)] == v.version else "superseded"
        gates = ", ".join(f"{k} {s}" for k, s in v.meta.get("gates", {}).items()) or "-"
        typer.echo(f"{v.id:<58}{v.meta.get('published_at', ''):<27}{status:<12}{gates}")


@reports_app.command("get")
def reports_get(
    report_id: Annotated[
        str, typer.Argument(help="Report id as listed: KIND/KEY/vN, or KIND/KEY for the latest version.")
    ],
    to: Annotated[str, typer.Option("--to", help="Folder to copy it to.")] = ".",
    home: Annotated[str, typer.Option(help="Home holding the reports (folder or s3://).")] = "",
) -> None:
    """Copy a published report version (all its files) to a folder."""
    from orchestration.lib.home import Home
    from orchestration.lib.reports import copy_version, find_version

    version = find_version(Home.open(home or None), report_id)
    if version is None:
        fail(f"no published report {report_id!r}; `lingtan reports list` shows the ids")
    target = copy_version(version, Path(to))
    for p in sorted(target.iterdir()):
        typer.echo(str(p))


@refdata_app.command("build")
def refdata_build(
    source: Annotated[
        str, typer.Option(help="Folder with the Commission's workbooks (reference/cbam).")
    ] = "../shared/reference/cbam",
) -> None:
    """Re-derive the committed reference seed tables from the official files."""
    from tools.refbuild.countries import build as build_countries
    from transforms.reference.seeds import REFERENCE_DIR

    typer.echo(f"countries: {build_countries(REFERENCE_DIR / 'countries.csv')} rows")
    try:
        from tools.refbuild.build import build_all
    except ImportError:
        fail("CBAM reference builders are not available")
    for name, n in build_all(Path(source), REFERENCE_DIR).items():
        typer.echo(f"{name}: {n} rows")


def main() -> None:
    app()
