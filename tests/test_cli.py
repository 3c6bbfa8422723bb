"""The `lingtan` command line as a user meets it: one actionable line per error (no traceback unless --debug),
`run --help` stating defaults, environment variables and exit codes, and every README command working as
written on a fresh clone."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.conftest import REPO_ROOT

LINGTAN = REPO_ROOT / ".venv" / "bin" / "lingtan"


def _bad_arguments(tmp) -> list[list[str]]:
    return [
        ["demo", "--landing", str(tmp / "demo"), "--scale", "0"],
        ["demo", "--landing", str(tmp / "demo"), "--scale", "-1"],
        ["demo", "--landing", str(tmp / "demo"), "--scale", "nan"],
        ["demo", "--scale", "many"],
        ["run", "--date", "2026-13-01"],
        ["run", "--landing", "/nonexistent", "--home", str(tmp / "home")],
        ["sql", "--home", "/nonexistent"],
        ["reports", "get", "nosuch", "--home", str(tmp / "home")],
        ["run", "--no-such-option"],
        ["no-such-command"],
    ]


def test_every_bad_argument_gives_one_actionable_line(tmp_path):
    runner = CliRunner()
    for args in _bad_arguments(tmp_path):
        out = runner.invoke(app, args)
        lines = [line for line in out.output.splitlines() if line.strip()]
        assert out.exit_code == 1, (args, out.output)  # 2 is reserved for a blocked gate
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, out.output)
        assert "Traceback" not in out.output and "\x1b[" not in out.output, (args, out.output)
        assert out.exception is None or isinstance(out.exception, SystemExit), (args, out.exception)
    assert not (tmp_path / "demo").exists()  # a refused --scale writes nothing


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    import orchestration.demo as demo

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(demo, "generate", boom)
    quiet = CliRunner().invoke(app, ["demo", "--landing", str(tmp_path / "l")])
    assert quiet.exit_code == 1
    assert quiet.output.strip().splitlines() == [
        "error: RuntimeError: disk on fire (run `lingtan --debug …` for the traceback)"
    ]
    loud = CliRunner().invoke(app, ["--debug", "demo", "--landing", str(tmp_path / "l")])
    assert isinstance(loud.exception, RuntimeError) and "disk on fire" in str(loud.exception)


def test_run_help_states_defaults_environment_and_exit_codes():
    out = CliRunner().invoke(app, ["run", "--help"])
    assert out.exit_code == 0
    text = out.output
    for needle in (
        "LINGTAN_LANDING",
        "./data/landing",
        "LINGTAN_HOME",
        "./data",
        "LINGTAN_CACHE",
        "AWS_ENDPOINT_URL",
        "DAGSTER_HOME",
        "<home>/dagster",
        "LINGTAN_CERTIFICATE_PRICE",
        "<home>/logs/run-",
        "--debug",
    ):
        assert needle in text, needle
    codes = dict(re.findall(r"^\s+([012])\s+(\w[^\n]*)$", text, re.M))
    assert codes["0"].startswith("published")
    assert codes["2"].startswith("a gate blocked publication")
    assert codes["1"].startswith("an error")
    assert "\x1b[" not in text


# --- README commands, as written -----------------------------------------------------------------------------
def readme_shell_lines() -> list[str]:
    """Commands the README tells a user to type: lines of ```bash blocks and inline `make …` / `.venv/bin/…`
    code spans."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, re.S):
        lines += [ln.split("#")[0].strip() for ln in block.splitlines()]
    lines += re.findall(r"`((?:make|\.venv/bin/\w+) [^`]*)`", text)
    return sorted({ln for ln in lines if ln})


def test_readme_never_says_uv_run():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "uv run" not in text  # uv lives in .boot/bin: `uv run` fails on a fresh clone


def _as_check(line: str) -> list[str] | None:
    """How a README line is checked without the demo: a CLI line runs as `<its command words> --help` with the
    real executable; a make line as `make -n <target>` (the target exists and expands)."""
    words = shlex.split(line.replace("…", ""))
    if words[0] == "make":
        return ["make", "-n", "-C", str(REPO_ROOT), *words[1:2]]
    if words[0].startswith(".venv/bin/"):
        cmd = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)]  # command words, not options/values
        return [str(REPO_ROOT / words[0]), *cmd, "--help"]
    return None


def test_readme_commands_work_as_written():
    lines = readme_shell_lines()
    assert any(ln.startswith(".venv/bin/lingtan") for ln in lines), lines
    assert any(ln.startswith("make dev") for ln in lines), lines
    for line in lines:
        check = _as_check(line)
        assert check is not None, f"README line {line!r}: neither `make …` nor `.venv/bin/…`"
        if check[0].endswith("/lingtan"):
            assert LINGTAN.exists()
        out = subprocess.run(check, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
        assert out.returncode == 0, (line, check, out.stdout[-500:], out.stderr[-500:])


@pytest.mark.parametrize("line", [".venv/bin/lingtan reports get ID --to DIR", "make sql"])
def test_readme_line_check_is_meaningful(line):
    check = _as_check(line)
    assert check is not None
    if line.startswith("make"):
        assert check[-1] == "sql"
    else:
        assert check[1:] == ["reports", "get", "--help"]
