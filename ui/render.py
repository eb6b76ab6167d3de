"""AskResult -> safe HTML for chat bubbles and notices (no Gradio here, so it is unit-testable).

Why HTML and not Markdown: answers must appear verbatim (line breaks, list numbers, bullets,
curly quotes), and neither user nor corpus text may ever turn into markup. Every piece of text
goes through `text()` (HTML-escaped, line breaks as <br>), and each bubble is one single-line
block starting with <div>: the chat's Markdown renderer treats that as a raw HTML block and
applies no Markdown to it, so `**x**` or `[a](javascript:...)` stay literal characters.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

from qa.records import QUESTION_MAX_CHARS, Answer, AskResult, Citation, RedFlag, Suggestion

ASK_BUTTON_CLASS = "qa-ask"
"""Buttons with this class ask their `value` when clicked (see ui/chat.py, the click bridge)."""

NO_ANSWER = "The sources I use have no answer for that."
NO_SUGGESTIONS = "Try asking about twitching, spasms or seizures in babies, in your own words."


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


def citation(cite: Citation) -> str:
    """'Source: "question" · file, lines a-b' and the link when there is one, all escaped."""
    first, last = cite.lines
    where = f"{cite.source}, lines {first}-{last}"
    parts = [
        '<span class="qa-cite-label">Source:</span> ',
        f'<span class="qa-cite-question">\u201c{text(cite.question)}\u201d</span>',
        '<span class="qa-cite-sep"> \u00b7 </span>',
        f'<span class="qa-cite-where">{text(where)}</span>',
    ]
    url = safe_url(cite.url)
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


def _flag_pointer(red_flag: RedFlag) -> str:
    """A short pointer in the bubble itself, in case the notice above is scrolled out of view."""
    if red_flag.tier == "emergency":
        return '<div class="qa-flag-pointer qa-flag-emergency">Please read the emergency notice at the top.</div>'
    if red_flag.tier == "urgent":
        return '<div class="qa-flag-pointer qa-flag-urgent">Please read the notice at the top.</div>'
    return ""


def reply(result: AskResult) -> str:
    """The bot bubble: best answer verbatim + citation, further matches collapsed, related questions."""
    if result.abstained or not result.answers:
        hint = "" if result.red_flag.triggered else f'<p class="qa-hint">{text(NO_SUGGESTIONS)}</p>'  # act, not browse
        offer = _offer("Closest questions I can answer:", result.suggestions) or hint
        body = f'<p class="qa-no-answer">{text(NO_ANSWER)}</p>{offer}'
        return f'<div class="qa-reply qa-abstained">{_flag_pointer(result.red_flag)}{body}</div>'
    best, *more = result.answers
    return (
        f'<div class="qa-reply">{_flag_pointer(result.red_flag)}<div class="qa-best">{answer_block(best)}</div>'
        f"{_more_matches(more)}{_offer('Related questions:', result.suggestions)}</div>"
    )


def too_long(length: int, red_flag: RedFlag) -> str:
    """The bubble for a message too long to answer: how long it is and what to do (the safety check read it all)."""
    words = (
        f"Your message is {length:,} characters long. Shorten it to {QUESTION_MAX_CHARS:,} characters or fewer "
        "to get answers from the sources."
    )
    return f'<div class="qa-reply qa-too-long">{_flag_pointer(red_flag)}<p class="qa-no-answer">{text(words)}</p></div>'


def counter(length: int, limit: int = QUESTION_MAX_CHARS) -> str:
    """The character count under the question box; `assets.COUNTER_JS` writes the same in the page."""
    over = " qa-counter-over" if length > limit else ""
    note = " \u00b7 too long for answers: shorten it" if over else ""
    return f'<div class="qa-counter{over}">{length:,} / {limit:,} characters{note}</div>'


def user_message(question: str) -> str:
    """The user's bubble: their words, escaped, never interpreted."""
    return f'<div class="qa-user qa-verbatim">{text(question)}</div>'


def notice(banner: str, *, role: str, kind: str) -> str:
    """A safety notice: the fixed reviewed text, first line as the heading, one paragraph per line."""
    lines = [line for line in banner.splitlines() if line.strip()]
    if not lines:
        return ""
    head, *rest = lines
    paragraphs = "".join(f"<p>{text(line)}</p>" for line in rest)
    heading = f'<p class="qa-notice-head">{text(head)}</p>'
    return f'<div class="qa-notice qa-{kind}" role="{_attr(role)}">{heading}{paragraphs}</div>'
