"""`kritinfo run` says in a few lines what each stage did and where its full log is; the log holds
Dagster's debug log and dbt's output, which --verbose shows on the console instead."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_cli

NUMBER = r"\d[\d ]*"
SECONDS = r"[\d.]+ s"
STAGE_LINES = [
    rf"ingest +{NUMBER} files?, {NUMBER} lines? \({NUMBER} loaded, {NUMBER} duplicates, {NUMBER} quarantined\) "
    rf"+{NUMBER} lines/s +{SECONDS}",
    rf"dbt +{NUMBER} models?, {NUMBER} tests? passed +{SECONDS}",
    rf"evaluation +{NUMBER} goals?, rollout effect( not estimated)? +{SECONDS}",
    rf"publish +{NUMBER} tables?, {NUMBER} cells? hidden +{SECONDS}",
]
QUIET_LINES = 40


def test_a_run_prints_a_line_per_stage_and_names_its_log_and_verbose_shows_the_log(tmp_path: Path):
    home = tmp_path / "home"
    simulated = run_cli(home, "simulate", "--start", "2025-01-01", "--end", "2025-02-28", "--scale", "0.02")
    assert simulated.returncode == 0, simulated.stderr[-3000:]

    result = run_cli(home, "run")

    assert result.returncode == 0, result.stderr[-3000:]
    printed = (result.stdout + result.stderr).splitlines()
    assert len(printed) < QUIET_LINES, printed
    # Not a terminal: plain lines, one per stage in their order, no live line.
    assert "\r" not in result.stdout
    stage_lines = [line for line in result.stdout.splitlines() if any(re.fullmatch(p, line) for p in STAGE_LINES)]
    assert [line.split()[0] for line in stage_lines] == ["ingest", "dbt", "evaluation", "publish"], result.stdout
    log = Path(re.search(r"^full log \(Dagster's debug log, dbt's output\): (\S+)$", result.stdout, re.M).group(1))
    assert log.parent == home / "dagster" / "logs"
    text = log.read_text(encoding="utf-8")
    assert " - DEBUG - kritinfo_everything - " in text and "RUN_SUCCESS" in text
    assert "Running with dbt=" in text  # dbt's own output

    # A second run, with nothing new: --force runs it all the same.
    verbose = run_cli(home, "run", "--verbose", "--force")

    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert len((verbose.stdout + verbose.stderr).splitlines()) > QUIET_LINES
    assert " - DEBUG - kritinfo_everything - " in verbose.stderr and "Running with dbt=" in verbose.stdout
