"""What every page needs for WCAG 2.1 AA that Streamlit does not do by itself: the page's
language, keyboard access to scrolling boxes, and chart text in a colour with enough contrast."""

from __future__ import annotations

import altair as alt
import streamlit as st

CHART_TEXT = "#31333f"  # 12.4:1 on white; Streamlit's chart theme writes axis text in a faint grey

# Streamlit writes <html lang="en"> and renders pages in the browser, so the fix is a script in
# the page itself. It keeps setting both on every change of the document: a page switch does not
# reload the document, and tables and scroll boxes appear after the script has run.
_PAGE_SCRIPT = """
<script>
(() => {
  const fix = () => {
    const root = document.documentElement;
    if (root.lang !== "nb") root.lang = "nb";
    document.querySelectorAll('[data-testid="stVerticalBlock"][height], [data-testid="stTable"]')
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
      {subtree: true, childList: true, attributes: true, attributeFilter: ["lang"]});
  }
})();
</script>
"""


def page_language_and_keyboard() -> None:
    st.html(_PAGE_SCRIPT, unsafe_allow_javascript=True)


@alt.theme.register("kritinfo", enable=False)
def chart_theme() -> alt.theme.ThemeConfig:
    """Dark axis and legend text; legends below the chart in two columns, so that on a phone
    (390 px) they wrap instead of running past the edge."""
    text = {"labelColor": CHART_TEXT, "titleColor": CHART_TEXT}
    return {
        "config": {
            "axis": text,
            "legend": {**text, "orient": "bottom", "columns": 2, "labelLimit": 150},
            "header": text,
            "title": {"color": CHART_TEXT, "subtitleColor": CHART_TEXT},
        }
    }


def enable_chart_theme() -> None:
    alt.theme.enable("kritinfo")
