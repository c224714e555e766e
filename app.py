"""The application object for `flask --app app` and WSGI servers."""

import faulthandler

from knowledge_hub import create_app

# A crash below Python (a segmentation fault, an abort) leaves the Python traceback of
# every thread in the server's log, not just an exit status. gunicorn.conf.py may have
# pointed it at gunicorn's error log already.
if not faulthandler.is_enabled():
    faulthandler.enable(all_threads=True)

app = create_app()
