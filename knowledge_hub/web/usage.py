"""Counting the request being answered as a COUNTER view or download, once its answer
is known to be a success (knowledge_hub.services.statistics does the counting)."""

from __future__ import annotations

import logging

from flask import Response
from flask import after_this_request
from flask import current_app
from flask import request

from knowledge_hub.models import Document
from knowledge_hub.models import StoredFile
from knowledge_hub.models import UsageMetric
from knowledge_hub.models import Variant
from knowledge_hub.services import statistics
from knowledge_hub.web.permissions import viewer

log = logging.getLogger(__name__)

#: Answers that deliver the page or the file: a 304 (the reader's copy is current) or
#: an error delivers nothing. 206 is a part of a file, as a PDF viewer asks for them;
#: the parts of one reading are one request by the double-click rule.
COUNTED_STATUSES = frozenset({200, 206})


def count_view(document: Document, variant: Variant | None) -> None:
    """Count the record page being answered, if it succeeds."""
    if variant is not None:
        _count_when_served(UsageMetric.VIEW, document, variant)


def count_download(stored: StoredFile) -> None:
    """Count the file being sent, if it is sent."""
    variant = stored.variant
    _count_when_served(UsageMetric.DOWNLOAD, variant.document, variant, stored)


def _count_when_served(
    metric: UsageMetric, document: Document, variant: Variant, stored: StoredFile | None = None
) -> None:
    config = current_app.config
    if not config.get("USAGE_STATISTICS", True):
        return
    try:
        reader = viewer()
        # Read now, while the rows are loaded: the answer is counted after the view.
        event = statistics.usage_event(
            metric,
            document_id=document.id,
            document_status=document.status,
            variant_status=variant.status,
            language=variant.language,
            file_id=stored.id if stored else None,
            media_type=stored.media_type if stored else "",
            user_id=reader.id if reader else None,
            address=request.remote_addr,
            user_agent=request.user_agent.string,
            secret_key=config["SECRET_KEY"],
            robots_path=config["COUNTER_ROBOTS"],
        )
    except Exception:
        log.exception("a %s of record %s could not be counted", metric, document.id)
        return
    if event is None:
        return

    @after_this_request
    def counted(response: Response) -> Response:
        if response.status_code in COUNTED_STATUSES:
            statistics.count(event)
        return response
