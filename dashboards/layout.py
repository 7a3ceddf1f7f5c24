"""Layout every page shares: the page header and tables with their CSV download."""

from __future__ import annotations

import streamlit as st

from dashboards import queries
from dashboards.table import CSV_MIME, ShownTable

NOTHING_PUBLISHED = (
    "Ingen tall er publisert ennå. Kjør `kritinfo run` for å laste inn data og "
    "publisere tallene, og last deretter inn siden på nytt."
)


def page_header(title: str) -> queries.Source:
    """The page's title and the published copy it reads; stops the page, saying what to do,
    while nothing has been published."""
    st.title(title)
    source = queries.current_source()
    if source is None:
        st.info(NOTHING_PUBLISHED, icon=":material/info:")
        st.stop()
    return source


def download_csv(table: ShownTable, *, label: str, file_name: str, key: str) -> None:
    """A button that downloads ``table`` as CSV: the rows and columns the page shows."""
    st.download_button(
        label,
        data=table.csv(),
        file_name=file_name,
        mime=CSV_MIME,
        key=key,
        icon=":material/download:",
        on_click="ignore",  # a download needs no rerun of the page
    )


SCROLL_HEIGHT_PX = 420


def show_table(table: ShownTable, *, scroll: bool = False) -> None:
    """``table`` on the page, as the Styler writes each cell (st.dataframe would write a missing
    value as 'None' instead of ':' or '..'); a long one scrolls in a box of fixed height."""
    if scroll:
        with st.container(height=SCROLL_HEIGHT_PX):
            st.table(table.styler(), hide_index=True)
    else:
        st.table(table.styler(), hide_index=True)
