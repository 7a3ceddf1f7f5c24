"""SQL for the provenance of downloads and for the comparison sections (tile map, regions side by
side, adoption per EPJ product). Same rules as dashboards/queries.py: read-only, cached on the
copy's path and modification time, published rows only."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards.queries import Source, _query


def reference_month(source: Source) -> date | None:
    """The latest published complete month (its last day), or None before the first one."""
    latest = _query(source, "SELECT max(period_end) AS period_end FROM coverage_national_month").iloc[0, 0]
    return None if pd.isna(latest) else pd.Timestamp(latest).date()
