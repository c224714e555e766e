"""Saved searches and translation alerts: saving, confirming, managing, unsubscribing;
and sending the mail a request queued once its response has gone."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask import current_app
from flask.wrappers import Response

from knowledge_hub.extensions import db
from knowledge_hub.services import mail as mail_service

log = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.after_app_request
def _send_queued_mail_after_the_response(response: Response) -> Response:
    """A request that queued mail sends it when its response is done, so that an
    invitation or a reset link arrives at once; `hub send-mail` catches up otherwise."""
    if not db.session.info.pop("mail_queued", False):
        return response
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SEND_AFTER_REQUEST"):
        return response

    def send() -> None:
        with app.app_context():
            try:
                mail_service.send_queued(limit=20)
            except Exception:
                # The mail is committed in the queue: a scheduled `hub send-mail` sends it.
                log.exception("sending the queued mail after a request failed")

    response.call_on_close(send)
    return response
