"""Usage statistics as COUNTER Release 5 counts them: views of record pages and
downloads of files, robots and double clicks left out, nothing about the visitor kept,
counts per month shown on the record page, in the API and in the staff report."""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from babel.numbers import format_decimal
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import text

from knowledge_hub import counter
from knowledge_hub.config import Config
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentStatus
from knowledge_hub.models import UsageCount
from knowledge_hub.models import UsageMetric
from knowledge_hub.models import VariantStatus
from knowledge_hub.queries import statistics as statistics_queries
from knowledge_hub.services import statistics
from tests.conftest import make_config
from tests.conftest import shared_data
from tests.conftest import sign_in
from tests.server import FlaskServer
from tests.server import run_hub

ROBOTS = shared_data("counter", "COUNTER_Robots_list.json")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
#: Googlebot's own user agent: the list's "bot" pattern (its first entry) matches it.
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

RECORDS = [
    dict(
        ref=f"USE-{n}",
        title=f"Cooperative finance {n}",
        type=kind,
        date="2024",
        organizations=organization,
        topics="cooperatives",
        content=f"Cooperatives and solidarity finance, text {n}.",
    )
    for n, (kind, organization) in enumerate((("report", "ILO"), ("guide", "FAO")))
]


# --- the pure rules ---------------------------------------------------------------


def test_the_counter_robots_list_is_one_pattern_that_knows_robots_from_browsers() -> None:
    robots = counter.robot_pattern(str(ROBOTS))
    patterns = [entry["pattern"] for entry in json.loads(ROBOTS.read_text())]
    assert "bot" in patterns and len(patterns) > 100
    assert counter.is_robot(GOOGLEBOT, robots)
    assert counter.is_robot("python-requests/2.31.0", robots)  # the list's "python"
    assert counter.is_robot("", robots) and counter.is_robot(None, robots)  # "^.?$"
    assert not counter.is_robot(BROWSER, robots)
    # Read once per process, whatever the number of requests.
    assert counter.robot_pattern(str(ROBOTS)) is robots
    # Remembered per user agent, with the same answers.
    for agent in (GOOGLEBOT, BROWSER, ""):
        assert counter.is_robot_agent(agent, str(ROBOTS)) == counter.is_robot(agent, robots)


def test_the_hub_ships_the_counter_list_unchanged() -> None:
    shipped = Path(Config.COUNTER_ROBOTS)
    assert json.loads(shipped.read_text()) == json.loads(ROBOTS.read_text())
    assert "MIT License" in (shipped.parent / "COUNTER_Robots_LICENSE").read_text()


def test_a_visitor_hash_holds_for_one_day_and_reveals_nothing() -> None:
    identity = counter.visitor_identity(None, "203.0.113.7", BROWSER)
    today = counter.daily_salt("secret", date(2026, 12, 4))
    tomorrow = counter.daily_salt("secret", date(2026, 12, 5))
    mark = counter.visitor_hash(today, identity)
    assert mark == counter.visitor_hash(today, identity)
    assert mark != counter.visitor_hash(tomorrow, identity)
    assert mark != counter.visitor_hash(
        counter.daily_salt("other key", date(2026, 12, 4)), identity
    )
    assert "203" not in mark and len(mark) == 32
    assert counter.visitor_identity(7, "203.0.113.7", BROWSER) == "user:7"


def test_months() -> None:
    assert counter.month_of(datetime(2026, 1, 31, 23, 59, 59)) == "2026-01"
    assert counter.months_between("2025-11", "2026-02") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert counter.previous_months("2026-03", 12) == "2025-04"
    assert counter.is_month("2026-12") and not counter.is_month("2026-13")


# --- counting -----------------------------------------------------------------------


def event(app: Flask, document_id: int, at: datetime, *, visitor: str = BROWSER, file_id=None):
    metric = UsageMetric.DOWNLOAD if file_id else UsageMetric.VIEW
    return statistics.usage_event(
        metric,
        document_id=document_id,
        document_status=DocumentStatus.RELEASED,
        variant_status=VariantStatus.APPROVED,
        language="en",
        file_id=file_id,
        media_type="text/plain" if file_id else "",
        user_id=None,
        address="198.51.100.1",
        user_agent=visitor,
        secret_key=app.config["SECRET_KEY"],
        robots_path=str(ROBOTS),
        at=at,
    )


def written(app: Flask, *events) -> int:
    with app.app_context(), db.engine.begin() as connection:
        return len(statistics.write_events(connection, list(events)))


def counts(app: Flask, ref: str) -> dict[str, int]:
    with app.app_context():
        document_id = db.session.scalar(select(Document.id).where(Document.ref == ref))
        totals = statistics_queries.totals(None, document_id)
    assert totals is not None
    return {"views": totals.views, "downloads": totals.downloads}


def ids(app: Flask, ref: str) -> tuple[int, int]:
    """The record's id and its first file's."""
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.ref == ref))
        return document.id, document.variants[0].files[0].id


def status(client: FlaskClient, path: str, **options) -> int:
    """The status a GET answers, its body read and the file it sent closed."""
    response = client.get(path, **options)
    response.close()
    return response.status_code


@pytest.fixture
def released(import_rows) -> None:
    assert import_rows(RECORDS).failed == 0


def test_a_double_click_within_30_seconds_counts_once_and_after_30_seconds_twice(
    app: Flask, released
) -> None:
    record, __ = ids(app, "USE-0")
    start = datetime(2026, 5, 10, 12, 0, 0)
    assert written(app, event(app, record, start)) == 1
    # Each written on its own, as two workers or two flushes would.
    assert written(app, event(app, record, start + timedelta(seconds=29))) == 0
    assert written(app, event(app, record, start + timedelta(seconds=31))) == 1
    assert counts(app, "USE-0")["views"] == 2
    # In one batch: the same rule.
    later = start + timedelta(minutes=5)
    batch = [event(app, record, later + timedelta(seconds=s)) for s in (0, 10, 20, 50)]
    assert written(app, *batch) == 2
    # Another visitor at the same moment is another request.
    assert written(app, event(app, record, later, visitor=BROWSER + " other")) == 1
    assert counts(app, "USE-0")["views"] == 5


def test_two_processes_count_a_double_click_once(app: Flask, released) -> None:
    """Each server process keeps its own recorder; the database decides between them."""
    record, __ = ids(app, "USE-0")
    start = datetime(2026, 5, 10, 12, 0, 0)
    first, second = statistics.UsageRecorder(app), statistics.UsageRecorder(app)
    first.note(event(app, record, start))
    second.note(event(app, record, start + timedelta(seconds=5)))
    first.note(event(app, record, start + timedelta(seconds=10)))  # left out in the process
    assert counts(app, "USE-0")["views"] == 1
    second.note(event(app, record, start + timedelta(seconds=40)))
    first.note(event(app, record, start + timedelta(seconds=41)))
    assert counts(app, "USE-0")["views"] == 2


def test_requests_are_counted_by_month(app: Flask, released) -> None:
    record, file_id = ids(app, "USE-0")
    january_end = datetime(2026, 1, 31, 23, 59, 50)
    assert written(app, event(app, record, january_end)) == 1
    assert written(app, event(app, record, january_end + timedelta(minutes=1))) == 1
    assert written(app, event(app, record, january_end, file_id=file_id)) == 1
    with app.app_context():
        rows = db.session.execute(
            select(
                UsageCount.month, UsageCount.metric, UsageCount.media_type, UsageCount.count
            ).order_by(UsageCount.month, UsageCount.metric)
        ).all()
        report = statistics_queries.report(None, "2026-01", "2026-02")
    assert [tuple(r) for r in rows] == [
        ("2026-01", UsageMetric.DOWNLOAD, "text/plain", 1),
        ("2026-01", UsageMetric.VIEW, "", 1),
        ("2026-02", UsageMetric.VIEW, "", 1),
    ]
    assert [(r.key, r.views, r.downloads) for r in report.by_month] == [
        ("2026-01", 1, 1),
        ("2026-02", 1, 0),
    ]


def test_a_page_and_a_download_asked_twice_in_a_row_count_once(
    app: Flask, client: FlaskClient, released
) -> None:
    record, file_id = ids(app, "USE-0")
    headers = {"User-Agent": BROWSER}
    for __ in range(2):
        assert client.get(f"/documents/{record}", headers=headers).status_code == 200
        assert status(client, f"/documents/{record}/files/{file_id}", headers=headers) == 200
    assert counts(app, "USE-0") == {"views": 1, "downloads": 1}
    # Another browser on the same address is another visitor.
    other = {"User-Agent": BROWSER.replace("128.0", "129.0")}
    assert status(client, f"/documents/{record}/files/{file_id}", headers=other) == 200
    assert counts(app, "USE-0") == {"views": 1, "downloads": 2}


def test_robots_failures_and_unreleased_records_are_not_counted(
    app: Flask, client: FlaskClient, import_rows, make_user, released
) -> None:
    record, file_id = ids(app, "USE-0")
    robot = {"User-Agent": GOOGLEBOT}
    assert client.get(f"/documents/{record}", headers=robot).status_code == 200
    assert status(client, f"/documents/{record}/files/{file_id}", headers=robot) == 200
    # A file that is not this record's: 404, nothing sent, nothing counted.
    other_record, other_file = ids(app, "USE-1")
    assert status(client, f"/documents/{record}/files/{other_file}") == 404
    # The reader's copy is current: 304, nothing sent.
    again = client.get(f"/documents/{record}/files/{file_id}", headers={"User-Agent": BROWSER})
    assert again.status_code == 200
    again.close()
    unchanged = client.get(
        f"/documents/{record}/files/{file_id}",
        headers={"User-Agent": BROWSER + " x", "If-None-Match": again.headers["ETag"]},
    )
    assert unchanged.status_code == 304
    unchanged.close()
    assert counts(app, "USE-0") == {"views": 0, "downloads": 1}
    # Staff previewing a draft: not counted.
    assert import_rows([{**RECORDS[0], "ref": "USE-DRAFT"}], release=False).failed == 0
    draft, draft_file = ids(app, "USE-DRAFT")
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    assert staff.get(f"/documents/{draft}").status_code == 200
    assert status(staff, f"/documents/{draft}/files/{draft_file}") == 200
    with app.app_context():
        assert (
            db.session.scalar(select(UsageCount.id).where(UsageCount.document_id == draft)) is None
        )
    # Staff reading a released record are readers like any other.
    assert staff.get(f"/documents/{other_record}").status_code == 200
    assert counts(app, "USE-1") == {"views": 1, "downloads": 0}


def test_counting_can_be_turned_off(app: Flask, client: FlaskClient, released) -> None:
    record, file_id = ids(app, "USE-0")
    app.config["USAGE_STATISTICS"] = False
    assert client.get(f"/documents/{record}").status_code == 200
    assert status(client, f"/documents/{record}/files/{file_id}") == 200
    assert counts(app, "USE-0") == {"views": 0, "downloads": 0}


def test_no_address_or_browser_is_kept_anywhere(app: Flask, client: FlaskClient, released) -> None:
    record, file_id = ids(app, "USE-0")
    address, browser = "203.0.113.77", "Mozilla/5.0 Unmistakable-Browser-Marker/9.9"
    reader = {"REMOTE_ADDR": address}
    assert (
        client.get(
            f"/documents/{record}", headers={"User-Agent": browser}, environ_base=reader
        ).status_code
        == 200
    )
    assert (
        status(
            client,
            f"/documents/{record}/files/{file_id}",
            headers={"User-Agent": browser},
            environ_base=reader,
        )
        == 200
    )
    assert counts(app, "USE-0") == {"views": 1, "downloads": 1}
    with app.app_context():
        stored = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                stored += [str(value) for value in row]
        # The double-click marks were written: what stands for the visitor is a hash.
        assert db.session.execute(text("SELECT count(*) FROM usage_click")).scalar() == 2
    dump = "\n".join(stored)
    for leak in (address, "203.0.113", "Unmistakable-Browser-Marker", "Mozilla/5.0"):
        assert leak not in dump


def test_a_failure_to_count_leaves_the_page_and_the_file_served(
    app: Flask, client: FlaskClient, released, caplog: pytest.LogCaptureFixture
) -> None:
    record, file_id = ids(app, "USE-0")
    with app.app_context():
        db.session.execute(text("DROP TABLE usage_click"))
        db.session.execute(text("DROP TABLE usage_count"))
        db.session.commit()
    with caplog.at_level(logging.ERROR):
        page = client.get(f"/documents/{record}", headers={"User-Agent": BROWSER})
        download = client.get(
            f"/documents/{record}/files/{file_id}", headers={"User-Agent": BROWSER}
        )
    assert page.status_code == 200 and "Cooperative finance 0" in page.get_data(as_text=True)
    assert download.status_code == 200 and download.data.startswith(b"Cooperatives")
    download.close()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("could not be counted" in message for message in logged)


def test_the_record_page_shows_the_counts_in_the_readers_language(
    app: Flask, client: FlaskClient, released
) -> None:
    record, __ = ids(app, "USE-0")
    with app.app_context():
        db.session.add_all(
            [
                UsageCount(
                    document_id=record,
                    month="2026-01",
                    metric=UsageMetric.VIEW,
                    language="en",
                    media_type="",
                    count=1234,
                ),
                UsageCount(
                    document_id=record,
                    month="2026-02",
                    metric=UsageMetric.DOWNLOAD,
                    language="en",
                    media_type="text/plain",
                    count=567,
                ),
            ]
        )
        db.session.commit()
    robot = {"User-Agent": GOOGLEBOT}  # the page itself adds nothing to what it shows
    english = client.get(f"/documents/{record}?lang=en", headers=robot).get_data(as_text=True)
    assert "1,234 views · 567 downloads" in english
    arabic = client.get(f"/documents/{record}?lang=ar", headers=robot).get_data(as_text=True)
    views, downloads = format_decimal(1234, locale="ar"), format_decimal(567, locale="ar")
    assert f"{views} مشاهدة · {downloads} تنزيلًا" in arabic
    assert "1,234 views" not in arabic


def test_the_api_gives_each_records_totals(app: Flask, client: FlaskClient, released) -> None:
    record, file_id = ids(app, "USE-0")
    assert client.get(f"/api/documents/{record}").json["statistics"] == {"views": 0, "downloads": 0}
    assert client.get(f"/documents/{record}", headers={"User-Agent": BROWSER}).status_code == 200
    assert (
        status(client, f"/documents/{record}/files/{file_id}", headers={"User-Agent": BROWSER})
        == 200
    )
    assert client.get(f"/api/documents/{record}").json["statistics"] == {"views": 1, "downloads": 1}
    assert client.get("/api/documents/ref/USE-0").json["statistics"] == {"views": 1, "downloads": 1}


def test_the_staff_report_and_its_csv(app: Flask, client: FlaskClient, make_user, released) -> None:
    first, first_file = ids(app, "USE-0")
    second, __ = ids(app, "USE-1")
    start = datetime(2026, 3, 1, 9, 0, 0)
    written(
        app,
        event(app, first, start),
        event(app, first, start, file_id=first_file),
        event(app, first, start, visitor=BROWSER + " b"),
        event(app, second, start + timedelta(days=31)),
    )
    sign_in(client, make_user("staff"))
    page = client.get("/staff/statistics?from=2026-03&to=2026-04&lang=en")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "In all: 3 views, 1 downloads." in body
    for shown in ("ILO", "FAO", "By organization", "By type", "By language version"):
        assert shown in body
    assert 'href="/staff/statistics"' in client.get("/staff/").get_data(as_text=True)
    # A span outside the counts: nothing.
    assert "In all: 0 views, 0 downloads." in client.get(
        "/staff/statistics?from=2025-01&to=2025-02"
    ).get_data(as_text=True)
    assert "YYYY-MM" in client.get("/staff/statistics?from=March").get_data(as_text=True)

    exported = client.get("/staff/statistics.csv?from=2026-03&to=2026-04")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["month", "ref", "type", "organizations", "language", "views", "downloads"]
    assert rows[1:] == [
        ["2026-03", "USE-0", "report", "ILO", "en", "2", "1"],
        ["2026-04", "USE-1", "guide", "FAO", "en", "1", "0"],
        ["total", "", "", "", "", "3", "1"],
    ]
    assert client.get("/staff/statistics.csv?from=2026-05&to=2026-04").status_code == 400


@pytest.mark.slow
def test_a_new_installation_counts_a_download_served_by_a_real_server(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    for command in (("hub", "init"), ("hub", "demo")):
        done = run_hub(config, *command)
        assert done.returncode == 0, done.stderr
    with FlaskServer(config) as server:
        found = requests.get(f"{server.url}/api/search?q=&per_page=1", timeout=30).json()
        record = requests.get(
            found["results"][0]["url"].replace("http://hub.test", server.url), timeout=30
        )
        assert record.status_code == 200
        api = f"{server.url}/api/documents/{found['results'][0]['id']}"
        described = requests.get(api, timeout=30).json()
        before = described["statistics"]
        file_url = described["languages"][0]["files"][0]["url"]
        path = file_url[file_url.index("/documents/") :]
        assert requests.get(server.url + path, headers={"User-Agent": BROWSER}, timeout=30).ok
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            after = requests.get(api, timeout=30).json()["statistics"]
            if after["downloads"] > before["downloads"]:
                break
            time.sleep(0.3)
        assert after == {"views": before["views"], "downloads": before["downloads"] + 1}
