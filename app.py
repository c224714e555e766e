"""The application object for `flask --app app` and WSGI servers."""

from knowledge_hub import create_app

app = create_app()
