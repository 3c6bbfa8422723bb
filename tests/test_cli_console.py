"""The run console: whole lines everywhere, a live status only on a terminal, tool output captured to the log
(Python writes and subprocesses alike) while the console keeps writing where the user looks."""

from __future__ import annotations

import io
import subprocess
import sys
import time

from orchestration.lib.console import CLEAR_LINE, Console, bar
from orchestration.pipeline import stage_of


def test_off_a_terminal_only_whole_lines():
    out = io.StringIO()
    c = Console(out, tty=False)
    c.live(lambda: "  dbt      [###---] 3/6")
    c.line("  ingest   16 datasets")
    c.close()
    assert out.getvalue() == "  ingest   16 datasets\n"


def test_on_a_terminal_a_live_line_refreshes_and_gives_way_to_lines():
    out = io.StringIO()
    ticks = iter(range(1000))
    c = Console(out, tty=True, refresh_seconds=0.01)
    c.live(lambda: f"  dbt      {bar(next(ticks), 10, 10)}")
    time.sleep(0.1)
    c.line("  dbt      120 models")
    c.close()
    text = out.getvalue()
    assert text.count(CLEAR_LINE) > 3  # refreshed by the ticker without a new event
    assert "  dbt      120 models\n" in text
    assert text.endswith(CLEAR_LINE)  # the live line is gone at the end


def test_capture_sends_tool_output_to_the_log_and_lines_to_the_console(tmp_path):
    out = io.StringIO()
    c = Console(out, tty=False)
    log = tmp_path / "logs" / "run.log"
    with c.capture_output(log):
        print("python stdout")
        print("python stderr", file=sys.stderr)
        subprocess.run(["echo", "from a subprocess"], check=True)
        c.line("  dbt      done")
    assert out.getvalue() == "  dbt      done\n"
    body = log.read_text()
    for needle in ("python stdout", "python stderr", "from a subprocess"):
        assert needle in body


def test_an_echo_callable_is_called_with_the_real_stdout(tmp_path, capsys):
    c = Console(echo=print)
    with c.capture_output(tmp_path / "run.log"):
        c.line("to the console")
        print("to the log")
    assert "to the console" in capsys.readouterr().out
    assert "to the log" in (tmp_path / "run.log").read_text()


def test_steps_map_to_stages():
    assert [
        stage_of(s)
        for s in (
            "raw__suppliers",
            "cbam_engine",
            "footprint_engines",
            "lingtan_dbt",
            "warehouse__lingtan_duckdb",
            "reports",
        )
    ] == ["ingest", "engines", "engines", "dbt", "publish", "reports"]
