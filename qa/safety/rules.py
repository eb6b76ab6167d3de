"""The red-flag rules file: loaded, validated and compiled once.

The rules are data, one file per concept in `qa/data/redflags/` (sources and
macros shared in `_common.toml`, word lists in the shared lexicon), so that a
clinician can review each rule, its sources and its `fires` / `quiet` example
phrasings without reading code; the suite checks every rule against its own
examples. Loading fails loudly on an unknown source, tier or
macro, or a broken pattern, because a silently dropped rule is a missed
emergency.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from qa.safety import lexicon

DATA = Path(__file__).resolve().parent.parent / "data"
RULES_DIR = DATA / "redflags"
WORDS_FILE = DATA / "redflag_words.toml"
COMMON = "_common.toml"
TIERS = ("emergency", "urgent")
_MACRO = re.compile(r"\{([A-Z_]+)\}")


@dataclass(frozen=True)
class Rule:
    concept: str
    tier: str
    sources: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    """A match overlapping one of these is another sense of the words ("floppy hat")."""
    clears: tuple[re.Pattern[str], ...]
    """A sentence matching one of these rules the sign out ("the rash faded under the glass")."""
    fires: tuple[str, ...] = ()
    """Example messages this rule must fire on (checked by the suite)."""
    quiet: tuple[str, ...] = ()
    """Example messages with the rule's words that it must leave alone."""
    over_ok: bool = False
    """The sign is the event that has just ended ("a febrile seizure tonight, stopped, fine now"): a
    resolved clause does not set it aside (long past still does), and its `clears` read the whole
    message ("... At A&E they checked him")."""
    needs: tuple[re.Pattern[str], ...] = ()
    """The message must also match one of these (when the sign is only a sign when recent: "tonight")."""


@dataclass(frozen=True)
class FeverCheck:
    concept: str
    tier: str
    sources: tuple[str, ...]
    max_age_days: float
    fever_c: float
    low_c: float


@dataclass(frozen=True)
class NormalMovements:
    """Movements that are normal in a baby ("twitches when drifting off"): when one is told, the second opinion
    must be as sure as after a denied sign to raise a banner (the rules are not affected)."""

    sources: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    found: tuple[str, ...] = ()
    """Example messages in which a normal movement must be found (checked by the suite)."""
    not_found: tuple[str, ...] = ()
    """Example messages in which none may be found."""

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [match.span() for pattern in self.patterns for match in pattern.finditer(text)]


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    fever: FeverCheck
    sources: dict[str, str]
    spelling: dict[str, str]
    lexicon: frozenset[str]
    keep: frozenset[str]
    """Real words the fuzzy corrector must leave alone ("sneezing" is not "seizing")."""
    senses: tuple[re.Pattern[str], ...]
    """Other senses of alarming words ("a coughing fit"), blanked out before the rules run."""
    normal: NormalMovements

    def without_other_senses(self, text: str) -> str:
        for pattern in self.senses:
            text = pattern.sub(" ", text)
        return text


def _expand(pattern: str, macros: dict[str, str], depth: int = 0) -> str:
    if depth > 3:
        raise ValueError(f"macros nest too deeply in {pattern!r}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise ValueError(f"unknown macro {{{name}}} in {pattern!r}")
        return _expand(macros[name], macros, depth + 1)

    return _MACRO.sub(replace, pattern)


def _compile(patterns: list[str], macros: dict[str, str], concept: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(_expand(pattern, macros)))
        except re.error as exc:
            raise ValueError(f"rule {concept!r}: bad pattern {pattern!r}: {exc}") from exc
    return tuple(compiled)


def load_rules(folder: Path = RULES_DIR, words: Path = WORDS_FILE) -> RuleBook:
    """The rules (`folder`: `_common.toml` and one file per rule) and how they read parents' words
    (`words`: spelling, lexicon, other senses)."""
    with (folder / COMMON).open("rb") as handle:
        raw = tomllib.load(handle)
    with words.open("rb") as handle:
        raw |= tomllib.load(handle)
    items = []
    for path in sorted(folder.glob("*.toml")):
        if path.name != COMMON:
            with path.open("rb") as handle:
                items.append(tomllib.load(handle))
    if not items:
        raise ValueError(f"no rule files in {folder}")
    sources: dict[str, str] = raw["sources"]
    macros: dict[str, str] = lexicon.macros() | raw.get("macros", {})
    rules = []
    for item in items:
        concept = item["concept"]
        if item["tier"] not in TIERS:
            raise ValueError(f"rule {concept!r}: tier must be one of {TIERS}")
        missing = [s for s in item["sources"] if s not in sources]
        if not item["sources"] or missing:
            raise ValueError(f"rule {concept!r}: every rule needs known sources (unknown: {missing})")
        if not item.get("fires"):
            raise ValueError(f"rule {concept!r}: every rule needs `fires` examples a reviewer can check")
        rules.append(
            Rule(
                concept=concept,
                tier=item["tier"],
                sources=tuple(item["sources"]),
                patterns=_compile(item["patterns"], macros, concept),
                unless=_compile(item.get("unless", []), macros, concept),
                clears=_compile(item.get("clears", []), macros, concept),
                fires=tuple(item["fires"]),
                quiet=tuple(item.get("quiet", ())),
                over_ok=bool(item.get("over_ok", False)),
                needs=_compile(item.get("needs", []), macros, concept),
            )
        )
    normal = raw["normal_movements"]
    if not normal["sources"] or any(source not in sources for source in normal["sources"]):
        raise ValueError("normal_movements: needs known sources")
    fever = raw["fever_check"]
    if not fever["sources"] or any(source not in sources for source in fever["sources"]):
        raise ValueError("fever_check: needs known sources")
    return RuleBook(
        rules=tuple(rules),
        fever=FeverCheck(
            concept=fever["concept"],
            tier=fever["tier"],
            sources=tuple(fever["sources"]),
            max_age_days=float(fever["max_age_days"]),
            fever_c=float(fever["fever_c"]),
            low_c=float(fever["low_c"]),
        ),
        sources=sources,
        spelling=dict(raw.get("spelling", {})),
        lexicon=frozenset(raw.get("lexicon", {}).get("words", [])),
        keep=frozenset(raw.get("lexicon", {}).get("keep", [])),
        senses=_compile(raw.get("senses", {}).get("patterns", []), macros, "senses"),
        normal=NormalMovements(
            sources=tuple(normal["sources"]),
            patterns=_compile(normal["patterns"], macros, "normal_movements"),
            found=tuple(normal.get("found", ())),
            not_found=tuple(normal.get("not_found", ())),
        ),
    )
