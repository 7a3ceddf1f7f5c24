"""Shared test helpers: example events from the contract and an independent check-digit generator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_EVENTS = REPO / "docs" / "example-events.ndjson"
SEEDS = REPO / "dbt_project" / "seeds"
MANDATE = REPO / "docs" / "mandate.txt"


def example_events() -> list[dict]:
    return [json.loads(line) for line in EXAMPLE_EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def example_event(index: int = 0) -> dict:
    return copy.deepcopy(example_events()[index])


def line(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def national_id(birth: str, individual: str, first_remainder: int = 0) -> str | None:
    """A number built forward from the published formula (Skatteetaten), or None if k1/k2 would be 10.

    first_remainder 0 is the current rule; 1-3 are the extra values allowed from 2032.
    """
    digits = [int(c) for c in birth + individual]
    k1 = (11 + first_remainder - sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits, strict=True)) % 11) % 11
    if k1 == 10:
        return None
    digits.append(k1)
    k2 = (11 - sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), digits, strict=True)) % 11) % 11
    if k2 == 10:
        return None
    return birth + individual + str(k1) + str(k2)
