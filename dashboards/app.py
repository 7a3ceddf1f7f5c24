"""Entry point of the kritinfo dashboard: ``streamlit run dashboards/app.py``.

Each page is one file in ``dashboards/views/``; add a page by adding its file and one
``st.Page`` line to ``PAGES`` below (order = menu order, the first is the start page).
The folder is deliberately not called ``pages/``: beside the main script that name switches
Streamlit to its older multipage mode until some session has run ``st.navigation``, so a first
visit straight to a page's address after a restart would bypass this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

DASHBOARD_DIR = Path(__file__).resolve().parent
REPO_ROOT = DASHBOARD_DIR.parent
if str(REPO_ROOT) not in sys.path:  # so pages can `import dashboards...` and `pipelines...`
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402 (after the sys.path entry above, which pages need)

from dashboards import accessibility  # noqa: E402 (after the sys.path entry above)

VIEWS_DIR = DASHBOARD_DIR / "views"
PAGES = [
    st.Page(VIEWS_DIR / "oversikt.py", title="Oversikt", icon=":material/monitoring:"),
    st.Page(VIEWS_DIR / "maal.py", title="Mål", icon=":material/flag:"),
    st.Page(VIEWS_DIR / "effekt.py", title="Effekt", icon=":material/trending_up:"),
    st.Page(VIEWS_DIR / "datakvalitet.py", title="Datakvalitet", icon=":material/fact_check:"),
    st.Page(VIEWS_DIR / "definisjoner.py", title="Definisjoner", icon=":material/menu_book:"),
    st.Page(VIEWS_DIR / "rapporter.py", title="Rapporter", icon=":material/description:"),
]

st.set_page_config(
    page_title="Pasientens kritiske informasjon",
    page_icon=":material/medical_information:",
    layout="wide",
)
accessibility.enable_chart_theme()
accessibility.page_language_and_keyboard()
st.navigation(PAGES).run()
