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

// Two accessibility faults of Gradio 6's chatbot, mended in the page as they appear (the chat draws
// its examples again after Clear, and its messages on every update):
// - the example questions sit in a role="list" with no list items (axe: aria-required-children,
//   critical): the container becomes a labelled group of buttons;
// - every message <div> gets an aria-label holding the message's raw HTML source, on an element with
//   no role (axe: aria-prohibited-attr): removed, so the message's own text is what is read.
if (!window.__qaAriaFix) {
  const mend = () => {
    document.querySelectorAll('#qa-chat .examples[role="list"]').forEach((list) => {
      list.setAttribute('role', 'group');
      list.setAttribute('aria-label', 'Example questions');
    });
    document.querySelectorAll('#qa-chat .message [aria-label]:not(button)').forEach((node) => {
      if (/^(user|bot)'s message: /.test(node.getAttribute('aria-label'))) node.removeAttribute('aria-label');
    });
  };
  window.__qaAriaFix = new MutationObserver(mend);
  window.__qaAriaFix.observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['role', 'aria-label'],
  });
  mend();
}
"""

NOTICE_JS = """
// A safety notice must be seen: bring it into view when it appears (mount) or its text changes.
const show = () => element.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
show();
watch('value', show);
// On a phone the rest of the notice is folded under a button (see render.notice): the button says
// whether it is open (aria-expanded) and the CSS unfolds the text when it is. One listener on the
// component, which stays while the notice shows (an unchanged notice is not sent again).
element.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('.qa-notice-toggle') : null;
  if (!button) return;
  button.setAttribute('aria-expanded', button.getAttribute('aria-expanded') === 'true' ? 'false' : 'true');
});
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
:root { --qa-muted: #52525b; --qa-link: #115e59; --qa-focus: #1d4ed8; --qa-touch: 44px; }
.dark { --qa-muted: #c4c4cc; --qa-link: #5eead4; --qa-focus: #93c5fd; }

/* One column width from the first paint on: without `width` the page shrinks to its content
   and grows (708 -> 836 px) when the first answer arrives. */
.gradio-container { width: 100% !important; max-width: 900px !important; margin: 0 auto !important; }
/* Gradio's 32 px side padding, down to 8 px on a phone (390 px: 8, 768 px: 26): no media query, since
   Gradio scopes the rules inside one under its own `.contain` and this element is above it. */
.gradio-container > .main {
  padding-left: clamp(8px, 5vw - 12px, 32px) !important; padding-right: clamp(8px, 5vw - 12px, 32px) !important;
}
#qa-title h1 { margin-bottom: 0.1em; }
#qa-title p { margin-top: 0; color: var(--qa-muted) !important; }

/* Keyboard focus is always visible, on our own elements and Gradio's alike. */
.gradio-container :is(a, button, summary, textarea, input, select, [tabindex]):focus-visible {
  outline: 3px solid var(--qa-focus) !important; outline-offset: 2px !important;
}
#qa-question textarea:focus-visible { outline-offset: -3px !important; }

/* Gradio shows bot messages at 80% opacity, which takes text below 4.5:1 contrast. */
#qa-chat .message-wrap .prose.chatbot.md { opacity: 1 !important; }
.qa-verbatim { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-reply, .qa-user { line-height: 1.5; }
.qa-answer { margin: 0; }
.qa-cite { margin-top: 0.6em; font-size: 0.9em; color: var(--qa-muted); overflow-wrap: anywhere; }
.qa-cite-label { font-weight: 700; }
.qa-cite-link { margin-left: 0.25em; }
.qa-cite-from a.qa-cite-link { margin-left: 0; }
#qa-chat .qa-cite a.qa-cite-link {
  display: inline-flex; align-items: center; min-height: var(--qa-touch); color: var(--qa-link);
}
.qa-cite-maint { font-size: 0.85em; margin-top: 0.1em; }
.qa-more { margin-top: 0.75em; border-top: 1px solid var(--border-color-primary); padding-top: 0.25em; }
.qa-more summary {
  cursor: pointer; font-size: 0.9em; font-weight: 700; min-height: var(--qa-touch); padding: 0.7em 0;
  box-sizing: border-box;
}
.qa-more-item { margin-top: 0.75em; }
.qa-more-question { font-weight: 700; margin-bottom: 0.25em; }
.qa-related { margin-top: 0.75em; display: flex; flex-wrap: wrap; gap: 0.5em; }
.qa-related-label { width: 100%; font-size: 0.9em; font-weight: 700; }
button.qa-ask {
  font: inherit; font-size: 0.9em; text-align: left; cursor: pointer; line-height: 1.3;
  min-height: var(--qa-touch); padding: 0.35em 0.9em; border-radius: 1.4em; max-width: 100%;
  border: 1px solid var(--qa-link); color: var(--qa-link); background: var(--background-fill-primary);
}
button.qa-ask:hover, button.qa-ask:focus-visible { background: var(--color-accent-soft); }
.qa-no-answer { font-weight: 700; margin: 0; }
.qa-hint { margin: 0.5em 0 0; }
.qa-flag-pointer { font-weight: 700; margin-bottom: 0.5em; }
.qa-flag-emergency { color: #b00020; }
.qa-flag-urgent { color: #8a4b00; }
.dark .qa-flag-emergency { color: #ff8a9a; }
.dark .qa-flag-urgent { color: #ffc266; }

/* Touch targets of at least 44 x 44 px: Gradio's icon buttons (bin, thumbs) and the send button. */
#qa-chat button.icon-button { min-width: var(--qa-touch) !important; min-height: var(--qa-touch) !important; }
#qa-chat button.icon-button > div { width: 20px !important; height: 20px !important; }
#qa-question button.submit-button {
  min-width: var(--qa-touch) !important; height: var(--qa-touch) !important; padding: 0 0.9em !important;
  border-radius: 22px !important; font-weight: 700;
}
/* The bin sits in a row of its own above the messages, not on top of the first bubble's corner. */
#qa-chat .top-panel { position: static !important; align-self: flex-end; margin: 4px 4px 0 0 !important; }
#qa-chat .bubble-wrap { flex: 1 1 0; min-height: 0; height: auto !important; }

#qa-emergency .html-container, #qa-urgent .html-container { padding: 0 !important; }
.qa-notice { border-radius: 8px; padding: 0.8em 1em; line-height: 1.45; }
.qa-notice p, .qa-notice-more { margin: 0.35em 0; color: inherit !important; }
.qa-notice-head { font-weight: 700; font-size: 1.1em; }
.qa-emergency { background: #b00020; color: #ffffff !important; border: 3px solid #7a0016; }
.qa-urgent { background: #fff4e0; color: #4a2a00 !important; border: 2px solid #e08a00; border-left-width: 8px; }
a.qa-tel {
  display: inline-flex; align-items: center; justify-content: center; box-sizing: border-box;
  min-width: var(--qa-touch); min-height: var(--qa-touch); padding: 0 0.55em; margin: 0.1em 0;
  border-radius: 22px; font-weight: 700; text-decoration: underline; vertical-align: middle;
}
.qa-emergency a.qa-tel { background: #ffffff; color: #b00020 !important; }
.qa-urgent a.qa-tel { background: #4a2a00; color: #ffffff !important; }
.qa-notice-toggle { display: none; }

#qa-counter { margin-top: -0.5em; }
.qa-counter { text-align: right; font-size: 0.85em; color: var(--qa-muted); }
.qa-counter-over { color: #b00020; font-weight: 700; }

#qa-disclaimer { font-size: 0.85em; color: var(--qa-muted); text-align: center; }
#qa-disclaimer p { margin: 0; }

@media (max-width: 600px) {
  .qa-notice { padding: 0.5em 0.75em; font-size: 0.95em; }
  .qa-notice-head { font-size: 1.05em; }
  #qa-title h1 { font-size: 1.4em; }
  #qa-chat .message-row.bubble { max-width: 100% !important; }
  #qa-chat { height: 52vh !important; min-height: 240px !important; }
  /* The first screen of an emergency: the heading, its call links and the question box.
     (Inside a media query Gradio prefixes every selector with its `.contain`: hence `.column`.) */
  .column:has(> #qa-emergency .qa-notice) #qa-title p { display: none; }
  .column:has(> #qa-emergency .qa-notice) #qa-chat { height: clamp(200px, 100vh - 500px, 50vh) !important; }
  /* Folded, not removed: clipped to a two-line preview, still read whole by a screen reader. */
  .qa-foldable .qa-notice-more {
    color: inherit !important; max-height: 2.9em; overflow: hidden;
    -webkit-mask-image: linear-gradient(to bottom, #000 35%, transparent);
    mask-image: linear-gradient(to bottom, #000 35%, transparent);
  }
  .qa-foldable:has(.qa-notice-toggle[aria-expanded="true"]) .qa-notice-more {
    max-height: none; overflow: visible; -webkit-mask-image: none; mask-image: none;
  }
  .qa-notice-toggle {
    display: inline-flex; align-items: center; min-height: var(--qa-touch); margin-top: 0.25em; padding: 0 1em;
    font: inherit; font-weight: 700; cursor: pointer; border-radius: 22px;
    background: transparent; color: #ffffff; border: 2px solid #ffffff;
  }
  .qa-notice-toggle::after {  /* a drawn chevron: generated text would join the button's accessible name */
    content: ""; width: 0.45em; height: 0.45em; margin-left: 0.6em; border: solid currentColor;
    border-width: 0 2px 2px 0; transform: translateY(-0.15em) rotate(45deg);
  }
  .qa-notice-toggle[aria-expanded="true"]::after { transform: translateY(0.15em) rotate(-135deg); }
}
"""
