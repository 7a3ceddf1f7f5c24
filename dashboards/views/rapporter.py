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
        downloads = [
            # label, bytes when clicked, file name, type, icon, there to download
            (
                "rapporten (PDF)",
                file_bytes(package.report_pdf),
                f"rapport-{key}.pdf",
                "application/pdf",
                "picture_as_pdf",
                package.report_pdf.is_file(),
            ),
            (
                "rapporten (HTML)",
                file_bytes(package.report_html),
                f"rapport-{key}.html",
                "text/html",
                "download",
                package.report_html.is_file(),
            ),
            (
                "dataene (ZIP)",
                lambda: packages.data_zip(package),
                f"kritinfo-evaluering-{key}.zip",
                "application/zip",
                "folder_zip",
                True,
            ),
        ]
        for column, (what, data, file_name, mime, icon, present) in zip(
            st.columns(len(downloads)), downloads, strict=True
        ):
            with column:
                st.download_button(
                    f"Last ned {what}",
                    data=data,
                    file_name=file_name,
                    mime=mime,
                    key=f"{file_name.rsplit('.', 1)[1]}-{key}",
                    icon=f":material/{icon}:",
                    on_click="ignore",
                    disabled=not present,
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
