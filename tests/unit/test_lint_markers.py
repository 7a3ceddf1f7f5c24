"""Every exception to the linters says why, on its line: a `noqa` names its rule and a reason in
parentheses; formatting is never switched off (`ruff format --check` runs in CI)."""

from __future__ import annotations

import re
import subprocess

from pipelines.settings import REPO_ROOT

NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)$", re.IGNORECASE)
JUSTIFIED = re.compile(r"^: [A-Z]+\d+(, [A-Z]+\d+)* \(.+\)$")
FORMAT_OFF = re.compile(r"#\s*fmt:\s*(off|skip)\b")


def python_lines() -> list[tuple[str, int, str]]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [
        (path, number, line)
        for path in tracked
        for number, line in enumerate((REPO_ROOT / path).read_text(encoding="utf-8").splitlines(), start=1)
    ]


def test_every_noqa_names_its_rule_and_says_why():
    unjustified = [
        f"{path}:{number}"
        for path, number, line in python_lines()
        if (marker := NOQA.search(line)) and not JUSTIFIED.match(marker["rest"].rstrip())
    ]
    assert unjustified == []


def test_formatting_is_never_switched_off():
    assert [f"{path}:{number}" for path, number, line in python_lines() if FORMAT_OFF.search(line)] == []
