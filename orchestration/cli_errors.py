"""How every `lingtan` command ends in error: one line on stderr (`error: …`) and an exit status, shared by the
main app (orchestration/cli.py) and its sub-command modules, which import this rather than the app."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 2  # 2: a gate blocked publication


def error_line(message: str, code: int = EXIT_ERROR) -> int:
    """Print `error: <message>` as one line (whatever the message holds) on stderr; returns `code`."""
    first = " ".join(str(message).split())
    typer.secho(f"error: {first}", fg=typer.colors.RED, err=True)
    return code


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """End the command with one error line and exit status `code`."""
    raise typer.Exit(error_line(message, code))
