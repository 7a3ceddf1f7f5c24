"""What every page needs for WCAG 2.1 AA that Streamlit does not do by itself: the page's
language, keyboard access to scrolling boxes, no English table toolbar, chart text in a colour
with enough contrast, and every chart with a title, a description and its numbers as a table."""

from __future__ import annotations

import json

import altair as alt
import streamlit as st

from dashboards import layout
from dashboards.charts import VegaLiteSpec
from dashboards.table import ShownTable

CHART_TEXT = "#31333f"  # 12.4:1 on white; Streamlit's chart theme writes axis text in a faint grey

# Streamlit writes <html lang="en"> and renders pages in the browser, so the fix is a script in
# the page itself. It keeps setting both on every change of the document: a page switch does not
# reload the document, and tables and scroll boxes appear after the script has run.
#
# Streamlit's own frame (the skip link, the sidebar, the menus) is written in English; the script
# writes those texts in bokmål (FRAME_TEXTS).
#
# The toolbars of tables and charts have English labels ("Download as CSV", "Search", "Show data",
# "Fullscreen" ...) that Streamlit cannot translate or switch off: they are hidden. A table still
# sorts by a click on a heading, each chart has its numbers in a table beside it, and the pages
# offer their tables as CSV through their own Norwegian buttons.
_PAGE_SCRIPT = """
<style>
  [data-testid="stElementToolbar"] { display: none; }
</style>
<script>
(() => {
  const texts = FRAME_TEXTS_JSON;
  const fix = () => {
    const root = document.documentElement;
    if (root.lang !== "nb") root.lang = "nb";
    const skip = document.querySelector('[data-testid="stSkipToContent"]');
    if (skip && texts[skip.textContent]) skip.textContent = texts[skip.textContent];
    document.querySelectorAll("[aria-label]").forEach((element) => {
      const bokmaal = texts[element.getAttribute("aria-label")];
      if (bokmaal) element.setAttribute("aria-label", bokmaal);
    });
    const boxes = '[data-testid="stVerticalBlock"][height], [data-testid="stTable"], [data-testid="stTable"] > div';
    document.querySelectorAll(boxes)
      .forEach((box) => {
        if (box.scrollHeight > box.clientHeight || box.scrollWidth > box.clientWidth) {
          if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
          if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", "Rullbar tabell");
        }
      });
  };
  fix();
  if (!window.kritinfoAccessibility) {
    window.kritinfoAccessibility = new MutationObserver(fix);
    window.kritinfoAccessibility.observe(document.documentElement,
      {subtree: true, childList: true, attributes: true, attributeFilter: ["lang", "aria-label"]});
  }
})();
</script>
"""


FRAME_TEXTS = {
    "Skip to main content": "Hopp til hovedinnholdet",
    "Sidebar": "Sidemeny",
    "App pages": "Sider",
    "Main menu": "Hovedmeny",
    "Expand sidebar": "Vis sidemenyen",
    "Collapse sidebar": "Skjul sidemenyen",
    "Navigate to home page": "Gå til forsiden",
    "Close": "Lukk",
    "Notifications": "Varsler",
    "Running...": "Arbeider …",
}


def page_language_and_keyboard() -> None:
    st.html(_PAGE_SCRIPT.replace("FRAME_TEXTS_JSON", json.dumps(FRAME_TEXTS)), unsafe_allow_javascript=True)


@alt.theme.register("kritinfo", enable=False)
def chart_theme() -> alt.theme.ThemeConfig:
    """Dark axis and legend text; legends below the chart in two columns, so that on a phone
    (390 px) they wrap instead of running past the edge. Vega's own descriptions of axes, legends
    and marks for screen readers are English ("X-axis for a utc scale ..."): they are left out, and
    a screen reader reads the chart's title and description and then the table beside it."""
    text = {"labelColor": CHART_TEXT, "titleColor": CHART_TEXT, "aria": False}
    return {
        "config": {
            "axis": text,
            "mark": {"aria": False},
            "legend": {**text, "orient": "bottom", "columns": 2, "labelLimit": 150},
            "header": text,
            "title": {"color": CHART_TEXT, "subtitleColor": CHART_TEXT},
        }
    }


def enable_chart_theme() -> None:
    alt.theme.enable("kritinfo")


CHART_BLOCK_PREFIX = "chart-"  # a chart and its table alternative share a container keyed with it


def chart_block(key: str):
    """The container that holds a chart together with its table alternative (tests find the table
    through it)."""
    return st.container(key=f"{CHART_BLOCK_PREFIX}{key}")


def chart_with_table(
    spec: VegaLiteSpec,
    table: ShownTable,
    *,
    title: str,
    description: str,
    key: str,
    width: str = "stretch",
    table_open: bool = False,
) -> None:
    """A chart (its Vega-Lite spec, charts.vega_lite_spec) with a title and a description (read out
    by screen readers) and its numbers as a table beside it, for those who cannot see or read the
    chart: sortable in a closed expander, or with ``table_open`` written out under the chart (a
    long one scrolling, a page at a time) where the page's reader needs the figures anyway.
    ``width``: "content" for a chart of fixed size (small multiples)."""
    with chart_block(key):
        # The description is the chart's accessible name (Streamlit's alt would replace it).
        titled = {**spec, "title": title, "description": f"{title}. {description}"}
        st.vega_lite_chart(spec=titled, width=width, key=key)
        if table_open:
            layout.show_long_table(table, key=f"{key}_rows")
        else:
            with st.expander("Vis som tabell"):
                show_sortable(table, label=title)


def show_sortable(table: ShownTable, *, label: str) -> None:
    """``table`` in a grid sorted by clicking a heading: cells read as on the page (the Styler's
    bokmål text, ``:`` and ``..``) while a column sorts by its numbers; the first column stays
    put when a narrow screen scrolls sideways. ``label``: what a screen reader announces."""
    st.dataframe(table.sortable_styler(), hide_index=True, column_config=table.column_config(), alt=label)
