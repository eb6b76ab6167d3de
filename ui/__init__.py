"""The Gradio chat front end: `mount_chat` serves the page (`build_chat`) on a FastAPI app."""

import os

# Before gradio is imported anywhere through this package: no telemetry, no version check.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ui.chat import build_chat, mount_chat

__all__ = ["build_chat", "mount_chat"]
