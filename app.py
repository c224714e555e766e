"""The application object for `flask --app app` and WSGI servers."""

import faulthandler

from knowledge_hub import create_app
from knowledge_hub.cli.setup import set_up_before_serving

# A crash below Python (a segmentation fault, an abort) leaves the Python traceback of
# every thread in the server's log, not just an exit status. gunicorn.conf.py may have
# pointed it at gunicorn's error log already.
if not faulthandler.is_enabled():
    faulthandler.enable(all_threads=True)

app = create_app()
set_up_before_serving(app)  # `flask run` on a new database: ready before it listens
