"""Draw knowledge_hub/static/world-regions.svg: the world's M49 regions as one outline
each, from Natural Earth's countries (public domain) as the world-atlas package ships
them in TopoJSON (ISC licence).

Run once, when the outlines or the regions change; the SVG is committed:

    cd /tmp && npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    .venv/bin/python scripts/world_map.py /tmp/package/countries-110m.json

The countries' numeric codes are matched to ISO 3166-1 alpha-2 codes with Debian's
iso-codes (/usr/share/iso-codes/json/iso_3166-1.json), and the alpha-2 codes to regions
with knowledge_hub/m49.py. Projection: equirectangular, Antarctica left out; points are
rounded to whole units of a 1000-wide drawing and thinned (Douglas-Peucker), and
islands smaller than a few units are dropped, which keeps the file small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge_hub import m49  # noqa: E402

ISO_CODES = Path("/usr/share/iso-codes/json/iso_3166-1.json")
OUTPUT = ROOT / "knowledge_hub" / "static" / "world-regions.svg"

WIDTH = 1000
NORTH, SOUTH = 84.0, -58.0
HEIGHT = round(WIDTH * (NORTH - SOUTH) / 360)
TOLERANCE = 0.9  # drawing units
SMALLEST_RING = 4.0  # square drawing units

#: The regions drawn (the Americas in their two parts), with where each label goes.
DRAWN = {
    "002": (18.0, 3.0),
    "419": (-62.0, -14.0),
    "021": (-102.0, 50.0),
    "142": (92.0, 42.0),
    "150": (22.0, 54.0),
    "009": (134.0, -25.0),
}


#: Natural Earth's units without an ISO code, by the region they lie in.
WITHOUT_CODE = {"Somaliland": "002", "N. Cyprus": "142", "Kosovo": "150"}


def drawn_region(alpha_2: str) -> str | None:
    for code in ("419", "021"):
        if alpha_2 in m49.BY_CODE[code].countries:
            return code
    return m49.region_of(alpha_2)


def project(lon: float, lat: float) -> tuple[float, float]:
    lat = max(SOUTH, min(NORTH, lat))
    return (lon + 180) / 360 * WIDTH, (NORTH - lat) / (NORTH - SOUTH) * HEIGHT


def decoded_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append(project(x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def unwrapped(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring that crosses the 180th meridian (Fiji, Russia's far east) kept on one side,
    the side most of it is on; the part past the edge is cut off by the drawing's frame."""
    if all(abs(b[0] - a[0]) < WIDTH / 2 for a, b in zip(points, points[1:], strict=False)):
        return points
    east = sum(x > WIDTH / 2 for x, __ in points) > len(points) / 2
    return [
        (x + WIDTH if east and x < WIDTH / 2 else x - WIDTH if not east and x > WIDTH / 2 else x, y)
        for x, y in points
    ]


def thinned(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
        farthest, distance = first, 0.0
        for i in range(first + 1, last):
            x, y = points[i]
            if length == 0:  # a closed ring: the distance from its first point
                d = ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
            else:
                d = abs((y2 - y1) * x - (x2 - x1) * y + x2 * y1 - y2 * x1) / length
            if d > distance:
                farthest, distance = i, d
        if distance > TOLERANCE:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def area(points: list[tuple[float, float]]) -> float:
    return abs(
        sum(
            x1 * y2 - x2 * y1
            for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=False)
        )
        / 2
    )


def path_data(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for points in rings:
        rounded = [(round(x), round(y)) for x, y in thinned(points)]
        rounded = [p for i, p in enumerate(rounded) if i == 0 or p != rounded[i - 1]]
        if len(rounded) < 3 or area([(float(x), float(y)) for x, y in rounded]) < SMALLEST_RING:
            continue
        (x0, y0), rest = rounded[0], rounded[1:]
        steps = " ".join(
            f"{x - px} {y - py}" for (px, py), (x, y) in zip(rounded, rest, strict=False)
        )
        parts.append(f"M{x0} {y0}l{steps}z")
    return "".join(parts)


def main(source: str) -> None:
    topology = json.loads(Path(source).read_text(encoding="utf-8"))
    alpha_2 = {
        int(c["numeric"]): c["alpha_2"]
        for c in json.loads(ISO_CODES.read_text(encoding="utf-8"))["3166-1"]
    }
    arcs = decoded_arcs(topology)
    rings: dict[str, list[list[tuple[float, float]]]] = {code: [] for code in DRAWN}
    unplaced = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = alpha_2.get(int(geometry["id"])) if geometry.get("id") else None
        name = geometry["properties"]["name"]
        region = drawn_region(code) if code else WITHOUT_CODE.get(name)
        if region is None:
            unplaced.append(geometry["properties"]["name"])
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            rings[region].extend(unwrapped(ring(r, arcs)) for r in polygon)
    paths = []
    for code, (lon, lat) in DRAWN.items():
        x, y = project(lon, lat)
        paths.append(
            f'  <path id="region-{code}" data-label-x="{round(x)}" data-label-y="{round(y)}"'
            f' d="{path_data(rings[code])}"/>'
        )
    OUTPUT.write_text(
        "<!-- The world's M49 regions, drawn by scripts/world_map.py from Natural Earth"
        " (public domain) through world-atlas (ISC). Not drawn: "
        + ", ".join(sorted(unplaced))
        + ". -->\n"
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}">\n'
        + "\n".join(paths)
        + "\n</svg>\n",
        encoding="utf-8",
    )
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes); not drawn: {unplaced}")


if __name__ == "__main__":
    main(sys.argv[1])
