"""Reading the versioned YAML files people edit (goals.yml, reporting.yml): one wording for a file
that cannot be read or is not YAML, naming the file and where in it."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: Path, error: type[Exception]) -> object:
    """The YAML document in ``path``; ``error`` (the file's own error type) when it cannot be read
    or parsed, with the file, and the line and column of a YAML mistake."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror})") from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(problem, "problem", None) or problem
        raise error(f"{path}: is not valid YAML{where}: {reason}") from None
