"""The `hub` command group: `flask --app app hub COMMAND`, one module per family."""

from __future__ import annotations

from flask.cli import AppGroup

from knowledge_hub.cli.accounts import create_token_command
from knowledge_hub.cli.accounts import create_user_command
from knowledge_hub.cli.files import backup_command
from knowledge_hub.cli.files import check_command
from knowledge_hub.cli.files import ocr_command
from knowledge_hub.cli.files import reextract_command
from knowledge_hub.cli.files import restore_command
from knowledge_hub.cli.index import reindex_command
from knowledge_hub.cli.mail import invite_command
from knowledge_hub.cli.mail import send_alerts_command
from knowledge_hub.cli.mail import send_mail_command
from knowledge_hub.cli.records import import_command
from knowledge_hub.cli.records import release_command
from knowledge_hub.cli.setup import demo_command
from knowledge_hub.cli.setup import first_start_command
from knowledge_hub.cli.setup import init_command

hub = AppGroup("hub", help="Knowledge Hub administration.")

for command in (
    init_command,  # setup: the database, vocabularies and index
    demo_command,
    first_start_command,
    create_user_command,  # accounts: people and API tokens
    create_token_command,
    import_command,  # records: bulk import and release
    release_command,
    reindex_command,  # index
    check_command,  # files: fixity, their text, backup and restore
    reextract_command,
    ocr_command,
    backup_command,
    restore_command,
    invite_command,  # mail: invitations, the queue and alerts
    send_mail_command,
    send_alerts_command,
):
    hub.add_command(command)
