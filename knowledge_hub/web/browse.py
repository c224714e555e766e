"""/browse/: the catalogue by organization, topic, region, type and year, for readers
who would rather look around than type a query. Every list and count is what the reader
may see."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import gettext as _

from knowledge_hub import i18n
from knowledge_hub import m49
from knowledge_hub.i18n import vocabularies
from knowledge_hub.queries import browse as browse_queries
from knowledge_hub.web.permissions import viewer

bp = Blueprint("browse", __name__, url_prefix="/browse")

PER_PAGE = 20


@bp.get("/")
def index():
    return render_template("browse/index.html")


@bp.get("/organizations")
def organizations():
    return render_template(
        "browse/organizations.html", grouped=browse_queries.organizations(viewer())
    )


@bp.get("/topics")
def topics():
    return render_template("browse/topics.html", topics=browse_queries.topics(viewer()))


@bp.get("/regions")
def regions():
    areas, others = browse_queries.regions(viewer())
    return render_template(
        "browse/regions.html",
        areas=areas,
        others=others,
        counts={area.code: area.count for area in areas},
        world_map=world_map(Path(current_app.static_folder or "") / WORLD_MAP),
    )


#: The outlines of the regions, drawn once by scripts/world_map.py.
WORLD_MAP = "world-regions.svg"


@dataclass(frozen=True)
class MapRegion:
    code: str
    outline: str  # SVG path data
    label_x: int
    label_y: int


@dataclass(frozen=True)
class WorldMap:
    view_box: str
    regions: dict[str, MapRegion]


@cache
def world_map(path: Path) -> WorldMap:
    """The regions' outlines and label places, read once from the committed drawing."""
    svg = ElementTree.parse(path).getroot()
    regions = {}
    for shape in svg.iter("{http://www.w3.org/2000/svg}path"):
        code = shape.get("id", "").removeprefix("region-")
        regions[code] = MapRegion(
            code,
            shape.get("d", ""),
            int(shape.get("data-label-x", "0")),
            int(shape.get("data-label-y", "0")),
        )
    return WorldMap(svg.get("viewBox", "0 0 1000 400"), regions)


@bp.get("/types")
def types():
    return render_template("browse/types.html", doc_types=browse_queries.doc_types(viewer()))


@bp.get("/years")
def years():
    return render_template("browse/years.html", years=browse_queries.years(viewer()))


@bp.get("/organizations/<path:acronym>")
def organization(acronym: str):
    found = browse_queries.organization(acronym)
    if found is None:
        abort(404, description=_("There is no such organization."))
    return records_of("organization", acronym, found.name, organization=found)


@bp.get("/topics/<code>")
def topic(code: str):
    found = browse_queries.topic(code)
    if found is None:
        abort(404, description=_("There is no such topic."))
    return records_of("topic", code, vocabularies.topic_label(code, found.label))


@bp.get("/regions/<code>")
def region(code: str):
    if not browse_queries.region_exists(code):
        abort(404, description=_("There is no such region or country."))
    within = m49.BY_CODE.get(code)
    return records_of("region", code, i18n.region_name(code), region=within)


@bp.get("/types/<code>")
def type(code: str):  # noqa: A001  (the endpoint reads browse.type, like its URL)
    found = browse_queries.doc_type(code)
    if found is None:
        abort(404, description=_("There is no such type."))
    return records_of("type", code, vocabularies.type_label(code, found.label))


@bp.get("/years/<int:year>")
def year(year: int):
    if not 1000 <= year <= 9999:
        abort(404, description=_("There is no such year."))
    return records_of("year", str(year), str(year))


def records_of(facet: str, value: str, title: str, **extra):
    """The page of records that have `value` for `facet`, with a link to the same
    records in the search (to narrow them further)."""
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    listing = browse_queries.records(
        viewer(), facet, value, i18n.reader_languages(), page=page, per_page=PER_PAGE
    )
    if page > listing.pages:
        abort(404, description=_("This list has fewer pages."))
    return render_template(
        "browse/records.html",
        facet=facet,
        value=value,
        title=title,
        listing=listing,
        **extra,
    )
