"""AskResult -> safe HTML for chat bubbles and notices (no Gradio here, so it is unit-testable).

Why HTML and not Markdown: answers must appear verbatim (line breaks, list numbers, bullets,
curly quotes), and neither user nor corpus text may ever turn into markup. Every piece of text
goes through `text()` (HTML-escaped, line breaks as <br>), and each bubble is one single-line
block starting with <div>: the chat's Markdown renderer treats that as a raw HTML block and
applies no Markdown to it, so `**x**` or `[a](javascript:...)` stay literal characters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from qa.records import QUESTION_MAX_CHARS, Answer, AskResult, Citation, RedFlag, Suggestion

ASK_BUTTON_CLASS = "qa-ask"
"""Buttons with this class ask their `value` when clicked (see ui/chat.py, the click bridge)."""
NOTICE_TOGGLE_CLASS = "qa-notice-toggle"
"""The button that unfolds the rest of a notice on a phone (see assets.NOTICE_JS)."""

NO_ANSWER = "The sources I use have no answer for that."
NO_SUGGESTIONS = "Try asking about twitching, spasms or seizures in babies, in your own words."
NOTICE_MORE = "The signs, and what to do while you wait"

SUGGESTION_FLOOR = 0.15
"""Suggestions (related or closest questions) are offered only at or above this score.

A suggestion's score is the engine's calibrated chance that the entry answers the message, and
an offer of "infantile spasms" to a parent who asked about a stroller is worse than no offer: it
alarms and does not help. Measured on the development sets eval/retrieval/dev3-dev6 (258
off-topic messages) with the ranker of December 2026: at 0.10, 30 off-topic messages still got
suggestions (a rash on the cheeks was offered "What does a cluster of spasms look like?"); at 0.15,
2 did, both close to the topic (a child's tics, a febrile seizure and epilepsy). With the ranker
before it: 45 and 9. 0.15 is just under the ranker's abstain threshold (0.153), so what is offered
is what the engine nearly answered, and questions it answers keep their close neighbours (e.g. the
other spasm entries under "what do infantile spasms look like"). Re-measure when the ranker changes.
"""

CALL_NUMBERS = ("911", "999", "112", "111")
"""Phone numbers the fixed notices name (qa/safety/banners.py); shown as tap-to-call links."""
_CALL = re.compile(r"(?<![\d.,])(" + "|".join(CALL_NUMBERS) + r")(?!\d|[.,]\d)")


def text(value: str) -> str:
    """Escape text for HTML, keeping every line break as <br> and no raw newline at all.

    No newline may survive: a blank line would end the raw HTML block and let Markdown
    parse the rest. Spaces are kept by the CSS (`white-space: pre-wrap`).
    """
    escaped = html.escape(value, quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>").replace("\t", "&#9;")


def _attr(value: str) -> str:
    return html.escape(value, quote=True).replace("\n", "&#10;").replace("\r", "&#13;")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are shown; anything else (javascript:, data:, relative) is dropped."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


def _where(cite: Citation) -> str:
    first, last = cite.lines
    return f"{cite.source}, lines {first}-{last}"


def citation(cite: Citation) -> str:
    """Where an answer comes from, all escaped.

    With a title or publisher: 'From: <title>, <publisher>' (a link when the source has a web
    address), and the file and lines below it in small print, for maintainers. Without either:
    'Source: "question" · file, lines a-b', and the link when there is one.
    """
    url = safe_url(cite.url)
    name = ", ".join(part.strip() for part in (cite.title, cite.publisher) if part and part.strip())
    if name:
        shown = f'<a class="qa-cite-link" href="{_attr(url)}">{text(name)}</a>' if url else text(name)
        return (
            f'<div class="qa-cite"><span class="qa-cite-label">From:</span> <span class="qa-cite-from">{shown}</span>'
            '<div class="qa-cite-maint"><span class="qa-cite-maint-label">Maintainer details:</span> '
            f'<span class="qa-cite-question">\u201c{text(cite.question)}\u201d</span>'
            '<span class="qa-cite-sep"> \u00b7 </span>'
            f'<span class="qa-cite-where">{text(_where(cite))}</span></div></div>'
        )
    parts = [
        '<span class="qa-cite-label">Source:</span> ',
        f'<span class="qa-cite-question">\u201c{text(cite.question)}\u201d</span>',
        '<span class="qa-cite-sep"> \u00b7 </span>',
        f'<span class="qa-cite-where">{text(_where(cite))}</span>',
    ]
    if url:
        parts.append(f' <a class="qa-cite-link" href="{_attr(url)}">{text(url)}</a>')
    return f'<div class="qa-cite">{"".join(parts)}</div>'


def answer_block(answer: Answer) -> str:
    return f'<div class="qa-answer qa-verbatim">{text(answer.text)}</div>{citation(answer.citation)}'


def ask_buttons(questions: Sequence[str]) -> str:
    """One-click questions; the value attribute survives Gradio's sanitiser (data-* does not)."""
    return "".join(
        f'<button type="button" class="{ASK_BUTTON_CLASS}" value="{_attr(q)}">{text(q)}</button>' for q in questions
    )


def helpful_suggestions(suggestions: Sequence[Suggestion], floor: float = SUGGESTION_FLOOR) -> list[Suggestion]:
    """The suggestions worth offering (see `SUGGESTION_FLOOR`), best first as the engine gave them."""
    return [s for s in suggestions if s.score >= floor]


def _more_matches(answers: Sequence[Answer]) -> str:
    if not answers:
        return ""
    label = "1 more match" if len(answers) == 1 else f"{len(answers)} more matches"
    items = "".join(
        f'<div class="qa-more-item"><div class="qa-more-question">{text(a.citation.question)}</div>'
        f"{answer_block(a)}</div>"
        for a in answers
    )
    return f'<details class="qa-more"><summary>{label}</summary>{items}</details>'


def _offer(label: str, suggestions: Sequence[Suggestion]) -> str:
    if not suggestions:
        return ""
    return (
        f'<div class="qa-related"><div class="qa-related-label">{text(label)}</div>'
        f"{ask_buttons([s.question for s in suggestions])}</div>"
    )


def flag_pointer(tier: str | None) -> str:
    """A short pointer in the bubble, in case the notice above is scrolled out of view.

    Shown only while that notice is up (ui/chat.py re-renders older bubbles without it).
    """
    if tier == "emergency":
        return '<div class="qa-flag-pointer qa-flag-emergency">Please read the emergency notice at the top.</div>'
    if tier == "urgent":
        return '<div class="qa-flag-pointer qa-flag-urgent">Please read the notice at the top.</div>'
    return ""


def reply(result: AskResult, pointer: bool = True) -> str:
    """The bot bubble: best answer verbatim + citation, further matches collapsed, helpful related questions."""
    flag = flag_pointer(result.red_flag.tier if result.red_flag.triggered else None) if pointer else ""
    offered = helpful_suggestions(result.suggestions)
    if result.abstained or not result.answers:
        hint = "" if result.red_flag.triggered else f'<p class="qa-hint">{text(NO_SUGGESTIONS)}</p>'  # act, not browse
        offer = _offer("Closest questions I can answer:", offered) or hint
        body = f'<p class="qa-no-answer">{text(NO_ANSWER)}</p>{offer}'
        return f'<div class="qa-reply qa-abstained">{flag}{body}</div>'
    best, *more = result.answers
    return (
        f'<div class="qa-reply">{flag}<div class="qa-best">{answer_block(best)}</div>'
        f"{_more_matches(more)}{_offer('Related questions:', offered)}</div>"
    )


def too_long(length: int, red_flag: RedFlag, pointer: bool = True) -> str:
    """The bubble for a message too long to answer: how long it is and what to do (the safety check read it all)."""
    words = (
        f"Your message is {length:,} characters long. Shorten it to {QUESTION_MAX_CHARS:,} characters or fewer "
        "to get answers from the sources."
    )
    flag = flag_pointer(red_flag.tier if red_flag.triggered else None) if pointer else ""
    return f'<div class="qa-reply qa-too-long">{flag}<p class="qa-no-answer">{text(words)}</p></div>'


def counter(length: int, limit: int = QUESTION_MAX_CHARS) -> str:
    """The character count under the question box; `assets.COUNTER_JS` writes the same in the page."""
    over = " qa-counter-over" if length > limit else ""
    note = " \u00b7 too long for answers: shorten it" if over else ""
    return f'<div class="qa-counter{over}">{length:,} / {limit:,} characters{note}</div>'


def user_message(question: str) -> str:
    """The user's bubble: their words, escaped, never interpreted."""
    return f'<div class="qa-user qa-verbatim">{text(question)}</div>'


def call_links(line: str) -> str:
    """A line of fixed notice text, escaped, with each phone number it names as a tap-to-call link."""
    return _CALL.sub(
        lambda match: f'<a class="qa-tel" href="tel:{match[1]}" aria-label="Call {match[1]}">{match[1]}</a>', text(line)
    )


def notice(banner: str, *, role: str, kind: str, fold: bool = False) -> str:
    """A safety notice: the fixed reviewed text, first line as the heading, one paragraph per line.

    `fold`: on a phone the lines after the heading are folded under a toggle button, so the
    heading, its call links and the question box fit on the first screen. They are folded with
    CSS (clipped to a two-line preview, see assets.CSS), never `display: none` or a closed
    <details>, so a screen reader reads the whole notice as the alert it is; the button says
    with aria-expanded whether it is open. On a wider screen everything shows and the button is
    not displayed.
    """
    lines = [line for line in banner.splitlines() if line.strip()]
    if not lines:
        return ""
    head, *rest = lines
    paragraphs = "".join(f"<p>{call_links(line)}</p>" for line in rest)
    heading = f'<p class="qa-notice-head">{call_links(head)}</p>'
    body = ""
    if rest and fold:
        more_id = f"qa-{_attr(kind)}-more"
        body = (
            f'<div class="qa-notice-more" id="{more_id}">{paragraphs}</div>'
            f'<button type="button" class="{NOTICE_TOGGLE_CLASS}" aria-expanded="false" aria-controls="{more_id}">'
            f"{text(NOTICE_MORE)}</button>"
        )
    elif rest:
        body = f'<div class="qa-notice-more">{paragraphs}</div>'
    classes = f"qa-notice qa-{_attr(kind)}" + (" qa-foldable" if fold and rest else "")
    return f'<div class="{classes}" role="{_attr(role)}">{heading}{body}</div>'
