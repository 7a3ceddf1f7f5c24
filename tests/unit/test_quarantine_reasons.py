"""The dashboard's reason labels come from the seed quarantine_reasons: it must name every
reason code ingestion gives, and no other."""

import csv

from pipelines.contract.validation import REASON_CODES
from pipelines.settings import SEEDS_DIR


def test_the_seed_has_exactly_the_validators_reason_codes():
    with open(SEEDS_DIR / "quarantine_reasons.csv", newline="", encoding="utf-8") as f:
        seeded = [row["reason_code"] for row in csv.DictReader(f)]
    assert sorted(seeded) == sorted(REASON_CODES)
    assert len(seeded) == len(set(seeded))
