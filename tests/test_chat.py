"""The chat page in a real headless Chromium, against the real engine on 127.0.0.1: answers, sources,
suggestions, notices, feedback (layout and accessibility: tests/test_chat_a11y.py).

Every browser test also checks, on the way out, that the page made no request to any host but
127.0.0.1, logged no console error, threw no page error and opened no dialog.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from qa.builder import build
from qa.config import Settings
from qa.embedder import Embedder
from qa.records import Citation, Suggestion
from qa.safety import DISCLAIMER, EMERGENCY_BANNER
from qa.service import QAService, open_service
from tests.chat_page import ask, click_to_ask, open_chat, question_box, replies
from tests.harness import LiveServer, serve
from ui import render

TWITCH = "my baby's face twitches, is that normal?"
EMERGENCY = "my baby isnt breathing and her lips are blue"
OFF_TOPIC = "how do I bake sourdough bread"
SPASMS = "what do infantile spasms look like"  # answered, with related questions above the floor
STROLLER = "which stroller is best for a newborn?"
CAR_SEAT = "what car seat should I buy"
POINTER = "Please read the emergency notice at the top."
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
def test_clicking_a_related_question_asks_it(page: Page, service: QAService) -> None:
    first = ask(page, SPASMS)
    buttons = first.locator(".qa-related button.qa-ask")
    offered = [s.question for s in service.ask(SPASMS).suggestions if s.score >= render.SUGGESTION_FLOOR]
    assert len(offered) >= 2
    expect(buttons).to_have_text(offered)  # every suggestion above the floor, in the engine's order
    related = buttons.first
    question = related.inner_text()
    reply = click_to_ask(page, related)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(question)
    expect(reply.locator(".qa-best .qa-cite-question")).to_have_text(f"“{question}”")
    # Older answers keep working related questions.
    older = first.locator(".qa-related button.qa-ask").last
    click_to_ask(page, older)
    expect(page.locator("#qa-chat .qa-user").last).to_have_text(older.inner_text())


@pytest.mark.browser
@pytest.mark.parametrize("question", [OFF_TOPIC, STROLLER, CAR_SEAT])
def test_off_topic_abstains_and_offers_no_alarming_suggestions(page: Page, service: QAService, question: str) -> None:
    # The engine does propose nearby questions, spasms among them: the chat's relevance floor drops them.
    proposed = service.ask(question).suggestions
    assert proposed
    assert any("spasm" in s.question.lower() for s in proposed)
    reply = ask(page, question)
    expect(reply).to_have_class(ABSTAINED)
    expect(reply).to_contain_text("no answer for that")
    expect(reply).to_contain_text(render.NO_SUGGESTIONS)  # what to ask instead, in words
    expect(reply.locator(".qa-answer")).to_have_count(0)
    expect(reply.locator(".qa-related, button.qa-ask")).to_have_count(0)
    expect(reply).not_to_contain_text("infantile spasms")


def test_suggestions_below_the_floor_are_never_offered(service: QAService) -> None:
    result = service.ask(SPASMS)
    kept = render.helpful_suggestions(result.suggestions)
    assert kept and all(s.score >= render.SUGGESTION_FLOOR for s in kept)
    low = Suggestion(id="x", question="Is a low-scoring <guess> offered?", score=render.SUGGESTION_FLOOR - 0.01)
    html = render.reply(result.model_copy(update={"suggestions": [*result.suggestions, low]}))
    assert html.count('class="qa-ask"') == len(kept) and "low-scoring" not in html
    # An abstained reply offers its closest questions when they clear the floor, and none otherwise.
    near = Suggestion(id="y", question="What do baby spasms look like?", score=render.SUGGESTION_FLOOR)
    abstained = service.ask(STROLLER)
    assert "Closest questions I can answer:" in render.reply(abstained.model_copy(update={"suggestions": [near]}))
    assert 'class="qa-ask"' not in render.reply(abstained)


@pytest.mark.browser
def test_example_question_on_the_empty_chat_asks_it(page: Page) -> None:
    example = page.get_by_role("button", name="What does a febrile seizure look like?")
    reply = click_to_ask(page, example)
    expect(reply.locator(".qa-best .qa-answer")).to_contain_text("A febrile seizure usually happens")


@pytest.mark.browser
def test_emergency_banner_shows_above_the_chat_and_hides_on_a_benign_message(page: Page) -> None:
    expect(ask(page, EMERGENCY).locator("button.qa-ask")).to_have_count(0)  # act, not browse: no suggestions
    banner = page.locator("#qa-emergency [role=alert]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Call your local emergency number")
    banner_box, chat_box = banner.bounding_box(), page.locator("#qa-chat").bounding_box()
    assert banner_box is not None and chat_box is not None
    assert banner_box["y"] + banner_box["height"] <= chat_box["y"]
    pointer = page.locator("#qa-chat .qa-flag-pointer")
    expect(pointer).to_have_text(POINTER)
    ask(page, EMERGENCY)
    expect(pointer).to_have_count(2)  # every reply that called for the notice points to it while it shows
    ask(page, TWITCH)
    expect(page.locator("#qa-emergency")).to_be_hidden()
    # The notice is gone, and so is every "read the notice" from the history.
    expect(pointer).to_have_count(0)
    expect(page.locator("#qa-chat")).not_to_contain_text(POINTER)
    expect(replies(page)).to_have_count(3)


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


def test_render_names_the_source_a_parent_knows_and_keeps_file_and_lines_for_maintainers() -> None:
    cite = Citation(
        source="nhs.jsonl",
        question="Q <1>?",
        lines=(5, 5),
        url="https://example.org/s?a=1&b=2",
        title="Infantile spasms <guide>",
        publisher="NHS",
    )
    html = render.citation(cite)
    assert html.startswith(
        '<div class="qa-cite"><span class="qa-cite-label">From:</span> <span class="qa-cite-from">'
        '<a class="qa-cite-link" href="https://example.org/s?a=1&amp;b=2">'
        "Infantile spasms &lt;guide&gt;, NHS</a></span>"
    )
    assert '<div class="qa-cite-maint">' in html and "nhs.jsonl, lines 5-5" in html and "Q &lt;1&gt;?" in html
    assert ">NHS</a>" in render.citation(cite.model_copy(update={"title": None}))  # publisher alone
    no_link = render.citation(cite.model_copy(update={"url": "javascript:alert(1)"}))
    assert "<a" not in no_link and 'From:</span> <span class="qa-cite-from">Infantile spasms' in no_link
    # Neither title nor publisher: the file and lines stay the source, as before.
    assert "Source:" in render.citation(cite.model_copy(update={"title": None, "publisher": " "}))


def test_render_notice_links_the_numbers_it_names_and_folds_the_rest() -> None:
    html = render.notice(EMERGENCY_BANNER, role="alert", kind="emergency", fold=True)
    assert re.findall(r'href="(tel:\d+)"', html) == ["tel:911", "tel:999", "tel:112"]  # the numbers the text names
    assert "38 °C (100.4 °F)" in html and "5 minutes" in html  # other numbers stay text
    assert 'aria-expanded="false" aria-controls="qa-emergency-more"' in html and 'id="qa-emergency-more"' in html
    assert 'class="qa-notice-toggle"' not in render.notice(EMERGENCY_BANNER, role="alert", kind="emergency")
    assert (
        render.call_links("call 1112 or 9.111 or 111.") == 'call 1112 or 9.111 or <a class="qa-tel" href="tel:111"'
        ' aria-label="Call 111">111</a>.'
    )


# ------------------------------------------ sources with a title and publisher (a corpus of its own)

SAFE_SLEEP = "How should a baby sleep safely at night?"
SOURCED = [
    {
        "question": SAFE_SLEEP,
        "answer": "Lay your baby on their back in a clear cot, in your room, for every sleep.",
        "url": "https://www.example.org/baby/safe-sleep",
        "source": "Example Health Service",
    },
    {"question": "What should a baby wear to bed?", "answer": "Light layers and no hat indoors."},
]


@pytest.fixture(scope="module")
def sourced_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[LiveServer]:
    from qa.web import create_web_app

    root = tmp_path_factory.mktemp("sourced")
    (root / "corpus").mkdir()
    (root / "corpus" / "sleep.jsonl").write_text("".join(json.dumps(line) + "\n" for line in SOURCED))
    settings = Settings(corpus=[root / "corpus"], index_dir=root / "index", feedback_db=root / "feedback.sqlite3")
    build(settings.corpus, settings.index_dir, embedder)
    yield from serve(create_web_app(open_service(settings, embedder), settings))


@pytest.mark.browser
def test_the_source_is_named_and_linked_with_file_and_lines_for_maintainers(
    browser: Browser, sourced_server: LiveServer
) -> None:
    with open_chat(browser, sourced_server.url, width=390, height=844) as phone:
        cite = ask(phone, SAFE_SLEEP).locator(".qa-best .qa-cite")
        link = cite.locator("a.qa-cite-link")
        expect(link).to_have_text("Example Health Service")  # the publisher ("source"); no title in this corpus
        expect(link).to_have_attribute("href", SOURCED[0]["url"])
        expect(cite.locator(".qa-cite-label")).to_have_text("From:")
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44  # a touch target, though a link in a line of text
        maint = cite.locator(".qa-cite-maint")
        expect(maint).to_be_visible()
        expect(maint).to_contain_text("Maintainer details:")
        expect(maint).to_contain_text("sleep.jsonl, lines 1-1")
        small = maint.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")
        assert small < link.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")


@pytest.mark.browser
def test_the_chat_works_under_its_security_policy_and_cannot_be_framed(
    page: Page, browser: Browser, chat_server: LiveServer
) -> None:
    from qa.api.headers import CONTENT_SECURITY_POLICY

    loaded = page.reload()
    assert loaded is not None and loaded.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert loaded.headers["x-frame-options"] == "DENY" and loaded.headers["x-content-type-options"] == "nosniff"
    expect(ask(page, "what do infantile spasms look like?")).to_contain_text("Infantile spasms")  # no console error
    framer = browser.new_page()
    refused: list[str] = []
    framer.on("console", lambda message: refused.append(message.text))
    try:
        framer.set_content(f'<iframe id="chat" src="{chat_server.url}/" width="600" height="400"></iframe>')
        for _ in range(100):  # until the browser reports the refusal (at most 10 s)
            if any("frame-ancestors" in text for text in refused):
                break
            framer.wait_for_timeout(100)
        inside = framer.frame_locator("#chat").locator("#qa-question textarea")
        assert inside.count() == 0, "the chat rendered inside another page's frame"
    finally:
        framer.close()
    assert any("frame-ancestors" in text for text in refused), refused
