"""Rapporter: the evaluation packages (KRITINFO_HOME/evaluation/<D>/), newest first, each with its
report to the ministry (PDF and HTML) and its data files (one zip) to download."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import packages
from pipelines import nb_format as fmt

NONE = "–"
NO_PACKAGES = (
    "Ingen evalueringspakker er laget ennå. Lag en pakke med rapport for en dato med "
    "`kritinfo report --as-of ÅÅÅÅ-MM-DD` (datoen er dagen tallene gjelder til og med), "
    "og last deretter inn siden på nytt."
)


def file_bytes(path: Path):
    """The file's bytes when the button is clicked, not on every run of the page."""
    return lambda: path.read_bytes()


def show_package(package: packages.PackageInfo) -> None:
    key = package.as_of.isoformat()
    with st.container(border=True):
        st.header(f"Rapport per {fmt.day(package.as_of)}", anchor=f"rapport-{key}")
        reference = fmt.month(package.reference_month) if package.reference_month else "ingen hel måned ennå"
        st.markdown(
            f"""
- **Tall for:** {reference}
- **Oppfølgingsmøte:** {fmt.day(package.meeting_date) if package.meeting_date else NONE}
- **Programversjon:** {f"`{package.code_version}`" if package.code_version else NONE}
"""
        )
        pdf, html, data = st.columns(3)
        with pdf:
            st.download_button(
                "Last ned rapporten (PDF)",
                data=file_bytes(package.report_pdf),
                file_name=f"rapport-{key}.pdf",
                mime="application/pdf",
                key=f"pdf-{key}",
                icon=":material/picture_as_pdf:",
                on_click="ignore",
                disabled=not package.report_pdf.is_file(),
            )
        with html:
            st.download_button(
                "Last ned rapporten (HTML)",
                data=file_bytes(package.report_html),
                file_name=f"rapport-{key}.html",
                mime="text/html",
                key=f"html-{key}",
                icon=":material/download:",
                on_click="ignore",
                disabled=not package.report_html.is_file(),
            )
        with data:
            st.download_button(
                "Last ned dataene (ZIP)",
                data=lambda: packages.data_zip(package),
                file_name=f"kritinfo-evaluering-{key}.zip",
                mime="application/zip",
                key=f"zip-{key}",
                icon=":material/folder_zip:",
                on_click="ignore",
            )
        if not package.report_pdf.is_file():
            st.caption("Rapporten er ikke laget for denne pakken.")


st.title("Rapporter")
listed = packages.list_packages()
if not listed:
    st.info(NO_PACKAGES, icon=":material/info:")
    st.stop()

st.caption(
    f"{fmt.number(len(listed))} {'evalueringspakke' if len(listed) == 1 else 'evalueringspakker'}, nyeste først. "
    "Hver pakke har rapporten til "
    "departementet og tabellene den bygger på (Parquet, CSV og JSON-stat)."
)
for package in listed:
    show_package(package)
