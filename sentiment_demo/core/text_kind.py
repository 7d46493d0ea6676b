"""Texts a model was not trained for: another language, or mostly emoji, code or numbers.

The notices are advice shown beside an answer, never a refusal: the model still reads the text.
Languages are identified offline by py3langid (chosen in bench/language_id.py; figures in the
README), and only for models whose card states the languages they read. Knows nothing about models
beyond those language codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol, cast

import yaml

# Fewer letters than this and no identifier can tell languages apart (bench/language_id.py).
MIN_LETTERS = 20
# py3langid's normalised probability under which its guess is not trusted (bench/language_id.py).
MIN_LANGUAGE_PROBABILITY = 0.5
# A text is "mostly" something when that kind makes up at least this share of its visible characters.
MOSTLY = 0.5
# Characters that carry code's structure; prose uses them rarely.
CODE_CHARACTERS = frozenset("{}[]()<>;=_$#\\/|&*+`")
CODE_SHARE = 0.15
CODE_PATTERN = re.compile(
    r"(\b(def|function|return|import|class|public|const|var|let|SELECT|FROM)\b.*[(:{=]"
    r"|[;{}]\s*$|=>|==|!=|</?\w+[^>]*>|\w+\([^)]*\)\s*[;{:]?\s*$)",
    re.MULTILINE,
)
# Left out before identifying a language: they are not words of any language.
NOT_WORDS = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&\w+;")
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ru": "Russian",
    "tr": "Turkish",
    "pl": "Polish",
    "id": "Indonesian",
    "ms": "Malay",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "ar": "Arabic",
    "hi": "Hindi",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "el": "Greek",
    "he": "Hebrew",
    "uk": "Ukrainian",
    "ro": "Romanian",
    "hu": "Hungarian",
    "vi": "Vietnamese",
    "th": "Thai",
    "ca": "Catalan",
}


def language_name(code: str) -> str:
    """'de' → 'German'; a code without a name here is shown as it is."""
    return LANGUAGE_NAMES.get(code, code)


def card_languages(card_text: str | None) -> tuple[str, ...]:
    """The languages a model card's front matter states (`language: en` or a list); () if none."""
    if not card_text:
        return ()
    match = re.match(r"\A---\n(.*?)\n---\n", card_text, flags=re.DOTALL)
    if match is None:
        return ()
    try:
        front: Any = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return ()
    value = front.get("language") if isinstance(front, dict) else None
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(str(v).strip().lower() for v in values if str(v).strip())


def letter_count(text: str) -> int:
    """Letters in the text (any script)."""
    return sum(1 for ch in text if ch.isalpha())


def _kind(ch: str) -> str:
    category = unicodedata.category(ch)
    if category.startswith("L"):
        return "letter"
    if category.startswith("N"):
        return "number"
    # Emoji are "So" symbols; their modifiers, joiners and variation selectors ride along with them.
    if category in ("So", "Sk") or ch in "\u200d\ufe0f" or (category == "Mn" and ord(ch) > 0xFE00):
        return "emoji"
    return "other"


def unusual_text(text: str) -> str | None:
    """Why a text is not prose the model was trained on (mostly emoji, code or numbers), or None."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return None
    counts = {"letter": 0, "number": 0, "emoji": 0, "other": 0}
    for ch in visible:
        counts[_kind(ch)] += 1
    total = len(visible)
    if counts["emoji"] / total >= MOSTLY:
        return (
            "The text is mostly emoji: the model was trained on words, so these scores rest on "
            "very little it can read."
        )
    code_chars = sum(1 for ch in visible if ch in CODE_CHARACTERS)
    if code_chars / total >= CODE_SHARE and len(CODE_PATTERN.findall(text)) >= 1:
        return (
            "The text looks like code: the model was trained on reviews and posts, not "
            "programs, so these scores say little about it."
        )
    if counts["number"] / total >= MOSTLY or (
        counts["number"] > counts["letter"] and counts["letter"] < MIN_LETTERS
    ):
        return (
            "The text is mostly numbers: the model reads the sentiment of words, so these scores "
            "say little about it."
        )
    return None


class _Identifier(Protocol):
    def classify(self, text: str) -> tuple[str, float]: ...


@cache
def _identifier() -> _Identifier:
    # About 2.5 s and 110 MiB: loaded at start-up only when a served model's card states languages.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return cast(_Identifier, LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))


def load_language_identifier() -> None:
    """Load the identifier now (about 2.5 s), at start-up, rather than in a visitor's request."""
    _identifier()


def identify_language(text: str) -> tuple[str, float] | None:
    """The most likely language of a text and its probability; None when too short to tell.

    Links, @-mentions and #hashtags are left out first: they are in no language.
    """
    words = NOT_WORDS.sub(" ", text)
    if letter_count(words) < MIN_LETTERS:
        return None
    code, probability = _identifier().classify(words)
    return str(code), float(probability)


def language_notice(text: str, languages: Sequence[str]) -> str | None:
    """A notice when the text is, with confidence, in none of `languages`; None for no stated ones."""
    if not languages:
        return None
    found = identify_language(text)
    if found is None:
        return None
    code, probability = found
    if code in languages or probability < MIN_LANGUAGE_PROBABILITY:
        return None
    reads = ", ".join(language_name(lang) for lang in languages)
    return (
        f"This looks like {language_name(code)} ({probability:.0%} sure), but the model was "
        f"trained on {reads} only: its scores for this text may be wrong."
    )


def text_notices(text: str, languages: Sequence[str]) -> list[str]:
    """Every reason the model may not be fit for this text: its kind, then its language."""
    unusual = unusual_text(text)
    if unusual is not None:
        return [unusual]
    language = language_notice(text, languages)
    return [language] if language else []
