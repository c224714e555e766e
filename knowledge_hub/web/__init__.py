"""The web layer: pages, the API and the open interfaces, one blueprint each.

Around them: `permissions` (who is reading, the role guard), `hooks` (what runs around
every request), `errors` (error pages and API errors), `templating` (what every template
can call), `addresses` (the public address behind a proxy) and `security` (headers).
"""

from __future__ import annotations

from flask import Flask

from knowledge_hub.web import admin
from knowledge_hub.web import alerts
from knowledge_hub.web import api
from knowledge_hub.web import auth
from knowledge_hub.web import browse
from knowledge_hub.web import documents
from knowledge_hub.web import errors
from knowledge_hub.web import feeds
from knowledge_hub.web import fixity
from knowledge_hub.web import hooks
from knowledge_hub.web import meetings
from knowledge_hub.web import oai
from knowledge_hub.web import public
from knowledge_hub.web import review
from knowledge_hub.web import security
from knowledge_hub.web import staff
from knowledge_hub.web import templating
from knowledge_hub.web import tokens
from knowledge_hub.web import translations


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public.bp)  # home, search
    app.register_blueprint(documents.bp)  # record pages, files, citations
    app.register_blueprint(documents.permalinks)  # /r/<REF>
    app.register_blueprint(browse.bp)  # /browse/: by organization, topic, region, type, year
    api.register(app)  # under /api/ and /api/v1/
    app.register_blueprint(auth.bp)  # sign-in, invitations
    app.register_blueprint(staff.bp)  # /staff: records, uploads, imports
    app.register_blueprint(review.bp)  # /review: the release checklist
    app.register_blueprint(admin.bp)  # /admin
    app.register_blueprint(translations.bp)  # /translate
    app.register_blueprint(oai.bp)  # OAI-PMH
    app.register_blueprint(feeds.bp)  # feeds and sitemaps
    app.register_blueprint(fixity.bp)
    app.register_blueprint(tokens.bp)  # personal API tokens
    app.register_blueprint(meetings.bp)  # /meetings: the Task Force's meetings
    app.register_blueprint(alerts.bp)  # /alerts: saved searches, translation alerts
    errors.init_app(app)
    hooks.init_app(app)
    templating.init_app(app)
    security.init_app(app)
