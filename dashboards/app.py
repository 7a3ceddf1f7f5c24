"""Entry point of the kritinfo dashboard: ``streamlit run dashboards/app.py``.

Each page is one file in ``dashboards/pages/``; add a page by adding its file and one
``st.Page`` line to ``PAGES`` below (order = menu order, the first is the start page).
"""

from __future__ import annotations

import sys
from pathlib import Path

DASHBOARD_DIR = Path(__file__).resolve().parent
REPO_ROOT = DASHBOARD_DIR.parent
if str(REPO_ROOT) not in sys.path:  # so pages can `import dashboards...` and `pipelines...`
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

PAGES_DIR = DASHBOARD_DIR / "pages"
PAGES = [
    st.Page(PAGES_DIR / "oversikt.py", title="Oversikt", icon=":material/monitoring:"),
    st.Page(PAGES_DIR / "datakvalitet.py", title="Datakvalitet", icon=":material/fact_check:"),
]

st.set_page_config(
    page_title="Pasientens kritiske informasjon",
    page_icon=":material/medical_information:",
    layout="wide",
)
st.navigation(PAGES).run()
