"""Layout every page shares: the page header and tables with their CSV download."""

from __future__ import annotations

import streamlit as st

from dashboards import queries, url_state
from dashboards.table import CSV_MIME, ShownTable
from pipelines import nb_format as fmt

NOTHING_PUBLISHED = (
    "Ingen tall er publisert ennå. Kjør `kritinfo run` for å laste inn data og "
    "publisere tallene, og last deretter inn siden på nytt."
)

NO_COMPLETE_MONTH = (
    "Ingen hel måned er publisert ennå: dataene dekker bare inneværende måned. Tallene per "
    "måned publiseres når den første måneden er hel."
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


def complete_month_published(source: queries.Source) -> bool:
    """Whether the copy holds a complete month; says so on the page when it does not (the first
    month of a history publishes empty month tables)."""
    if queries.has_complete_month(source):
        return True
    st.info(NO_COMPLETE_MONTH, icon=":material/info:")
    return False


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


PAGE_ROWS = 100  # a table longer than this is shown a page at a time: the browser draws every row


def show_long_table(table: ShownTable, *, key: str) -> None:
    """``table`` scrolling in a box of fixed height, PAGE_ROWS rows at a time when longer (a
    breakdown over every month can have thousands), chosen in a list of row ranges under ``key``;
    the page's CSV download holds every row."""
    rows = len(table.frame)
    if rows <= PAGE_ROWS:
        show_table(table, scroll=True)
        return
    starts = range(0, rows, PAGE_ROWS)
    start = st.selectbox(
        "Rader i tabellen",
        starts,
        format_func=lambda first: (
            f"{fmt.number(first + 1)}–{fmt.number(min(first + PAGE_ROWS, rows))} av {fmt.number(rows)}"
        ),
        key=f"{key}_{rows}",  # another table starts at its first rows
    )
    show_table(table.rows(start, start + PAGE_ROWS), scroll=True)
    st.caption(f"Tabellen viser {PAGE_ROWS} rader om gangen; CSV-filen har alle.")


SYMBOLS_LEGEND = (
    f"`{fmt.SUPPRESSED}` = skjult for å verne personvernet (gjelder svært få personer) · "
    f"`{fmt.NOT_AVAILABLE}` = ingenting å beregne fra"
)


def symbols_legend() -> None:
    """What ``:`` and ``..`` mean, under every table or chart that can hold them."""
    st.caption(SYMBOLS_LEGEND)


FROM_INITIATIVE = "fra-2024"
WHOLE_HISTORY = "hele"
PERIOD_OPTIONS = {FROM_INITIATIVE: "Fra 2024", WHOLE_HISTORY: "Hele perioden"}


def choose_whole_history(key: str) -> bool:
    """The period selector of a time chart, in the address (shared by every page's time charts):
    from the initiative's start (the default) or the whole history."""
    period = url_state.selected(
        st.segmented_control,
        "Periode",
        list(PERIOD_OPTIONS),
        param=url_state.PERIOD,
        key=key,
        format_func=PERIOD_OPTIONS.get,
    )
    return period == WHOLE_HISTORY


def definition_link(metric_id: str) -> str:
    """A markdown link to the metric's entry on the Definisjoner page."""
    return f"[Definisjon](/definisjoner#{metric_id})"
