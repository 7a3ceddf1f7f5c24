"""Configuration and summary of a simulation run, including the truth of the injected effect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from pipelines.contract.vocabulary import HEALTH_REGIONS

# Go-live of the critical-information API per regional health authority (the scenario the
# platform is asked to evaluate; a staggered rollout makes the effect identifiable).
DEFAULT_API_GO_LIVE: Mapping[str, date] = MappingProxyType(
    {
        "helse-vest": date(2024, 9, 1),
        "helse-midt-norge": date(2025, 9, 1),
        "helse-nord": date(2026, 1, 1),
        "helse-sor-ost": date(2026, 3, 1),
    }
)

DAYS_PER_MONTH = 365.25 / 12


def _default_go_live() -> Mapping[str, date]:
    return MappingProxyType(dict(DEFAULT_API_GO_LIVE))


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Same config (seed included) gives byte-identical files."""

    start: date = date(2014, 1, 1)
    end: date = date(2026, 10, 31)
    scale: float = 1.0
    seed: int = 2024
    # Region -> first day on which organisations of that region can send through the API.
    # A region left out never goes live.
    api_go_live: Mapping[str, date] = field(default_factory=_default_go_live)
    # The injected effect: relative increase of the rate of new persons registered in a region
    # once its API ramp-up is complete (0.6 = +60 %), reached linearly over ramp_months.
    api_rate_uplift: float = 0.6
    ramp_months: int = 12
    # Share of new registrations of a live region that arrive through the API after ramp-up.
    api_share_after_ramp: float = 0.7
    # Coding gaps (assumed): drug reactions registered in the portal whose substance is written
    # as text only, without ATC (an EPJ sends its coded substance list), and allergies whose
    # criticality is left out.
    portal_substance_as_text_share: float = 0.08
    missing_criticality_share: float = 0.1
    # Real-world mess.
    duplicate_rate: float = 0.01
    late_rate: float = 0.03
    malformed_rate: float = 0.001

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.ramp_months < 0:
            raise ValueError(f"ramp_months must be >= 0, got {self.ramp_months}")
        if self.api_rate_uplift < -1:
            raise ValueError(f"api_rate_uplift must be >= -1, got {self.api_rate_uplift}")
        for name in (
            "duplicate_rate",
            "late_rate",
            "malformed_rate",
            "api_share_after_ramp",
            "portal_substance_as_text_share",
            "missing_criticality_share",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        unknown = set(self.api_go_live) - set(HEALTH_REGIONS)
        if unknown:
            raise ValueError(f"api_go_live has unknown health regions: {sorted(unknown)}")
        # Freeze the mapping so a frozen config cannot be changed through it.
        object.__setattr__(self, "api_go_live", MappingProxyType(dict(self.api_go_live)))

    def ramp(self, region: str, day: date) -> float:
        """Progress of the region's API ramp-up on a day: 0 before go-live, 1 when complete."""
        go_live = self.api_go_live.get(region)
        if go_live is None or day < go_live:
            return 0.0
        if self.ramp_months == 0:
            return 1.0
        return min(1.0, (day - go_live).days / (self.ramp_months * DAYS_PER_MONTH))

    def api_share(self, region: str, day: date) -> float:
        """Probability that a registration by an organisation of the region uses the API."""
        return self.api_share_after_ramp * self.ramp(region, day)

    def rate_multiplier(self, region: str, day: date) -> float:
        """The injected effect: factor on the region's rate of new persons on a day."""
        return 1.0 + self.api_rate_uplift * self.ramp(region, day)


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote, and the truth behind it for later evaluation."""

    files_written: int
    lines_written: int
    events: int  # distinct valid events (each once, however often delivered)
    duplicates_written: int  # extra deliveries of a valid event (identical line)
    malformed_written: int  # extra broken lines
    late_events: int  # valid events first delivered 1..30 days after the day they occurred
    persons: int  # distinct persons with at least one valid event
    entries: int  # distinct entries (resourceType/id)
    config: SimulationConfig
    files: tuple[Path, ...] = ()
    malformed_by_kind: Mapping[str, int] = field(default_factory=dict)
    # Truth of the injected effect, by (health region of the person's home county, "YYYY-MM"):
    # new persons actually drawn, and the expected number without and with the API effect.
    new_persons_by_region_month: Mapping[tuple[str, str], int] = field(default_factory=dict)
    expected_new_persons_by_region_month: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def injected_effect(self) -> dict[str, dict[str, object]]:
        """Per region: go-live, full uplift, ramp length, and expected extra new persons in range."""
        result: dict[str, dict[str, object]] = {}
        for region in HEALTH_REGIONS:
            baseline = sum(v[0] for k, v in self.expected_new_persons_by_region_month.items() if k[0] == region)
            with_effect = sum(v[1] for k, v in self.expected_new_persons_by_region_month.items() if k[0] == region)
            result[region] = {
                "go_live": self.config.api_go_live.get(region),
                "rate_uplift_after_ramp": self.config.api_rate_uplift,
                "ramp_months": self.config.ramp_months,
                "expected_new_persons_without_effect": baseline,
                "expected_new_persons_with_effect": with_effect,
            }
        return result
