"""Write one language version of a catalogue record as PDF, DOCX, ODT, HTML, Markdown or text.

Every writer takes a parsed ``Source`` and returns the file's bytes. Each file starts with
the sample notice in its language, then the title, then the body. PDF uses the core
Helvetica font (Windows-1252), so it is written only for English, French and Spanish;
DOCX and ODT are minimal packages written directly with ``zipfile``. Timestamps are fixed
so that a rebuild reproduces the same bytes.
"""

from __future__ import annotations

import html
import io
import textwrap
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

LATIN1_LANGUAGES = {"en", "fr", "es"}

# The first line of every file, in the file's language.
NOTICES = {
    "en": "Sample text written for the Knowledge Hub demonstration catalogue — "
    "not an official UNTFSSE or UN document.",
    "fr": "Texte d’exemple rédigé pour le catalogue de démonstration du Knowledge Hub — "
    "ce n’est pas un document officiel de l’UNTFSSE ni de l’ONU.",
    "es": "Texto de muestra redactado para el catálogo de demostración del Knowledge Hub "
    "— no es un documento oficial del UNTFSSE ni de las Naciones Unidas.",
    "ar": "نصّ نموذجي أُعدّ لفهرس العرض التوضيحي لمركز المعارف (Knowledge Hub) — "
    "وليس وثيقة رسمية صادرة عن فرقة العمل (UNTFSSE) أو عن الأمم المتحدة.",
    "zh": "为知识中心（Knowledge Hub）演示目录编写的示例文本——并非 UNTFSSE 或联合国的正式文件。",
    "ru": "Образец текста, подготовленный для демонстрационного каталога "
    "Knowledge Hub, — не является официальным документом UNTFSSE или ООН.",
}
FOOTERS = {
    "en": "Knowledge Hub demonstration catalogue",
    "fr": "Catalogue de démonstration du Knowledge Hub",
    "es": "Catálogo de demostración del Knowledge Hub",
}
# Office and PDF language tags.
LOCALES = {
    "en": ("en", "GB"),
    "fr": ("fr", "FR"),
    "es": ("es", "ES"),
    "ar": ("ar", "SA"),
    "zh": ("zh", "CN"),
    "ru": ("ru", "RU"),
}
# Fixed timestamps keep rebuilt files identical to the committed ones.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
BUILD_TIME = datetime(2024, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------------------
# Sources


@dataclass
class Block:
    """One block of a body: heading, paragraph, bullet list or table."""

    kind: str  # "h2", "h3", "p", "ul", "ol", "table"
    text: str = ""
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    """One language version of a record, as read from ``texts/``."""

    path: Path
    meta: dict[str, str]
    blocks: list[Block]
    record_kind: str = "publication"  # the original's kind, shared by all versions

    @property
    def ref(self) -> str:
        return self.meta["ref"]

    @property
    def language(self) -> str:
        return self.meta["language"]

    @property
    def is_original(self) -> bool:
        return "kind" in self.meta

    @property
    def file(self) -> str:
        folder = "archives" if self.record_kind == "archive" else "publications"
        name = f"{self.ref.lower()}.{self.language}.{self.meta['format']}"
        return f"{folder}/{name}"


# ---------------------------------------------------------------------------
# Writers: each returns the file's bytes.


def write_pdf(source: Source) -> bytes:
    """A PDF set in the core Helvetica font (Windows-1252: en, fr, es only)."""
    from fpdf import FPDF
    from fpdf.enums import XPos
    from fpdf.enums import YPos

    lang = source.language
    if lang not in LATIN1_LANGUAGES:
        raise ValueError(f"{source.path.name}: PDF is only written for en, fr and es")
    footer_text = f"{FOOTERS[lang]} · {source.ref}"

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("Helvetica", "I", 8)
            self.set_text_color(100, 100, 100)
            self.cell(0, 8, f"{footer_text} · {self.page_no()}", align="C")

    pdf = Doc(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(BUILD_TIME)
    pdf.set_lang(f"{LOCALES[lang][0]}-{LOCALES[lang][1]}")
    pdf.set_title(source.meta["title"])
    pdf.set_subject(source.meta["summary"])
    pdf.set_creator("UNTFSSE Knowledge Hub demonstration catalogue")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    pdf.set_font("Helvetica", "I", 8.5)
    pdf.set_text_color(120, 40, 40)
    pdf.multi_cell(0, 4.5, NOTICES[lang], **nl)
    pdf.ln(4)
    pdf.set_text_color(0, 51, 102)
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 7.5, source.meta["title"], **nl)
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)
    for block in source.blocks:
        if block.kind in ("h2", "h3"):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12.5 if block.kind == "h2" else 11)
            pdf.set_text_color(0, 51, 102)
            pdf.multi_cell(0, 6, block.text, **nl)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
        elif block.kind == "p":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.2, block.text, **nl)
            pdf.ln(2)
        elif block.kind in ("ul", "ol"):
            pdf.set_font("Helvetica", "", 10.5)
            for n, item in enumerate(block.items, start=1):
                pdf.set_x(pdf.l_margin + 4)
                mark = "\u2022" if block.kind == "ul" else f"{n}."
                pdf.multi_cell(0, 5.2, f"{mark} {item}", **nl)
            pdf.ln(2)
        elif block.kind == "table":
            pdf.set_font("Helvetica", "", 9.5)
            with pdf.table(line_height=5, first_row_as_headings=True) as table:
                for cells in block.rows:
                    row = table.row()
                    for cell in cells:
                        row.cell(cell)
            pdf.ln(3)
    return bytes(pdf.output())


def write_html(source: Source) -> bytes:
    """An HTML5 page with lang (and dir=rtl for Arabic), UTF-8."""
    lang = source.language
    dir_attr = ' dir="rtl"' if lang == "ar" else ""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"{dir_attr}>',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(source.meta['title'])}</title>",
        f'<meta name="description" content="{e(source.meta["summary"])}">',
        "<style>body{font-family:system-ui,sans-serif;line-height:1.55;max-width:44rem;"
        "margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
        ".notice{font-size:.85rem;font-style:italic;color:#7a2222}"
        "h1,h2,h3{color:#003366}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:.3rem .5rem;text-align:start}</style>",
        "</head>",
        "<body>",
        f'<p class="notice">{e(NOTICES[lang])}</p>',
        "<main>",
        f"<h1>{e(source.meta['title'])}</h1>",
    ]
    for block in source.blocks:
        if block.kind in ("h2", "h3", "p"):
            out.append(f"<{block.kind}>{e(block.text)}</{block.kind}>")
        elif block.kind in ("ul", "ol"):
            out.append(f"<{block.kind}>")
            out.extend(f"<li>{e(item)}</li>" for item in block.items)
            out.append(f"</{block.kind}>")
        elif block.kind == "table":
            out.append("<table>")
            head, *rows = block.rows
            out.append("<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr></thead>")
            out.append("<tbody>")
            for cells in rows:
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
            out.append("</tbody></table>")
    out += ["</main>", f"<footer><p>{e(source.ref)}</p></footer>", "</body>", "</html>", ""]
    return "\n".join(out).encode("utf-8")


def write_md(source: Source) -> bytes:
    """Markdown: the notice, the title as a level-1 heading, the body."""
    out = [NOTICES[source.language], "", f"# {source.meta['title']}", ""]
    for block in source.blocks:
        if block.kind == "h2":
            out += [f"## {block.text}", ""]
        elif block.kind == "h3":
            out += [f"### {block.text}", ""]
        elif block.kind == "p":
            out += [block.text, ""]
        elif block.kind == "ul":
            out += [f"- {item}" for item in block.items] + [""]
        elif block.kind == "ol":
            out += [f"{n}. {item}" for n, item in enumerate(block.items, start=1)] + [""]
        elif block.kind == "table":
            head, *rows = block.rows
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "|".join("---" for __ in head) + "|")
            out += ["| " + " | ".join(cells) + " |" for cells in rows]
            out.append("")
    return "\n".join(out).encode("utf-8")


def _display_width(text: str) -> int:
    """Columns a line takes in a terminal: wide CJK characters count twice, marks not at all."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def write_txt(source: Source) -> bytes:
    """Plain UTF-8 text, wrapped at 76 columns (Chinese lines are left whole)."""
    wrap = source.language != "zh"

    def para(text: str, indent: str = "", first: str = "") -> list[str]:
        if not wrap:
            return [first + text]
        return textwrap.wrap(text, 76, initial_indent=first, subsequent_indent=indent)

    title = source.meta["title"]
    out = [NOTICES[source.language], "", title, "=" * _display_width(title), ""]
    for block in source.blocks:
        if block.kind in ("h2", "h3"):
            mark = "-" if block.kind == "h2" else "."
            out += [block.text, mark * _display_width(block.text), ""]
        elif block.kind == "p":
            out += para(block.text) + [""]
        elif block.kind in ("ul", "ol"):
            for n, item in enumerate(block.items, start=1):
                mark = "  - " if block.kind == "ul" else f"  {n}. "
                out += para(item, indent=" " * len(mark), first=mark)
            out.append("")
        elif block.kind == "table":
            widths = [
                max(_display_width(r[i]) for r in block.rows) for i in range(len(block.rows[0]))
            ]
            for n, cells in enumerate(block.rows):
                padded = [
                    c + " " * (w - _display_width(c)) for c, w in zip(cells, widths, strict=True)
                ]
                out.append("  " + " | ".join(padded).rstrip())
                if n == 0:
                    out.append("  " + "-+-".join("-" * w for w in widths))
            out.append("")
    return "\n".join(out).encode("utf-8")


def _zip(entries: list[tuple[str, str | bytes]], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n, (name, data) in enumerate(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = (
                zipfile.ZIP_STORED if (stored_first and n == 0) else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            archive.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()


DOCX_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_styles(lang: str) -> str:
    code = "-".join(LOCALES[lang])

    def heading(style_id: str, name: str, size: int, level: int | None) -> str:
        outline = f'<w:outlineLvl w:val="{level}"/>' if level is not None else ""
        return (
            f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/>'
            '<w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>'
            f'<w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/>{outline}</w:pPr>'
            f'<w:rPr><w:b/><w:bCs/><w:color w:val="003366"/><w:sz w:val="{size}"/>'
            f'<w:szCs w:val="{size}"/></w:rPr></w:style>'
        )

    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:styles {DOCX_NS}>"
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        '<w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="SimSun" w:cs="Arial"/>'
        '<w:sz w:val="22"/><w:szCs w:val="22"/>'
        f'<w:lang w:val="{code if lang not in ("ar", "zh") else "en-GB"}" '
        'w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
        '<w:spacing w:after="160" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
        "</w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
        "<w:qFormat/></w:style>"
        + heading("Title", "Title", 36, None)
        + heading("Heading1", "heading 1", 28, 0)
        + heading("Heading2", "heading 2", 24, 1)
        + '<w:style w:type="paragraph" w:styleId="Notice"><w:name w:val="Notice"/>'
        '<w:basedOn w:val="Normal"/><w:rPr><w:i/><w:iCs/><w:color w:val="7A2222"/>'
        '<w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/>'
        '<w:basedOn w:val="Normal"/><w:pPr><w:ind w:left="360" w:hanging="240"/></w:pPr>'
        "</w:style>"
        '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/>'
        "<w:tblPr><w:tblBorders>"
        + "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        + "</w:tblBorders></w:tblPr></w:style></w:styles>"
    )


def write_docx(source: Source) -> bytes:
    """A minimal WordprocessingML package: document, styles and core properties."""
    lang = source.language
    rtl = lang == "ar"
    code = "-".join(LOCALES[lang])
    lang_attr = {"ar": f'w:bidi="{code}"', "zh": f'w:eastAsia="{code}"'}.get(
        lang, f'w:val="{code}"'
    )
    run_props = f"<w:rPr>{'<w:rtl/>' if rtl else ''}<w:lang {lang_attr}/></w:rPr>"

    def para(text: str, style: str | None = None, bold: bool = False) -> str:
        ppr = ""
        if style or rtl:
            ppr = "<w:pPr>" + (f'<w:pStyle w:val="{style}"/>' if style else "")
            ppr += ("<w:bidi/>" if rtl else "") + "</w:pPr>"
        rpr = run_props if not bold else run_props.replace("<w:rPr>", "<w:rPr><w:b/><w:bCs/>")
        return f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    body = [para(NOTICES[lang], "Notice"), para(source.meta["title"], "Title")]
    for block in source.blocks:
        if block.kind == "h2":
            body.append(para(block.text, "Heading1"))
        elif block.kind == "h3":
            body.append(para(block.text, "Heading2"))
        elif block.kind == "p":
            body.append(para(block.text))
        elif block.kind in ("ul", "ol"):
            for n, item in enumerate(block.items, start=1):
                mark = "\u2022" if block.kind == "ul" else f"{n}."
                body.append(para(f"{mark}\u00a0{item}", "ListBullet"))
        elif block.kind == "table":
            columns = len(block.rows[0])
            width = 9000 // columns
            tbl = ['<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>'
                   + ("<w:bidiVisual/>" if rtl else "")
                   + '<w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>'
                   + "".join(f'<w:gridCol w:w="{width}"/>' for __ in range(columns))
                   + "</w:tblGrid>"]  # fmt: skip
            for n, cells in enumerate(block.rows):
                tbl.append("<w:tr>")
                for cell in cells:
                    tbl.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>')
                    tbl.append(para(cell, bold=n == 0) + "</w:tc>")
                tbl.append("</w:tr>")
            tbl.append("</w:tbl>")
            body.append("".join(tbl))
            body.append("<w:p/>")
    sect = (
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1134" w:right="1247" w:bottom="1134" w:left="1247" '
        'w:header="567" w:footer="567" w:gutter="0"/>'
        + ("<w:bidi/>" if rtl else "")
        + "</w:sectPr>"
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:document {DOCX_NS}><w:body>{''.join(body)}{sect}</w:body></w:document>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/word/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        "</Relationships>"
    )
    document_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    )
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(source.meta['title'])}</dc:title>"
        f"<dc:language>{code}</dc:language>"
        "<dc:creator>UNTFSSE Knowledge Hub demonstration catalogue</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-01T00:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )
    return _zip([
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/document.xml", document),
        ("word/_rels/document.xml.rels", document_rels),
        ("word/styles.xml", _docx_styles(lang)),
        ("docProps/core.xml", core),
    ])  # fmt: skip


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"'
)


def write_odt(source: Source) -> bytes:
    """A minimal OpenDocument text: mimetype (stored first), manifest, content, styles, meta."""
    lang = source.language
    language, country = LOCALES[lang]
    rtl = lang == "ar"
    mode = ' style:writing-mode="rl-tb"' if rtl else ""
    align = ' fo:text-align="end"' if rtl else ""
    lang_props = {
        "zh": 'fo:language="en" fo:country="GB" style:language-asian="zh" style:country-asian="CN"',
        "ar": 'fo:language="en" fo:country="GB" '
        'style:language-complex="ar" style:country-complex="SA"',
    }.get(lang, f'fo:language="{language}" fo:country="{country}"')

    def p(text: str, style: str = "Body") -> str:
        return f'<text:p text:style-name="{style}">{escape(text)}</text:p>'

    def h(text: str, level: int) -> str:
        return (
            f'<text:h text:style-name="Heading_20_{level}" text:outline-level="{level}">'
            f"{escape(text)}</text:h>"
        )

    body = [p(NOTICES[lang], "Notice"), p(source.meta["title"], "Title")]
    for block in source.blocks:
        if block.kind == "h2":
            body.append(h(block.text, 1))
        elif block.kind == "h3":
            body.append(h(block.text, 2))
        elif block.kind == "p":
            body.append(p(block.text))
        elif block.kind in ("ul", "ol"):
            style = "Bullets" if block.kind == "ul" else "Numbers"
            body.append(f'<text:list text:style-name="{style}">')
            body.extend(f"<text:list-item>{p(item)}</text:list-item>" for item in block.items)
            body.append("</text:list>")
        elif block.kind == "table":
            columns = len(block.rows[0])
            body.append(f'<table:table table:name="Table{len(body)}" table:style-name="Tbl">')
            body.append(f'<table:table-column table:number-columns-repeated="{columns}"/>')
            for n, cells in enumerate(block.rows):
                body.append("<table:table-row>")
                for cell in cells:
                    body.append(
                        '<table:table-cell table:style-name="Cell" office:value-type="string">'
                        f"{p(cell, 'TableHead' if n == 0 else 'Body')}</table:table-cell>"
                    )
                body.append("</table:table-row>")
            body.append("</table:table>")

    para_style = f"<style:paragraph-properties{mode}{align}/>"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-content {ODF_NS}>"
        "<office:automatic-styles>"
        '<style:style style:name="Tbl" style:family="table">'
        f'<style:table-properties style:width="16cm" table:align="margins"{mode}/></style:style>'
        '<style:style style:name="Cell" style:family="table-cell">'
        '<style:table-cell-properties fo:padding="0.1cm" fo:border="0.5pt solid #808080"/>'
        "</style:style>"
        '<text:list-style style:name="Bullets"><text:list-level-style-bullet text:level="1" '
        'text:bullet-char="•"><style:list-level-properties text:space-before="0.4cm" '
        'text:min-label-width="0.5cm"/></text:list-level-style-bullet></text:list-style>'
        '<text:list-style style:name="Numbers"><text:list-level-style-number text:level="1" '
        'style:num-format="1" style:num-suffix="."><style:list-level-properties '
        'text:space-before="0.4cm" text:min-label-width="0.6cm"/>'
        "</text:list-level-style-number></text:list-style>"
        "</office:automatic-styles>"
        f"<office:body><office:text>{''.join(body)}</office:text></office:body>"
        "</office:document-content>"
    )

    def pstyle(name: str, display: str, text_props: str, extra: str = "") -> str:
        return (
            f'<style:style style:name="{name}" style:display-name="{display}" '
            f'style:family="paragraph" style:parent-style-name="Standard"{extra}>'
            f"{para_style}<style:text-properties {text_props}/></style:style>"
        )

    styles = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-styles {ODF_NS}><office:styles>"
        '<style:default-style style:family="paragraph">'
        f"{para_style}"
        '<style:text-properties fo:font-family="Liberation Sans" fo:font-size="11pt" '
        f"{lang_props}/>"
        "</style:default-style>"
        '<style:style style:name="Standard" style:family="paragraph">'
        f'<style:paragraph-properties fo:margin-bottom="0.2cm"{mode}{align}/></style:style>'
        + pstyle("Body", "Body", 'fo:font-size="11pt"')
        + pstyle(
            "TableHead", "Table Heading", 'fo:font-weight="bold" style:font-weight-complex="bold"'
        )
        + pstyle("Notice", "Notice", 'fo:font-size="9pt" fo:font-style="italic" fo:color="#7a2222"')
        + pstyle("Title", "Title", 'fo:font-size="18pt" fo:font-weight="bold" '
                 'style:font-weight-complex="bold" fo:color="#003366"')
        + pstyle("Heading_20_1", "Heading 1", 'fo:font-size="14pt" fo:font-weight="bold" '
                 'style:font-weight-complex="bold" fo:color="#003366"',
                 ' style:default-outline-level="1"')
        + pstyle("Heading_20_2", "Heading 2", 'fo:font-size="12pt" fo:font-weight="bold" '
                 'style:font-weight-complex="bold" fo:color="#003366"',
                 ' style:default-outline-level="2"')
        + "</office:styles></office:document-styles>"
    )  # fmt: skip
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-meta {ODF_NS}><office:meta>"
        f"<dc:title>{escape(source.meta['title'])}</dc:title>"
        f"<dc:description>{escape(source.meta['summary'])}</dc:description>"
        f"<dc:language>{language}-{country}</dc:language>"
        "<meta:generator>UNTFSSE Knowledge Hub demonstration catalogue</meta:generator>"
        "<meta:creation-date>2024-01-01T00:00:00</meta:creation-date>"
        "</office:meta></office:document-meta>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        + "".join(
            f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
            for name in ("content.xml", "styles.xml", "meta.xml")
        )
        + "</manifest:manifest>"
    )
    return _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("META-INF/manifest.xml", manifest),
            ("content.xml", content),
            ("styles.xml", styles),
            ("meta.xml", meta),
        ],
        stored_first=True,
    )


WRITERS: dict[str, Callable[[Source], bytes]] = {
    "pdf": write_pdf,
    "docx": write_docx,
    "odt": write_odt,
    "html": write_html,
    "md": write_md,
    "txt": write_txt,
}
