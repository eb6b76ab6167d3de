"""The Gradio chat front end (see the chat issue)."""
