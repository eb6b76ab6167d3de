"""The chat page: a Gradio Blocks that only talks to `QAService` (`ask`, `red_flag`) and the feedback store.

Layout, top to bottom: title, the emergency banner and the urgent notice (hidden until a message
needs them), the conversation, the question box with its character counter, the disclaimer.
Bubbles are HTML built by `ui.render` from escaped text, so neither users nor the corpus can
inject markup. The box takes a message of any length (a browser `maxlength` would cut a paste
without a word): one over the question limit is still read whole by the safety check, and the
reply says how long it is and to shorten it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gradio as gr
from fastapi import FastAPI

from qa import logs
from qa.api.main import NO_TELEMETRY
from qa.config import Settings
from qa.errors import QAError
from qa.records import QUESTION_MAX_CHARS, AskResult, RedFlag
from qa.safety import DISCLAIMER, EMERGENCY_BANNER, URGENT_NOTICE
from ui import render
from ui.assets import BRIDGE_JS, COUNTER_JS, CSS, NOTICE_JS
from ui.feedback import FeedbackStore

EXAMPLES: tuple[str, ...] = (
    "My baby's face twitches, is that normal?",
    "What do infantile spasms look like?",
    "What does a febrile seizure look like?",
    "How can I tell if my baby is having a seizure?",
)
"""Shown on the empty chat; written the way parents ask, answered by the seed corpus."""

PLACEHOLDER = (
    "**Ask about twitching, spasms or seizures in babies, in your own words.**\n\n"
    "Answers are quoted word for word from curated sources, with where they come from."
)


class AskService(Protocol):
    """All the chat needs from the engine (`qa.service.QAService` is one): never the index itself."""

    def ask(self, question: str, top_k: int = 3) -> AskResult: ...

    def red_flag(self, message: str) -> RedFlag: ...


@dataclass(frozen=True)
class Reply:
    """What one bot bubble showed: the facts a thumbs up/down is about."""

    reply_id: str
    question: str
    answer_ids: list[str]
    abstained: bool
    index_version: str


@dataclass(frozen=True)
class Bubble:
    """One chat message: its HTML, and for a flagged reply the same with a pointer to the notice."""

    role: str
    html: str
    tier: str | None = None
    """The notice this reply called for ("emergency" or "urgent"), if any."""
    pointed: str | None = None
    """`html` with "Please read the ... notice at the top": shown only while that notice is up."""


@dataclass
class Conversation:
    """Per-browser-session state, kept on the server (the client never sends it back)."""

    bubbles: list[Bubble] = field(default_factory=list)
    replies: dict[int, Reply] = field(default_factory=dict)
    """Bot replies by their index in `bubbles` (the index a like event reports)."""
    notice: tuple[str, str] | None = None
    """(tier, HTML) of the notice on the page now, or None."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat's value. A bubble points to the notice only while the notice it called for is up,
        so "Please read the emergency notice at the top" never outlives the notice."""
        showing = self.notice[0] if self.notice else None
        return [
            _message(b.role, b.pointed if b.pointed is not None and b.tier == showing else b.html) for b in self.bubbles
        ]

    def add(self, question_html: str, reply: Bubble) -> int:
        """Append a question and its reply; returns the reply's index."""
        self.bubbles += [Bubble("user", question_html), reply]
        return len(self.bubbles) - 1


def _message(role: str, html: str) -> dict[str, Any]:
    # A typed text dict, not a bare str: Gradio runs `inspect.cleandoc` on bare strings.
    return {"role": role, "content": {"type": "text", "text": html}}


def _bubble(flag: RedFlag, plain: str, pointed: str) -> Bubble:
    tier = flag.tier if flag.triggered else None
    return Bubble("assistant", plain, tier, pointed if tier else None)


def _wanted_notice(flag: RedFlag) -> tuple[str, str] | None:
    """(tier, HTML) of the notice a red flag calls for: at most one shows, none when benign."""
    if flag.tier == "emergency":
        return "emergency", render.notice(flag.banner or EMERGENCY_BANNER, role="alert", kind="emergency", fold=True)
    if flag.tier == "urgent":
        return "urgent", render.notice(flag.banner or URGENT_NOTICE, role="status", kind="urgent")
    return None


def _notices(flag: RedFlag, convo: Conversation) -> tuple[Any, Any]:
    """Updates for (emergency banner, urgent notice); `convo.notice` becomes what shows.

    A notice already showing with the same text is not sent again: the page keeps the very same
    role="alert" element, so a screen reader announces the emergency once, not after every message.
    """
    wanted = _wanted_notice(flag)
    if wanted == convo.notice:
        return gr.update(), gr.update()
    convo.notice = wanted
    tier, html = wanted or (None, "")
    return (
        gr.update(visible=True, value=html) if tier == "emergency" else gr.update(visible=False),
        gr.update(visible=True, value=html) if tier == "urgent" else gr.update(visible=False),
    )


class ChatHandlers:
    """The event handlers, bound to one service and one (optional) feedback store."""

    def __init__(self, service: AskService, store: FeedbackStore | None, log_questions: bool = False) -> None:
        self.service = service
        self.store = store
        self.log_questions = log_questions

    def _answer(
        self, question: str, convo: Conversation, request: gr.Request | None = None
    ) -> tuple[tuple[Any, ...], bool]:
        """(conversation, chatbot, emergency banner, urgent notice) updates, and whether it was answered."""
        question = question if isinstance(question, str) else ""  # a hand-made event call may send null
        try:
            if len(question.strip()) > QUESTION_MAX_CHARS:
                return self._too_long(question, convo), False
            result = self.service.ask(question)
        except QAError as exc:  # empty, not text, or beyond what the safety check reads: say what to fix
            gr.Warning(str(exc))
            return (convo, gr.update(), gr.update(), gr.update()), False
        # Tagged with the id of the HTTP request that submitted it (the access log's line for it).
        request_id = logs.request_id_from(request.headers.get("x-request-id")) if request is not None else None
        logs.log_answer(result, request_id=request_id, question=result.question if self.log_questions else None)
        index = convo.add(
            render.user_message(result.question),
            _bubble(result.red_flag, render.reply(result, pointer=False), render.reply(result)),
        )
        convo.replies[index] = Reply(
            reply_id=uuid.uuid4().hex,
            question=result.question,
            answer_ids=[answer.id for answer in result.answers],
            abstained=result.abstained,
            index_version=result.index.version,
        )
        emergency, urgent = _notices(result.red_flag, convo)
        return (convo, convo.messages, emergency, urgent), True

    def _too_long(self, message: str, convo: Conversation) -> tuple[Any, ...]:
        """Too long to answer, never too long to read: the notices follow the whole message, and the
        reply says how long it is and to shorten it (the box keeps it, to be cut down)."""
        red_flag = self.service.red_flag(message)
        text = message.strip()
        plain, pointed = render.too_long(len(text), red_flag, pointer=False), render.too_long(len(text), red_flag)
        convo.add(render.user_message(text), _bubble(red_flag, plain, pointed))
        emergency, urgent = _notices(red_flag, convo)
        return convo, convo.messages, emergency, urgent

    def submit(self, question: str, convo: Conversation, request: gr.Request) -> tuple[Any, ...]:
        """Typed question; the box is emptied once answered and kept for fixing otherwise."""
        updates, ok = self._answer(question, convo, request)
        return (*updates, "" if ok else gr.update())

    def ask_example(self, convo: Conversation, event: gr.SelectData, request: gr.Request) -> tuple[Any, ...]:
        value = event.value if isinstance(event.value, dict) else {}
        return self._answer(str(value.get("text", "")), convo, request)[0]

    def ask_clicked(self, convo: Conversation, event: gr.EventData, request: gr.Request) -> tuple[Any, ...]:
        """A related or suggested question was clicked inside a bubble (see assets.BRIDGE_JS)."""
        try:
            question = str(event.question)
        except (AttributeError, TypeError):
            question = ""
        return self._answer(question, convo, request)[0]

    def clear(self) -> tuple[Any, ...]:
        """The chat's bin icon: start a new conversation and take the notices down with it."""
        return Conversation(), gr.update(visible=False), gr.update(visible=False)

    def rate(self, convo: Conversation, event: gr.LikeData) -> None:
        """A thumb clicked: stored if the store can take it. A locked or damaged database is logged for the
        maintainer (never the question: `QA_LOG_QUESTIONS` governs that) and the chat goes on answering."""
        if self.store is None or not isinstance(event.index, int):
            return
        reply = convo.replies.get(event.index)
        if reply is None:
            return
        try:
            if event.liked is True or event.liked is False:
                self.store.rate(
                    reply.reply_id,
                    question=reply.question,
                    answer_ids=reply.answer_ids,
                    abstained=reply.abstained,
                    rating="up" if event.liked else "down",
                    index_version=reply.index_version,
                )
            else:  # "" when the user clicks the selected thumb again
                self.store.withdraw(reply.reply_id)
        except QAError as exc:
            logging.getLogger("qa.chat").warning("feedback on reply %s not saved: %s", reply.reply_id, exc)


def build_chat(service: AskService, settings: Settings, examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The chat page. Serve it with `ui.mount_chat` (theme, CSS and page settings live in `chat_app`)."""
    store = FeedbackStore(settings.feedback_db) if settings.feedback_enabled else None
    handlers = ChatHandlers(service, store, log_questions=settings.log_questions)
    page: gr.Blocks = gr.Blocks(title="Infant seizures Q&A", analytics_enabled=False)
    with page:
        gr.Markdown(
            "# Infant seizures Q&A\nAnswers from curated sources about twitching, spasms and seizures in babies.",
            elem_id="qa-title",
        )
        emergency = gr.HTML(visible=False, elem_id="qa-emergency", js_on_load=NOTICE_JS)
        urgent = gr.HTML(visible=False, elem_id="qa-urgent", js_on_load=NOTICE_JS)
        convo = gr.State(Conversation())
        chatbot = gr.Chatbot(
            elem_id="qa-chat",
            label="Conversation",
            show_label=False,
            height="62vh",
            min_height=320,
            placeholder=PLACEHOLDER,
            examples=[{"text": question} for question in examples],
            feedback_options=("Like", "Dislike") if settings.feedback_enabled else None,
            latex_delimiters=[],
            buttons=[],
            layout="bubble",
            sanitize_html=True,
        )
        question = gr.Textbox(
            elem_id="qa-question",
            show_label=False,
            label="Your question",
            placeholder="Type your question, e.g. my baby jerks when falling asleep",
            lines=1,
            max_lines=4,
            submit_btn="Ask",
            autofocus=True,
        )
        counter = gr.HTML(render.counter(0), elem_id="qa-counter", js_on_load=None)
        gr.Markdown(render.text(DISCLAIMER), elem_id="qa-disclaimer")
        bridge = gr.HTML(visible="hidden", elem_id="qa-bridge", js_on_load=BRIDGE_JS)

        outputs = [convo, chatbot, emergency, urgent]
        question.submit(handlers.submit, [question, convo], [*outputs, question])
        # In the page only (no server round trip): typing, pasting, and the box emptied after a send.
        question.change(None, [question], [counter], js=COUNTER_JS.replace("__LIMIT__", str(QUESTION_MAX_CHARS)))
        chatbot.example_select(handlers.ask_example, [convo], outputs)
        bridge.click(handlers.ask_clicked, [convo], outputs)
        chatbot.clear(handlers.clear, None, [convo, emergency, urgent])
        if handlers.store is not None:
            # "multiple": a quick change of mind must not be dropped while the previous click is in flight;
            # the default concurrency limit of 1 keeps the clicks in order.
            chatbot.like(handlers.rate, [convo], None, trigger_mode="multiple")
    return page


def chat_app(parent: FastAPI, service: AskService, settings: Settings) -> Any:
    """The chat page as Gradio's ASGI app for "/" of `parent` (served there by `ui.mount`).

    Made through `gr.mount_gradio_app`, which configures the page and lets `parent`'s CORS policy
    stand for Gradio's own; that mounts it on `parent` too, and `ui.mount` takes that route away again.
    Its lifespan hook is put back: the chat's start-up is run by `ui.mount`, after the server's.
    """
    lifespan = parent.router.lifespan_context
    gr.mount_gradio_app(parent, build_chat(service, settings), path="/", **_mount_options())
    parent.router.lifespan_context = lifespan
    mounted = (getattr(route, "app", None) for route in reversed(parent.router.routes))
    return next(app for app in mounted if isinstance(app, gr.routes.App))


def _mount_options() -> dict[str, Any]:
    """Keyword arguments for `gr.mount_gradio_app` (in Gradio 6 theme and CSS go there, not to Blocks)."""
    return {
        "theme": gr.themes.Default(
            primary_hue="teal",
            secondary_hue="teal",
            # Bundled font files only (no Google Fonts); 700 because the packaged 600 file lacks glyphs.
            font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "system-ui", "sans-serif"),
        ),
        "css": CSS,
        "footer_links": [],  # the product's API lives at /docs, not Gradio's
        "run_history": False,  # never keep parents' questions in the browser
        "show_error": False,  # unexpected errors show a generic message, not internals
        "app_kwargs": {"telemetry": NO_TELEMETRY},  # as for the API's app (`qa.api.main`)
    }
