"""A report as a list of simple blocks, written once as self-contained HTML and once as PDF.

Both formats are written from the same blocks so that they say the same thing; the PDF uses
fpdf2 with the DejaVu Sans font shipped in matplotlib, which covers æøå, – and ≥.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = the report's title
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str  # **bold** is the only inline markup
    small: bool = False


@dataclass(frozen=True)
class Bullets:
    items: list[str]
    ordered: bool = False


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str
    numeric_columns: frozenset[int] = field(default_factory=frozenset)  # right-aligned


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str  # also the image's alternative text


Block = Heading | Paragraph | Bullets | Table | Figure

BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline_html(text: str) -> str:
    return BOLD.sub(r"<strong>\1</strong>", html.escape(text))


def _plain(text: str) -> str:
    return BOLD.sub(r"\1", text)


CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
h1 { font-size: 1.8rem; border-bottom: 2px solid #1f4e79; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; color: #1f4e79; }
h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; }
caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
th, td { border: 1px solid #c8c8c8; padding: .3rem .5rem; vertical-align: top; }
th { background: #eef3f8; text-align: left; }
td.number { text-align: right; white-space: nowrap; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption, .small { font-size: .9rem; color: #444; }
"""


def to_html(blocks: list[Block], title: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="nb">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    for block in blocks:
        match block:
            case Heading(level, text):
                parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
            case Paragraph(text, small):
                parts.append(f'<p class="small">{_inline_html(text)}</p>' if small else f"<p>{_inline_html(text)}</p>")
            case Bullets(items, ordered):
                tag = "ol" if ordered else "ul"
                parts.append(f"<{tag}>" + "".join(f"<li>{_inline_html(i)}</li>" for i in items) + f"</{tag}>")
            case Table(headers, rows, caption, numeric):
                head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
                body = []
                for row in rows:
                    # The first cell names the row: a row header for screen readers.
                    cells = [f'<th scope="row">{html.escape(row[0])}</th>']
                    cells += [
                        f'<td class="number">{html.escape(c)}</td>' if i in numeric else f"<td>{html.escape(c)}</td>"
                        for i, c in enumerate(row[1:], start=1)
                    ]
                    body.append("<tr>" + "".join(cells) + "</tr>")
                parts.append(
                    f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                    f"<tbody>{''.join(body)}</tbody></table>"
                )
            case Figure(png, caption):
                data = base64.b64encode(png).decode("ascii")
                parts.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


HEADING_SIZES = {1: 18, 2: 14, 3: 12}
BODY_SIZE = 10
SMALL_SIZE = 8.5
LINE_MM = 5
HEADING_COLOUR = (31, 78, 121)


class _ReportPdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report_title = title
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_lang("nb")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self.report_title} – side {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def to_pdf(blocks: list[Block], title: str) -> bytes:
    pdf = _ReportPdf(title)
    pdf.add_page()
    for block in blocks:
        match block:
            case Heading(level, text):
                # Keep a heading with what follows it: a new page when little room is left.
                if pdf.get_y() > pdf.h - 50:
                    pdf.add_page()
                pdf.ln(3 if level > 1 else 0)
                pdf.set_font(FONT, "B", HEADING_SIZES.get(level, 11))
                pdf.set_text_color(*HEADING_COLOUR)
                if level > 1:
                    pdf.start_section(text, level=level - 2)  # the PDF's outline (bookmarks)
                pdf.multi_cell(0, HEADING_SIZES.get(level, 11) * 0.5, text, new_x="LMARGIN", new_y="NEXT")
                pdf.set_text_color(0, 0, 0)
                pdf.ln(1.5)
            case Paragraph(text, small):
                pdf.set_font(FONT, "", SMALL_SIZE if small else BODY_SIZE)
                pdf.multi_cell(0, LINE_MM, _plain(text), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)
            case Bullets(items, ordered):
                pdf.set_font(FONT, "", BODY_SIZE)
                for number, item in enumerate(items, start=1):
                    marker = f"{number}." if ordered else "•"
                    pdf.set_x(pdf.l_margin + 2)
                    pdf.cell(6, LINE_MM, marker)
                    pdf.multi_cell(0, LINE_MM, _plain(item), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)
            case Table(headers, rows, caption, numeric):
                pdf.set_font(FONT, "B", BODY_SIZE)
                pdf.multi_cell(0, LINE_MM, caption, new_x="LMARGIN", new_y="NEXT")
                pdf.set_font(FONT, "", 8.5)
                alignments = tuple("RIGHT" if i in numeric else "LEFT" for i in range(len(headers)))
                # The first column names the row and needs the room: twice that of the others.
                widths = (2, *([1] * (len(headers) - 1)))
                with pdf.table(
                    col_widths=widths,
                    text_align=alignments,
                    headings_style=FontFace(emphasis="BOLD", fill_color=(238, 243, 248)),
                    line_height=4.5,
                    repeat_headings=1,
                ) as table:
                    for values in [headers, *rows]:
                        table.row(values)
                pdf.ln(3)
            case Figure(png, caption):
                width = pdf.epw
                height = width * 0.5  # charts are drawn 2:1
                if pdf.get_y() + height + 10 > pdf.h - pdf.b_margin:
                    pdf.add_page()
                pdf.image(io.BytesIO(png), w=width, h=height, alt_text=caption)
                pdf.set_font(FONT, "", SMALL_SIZE)
                pdf.multi_cell(0, 4, caption, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
    return bytes(pdf.output())
