"""The Gradio chat front end: `mount_chat` serves the page (`ui.chat`) at "/" of a FastAPI app.

Gradio itself is imported only when the chat is built, after the server has started (`ui.mount`).
"""

import os

# Before gradio is imported anywhere through this package: no telemetry, no version check.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ui.mount import mount_chat

__all__ = ["mount_chat"]
