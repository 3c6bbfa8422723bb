"""`lingtan period lock|unlock|list`: freeze the published numbers of an installation × reporting year.

Registered on the main app in orchestration/cli.py; the work is in orchestration/lib/locks.py (and, at each
publish, orchestration/lib/restatements.py)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

PERIOD_HELP = """Lock and unlock reporting periods (installation × year).

\b
A locked period's published marts and reports do not change: later drops, corrections or factor updates that
touch it produce a restatement report instead (which numbers would change, by how much, and which input file or
reference table caused it), under <home>/reports/restatements/<installation>-<year>/<run-id>.{json,csv,md}.
Unlocking lets the next `lingtan run` publish the new numbers; each report affected then gets a new version
with its diff. Locks and their history (who, when, why) are in <home>/locks/locks.json.

\b
Environment:
  LINGTAN_USER  who locks or unlocks (default: the OS user); --by overrides it
  LINGTAN_HOME  the home (default ./data); --home overrides it
"""

period_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=PERIOD_HELP)

Installation = Annotated[
    str, typer.Argument(help="Installation id as in dim_installation (e.g. CN-ZJ-001), or `all`.")
]
Year = Annotated[int, typer.Argument(help="Reporting year, e.g. 2025.")]
HomeOpt = Annotated[str, typer.Option("--home", help="Home holding the warehouse and the locks.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who acts (default $LINGTAN_USER, else the OS user).")]


def _fail(message: str) -> None:
    from orchestration.cli_errors import fail

    fail(message)


def _home(home: str):
    from orchestration.lib.home import Home

    if home.startswith("s3://"):
        _fail("period locks work on a local home; run them where the nightly job runs (--home DIR)")
    return Home.open(home or None)


@period_app.command("lock")
def period_lock(
    installation: Installation,
    year: Year,
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. 'verified, sent to customers').")] = "",
    by: ByOpt = "",
    home: HomeOpt = "",
) -> None:
    """Lock an installation's (or every installation's) reporting year at its published numbers."""
    from orchestration.lib.locks import LockError, default_user, lock

    h = _home(home)
    try:
        done = lock(h, installation, year, by or default_user(), reason)
    except LockError as e:
        _fail(str(e))
        return
    if not done:
        typer.echo(f"every installation with {year} rows is already locked; `lingtan period list` shows them")
    elif year >= date.today().year:
        typer.echo(
            f"note: {year} is not over; its later months will not be published while it is locked (each run "
            f"reports them in a restatement instead)"
        )
    for r in done:
        typer.echo(
            f"locked {r['installation_id']} {r['year']}: {r['rows']:,} mart rows kept in {h.root / r['snapshot']} "
            f"(by {r['locked_by']} at {r['locked_at']}; inputs from {r['inputs_from']})"
        )


@period_app.command("unlock")
def period_unlock(
    installation: Installation,
    year: Year,
    reason: Annotated[str, typer.Option("--reason", help="Why (required; kept in the lock history).")] = "",
    by: ByOpt = "",
    home: HomeOpt = "",
) -> None:
    """Unlock a period: the next `lingtan run` publishes its new numbers (reports get a new version + diff)."""
    from orchestration.lib.locks import LockError, default_user, unlock

    h = _home(home)
    try:
        done = unlock(h, installation, year, by or default_user(), reason)
    except LockError as e:
        _fail(str(e))
        return
    for e in done:
        typer.echo(
            f"unlocked {e['installation_id']} {e['year']} (by {e['unlocked_by']}: {e['reason']}); snapshot kept "
            f"in {h.root / e['snapshot_archived']}; the next `lingtan run` publishes the new numbers"
        )


@period_app.command("list")
def period_list(
    home: HomeOpt = "",
    all_events: Annotated[bool, typer.Option("--history", help="Show every lock and unlock event.")] = False,
) -> None:
    """List locked periods (who, when, why) and their latest restatement; --history for every event."""
    from orchestration.lib.locks import current_locks, history
    from orchestration.lib.restatements import restatements_dir

    h = _home(home)
    if all_events:
        events = history(h)
        if not events:
            typer.echo("no period was ever locked")
        for e in events:
            at = e.get("locked_at") if e["action"] == "lock" else e.get("unlocked_at")
            who = e.get("locked_by") if e["action"] == "lock" else e.get("unlocked_by")
            typer.echo(
                f"{at:<27}{e['action']:<8}{e['installation_id']:<14}{e['year']:<6}{who:<16}{e['reason']}"
            )
        return
    locks = current_locks(h)
    if not locks:
        typer.echo("no period is locked (`lingtan period lock INSTALLATION|all YEAR`)")
        return
    typer.echo(f"{'installation':<14}{'year':<6}{'locked at':<27}{'by':<16}{'restatements':<14}reason")
    for r in locks.values():
        folder = restatements_dir(h) / f"{r['installation_id']}-{r['year']}"
        n = sum(  # restatements written under this lock (an earlier lock of the period has its own)
            json.loads(p.read_text(encoding="utf-8")).get("lock", {}).get("locked_at") == r["locked_at"]
            for p in (folder.glob("*.json") if folder.exists() else [])
        )
        typer.echo(
            f"{r['installation_id']:<14}{r['year']:<6}{r['locked_at']:<27}{r['locked_by']:<16}{n:<14}{r['reason']}"
        )
