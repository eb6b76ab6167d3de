"""The JSON API through a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from qa.errors import InvalidQuestionError
from qa.records import MESSAGE_MAX_CHARS
from qa.service import QAService

TWITCHING = "is-baby-face-twitching-normal"


def test_ask_contract(client: httpx.Client) -> None:
    response = client.post("/api/ask", json={"question": "  what do febrile seizures look like?  ", "top_k": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"question", "abstained", "answers", "red_flag", "index"}
    assert body["question"] == "what do febrile seizures look like?"
    assert body["abstained"] is False
    assert 1 <= len(body["answers"]) <= 2
    first = body["answers"][0]
    assert set(first) == {"id", "text", "score", "citation"}
    assert first["id"] == "what-do-febrile-seizures-look-like"
    assert first["text"].startswith("What is a febrile seizure? A febrile seizure usually happens")
    assert 0.0 <= first["score"] <= 1.0
    assert first["citation"] == {
        "source": "infant_seizures_faq.txt",
        "question": "What do febrile seizures look like?",
        "lines": [35, 35],
        "url": None,
        "title": "Infant twitching, spasms and seizures: questions and answers",  # from the corpus's .source.toml
        "publisher": None,
        "reviewed": None,
    }
    assert set(body["red_flag"]) == {"triggered", "tier", "terms", "banner"}
    assert body["index"]["entries"] == 12
    assert body["index"]["version"]


def test_default_top_k_is_three_and_abstention(client: httpx.Client) -> None:
    body = client.post("/api/ask", json={"question": "what is the capital of France"}).json()
    assert body["abstained"] is True
    assert body["answers"] == []
    answered = client.post("/api/ask", json={"question": "what do infantile spasms look like"}).json()
    assert 1 <= len(answered["answers"]) <= 3


def test_health_and_docs(client: httpx.Client) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["entries"] == 12
    assert health["index_version"]
    assert client.get("/docs").status_code == 200
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": ""}, "question is empty"),
        ({"question": "   \n "}, "question is empty"),
        ({"question": "x" * 1001}, "shorten it to 1000"),
        ({"question": "ok?", "top_k": 0}, "top_k"),
        ({"question": "ok?", "top_k": 11}, "top_k"),
        ({"question": "ok?", "top_k": "three"}, "top_k"),
        ({"top_k": 3}, "question is required"),
        ({"question": 42}, "question"),
        ([], "body"),
    ],
)
def test_invalid_input_is_a_422_that_says_what_to_fix(client: httpx.Client, payload: object, fragment: str) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_malformed_json_is_a_422(client: httpx.Client) -> None:
    response = client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_question_of_exactly_1000_characters_is_accepted(client: httpx.Client) -> None:
    response = client.post("/api/ask", json={"question": "seizure " * 124 + "baby1234"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"question": "\\udcff abc"}', "not valid text"),
        (b'{"question": "ok?", "top_k": "3"}', "top_k"),
        (b'{"question": "ok?", "top_k": true}', "top_k"),
    ],
)
def test_odd_json_is_a_422_never_a_500(client: httpx.Client, body: bytes, fragment: str) -> None:
    response = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_no_reassuring_answer_under_an_urgent_notice(client: httpx.Client) -> None:
    message = "my 5 month old does clusters of jerks when she wakes up and she has stopped smiling"
    body = client.post("/api/ask", json={"question": message}).json()
    assert body["red_flag"]["triggered"] is True
    assert body["red_flag"]["tier"] == "urgent"
    assert TWITCHING not in [answer["id"] for answer in body["answers"]]
    assert body["answers"], "the answers about spasms and lost skills still show"
    # The same entry still comes first for a parent asking whether face twitching is normal.
    calm = client.post("/api/ask", json={"question": "is it normal for my newborn's face to twitch?"}).json()
    assert calm["red_flag"]["triggered"] is False
    assert calm["answers"][0]["id"] == TWITCHING


def test_red_flag_reads_a_whole_long_message_up_to_the_cap(service: QAService) -> None:
    calm = "We spent the morning at the park and he laughed at the ducks. "
    sign = "Now his lips are blue and he is not breathing."
    message = (calm * (MESSAGE_MAX_CHARS // len(calm)))[: MESSAGE_MAX_CHARS - len(sign) - 1] + " " + sign
    assert len(message) == MESSAGE_MAX_CHARS
    assert service.red_flag(message).tier == "emergency"
    assert service.red_flag(message[: -len(sign)]).triggered is False
    with pytest.raises(InvalidQuestionError, match=r"the message is 20001 characters long; .* 20000"):
        service.red_flag(message + "x")
    with pytest.raises(InvalidQuestionError, match="the message is empty"):
        service.red_flag("  \n ")
    with pytest.raises(InvalidQuestionError, match="shorten it to 1000"):
        service.ask(message)  # `ask` keeps its own limit (the API contract)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/ask", "POST"),
        ("PUT", "/api/ask", "POST"),
        ("DELETE", "/api/health", "GET"),
        ("POST", "/api/health", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_saying_which_to_use(client: httpx.Client, method: str, path: str, allow: str) -> None:
    """Not the chat's HTML 404: the Gradio mount at "/" would otherwise take every request no API route took."""
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"] == f"{method} is not allowed on {path}; use {allow} (see /docs)"


def test_an_unknown_api_path_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/asks")
    assert response.status_code == 404
    assert response.json()["detail"] == "no API endpoint at /api/asks; see /docs"
    assert client.post("/api/admin/reindex").status_code == 404  # no admin token: the admin routes do not exist
