"""The Gradio chat front end: `build_chat` makes the page, `mount_options` how to mount it."""

import os

# Before gradio is imported anywhere through this package: no telemetry, no version check.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ui.chat import build_chat, mount_options

__all__ = ["build_chat", "mount_options"]
