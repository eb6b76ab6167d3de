"""The chat page on a phone and to assistive technology, in a real headless Chromium against the real
engine on 127.0.0.1: the safety notices, layout at four widths, touch targets, the keyboard, axe-core.

Every browser test also checks, on the way out, that the page made no request to any host but
127.0.0.1, logged no console error, threw no page error and opened no dialog.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from qa.config import Settings
from qa.records import AskResult, RedFlag
from qa.service import QAService
from tests.chat_page import ask, axe_violations, open_chat, page_box, question_box, replies
from tests.harness import LiveServer, serve

TWITCH = "my baby's face twitches, is that normal?"
SPASMS = "what do infantile spasms look like"  # two more matches, related questions, a long answer
EMERGENCY = "my baby isnt breathing and her lips are blue"
EMERGENCY_AGAIN = "he is still not breathing, what do I do"
WIDTHS = (320, 390, 768, 1280)
TOUCH = 44  # px, both ways


def visible_controls(page: Page, within: str) -> list[Locator]:
    return [c for c in page.locator(f"{within} :is(button, a[href], summary)").all() if c.is_visible()]


def too_small(controls: list[Locator]) -> list[str]:
    out = []
    for control in controls:
        box = control.bounding_box()
        assert box is not None
        if box["width"] < TOUCH - 0.5 or box["height"] < TOUCH - 0.5:
            name = control.get_attribute("aria-label") or control.inner_text()
            out.append(f"{name!r}: {box['width']:.0f}x{box['height']:.0f}")
    return out


def clip(box: dict[str, float], to: dict[str, float]) -> dict[str, float]:
    """The part of `box` inside `to` (what a scroll container shows of it); may be empty."""
    x, y = max(box["x"], to["x"]), max(box["y"], to["y"])
    right, bottom = (
        min(box["x"] + box["width"], to["x"] + to["width"]),
        min(box["y"] + box["height"], to["y"] + to["height"]),
    )
    return {"x": x, "y": y, "width": max(0.0, right - x), "height": max(0.0, bottom - y)}


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(
        a[p] < b[p] + b[d] and b[p] < a[p] + a[d] and a[d] > 0 and b[d] > 0
        for p, d in (("x", "width"), ("y", "height"))
    )


# ---------------------------------------------------------------- the emergency view on a phone


@pytest.mark.browser
def test_phone_emergency_first_screen_has_the_action_call_links_and_the_question_box(phone: Page) -> None:
    ask(phone, EMERGENCY)
    alert = phone.locator("#qa-emergency [role=alert]")
    head = alert.locator(".qa-notice-head")
    expect(head).to_contain_text("This may be an emergency. Call your local emergency number now")
    calls = alert.locator("a[href^='tel:']")
    expect(calls).to_have_count(3)
    assert [c.get_attribute("href") for c in calls.all()] == ["tel:911", "tel:999", "tel:112"]
    expect(calls).to_have_text(["911", "999", "112"])
    toggle = alert.get_by_role("button", name="The signs, and what to do while you wait")
    on_first_screen = [head, *calls.all(), toggle, question_box(phone), phone.locator("#qa-question button")]
    for element in on_first_screen:  # in page coordinates: visible without any scrolling
        box = page_box(element)
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (element, box)
    assert phone.evaluate("scrollY") == 0

    # The rest is folded, one tap away, and never hidden from a screen reader.
    more = alert.locator(".qa-notice-more")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert more.evaluate("(el) => el.clientHeight < el.scrollHeight / 2")  # clipped to a preview
    tree = alert.aria_snapshot()
    for words in ("Call now if your baby is not breathing", "While you wait: stay with your baby", "cannot assess"):
        assert words in tree, tree
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert more.evaluate("(el) => el.clientHeight >= el.scrollHeight")
    expect(more.get_by_text("This chat cannot assess emergencies.")).to_be_in_viewport()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")


@pytest.mark.browser
def test_desktop_shows_the_whole_banner_without_a_toggle(page: Page) -> None:
    ask(page, EMERGENCY)
    alert = page.locator("#qa-emergency [role=alert]")
    expect(alert.locator(".qa-notice-toggle")).to_be_hidden()
    expect(alert.get_by_text("While you wait: stay with your baby")).to_be_visible()
    assert alert.locator(".qa-notice-more").evaluate("(el) => el.clientHeight >= el.scrollHeight")


@pytest.mark.browser
def test_the_alert_is_one_element_announced_once_across_messages(page: Page) -> None:
    ask(page, EMERGENCY)
    alert = page.locator("[role=alert]")
    expect(alert).to_have_count(1)
    # The very element, not one that looks the same; and nothing in it changes (a change is announced).
    alert.evaluate("""(el) => { el.__qaFirst = true; el.__qaChanges = 0;
        new MutationObserver((m) => { el.__qaChanges += m.length; })
          .observe(el, { subtree: true, childList: true, characterData: true }); }""")
    ask(page, EMERGENCY_AGAIN)
    expect(page.locator("#qa-chat .qa-flag-pointer")).to_have_count(2)  # the second reply is in
    expect(alert).to_have_count(1)
    assert alert.evaluate("(el) => el.__qaFirst === true"), "the alert was re-rendered: it would be announced again"
    assert alert.evaluate("(el) => el.__qaChanges") == 0
    ask(page, TWITCH)  # the banner goes ...
    expect(alert).to_have_count(0)
    ask(page, EMERGENCY)  # ... and a new emergency is a new alert
    expect(alert).to_have_count(1)
    assert alert.evaluate("(el) => el.__qaFirst === undefined")


# ---------------------------------------------------------------- layout


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scroll_no_jump_no_overlap(browser: Browser, chat_server: LiveServer, width: int) -> None:
    with open_chat(browser, chat_server.url, width=width, height=844) as page:
        chat = page.locator("#qa-chat")
        before = chat.evaluate("(el) => el.getBoundingClientRect().width")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the empty chat and its examples
        first = ask(page, TWITCH)
        after = chat.evaluate("(el) => el.getBoundingClientRect().width")
        assert abs(after - before) < 1, f"the column jumped from {before} to {after} px"
        # The bin is above the scrolling messages, never on a bubble's corner.
        bin_box, wrap_box = page_box(chat.get_by_role("button", name="Clear")), page_box(chat.locator(".bubble-wrap"))
        assert bin_box["y"] + bin_box["height"] <= wrap_box["y"] + 1
        for bubble in (page.locator("#qa-chat .qa-user").first, first):  # the parts of them in view
            assert not overlap(bin_box, clip(page_box(bubble), wrap_box))
        ask(page, SPASMS)
        ask(page, EMERGENCY)
        replies(page).nth(1).locator("details.qa-more summary").click()
        for reply in replies(page).all():
            box = page_box(reply)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert chat.evaluate("(el) => el.getBoundingClientRect().width") == pytest.approx(before, abs=1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        expect(page.locator("#qa-disclaimer")).to_be_visible()


@pytest.mark.browser
def test_touch_targets_are_at_least_44_px(phone: Page) -> None:
    assert too_small(visible_controls(phone, "#qa-chat")) == []  # the examples on the empty chat
    reply = ask(phone, SPASMS)
    expect(reply.locator("button.qa-ask").first).to_be_visible()
    controls = visible_controls(phone, "#qa-chat") + visible_controls(phone, "#qa-question")
    names = {c.get_attribute("aria-label") or c.inner_text() for c in controls}
    assert {"Clear", "Like", "Dislike", "Ask", "2 more matches"} <= names, names
    assert too_small(controls) == []
    ask(phone, EMERGENCY)
    notice = visible_controls(phone, "#qa-emergency")
    assert len(notice) == 4  # three numbers to call and the toggle
    assert too_small(notice) == []


# ---------------------------------------------------------------- keyboard and axe-core

FOCUSED = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return { tag: el.tagName, name: (el.getAttribute('aria-label') || el.innerText || '').trim().slice(0, 80),
           inReply: !!el.closest('.qa-reply'),
           outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
}"""


def tab_until(page: Page, name: str, limit: int = 40) -> list[dict[str, Any]]:
    """Press Tab until the element called `name` has the focus; every element focused on the way."""
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
        if seen[-1]["name"] == name or (name == "question box" and seen[-1]["tag"] == "TEXTAREA"):
            return seen
    raise AssertionError(f"Tab never reached {name!r}: {[f['name'] for f in seen]}")


@pytest.mark.browser
def test_keyboard_alone_asks_reads_rates_and_follows_suggestions(page: Page) -> None:
    page.evaluate("document.activeElement?.blur()")
    tab_until(page, "question box")
    page.keyboard.type(SPASMS)
    page.keyboard.press("Enter")  # Enter sends
    expect(replies(page)).to_have_count(1)
    suggestion = replies(page).first.locator("button.qa-ask").first.inner_text()
    loop = tab_until(page, "question box")  # once round the page, from the box back to it
    names = [f["name"] for f in loop]
    assert names[0] == "Ask"
    order = [names.index(n) for n in ("Clear", "2 more matches", suggestion, "Dislike", "Like")]
    assert order == sorted(order), names  # the answer's own controls, its suggestions, then the thumbs
    assert [f for f in loop if f["tag"] != "BODY" and not f["outline"]] == []  # a visible focus ring each time
    assert next(f for f in loop if f["name"] == "2 more matches")["inReply"]

    tab_until(page, "2 more matches")
    page.keyboard.press("Enter")
    expect(replies(page).first.locator("details.qa-more")).to_have_attribute("open", "")
    tab_until(page, suggestion)
    page.keyboard.press("Enter")
    expect(replies(page)).to_have_count(2)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(suggestion)


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_axe_finds_no_serious_or_critical_problem(
    browser: Browser, chat_server: LiveServer, width: int, height: int
) -> None:
    with open_chat(browser, chat_server.url, width=width, height=height) as page:
        assert axe_violations(page) == []  # the empty chat and its examples
        ask(page, SPASMS).locator("details.qa-more summary").click()
        assert axe_violations(page) == []  # an answer, more matches open, related questions, thumbs
        ask(page, EMERGENCY)
        expect(page.locator("#qa-emergency [role=alert]")).to_be_visible()
        assert axe_violations(page) == []  # the banner showing
        ask(page, "my 5 month old does clusters of jerks when she wakes up and she has stopped smiling")
        expect(page.locator("#qa-urgent [role=status]")).to_be_visible()
        assert axe_violations(page) == []  # the urgent notice showing


# ------------------------------------------ notices, independent of the detector (stub red flags)


class FlaggingService:
    """The real engine's answers, with the red flag chosen by a prefix: tests the notices on their own."""

    BANNER = "STUB EMERGENCY <b>not bold</b>\nsecond line"

    def __init__(self, inner: QAService) -> None:
        self.inner = inner

    def ask(self, question: str, top_k: int = 3) -> AskResult:
        result = self.inner.ask(question, top_k)
        tier = next((t for t in ("emergency", "urgent") if question.lower().startswith(t)), None)
        if tier is None:
            return result
        banner = self.BANNER if tier == "emergency" else None  # None: the UI falls back to the fixed text
        flag = RedFlag(triggered=True, tier=tier, terms=["stub"], banner=banner)
        return result.model_copy(update={"red_flag": flag})

    def red_flag(self, message: str) -> RedFlag:
        return self.inner.red_flag(message)


@pytest.fixture(scope="module")
def flagging_server(service: QAService, chat_settings: Settings) -> Iterator[LiveServer]:
    from fastapi import FastAPI

    from ui import mount_chat

    yield from serve(mount_chat(FastAPI(), FlaggingService(service), chat_settings))


@pytest.mark.browser
def test_notices_follow_the_latest_message(browser: Browser, flagging_server: LiveServer) -> None:
    with open_chat(browser, flagging_server.url) as page:
        emergency, urgent = page.locator("#qa-emergency"), page.locator("#qa-urgent")
        reply = ask(page, "emergency: my baby's face twitches")
        expect(emergency.locator("[role=alert] .qa-notice-head")).to_have_text("STUB EMERGENCY <b>not bold</b>")
        expect(emergency.locator("[role=alert] .qa-notice-more")).to_have_text("second line")
        expect(emergency.locator("b")).to_have_count(0)
        expect(reply.locator(".qa-flag-pointer")).to_be_visible()
        expect(urgent).to_be_hidden()

        ask(page, "urgent: my baby has clusters of spasms")
        expect(emergency).to_be_hidden()
        expect(urgent.locator("[role=status]")).to_contain_text("See a doctor today")
        expect(urgent.locator("[role=alert]")).to_have_count(0)

        expect(page.locator("#qa-chat .qa-flag-pointer")).to_have_count(1)  # the urgent one, not the emergency's
        expect(page.locator("#qa-chat .qa-flag-urgent")).to_have_count(1)

        ask(page, TWITCH)
        expect(emergency).to_be_hidden()
        expect(urgent).to_be_hidden()
        expect(page.locator("#qa-chat .qa-flag-pointer")).to_have_count(0)

        ask(page, "emergency again")
        expect(emergency).to_be_visible()
        page.get_by_role("button", name="Clear").click()  # a new conversation takes the notice down
        expect(emergency).to_be_hidden()
        expect(page.locator("#qa-chat .qa-user")).to_have_count(0)
        ask(page, TWITCH)
        expect(page.locator("#qa-chat .qa-user")).to_have_count(1)
