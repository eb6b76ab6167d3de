"""CSS and the few pieces of JavaScript the chat page needs, kept as constants so they ship with the code.

Everything here is served by the app itself: no web fonts, no CDN, nothing from outside 127.0.0.1.
"""

from __future__ import annotations

BRIDGE_JS = """
// Buttons inside chat bubbles cannot carry Gradio listeners (bubbles are sanitised HTML), so one
// document-level listener turns a click on a `button.qa-ask` into this component's 'click' event,
// with the question in the event data. The latest `trigger` wins if the component is mounted again.
window.__qaAsk = (question) => trigger('click', { question });
if (!window.__qaAskListener) {
  window.__qaAskListener = true;
  document.addEventListener('click', (event) => {
    const path = event.composedPath ? event.composedPath() : [event.target];
    const button = path.find((node) => node instanceof HTMLButtonElement && node.classList.contains('qa-ask'));
    if (!button || !button.value) return;
    event.preventDefault();
    window.__qaAsk(button.value);
  });
}
"""

NOTICE_JS = """
// A safety notice must be seen: bring it into view when it appears (mount) or its text changes.
const show = () => element.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
show();
watch('value', show);
"""

COUNTER_JS = """
(text) => {
  // The question box has no maxlength (the browser would cut a paste without a word): this counter,
  // run in the page on every change of the box (typing, pasting, or emptied after a send), says how long
  // the message is. Code points of the trimmed text, as the server counts them.
  const limit = __LIMIT__;
  const length = [...String(text ?? '').trim()].length;
  const over = length > limit;
  const words = `${length.toLocaleString('en-US')} / ${limit.toLocaleString('en-US')} characters`
    + (over ? ' \u00b7 too long for answers: shorten it' : '');
  return [`<div class="qa-counter${over ? ' qa-counter-over' : ''}">${words}</div>`];
}
"""
"""Browser-side counter for `question.change(None, [question], [counter], js=...)`; `__LIMIT__` is filled in."""

CSS = """
.gradio-container { max-width: 900px !important; margin: 0 auto !important; }
#qa-title h1 { margin-bottom: 0.1em; }
#qa-title p { margin-top: 0; color: var(--body-text-color-subdued); }

.qa-verbatim { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-reply, .qa-user { line-height: 1.5; }
.qa-answer { margin: 0; }
.qa-cite { margin-top: 0.6em; font-size: 0.85em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
.qa-cite-label { font-weight: 600; }
.qa-cite-link { margin-left: 0.25em; }
.qa-more { margin-top: 0.75em; border-top: 1px solid var(--border-color-primary); padding-top: 0.5em; }
.qa-more summary { cursor: pointer; font-size: 0.9em; font-weight: 600; }
.qa-more-item { margin-top: 0.75em; }
.qa-more-question { font-weight: 600; margin-bottom: 0.25em; }
.qa-related { margin-top: 0.75em; display: flex; flex-wrap: wrap; gap: 0.4em; }
.qa-related-label { width: 100%; font-size: 0.85em; font-weight: 700; }
button.qa-ask {
  font: inherit; font-size: 0.9em; text-align: left; cursor: pointer; line-height: 1.3;
  padding: 0.35em 0.8em; border-radius: 1em; max-width: 100%;
  border: 1px solid var(--color-accent); color: var(--color-accent);
  background: var(--background-fill-primary);
}
button.qa-ask:hover, button.qa-ask:focus-visible { background: var(--color-accent-soft); }
.qa-no-answer { font-weight: 600; margin: 0; }
.qa-hint { margin: 0.5em 0 0; }
.qa-flag-pointer { font-weight: 700; margin-bottom: 0.5em; }
.qa-flag-emergency { color: #b00020; }
.qa-flag-urgent { color: #8a4b00; }

#qa-emergency .html-container, #qa-urgent .html-container { padding: 0 !important; }
.qa-notice { border-radius: 8px; padding: 0.8em 1em; line-height: 1.45; }
.qa-notice p { margin: 0.35em 0; color: inherit !important; }
.qa-notice-head { font-weight: 700; font-size: 1.1em; }
.qa-emergency { background: #b00020; color: #ffffff !important; border: 3px solid #7a0016; }
.qa-urgent { background: #fff4e0; color: #4a2a00 !important; border: 2px solid #e08a00; border-left-width: 8px; }

#qa-counter { margin-top: -0.5em; }
.qa-counter { text-align: right; font-size: 0.85em; color: var(--body-text-color-subdued); }
.qa-counter-over { color: #b00020; font-weight: 700; }

#qa-disclaimer { font-size: 0.85em; color: var(--body-text-color-subdued); text-align: center; }
#qa-disclaimer p { margin: 0; }

@media (max-width: 600px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .qa-notice { padding: 0.6em 0.75em; font-size: 0.95em; }
  #qa-title h1 { font-size: 1.4em; }
  #qa-chat .message-row.bubble { max-width: 100% !important; }
}
"""
