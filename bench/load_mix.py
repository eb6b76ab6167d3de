"""What the load bench (`bench/load.py`) sends, and how a reply is judged.

A request is a `Probe`: its bytes on the wire (HTTP/1.1), its kind and label, and the status class it must
get. `kinds` lists every kind with its weight and its variants: lay questions (from the labelled sets the
tuning may use, never the frozen ones), red-flag messages, long lay stories (900-1,000 characters), unusual
but valid text, which must all be answered 200, and malformed requests, which must be refused with a 4xx.
`schedule` draws the load from them, `adversarial` the inputs of the worst case. `bench/load_results.py` judges
the replies.

Mix, in requests per 100 (`kinds`): lay 45.4, red flag 8, long 10, unusual 17 (emoji 3, right-to-left 3, other
languages 3, control characters 3, one repeated word 2, odd Unicode 3), malformed 19.6 (invalid JSON, empty,
wrong types, top_k out of range, unknown field, content type 2 each; invalid UTF-8 2; lone surrogate, too long,
not an object, parser abuse, GET 1 each; unknown path 0.5; a body over 1 MiB 0.1, about one in a thousand).
One of every kind is always sent, whatever `--total`; the seed fixes the draw and the order.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.serving import http_request

ROOT = Path(__file__).resolve().parent.parent
ASK = "/api/ask"
HUGE_BYTES = 1_048_576 + 64 * 1024
"""Over the server's default `QA_MAX_BODY_BYTES` (1 MiB)."""


@dataclass(frozen=True)
class Probe:
    """One request to send: `kind` is its row in the table, `label` its own name in the worst-case table."""

    kind: str
    label: str
    expect: int
    """Status class it must get: 2 (answered or abstained: 200) or 4 (refused)."""
    raw: bytes


def ask(kind: str, label: str, payload: object, expect: int = 2) -> Probe:
    return Probe(kind, label, expect, http_request("POST", ASK, json.dumps(payload).encode()))


def raw(
    kind: str,
    label: str,
    body: bytes,
    content_type: str | None = "application/json",
    method: str = "POST",
    path: str = ASK,
) -> Probe:
    return Probe(kind, label, 4, http_request(method, path, body, content_type))


# ---------------------------------------------------------------------------------------------------- the mix

FALLBACK_QUESTIONS = (
    "Is baby face twitching normal?",
    "my 2 week old face keeps twitchin is that ok",
    "how can i tell if my baby is having a seizure",
    "what do infantile spasms look like",
    "why does my newborn jerk when sleeping",
)
RED_FLAGS = (
    "my baby is not breathing and turning blue",
    "he's been seizing for 6 minutes",
    "HE'S NOT BREATHING PLEASE HELP",
    "seizing 8 min",
    "my 4 month old just went really still and i cant see his chest moving at all, is he breathing?? pls help",
    "she had a fit 10 minutes ago and now she won't wake up",
)
STORY = (
    "My daughter is eleven weeks old and was born a little early, at thirty-six weeks.",
    "Over the last few days I have noticed her arms jerking when she is falling asleep.",
    "It usually lasts a few seconds and then she settles and sleeps normally.",
    "Her grandmother says it is just the startle reflex but I am not so sure.",
    "Yesterday it happened three times in a row while she was feeding, and her eyes seemed to roll up.",
    "She is feeding well, has plenty of wet nappies and smiles at us in the mornings.",
    "We have a video on my phone that I could show the doctor if that would help.",
    "Our health visitor is away this week and the surgery cannot see us until Monday.",
    "There is no history of epilepsy in either family as far as we know.",
    "She had her vaccinations on Tuesday and was a bit grumpy afterwards.",
    "I have read about infantile spasms online and now I am frightened.",
    "Sometimes her legs stiffen too, but only for a moment, and she does not cry.",
    "She does not have a temperature and otherwise seems like her usual self.",
)
STORY_ENDINGS = (
    " Is this normal or should I take her to be seen?",
    " What should I look out for, and when is it an emergency?",
    " Could these be seizures, and how would I tell the difference?",
)


def lay_questions() -> list[str]:
    """Lay questions from the labelled sets the tuning may use (never the frozen ones), up to 200 characters."""
    names = ("acceptance1", "acceptance4", "acceptance5", "team_tuning", "dev3")
    found: list[str] = []
    for name in names:
        path = ROOT / "eval" / "retrieval" / f"{name}.jsonl"
        if path.exists():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            found += [str(row["question"]) for row in rows if 1 <= len(str(row["question"]).strip()) <= 200]
    return list(dict.fromkeys(found)) or list(FALLBACK_QUESTIONS)


def long_texts(rng: random.Random, count: int = 12) -> list[str]:
    """Lay stories of 900-1,000 characters (after trimming), ending in a question."""
    texts: list[str] = []
    while len(texts) < count:
        sentences = rng.sample(STORY, len(STORY))
        ending = rng.choice(STORY_ENDINGS)
        text = ""
        for sentence in sentences:
            if len(text) + len(sentence) + 1 + len(ending) > 1000:
                break
            text = f"{text} {sentence}".strip()
        text += ending
        if 900 <= len(text) <= 1000:
            texts.append(text)
    return texts


def random_unicode(rng: random.Random, length: int) -> str:
    """`length` characters drawn from many scripts and symbol blocks (never a surrogate)."""
    blocks = [
        (0x20, 0x7E),
        (0xA0, 0x24F),
        (0x370, 0x3FF),
        (0x400, 0x4FF),
        (0x590, 0x5FF),
        (0x600, 0x6FF),
        (0x900, 0x97F),
        (0xE00, 0xE7F),
        (0x3040, 0x30FF),
        (0x4E00, 0x9FFF),
        (0xAC00, 0xD7A3),
        (0x1F300, 0x1FAFF),
        (0x2000, 0x206F),
        (0x0300, 0x036F),
    ]
    chars = []
    for _ in range(length):
        low, high = rng.choice(blocks)
        chars.append(chr(rng.randint(low, high)))
    return "x" + "".join(chars)[1:]  # never starts with whitespace, so it stays `length` long after trimming


def kinds(rng: random.Random) -> list[tuple[str, float, list[Probe]]]:
    """Every kind of request: its name, its weight (requests per 100) and its variants."""
    lay = lay_questions()
    twitch = "is this twitching normal"
    good = [ask("good", f"lay: {q[:40]}", {"question": q, "top_k": 1 + i % 5}) for i, q in enumerate(lay)]
    red = [ask("red-flag", f"red flag: {text[:40]}", {"question": text}) for text in RED_FLAGS]
    long = [ask("long", f"long {len(text)} chars #{i}", {"question": text}) for i, text in enumerate(long_texts(rng))]

    def unusual(kind: str, items: dict[str, str]) -> list[Probe]:
        return [ask(f"unusual/{kind}", f"{kind}: {label}", {"question": text}) for label, text in items.items()]

    emoji = unusual(
        "emoji",
        {
            "in text": "my baby 👶 keeps twitching 😟😟 in her sleep, is it normal? 🙏",
            "only emoji": "👶😴⚡️😱❓",
            "zwj sequences": "👨‍👩‍👧 our baby 🧒🏽 jerks at night 👩🏿‍🍼 normal?",
            "1000 emoji": "😀" * 1000,
            "flags and keycaps": "🇬🇧🇮🇱🇸🇦 1️⃣2️⃣3️⃣ seizure?",
        },
    )
    rtl = unusual(
        "rtl",
        {
            "arabic": "طفلي يرتعش أثناء النوم، هل هذا طبيعي؟",
            "hebrew": "התינוק שלי רועד בשינה, האם זה נורמלי?",
            "mixed ltr/rtl": "my baby طفلي has spasms התקפים is it normal?",
            "bidi overrides": "\u202eis twitching normal\u202c \u2067مرحبا\u2069 \u200fok?",
            "1000 arabic": ("هل الارتعاش طبيعي " * 60)[:1000].strip(),
        },
    )
    languages = unusual(
        "languages",
        {
            "chinese": "我的宝宝睡觉时抽搐，这正常吗？",
            "japanese": "赤ちゃんが寝ている時にぴくぴくするのは普通ですか？",
            "korean": "아기가 자는 동안 경련을 일으켜요. 정상인가요?",
            "russian": "У моего ребёнка судороги во сне, это нормально?",
            "hindi": "मेरा बच्चा सोते समय कांपता है, क्या यह सामान्य है?",
            "spanish": "¿Es normal que mi bebé tenga espasmos mientras duerme?",
            "1000 chinese": ("宝宝抽搐正常吗" * 150)[:1000],
        },
    )
    control = unusual(
        "control",
        {
            "nul and bell inside": f"is \u0000 baby {twitch} \u0007 normal",
            "only control": "\u0000\u0001\u0007\u001b\u007f",
            "ansi escape": f"\u001b[31m{twitch}\u001b[0m\u0008\u0008 ok",
            "newlines and tabs": f"{twitch}\r\n\tshe is 3 months\r\n\u000bold\u000c",
            "c1 controls": f"\u0085\u009b{twitch}\u0090\u009c",
            "1000 nul": "\u0000" * 1000,
        },
    )
    repeated = unusual(
        "repeated-word",
        {
            "twitching x100": ("twitching " * 100).strip(),
            "baby x250 no spaces": "baby" * 250,
            "x1000": "x" * 1000,
            "seizure? x125": "seizure?" * 125,
        },
    )
    odd = unusual(
        "odd-unicode",
        {
            "zero-width": "\u200b\u200c\u200d\ufeff" * 5 + twitch,
            "combining marks": "".join(c + "\u0301\u0316\u0337" for c in twitch),
            "fullwidth": "ｉｓ ｔｗｉｔｃｈｉｎｇ ｎｏｒｍａｌ",
            "math letters": "𝐢𝐬 𝐭𝐰𝐢𝐭𝐜𝐡𝐢𝐧𝐠 𝐧𝐨𝐫𝐦𝐚𝐥",
            "html and sql": "<script>alert(1)</script>' OR 1=1; -- is twitching normal",
            "private use": "\ue000\uf8ff\U000f0000 twitching",
            "1000 random unicode": random_unicode(rng, 1000),
            "1000 combining": "a" + "\u0301" * 999,
        },
    )
    q = {"question": twitch}
    bad: list[tuple[str, float, list[Probe]]] = [
        (
            "bad/invalid-json",
            2,
            [
                raw("bad/invalid-json", "unclosed", b'{"question": "is twitching normal"'),
                raw("bad/invalid-json", "single quotes", b"{'question': 'is twitching normal'}"),
                raw("bad/invalid-json", "trailing comma", b'{"question": "is twitching normal",}'),
                raw("bad/invalid-json", "plain words", b"is twitching normal"),
                raw("bad/invalid-json", "raw control char", b'{"question": "is \x07 twitching"}'),
            ],
        ),
        (
            "bad/empty",
            2,
            [
                ask("bad/empty", "empty question", {"question": ""}, 4),
                ask("bad/empty", "spaces", {"question": "     "}, 4),
                ask("bad/empty", "newlines/tabs", {"question": "\n\t \r\n"}, 4),
                ask("bad/empty", "unicode spaces", {"question": "\u3000\u00a0\u2003"}, 4),
                ask("bad/empty", "no question", {"top_k": 3}, 4),
                raw("bad/empty", "empty body", b""),
            ],
        ),
        (
            "bad/wrong-type",
            2,
            [
                ask("bad/wrong-type", "question int", {"question": 123}, 4),
                ask("bad/wrong-type", "question list", {"question": [twitch]}, 4),
                ask("bad/wrong-type", "question null", {"question": None}, 4),
                ask("bad/wrong-type", "question object", {"question": {"text": twitch}}, 4),
                ask("bad/wrong-type", "top_k string", {**q, "top_k": "3"}, 4),
                ask("bad/wrong-type", "top_k float", {**q, "top_k": 2.5}, 4),
                ask("bad/wrong-type", "top_k bool", {**q, "top_k": True}, 4),
            ],
        ),
        (
            "bad/top_k-range",
            2,
            [ask("bad/top_k-range", f"top_k {k}", {**q, "top_k": k}, 4) for k in (0, 11, -1, 10**30)],
        ),
        (
            "bad/unknown-field",
            2,
            [
                ask("bad/unknown-field", "colour", {**q, "colour": "blue"}, 4),
                ask("bad/unknown-field", "debug", {**q, "top_k": 3, "debug": True}, 4),
            ],
        ),
        (
            "bad/content-type",
            2,
            [
                raw("bad/content-type", "text/plain", json.dumps(q).encode(), "text/plain"),
                raw("bad/content-type", "form", b"question=is+twitching+normal", "application/x-www-form-urlencoded"),
                raw("bad/content-type", "none", json.dumps(q).encode(), None),
            ],
        ),
        (
            "bad/invalid-utf8",
            2,
            [
                raw("bad/invalid-utf8", "latin-1 byte", b'{"question": "caf\xe9 twitching"}'),
                raw("bad/invalid-utf8", "ff fe", b'{"question": "\xff\xfe is twitching normal"}'),
                raw("bad/invalid-utf8", "overlong slash", b'{"question": "a\xc0\xafb"}'),
            ],
        ),
        (
            "bad/lone-surrogate",
            1,
            [
                raw("bad/lone-surrogate", "\\udcff", b'{"question": "a \\udcff b"}'),
                raw("bad/lone-surrogate", "\\ud83d", b'{"question": "baby \\ud83d twitching"}'),
            ],
        ),
        (
            "bad/too-long",
            1,
            [
                ask("bad/too-long", "1001 chars", {"question": "a" * 1001}, 4),
                ask("bad/too-long", "1001 lay", {"question": (long_texts(rng, 1)[0] + "z" * 200)[:1001]}, 4),
                ask("bad/too-long", "20000 chars", {"question": "twitch " * 2857}, 4),
            ],
        ),
        (
            "bad/not-object",
            1,
            [
                raw("bad/not-object", label, body)
                for label, body in (
                    ("array", b'["is twitching normal"]'),
                    ("null", b"null"),
                    ("string", b'"hi"'),
                    ("number", b"42"),
                )
            ],
        ),
        (
            "bad/parser-abuse",
            1,
            [
                raw("bad/parser-abuse", "20000-deep nesting", b'{"question": ' + b"[" * 20000 + b"]" * 20000 + b"}"),
                raw(
                    "bad/parser-abuse", "5000-digit top_k", b'{"question": "hi there", "top_k": 1' + b"0" * 5000 + b"}"
                ),
            ],
        ),
        ("bad/method", 1, [raw("bad/method", "GET /api/ask", b"", None, "GET")]),
        ("bad/path", 0.5, [raw("bad/path", "POST /api/asks", json.dumps(q).encode(), path="/api/asks")]),
        ("bad/huge-body", 0.1, [ask("bad/huge-body", "1.06 MiB question", {"question": "x" * HUGE_BYTES}, 4)]),
    ]
    return [
        ("good", 45.4, good),
        ("red-flag", 8, red),
        ("long", 10, long),
        ("unusual/emoji", 3, emoji),
        ("unusual/rtl", 3, rtl),
        ("unusual/languages", 3, languages),
        ("unusual/control", 3, control),
        ("unusual/repeated-word", 2, repeated),
        ("unusual/odd-unicode", 3, odd),
        *bad,
    ]


def schedule(mix: Sequence[tuple[str, float, list[Probe]]], total: int, rng: random.Random) -> list[Probe]:
    """`total` requests: one of every kind, the rest drawn by weight, in a seeded random order."""
    chosen = [rng.choice(variants) for _, _, variants in mix][:total]
    weights = [weight for _, weight, _ in mix]
    for _, _, variants in rng.choices(mix, weights=weights, k=total - len(chosen)):
        chosen.append(rng.choice(variants))
    rng.shuffle(chosen)
    return chosen


def adversarial(seed: int) -> list[Probe]:
    """Every red-flag, long, unusual and malformed input once, and a few lay questions."""
    rng = random.Random(seed)
    probes: list[Probe] = []
    for kind, _, variants in kinds(rng):
        probes += variants[:3] if kind == "good" else variants
    return probes
