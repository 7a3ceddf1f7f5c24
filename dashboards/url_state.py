"""Filters kept in the page address (``st.query_params``), so a reload or a copied link opens the
same view.

Every page binds its filters the same way: ``selected(...)`` (one option) or ``chosen(...)`` (a
list). The widget starts from the address (an invalid value there falls back to the default
without error), writes its value back after each change and drops the parameter at the default,
so an address holds only what differs from the start view. A *shared* parameter (region, period,
indicator) is also remembered for the session: Streamlit clears the address on a page switch, and
the next page that has the filter starts from the remembered value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

# Parameters several pages understand; page-specific ones are named by the page.
REGION = "region"
PERIOD = "periode"
METRIC = "indikator"
SHARED = frozenset({REGION, PERIOD, METRIC})
_MEMORY = "url_state_shared"  # session_state entry: shared parameter -> last text


def _text(option: object) -> str:
    return "" if option is None else str(option)


def _remembered(param: str) -> list[str] | None:
    if param in st.query_params:
        return st.query_params.get_all(param)
    if param in SHARED:
        return st.session_state.get(_MEMORY, {}).get(param)
    return None


def _write(param: str, texts: list[str], default_texts: list[str]) -> None:
    if param in SHARED:
        st.session_state.setdefault(_MEMORY, {})[param] = texts
    if texts == default_texts:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get_all(param) != texts:
        st.query_params[param] = texts if len(texts) != 1 else texts[0]


def selected(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[Any],
    *,
    param: str,
    key: str,
    default: Any = None,
    **widget_options: Any,
) -> Any:
    """``widget`` (st.selectbox, st.segmented_control, st.pills, st.radio) over ``options``, its
    choice bound to the address parameter ``param``. ``default`` (the first option when None is
    not an option) is the start view and is never written to the address."""
    if default is None and None not in options:
        default = options[0]
    by_text = {_text(option): option for option in options}
    if key not in st.session_state or st.session_state[key] not in options:
        texts = _remembered(param) or []
        st.session_state[key] = by_text.get(texts[0], default) if len(texts) == 1 else default
    if widget in (st.segmented_control, st.pills):
        widget_options.setdefault("required", True)
    value = widget(label, options, key=key, **widget_options)
    _write(param, [_text(value)], [_text(default)])
    return value


def chosen(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[Any],
    *,
    param: str,
    key: str,
    default: Sequence[Any],
    **widget_options: Any,
) -> list[Any]:
    """``widget`` (st.multiselect, st.pills with selection_mode="multi") over ``options``, its
    choices bound to the address parameter ``param`` (one entry per choice)."""
    by_text = {_text(option): option for option in options}
    if key not in st.session_state or not set(st.session_state[key]) <= set(options):
        texts = _remembered(param)
        known = [by_text[t] for t in texts or [] if t in by_text]
        st.session_state[key] = known or list(default)
    values = widget(label, options, key=key, **widget_options)
    _write(param, [_text(v) for v in values], [_text(v) for v in default])
    return values
