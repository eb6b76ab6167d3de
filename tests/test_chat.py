"""The chat page in a real headless Chromium, against the real engine on 127.0.0.1.

Every browser test also checks, on the way out, that the page made no request to any host but
127.0.0.1, logged no console error, threw no page error and opened no dialog.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from qa.config import Settings
from qa.records import AskResult, Citation, RedFlag
from qa.safety import DISCLAIMER
from qa.service import QAService
from tests.chat_page import ask, click_to_ask, open_chat, question_box, replies
from tests.harness import CHROMIUM, CHROMIUM_ARGS, LiveServer, serve
from ui import render

TWITCH = "my baby's face twitches, is that normal?"
EMERGENCY = "my baby isnt breathing and her lips are blue"
OFF_TOPIC = "how do I bake sourdough bread"
ABSTAINED = re.compile(r"\bqa-abstained\b")
INJECTIONS = ("<img src=x onerror=alert(1)>", "**bold** [link](javascript:alert(1))")
CLUSTERS = "my 5 month old does clusters of jerks when she wakes up and she has stopped smiling"
_STORY = (  # 1,478 calm characters, and the sign at the very end (past the first 1,000)
    "Sorry this is long, I wanted to give you the whole picture. Our son is seven months old and has been a",
    "happy, easy baby from the start. He was born at term after an uneventful pregnancy, fed well from the first",
    "day and has gained weight steadily at every check with the health visitor. He sleeps in a cot in our room,",
    "usually from seven in the evening until about five in the morning, and has two naps during the day. This week",
    "we started him on mashed banana, sweet potato and porridge, which he seems to love, and he has been sitting up",
    "with a little support and reaching for his toys. On Saturday we took him to the park with his grandparents, he",
    "watched the ducks for ages and laughed at the dog next door. On Sunday we had a quiet day at home, a long walk",
    "in the pram and a bath before bed, and he went down without any fuss. His older sister adores him and reads",
    "him picture books, and he babbles back at her and grabs the pages. We have been wondering about the little",
    "jerks he sometimes makes as he drifts off, and whether the occasional twitch of his face is something to",
    "mention at his next check up, which is in two weeks. My mother says all her babies did the same and not to",
    "worry, but my partner likes to ask. Last month we moved house and he settled into the new place quickly, which",
    "surprised us. He loves his bouncer in the kitchen while we cook. Anyway, that was the plan for this evening,",
    "but right now as I type this his lips are blue and he is not breathing",
)
LONG_STORY = " ".join(_STORY)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chat_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    db = tmp_path_factory.mktemp("chat") / "feedback.sqlite3"
    return settings.model_copy(update={"feedback_db": db, "feedback_enabled": True})


@pytest.fixture(scope="module")
def chat_server(service: QAService, chat_settings: Settings) -> Iterator[LiveServer]:
    from qa.web import create_web_app

    yield from serve(create_web_app(service, chat_settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Browser, chat_server: LiveServer) -> Iterator[Page]:
    with open_chat(browser, chat_server.url) as chat:
        yield chat


@pytest.fixture()
def phone(browser: Browser, chat_server: LiveServer) -> Iterator[Page]:
    with open_chat(browser, chat_server.url, width=390, height=844) as chat:
        yield chat


# ---------------------------------------------------------------- helpers


def wait_for_row(db: Path, question: str, rating: str | None) -> Any:
    """Poll the feedback file (the like event is processed asynchronously) until it shows `rating`."""
    row = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
                row = connection.execute(
                    "SELECT question, answer_ids, abstained, rating, timestamp FROM feedback WHERE question = ?",
                    (question,),
                ).fetchone()
        except sqlite3.OperationalError:  # not created yet, or created but its table not yet written
            row = None
        else:
            if (row[3] if row else None) == rating:
                return row
        time.sleep(0.1)
    raise AssertionError(f"feedback for {question!r}: wanted rating {rating!r}, found {row!r}")


# ---------------------------------------------------------------- browser tests


@pytest.mark.browser
def test_page_loads_with_examples_disclaimer_and_api_on_the_same_port(page: Page, chat_server: LiveServer) -> None:
    expect(page).to_have_title("Infant seizures Q&A")
    expect(page.locator("#qa-disclaimer")).to_contain_text(DISCLAIMER)
    expect(page.get_by_role("button", name="What do infantile spasms look like?")).to_be_visible()
    expect(page.locator("#qa-emergency")).to_be_hidden()
    expect(page.locator("#qa-urgent")).to_be_hidden()
    assert page.request.get(f"{chat_server.url}/api/health").json()["status"] == "ok"
    assert page.request.get(f"{chat_server.url}/docs").ok


@pytest.mark.browser
def test_answer_is_verbatim_with_its_citation(page: Page, service: QAService) -> None:
    reply = ask(page, TWITCH)
    best = reply.locator(".qa-best .qa-answer")
    expect(best).to_contain_text("Thanks! A: It is completely normal for newborns")
    expect(best).to_contain_text("the baby\u2019s normally developing")  # curly quote kept
    cite = reply.locator(".qa-best .qa-cite")
    expect(cite).to_contain_text("Is baby face twitching normal?")
    expect(cite).to_contain_text("infant_seizures_faq.txt, lines 7-7")

    # Line breaks, indentation and list numbers exactly as in the source file.
    question = "how can I tell if my baby is having a seizure?"
    expected = service.ask(question).answers[0].text
    assert "\n  2. Jerking movements" in expected
    listed = ask(page, question).locator(".qa-best .qa-answer")
    assert listed.inner_text() == expected


@pytest.mark.browser
def test_more_matches_are_collapsed(page: Page) -> None:
    reply = ask(page, "what do infantile spasms look like")  # two entries answer it: what spasms and clusters look like
    more = reply.locator("details.qa-more")
    expect(more).to_have_count(1)
    hidden_answer = more.locator(".qa-answer").first
    expect(hidden_answer).to_be_hidden()
    more.locator("summary").click()
    expect(hidden_answer).to_be_visible()


@pytest.mark.browser
def test_clicking_a_related_question_asks_it(page: Page) -> None:
    first = ask(page, TWITCH)
    related = first.locator(".qa-related button.qa-ask").first
    question = related.inner_text()
    reply = click_to_ask(page, related)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(question)
    expect(reply.locator(".qa-best .qa-cite-question")).to_have_text(f"“{question}”")
    # Older answers keep working related questions.
    older = first.locator(".qa-related button.qa-ask").last
    click_to_ask(page, older)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(older.inner_text())


@pytest.mark.browser
def test_off_topic_abstains_and_offers_one_click_suggestions(page: Page) -> None:
    reply = ask(page, OFF_TOPIC)
    expect(reply).to_have_class(ABSTAINED)
    expect(reply).to_contain_text("no answer for that")
    expect(reply.locator(".qa-answer")).to_have_count(0)
    suggestions = reply.locator("button.qa-ask")
    expect(suggestions.first).to_be_visible()
    question = suggestions.first.inner_text()
    answered = click_to_ask(page, suggestions.first)
    expect(answered).not_to_have_class(ABSTAINED)
    expect(answered.locator(".qa-best .qa-answer")).to_be_visible()
    expect(answered.locator(".qa-best .qa-cite-question")).to_have_text(f"“{question}”")


@pytest.mark.browser
def test_example_question_on_the_empty_chat_asks_it(page: Page) -> None:
    example = page.get_by_role("button", name="What does a febrile seizure look like?")
    reply = click_to_ask(page, example)
    expect(reply.locator(".qa-best .qa-answer")).to_contain_text("A febrile seizure usually happens")


@pytest.mark.browser
def test_emergency_banner_shows_above_the_chat_and_hides_on_a_benign_message(page: Page) -> None:
    # Needs the red-flag detector (qa/safety); fails until it lands.
    ask(page, EMERGENCY)
    banner = page.locator("#qa-emergency [role=alert]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Call your local emergency number")
    banner_box, chat_box = banner.bounding_box(), page.locator("#qa-chat").bounding_box()
    assert banner_box is not None and chat_box is not None
    assert banner_box["y"] + banner_box["height"] <= chat_box["y"]
    ask(page, TWITCH)
    expect(page.locator("#qa-emergency")).to_be_hidden()


@pytest.mark.browser
def test_thumbs_are_stored_changed_and_withdrawn(page: Page, chat_settings: Settings) -> None:
    db = chat_settings.feedback_db
    ask(page, TWITCH)
    page.get_by_role("button", name="Like", exact=True).click()
    _, answer_ids, abstained, _, stamp = wait_for_row(db, TWITCH, "up")
    assert answer_ids.startswith('["is-baby-face-twitching-normal"')
    assert abstained == 0 and stamp
    page.get_by_role("button", name="Dislike", exact=True).click()
    wait_for_row(db, TWITCH, "down")
    # A quick change of mind: no click may be dropped while the previous one is in flight.
    page.get_by_role("button", name="Like", exact=True).click()
    page.get_by_role("button", name="Liked", exact=True).click()  # clicking the chosen thumb again takes it back
    wait_for_row(db, TWITCH, None)
    page.wait_for_timeout(500)
    assert wait_for_row(db, TWITCH, None) is None  # and stays so: the clicks were applied in order

    ask(page, OFF_TOPIC)
    page.get_by_role("button", name="Dislike", exact=True).last.click()
    _, answer_ids, abstained, _, _ = wait_for_row(db, OFF_TOPIC, "down")
    assert (answer_ids, abstained) == ("[]", 1)


@pytest.mark.browser
@pytest.mark.parametrize("payload", INJECTIONS)
def test_user_text_cannot_inject_markup(page: Page, payload: str) -> None:
    ask(page, payload)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(payload)
    chat = page.locator("#qa-chat")
    expect(chat.locator("img")).to_have_count(0)
    expect(chat.locator(".qa-user strong, .qa-user em, .qa-user a")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)
    page.wait_for_timeout(300)  # an onerror handler would have fired by now (checked on teardown)


@pytest.mark.browser
def test_empty_question_shows_the_engine_message_not_a_traceback(page: Page) -> None:
    question_box(page).fill("   ")
    question_box(page).press("Enter")
    expect(page.get_by_text("the question is empty: type a question")).to_be_visible()
    expect(replies(page)).to_have_count(0)
    assert "Traceback" not in page.content()


@pytest.mark.browser
def test_no_reassurance_under_the_urgent_notice_at_phone_width(phone: Page) -> None:
    reply = ask(phone, CLUSTERS)
    expect(phone.locator("#qa-urgent [role=status]")).to_be_visible()
    expect(phone.locator("#qa-emergency")).to_be_hidden()
    expect(reply.locator(".qa-best .qa-answer")).to_be_visible()  # the answers about spasms still show
    # Nowhere in the reply: not the best answer, the folded matches (textContent) or a related question.
    expect(reply).not_to_contain_text("completely normal")
    expect(reply).not_to_contain_text("Is baby face twitching normal?")


@pytest.mark.browser
def test_a_long_pasted_message_is_read_whole_and_the_reply_says_to_shorten_it(page: Page) -> None:
    box, counter = question_box(page), page.locator("#qa-counter")
    expect(counter).to_have_text("0 / 1,000 characters")
    assert box.get_attribute("maxlength") is None  # a browser maxlength cuts a paste without a word
    box.focus()
    page.keyboard.insert_text(LONG_STORY)  # as a paste does: all of it in one input event
    expect(box).to_have_value(LONG_STORY)
    expect(counter.locator(".qa-counter-over")).to_have_text(
        "1,478 / 1,000 characters \u00b7 too long for answers: shorten it"
    )
    box.press("Enter")
    expect(replies(page)).to_have_count(1)
    expect(page.locator("#qa-emergency [role=alert]")).to_be_visible()
    expect(replies(page).first).to_contain_text(
        "Your message is 1,478 characters long. Shorten it to 1,000 characters or fewer to get answers from the "
        "sources."
    )
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(LONG_STORY)  # shown whole, nothing dropped
    expect(box).to_have_value(LONG_STORY)  # kept in the box, to be cut down
    ask(page, "his lips are blue and he is not breathing")  # cut down: answered as usual
    expect(page.locator("#qa-emergency [role=alert]")).to_be_visible()
    expect(counter).to_have_text("0 / 1,000 characters")  # the box was emptied after the send


@pytest.mark.browser
def test_phone_width(phone: Page) -> None:
    reply = ask(phone, TWITCH)
    expect(reply.locator(".qa-best .qa-cite")).to_be_visible()
    expect(phone.locator("#qa-disclaimer")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    box = reply.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    button = reply.locator("button.qa-ask").first
    click_to_ask(phone, button)


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
        expect(emergency.locator("[role=alert]")).to_have_text("STUB EMERGENCY <b>not bold</b>second line")
        expect(emergency.locator("b")).to_have_count(0)
        expect(reply.locator(".qa-flag-pointer")).to_be_visible()
        expect(urgent).to_be_hidden()

        ask(page, "urgent: my baby has clusters of spasms")
        expect(emergency).to_be_hidden()
        expect(urgent.locator("[role=status]")).to_contain_text("See a doctor today")
        expect(urgent.locator("[role=alert]")).to_have_count(0)

        ask(page, TWITCH)
        expect(emergency).to_be_hidden()
        expect(urgent).to_be_hidden()

        ask(page, "emergency again")
        expect(emergency).to_be_visible()
        page.get_by_role("button", name="Clear").click()  # a new conversation takes the notice down
        expect(emergency).to_be_hidden()
        expect(page.locator("#qa-chat .qa-user")).to_have_count(0)
        ask(page, TWITCH)
        expect(page.locator("#qa-chat .qa-user")).to_have_count(1)


# ---------------------------------------------------------------- rendering, without a browser


def test_render_escapes_user_and_corpus_text(service: QAService) -> None:
    assert render.user_message("<img src=x onerror=alert(1)>") == (
        '<div class="qa-user qa-verbatim">&lt;img src=x onerror=alert(1)&gt;</div>'
    )
    result = service.ask(TWITCH)
    evil = result.answers[0].model_copy(update={"text": 'a "quote" <script>x</script>\n\nnext'})
    html = render.reply(result.model_copy(update={"answers": [evil]}))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\n" not in html  # one raw HTML block: Markdown never gets to parse the text
    assert "a &quot;quote&quot; &lt;script&gt;x&lt;/script&gt;<br><br>next" in html


def test_render_keeps_only_web_links() -> None:
    assert render.safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "", None):
        assert render.safe_url(bad) is None
    cite = Citation(source="a<b>.txt", question="Q?", lines=(3, 4), url="https://example.org/x?a=1&b=2")
    assert render.citation(cite) == (
        '<div class="qa-cite"><span class="qa-cite-label">Source:</span> '
        '<span class="qa-cite-question">\u201cQ?\u201d</span><span class="qa-cite-sep"> \u00b7 </span>'
        '<span class="qa-cite-where">a&lt;b&gt;.txt, lines 3-4</span> <a class="qa-cite-link" '
        'href="https://example.org/x?a=1&amp;b=2">https://example.org/x?a=1&amp;b=2</a></div>'
    )
    assert "<a" not in render.citation(cite.model_copy(update={"url": "javascript:alert(1)"}))
    button = render.ask_buttons(['He said "stop" <now>'])
    assert 'value="He said &quot;stop&quot; &lt;now&gt;"' in button
