"""The JSON API: a thin HTTP edge over `QAService.ask`."""

from qa.api.main import create_app

__all__ = ["create_app"]
