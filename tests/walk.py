"""Walking a running hub as people and harvesters do: from the home page, every link it
finds (pages, static files, feeds, API answers, OAI-PMH, citations), in seeded random
orders, counting every answer a person would see as broken."""

from __future__ import annotations

import json
import random
import re
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

#: Where a harvester or a script starts rather than a person: the home page links to
#: some of them, not all.
MACHINE_ENTRY_POINTS = (
    "/robots.txt",
    "/sitemap.xml",
    "/feed.atom",
    "/search.atom?q=cooperative",
    "/search/cite.bib?q=cooperative",
    "/search/cite.ris?q=cooperative",
    "/api/openapi.json",
    "/api/documents/1",
    "/api/v1/documents/1",
    "/api/search?q=",
    "/api/search?q=social+economy",
    "/api/v1/search?q=%E5%90%88%E4%BD%9C%E7%A4%BE",
    "/oai?verb=Identify",
    "/oai?verb=ListMetadataFormats",
    "/oai?verb=ListSets",
    "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
    "/oai?verb=ListRecords&metadataPrefix=oai_dc",
)

#: Where someone who works in the hub goes by address too: a record's checklist and
#: history, its versions, and the API's view of its checklist.
BACK_OFFICE_ENTRY_POINTS = (
    "/review/1",
    "/review/1/history",
    "/staff/1/versions",
    "/api/documents/1/checklist",
)

#: Query values that vary without changing what a page is (its shape).
_VARYING = re.compile(r"\d+")
#: A browse page of one value (/browse/organizations/ILO, /browse/topics/sdg-5): the
#: value is what varies, as an id does elsewhere.
_BROWSED_VALUE = re.compile(r"^(/browse/[^/]+/)[^/]+$")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name] or "")
        # A search box or a filter form leads somewhere too.
        method = (values.get("method") or "get").lower()
        if tag == "form" and method == "get" and values.get("action"):
            self.links.append(values["action"] or "")


def links_in(url: str, content_type: str, body: bytes) -> list[str]:
    """The absolute URLs an answer points to."""
    text = body.decode("utf-8", errors="replace")
    found: list[str] = []
    if "html" in content_type:
        parser = _Links()
        parser.feed(text)
        found = parser.links
    elif "xml" in content_type:
        found = re.findall(r'href="([^"]+)"', text) + re.findall(r"<loc>([^<]+)</loc>", text)
        token = re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", text)
        if token:
            query = {"verb": _oai_verb(text), "resumptionToken": token[1]}
            found.append("/oai?" + urlencode(query))
        for identifier in re.findall(r"<identifier>(oai:[^<]+)</identifier>", text):
            query = {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": identifier}
            found.append("/oai?" + urlencode(query))
    elif "json" in content_type:
        found = [
            value
            for value in _strings(json.loads(text))
            if value.startswith(("http://", "https://", "/")) and " " not in value
        ]
    return [urljoin(url, link.replace("&amp;", "&")) for link in found]


def _oai_verb(text: str) -> str:
    verb = re.search(r'<request[^>]*verb="(\w+)"', text)
    return verb[1] if verb else "ListRecords"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def shape(path_and_query: str) -> str:
    """What kind of page a link is: its path with numbers generalised, and its query's
    names. A walk takes a few links of each shape, not every page of every search."""
    parts = urlsplit(path_and_query)
    names = sorted({name for name, __ in parse_qsl(parts.query, keep_blank_values=True)})
    path = _BROWSED_VALUE.sub(r"\1V", parts.path)
    return _VARYING.sub("N", path) + "?" + "&".join(names)


@dataclass
class Site:
    """The links of one site as one kind of reader finds them."""

    origin: str
    paths: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def discover(
    http: requests.Session,
    origin: str,
    *,
    limit: int,
    per_shape: int,
    entry_points: tuple[str, ...] = MACHINE_ENTRY_POINTS,
) -> Site:
    """Follow links breadth-first from the home page, then from the machine entry points,
    keeping at most `per_shape` links of a shape and `limit` in all. A link of a shape not
    yet requested goes before repeats of known shapes, so that the limit cuts repeats,
    not kinds of pages."""
    site = Site(origin)
    new_kinds, repeats = deque(["/", *entry_points]), deque()
    seen = set(new_kinds)
    shapes: dict[str, int] = {}
    while (new_kinds or repeats) and len(site.paths) < limit:
        path = (new_kinds or repeats).popleft()
        kind = shape(path)
        if shapes.get(kind, 0) >= per_shape:
            continue
        shapes[kind] = shapes.get(kind, 0) + 1
        answer = fetch(http, origin, path, site.failures)
        site.paths.append(path)
        if answer is None:
            continue
        for link in links_in(origin + path, answer.headers.get("Content-Type", ""), answer.content):
            parts = urlsplit(link)
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if f"{parts.scheme}://{parts.netloc}" != origin or local in seen:
                continue
            seen.add(local)
            (repeats if shape(local) in shapes else new_kinds).append(local)
    return site


def fetch(
    http: requests.Session, origin: str, path: str, failures: list[str]
) -> requests.Response | None:
    """One request; a reset, a refused connection, a time-out or a 5xx is a failure."""
    try:
        answer = http.get(origin + path, timeout=60, allow_redirects=False)
    except requests.RequestException as e:
        failures.append(f"{path}: {type(e).__name__}: {e}")
        return None
    if answer.status_code >= 500:
        failures.append(f"{path}: {answer.status_code}")
    return answer


def walk(http: requests.Session, origin: str, paths: list[str], seed: int) -> list[str]:
    """Request every path once, home first, the rest in a random order fixed by seed."""
    rest = [path for path in paths if path != "/"]
    random.Random(seed).shuffle(rest)
    failures: list[str] = []
    for path in ["/", *rest]:
        fetch(http, origin, path, failures)
    return failures
