"""A whole document scored sentence by sentence: windows, length-weighted aggregates and aspects.

Every sentence of every document goes to the model in one call of the classify function it is given
(in the app, the served model's scheduler), so documents share forward passes with everyone else's
texts. Only sentences longer than the model's token limit need a second call, for their windows.
It knows nothing about Gradio, tokenizers or tensors.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, Outcome, Prediction, Rejection
from sentiment_demo.documents.segment import split_sentences
from sentiment_demo.errors import InputError

ClassifyTexts = Callable[[Sequence[str]], list[Outcome]]
WholeMethod = Literal["model", "first_tokens", "sentences", "none"]
POSITIVE_NAMES = ("positive", "pos")
NEGATIVE_NAMES = ("negative", "neg")
# A window of a long sentence keeps this share of the previous one, so no phrase is cut off unread.
WINDOW_OVERLAP = 4  # one quarter
# Token-limited windows aim a little under the limit: words differ in how many tokens they cost.
WINDOW_MARGIN = 0.9


@dataclass(frozen=True)
class DocumentOptions:
    """The limits and choices of the sentence view, taken from Settings."""

    max_chars: int = 20_000
    max_sentences: int = 500
    max_text_chars: int = 2_000
    max_aspects: int = 20
    long_text_reading: str = "sentences"

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentOptions:
        """The options the app runs with."""
        return cls(
            max_chars=settings.max_document_chars,
            max_sentences=settings.max_document_sentences,
            max_text_chars=settings.max_text_chars,
            max_aspects=settings.max_aspects,
            long_text_reading=settings.long_text_reading,
        )


@dataclass(frozen=True)
class SentenceResult:
    """One sentence, where it is, and what the model made of it.

    Attributes:
        number: its place in the document, from 1.
        scores: every label's score, highest first; empty when the model could not read it.
        error: why it has no scores (the model failed on it), else empty.
        windows: how many overlapping windows it was read in (1 for a sentence within the limits).
        signed: positive minus negative score in [-1, 1], when the model has both labels.
    """

    number: int
    text: str
    start: int
    end: int
    scores: tuple[LabelScore, ...] = ()
    error: str = ""
    windows: int = 1
    signed: float | None = None

    @property
    def read(self) -> bool:
        """True when the model gave this sentence scores."""
        return bool(self.scores)

    @property
    def label(self) -> str:
        """The most likely label, or empty when unread."""
        return self.scores[0].label if self.scores else ""

    @property
    def score(self) -> float:
        """The score of the most likely label (0 when unread)."""
        return self.scores[0].score if self.scores else 0.0


@dataclass(frozen=True)
class WholeReading:
    """The answer for the whole text and how it was reached (`method`), said in `note`."""

    method: WholeMethod
    scores: tuple[LabelScore, ...]
    note: str

    @property
    def label(self) -> str:
        """The most likely label, or empty when there is none."""
        return self.scores[0].label if self.scores else ""


@dataclass(frozen=True)
class AspectResult:
    """One aspect term: the sentences that mention it, their labels, and a verdict.

    Attributes:
        mentions: numbers of the sentences that mention the term (case-insensitive, singular or
            plural), read or not.
        counts: (label, sentences) for each of the model's labels, over the mentions it read.
        verdict: the label most of them got, "mixed" on a tie, or "not mentioned".
    """

    term: str
    mentions: tuple[int, ...]
    counts: tuple[tuple[str, int], ...]
    verdict: str

    @property
    def mentioned(self) -> bool:
        """True when some sentence mentions the term."""
        return bool(self.mentions)

    def describe(self) -> str:
        """The verdict with its count, e.g. "negative (2 of 3 sentences)"."""
        if not self.mentions:
            return "not mentioned"
        read = sum(count for _, count in self.counts)
        if not read:
            return "not read (the model failed on every sentence that mentions it)"
        top = max(count for _, count in self.counts)
        sentences = "sentence" if read == 1 else "sentences"
        if self.verdict == "mixed":
            return f"mixed ({read} {sentences})"
        return f"{self.verdict} ({top} of {read} {sentences})"


@dataclass(frozen=True)
class DocumentReport:
    """Everything the sentence view shows for one document."""

    text: str
    labels: tuple[str, ...]
    sentences: tuple[SentenceResult, ...]
    overall: tuple[LabelScore, ...]
    whole: WholeReading
    aspects: tuple[AspectResult, ...] = ()
    polarity: tuple[str, str] | None = None
    notices: tuple[str, ...] = field(default=())

    @property
    def read_sentences(self) -> list[SentenceResult]:
        """The sentences the model gave scores to."""
        return [s for s in self.sentences if s.read]

    def label_counts(self) -> dict[str, int]:
        """Sentences per label, every label listed (zero included), in the model's order."""
        counts = Counter(s.label for s in self.read_sentences)
        return {label: counts.get(label, 0) for label in self.labels}

    def share(self, label: str) -> float:
        """The share of read sentences that got `label` (0 when none was read)."""
        read = self.read_sentences
        return sum(s.label == label for s in read) / len(read) if read else 0.0

    @property
    def most_positive(self) -> SentenceResult | None:
        """The sentence with the highest signed score above 0, if the model has that polarity."""
        scored = [s for s in self.sentences if s.signed is not None and s.signed > 0]
        return max(scored, key=lambda s: s.signed or 0.0, default=None)

    @property
    def most_negative(self) -> SentenceResult | None:
        """The sentence with the lowest signed score below 0, if the model has that polarity."""
        scored = [s for s in self.sentences if s.signed is not None and s.signed < 0]
        return min(scored, key=lambda s: s.signed or 0.0, default=None)

    @property
    def overall_signed(self) -> float | None:
        """Positive minus negative of the length-weighted aggregate, when the model has both."""
        if self.polarity is None or not self.overall:
            return None
        scores = {item.label: item.score for item in self.overall}
        return scores[self.polarity[0]] - scores[self.polarity[1]]


def polarity_labels(labels: Sequence[str]) -> tuple[str, str] | None:
    """The model's (positive, negative) labels, matched by name, or None when it lacks either."""
    lowered = {label.lower(): label for label in labels}
    positive = next((lowered[n] for n in POSITIVE_NAMES if n in lowered), None)
    negative = next((lowered[n] for n in NEGATIVE_NAMES if n in lowered), None)
    return (positive, negative) if positive and negative else None


# An aspect is a short term (battery, screen, customer service), matched as whole words.
MAX_ASPECT_CHARS = 100


def parse_aspects(aspects: str | None, max_aspects: int) -> list[str]:
    """Aspect terms from "battery, screen; price": trimmed, repeats dropped, at most `max_aspects`.

    Raises:
        InputError: when there are more terms than `max_aspects`.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for raw in re.split(r"[,;\n]", aspects or ""):
        term = " ".join(raw.split())
        if not term or term.lower() in seen:
            continue
        if len(term) > MAX_ASPECT_CHARS:
            raise InputError(
                f"An aspect has {len(term):,} characters; the limit is {MAX_ASPECT_CHARS}. Aspects "
                "are short terms such as battery or screen, separated by commas."
            )
        seen.add(term.lower())
        terms.append(term)
        # Refused as soon as the count passes the limit: a huge list costs no more than that.
        if len(terms) > max_aspects:
            raise InputError(
                f"More than {max_aspects} aspects were given; the limit is {max_aspects} "
                "(--max-aspects, SENTIMENT_MAX_ASPECTS). Keep the ones that matter most."
            )
    return terms


def word_forms(word: str) -> set[str]:
    """A word in the singular and the plural (battery, batteries; price, prices; glass, glasses)."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        base = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "zes", "ches", "shes")):
        base = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        base = w[:-1]
    else:
        base = w
    forms = {w, base, base + "s", base + "es"}
    if len(base) > 1 and base.endswith("y") and base[-2] not in "aeiou":
        forms.add(base[:-1] + "ies")
    return forms


def aspect_pattern(term: str) -> re.Pattern[str]:
    """Matches a term as whole words, case-insensitively, its last word singular or plural."""
    words = term.split()
    last = "|".join(
        re.escape(form) for form in sorted(word_forms(words[-1]), key=len, reverse=True)
    )
    head = [re.escape(word) for word in words[:-1]]
    return re.compile(r"(?<!\w)" + r"\s+".join([*head, f"(?:{last})"]) + r"(?!\w)", re.IGNORECASE)


def overlapping_windows(text: str, max_chars: int = 0, max_words: int = 0) -> list[str]:
    """Cut a long text at spaces into overlapping windows.

    Each window has at most `max_chars` characters and `max_words` words (0: no bound) and repeats
    the last quarter of the one before, so no phrase is read only where it was cut.
    """
    words = text.split()
    windows: list[str] = []
    start = 0
    while start < len(words):
        end, length = start, 0
        while end < len(words):
            extra = len(words[end]) + (1 if end > start else 0)
            over_chars = max_chars and length + extra > max_chars
            over_words = max_words and end - start >= max_words
            if end > start and (over_chars or over_words):
                break
            length += extra
            end += 1
        windows.append(" ".join(words[start:end]))
        if end >= len(words):
            break
        start = max(start + 1, end - (end - start) // WINDOW_OVERLAP)
    return windows or [text]


def check_document(text: object, options: DocumentOptions) -> Rejection | None:
    """Why a text cannot go through the sentence view, naming the limit; None when it can."""
    if not isinstance(text, str):
        return Rejection(f"Expected text, got {type(text).__name__}.")
    if not text.strip():
        return Rejection("The text is empty. Type or paste something to analyse.")
    if len(text) > options.max_chars:
        return Rejection(
            f"The text has {len(text):,} characters; the sentence view takes at most "
            f"{options.max_chars:,} (--max-document-chars, SENTIMENT_MAX_DOCUMENT_CHARS). "
            "Split it into several documents.",
            kind="too_long",
        )
    return None


@dataclass
class _Plan:
    """One document's texts for the model: windows per sentence, and the whole-text item."""

    text: str
    sentences: list[tuple[str, int, int]]
    windows: list[list[str]]
    whole: str | None


def analyse_documents(
    texts: Sequence[object],
    classify: ClassifyTexts,
    labels: Sequence[str],
    options: DocumentOptions,
    aspects: Sequence[str] = (),
) -> list[DocumentReport | Rejection]:
    """Score every sentence of every text in one classify call; one report or refusal per text.

    A sentence over `options.max_text_chars` is cut into overlapping windows before the call; one the
    model truncated (over its token limit) is read again in overlapping windows in a second call.
    A sentence's windows are averaged.
    """
    plans: list[_Plan | Rejection] = []
    for text in texts:
        refusal = check_document(text, options)
        if refusal is not None:
            plans.append(refusal)
            continue
        assert isinstance(text, str)  # check_document refused anything else
        plans.append(_plan(text, options))

    calls: list[str] = []
    for plan in plans:
        if isinstance(plan, _Plan):
            calls += [window for windows in plan.windows for window in windows]
            calls += [plan.whole] if plan.whole is not None else []
    outcomes = iter(classify(calls) if calls else [])

    # The first pass's outcomes, then the windows of sentences the model truncated, in a second call.
    firsts: list[tuple[list[list[Outcome]], Outcome | None] | None] = []
    rewindowed: list[tuple[int, int, list[str]]] = []
    for p, plan in enumerate(plans):
        if not isinstance(plan, _Plan):
            firsts.append(None)
            continue
        per_sentence = [[next(outcomes) for _ in windows] for windows in plan.windows]
        whole = next(outcomes) if plan.whole is not None else None
        firsts.append((per_sentence, whole))
        for s, (windows, firsts_of) in enumerate(zip(plan.windows, per_sentence, strict=True)):
            truncated = [r for r in firsts_of if isinstance(r, Prediction) and r.truncated]
            if len(windows) == 1 and truncated:
                share = truncated[0].kept_tokens / truncated[0].num_tokens
                words = max(1, int(len(windows[0].split()) * share * WINDOW_MARGIN))
                rewindowed.append((p, s, overlapping_windows(windows[0], max_words=words)))
    second = iter(classify([w for _, _, ws in rewindowed for w in ws]) if rewindowed else [])
    replaced = {(p, s): [next(second) for _ in windows] for p, s, windows in rewindowed}

    polarity = polarity_labels(labels)
    reports: list[DocumentReport | Rejection] = []
    for p, (plan, first) in enumerate(zip(plans, firsts, strict=True)):
        if not isinstance(plan, _Plan) or first is None:
            assert isinstance(plan, Rejection)
            reports.append(plan)
            continue
        per_sentence, whole = first
        results = [
            _sentence(n + 1, sentence, replaced.get((p, n), outs), polarity)
            for n, (sentence, outs) in enumerate(zip(plan.sentences, per_sentence, strict=True))
        ]
        reports.append(_report(plan, results, whole, labels, polarity, aspects, options))
    return reports


def analyse_document(
    text: object,
    classify: ClassifyTexts,
    labels: Sequence[str],
    options: DocumentOptions,
    aspects: Sequence[str] = (),
) -> DocumentReport | Rejection:
    """One document's sentence view (see analyse_documents)."""
    return analyse_documents([text], classify, labels, options, aspects)[0]


def _plan(text: str, options: DocumentOptions) -> _Plan | Rejection:
    sentences = [(s.text, s.start, s.end) for s in split_sentences(text)]
    if not sentences:
        return Rejection("No sentence was found in this text.")
    if len(sentences) > options.max_sentences:
        return Rejection(
            f"The text has {len(sentences):,} sentences; the sentence view takes at most "
            f"{options.max_sentences:,} (--max-document-sentences, "
            "SENTIMENT_MAX_DOCUMENT_SENTENCES). Split it into several documents.",
            kind="too_long",
        )
    windows = [
        overlapping_windows(s, max_chars=options.max_text_chars)
        if len(s) > options.max_text_chars
        else [s]
        for s, _, _ in sentences
    ]
    whole: str | None = None
    if len(text) <= options.max_text_chars:
        whole = text
    elif options.long_text_reading == "first_tokens":
        whole = text[: options.max_text_chars]
    return _Plan(text, sentences, windows, whole)


def _sentence(
    number: int,
    sentence: tuple[str, int, int],
    outcomes: Sequence[Outcome],
    polarity: tuple[str, str] | None,
) -> SentenceResult:
    text, start, end = sentence
    failed = [o for o in outcomes if isinstance(o, Rejection)]
    if failed:
        where = f" (window {outcomes.index(failed[0]) + 1} of {len(outcomes)})"
        error = failed[0].message + (where if len(outcomes) > 1 else "")
        return SentenceResult(number, text, start, end, error=error, windows=len(outcomes))
    predictions = [o for o in outcomes if isinstance(o, Prediction)]
    scores = _mean_scores([p.scores for p in predictions], [1.0] * len(predictions))
    return SentenceResult(
        number, text, start, end, scores, windows=len(outcomes), signed=_signed(scores, polarity)
    )


def _mean_scores(
    scores: Sequence[Sequence[LabelScore]], weights: Sequence[float]
) -> tuple[LabelScore, ...]:
    """Weighted mean of each label's score, highest first."""
    total = sum(weights)
    sums: dict[str, float] = {}
    for items, weight in zip(scores, weights, strict=True):
        for item in items:
            sums[item.label] = sums.get(item.label, 0.0) + item.score * weight
    mean = [LabelScore(label, value / total) for label, value in sums.items()] if total else []
    return tuple(sorted(mean, key=lambda item: item.score, reverse=True))


def _signed(scores: Sequence[LabelScore], polarity: tuple[str, str] | None) -> float | None:
    if polarity is None or not scores:
        return None
    by_label = {item.label: item.score for item in scores}
    return by_label.get(polarity[0], 0.0) - by_label.get(polarity[1], 0.0)


def _report(
    plan: _Plan,
    results: list[SentenceResult],
    whole: Outcome | None,
    labels: Sequence[str],
    polarity: tuple[str, str] | None,
    aspects: Sequence[str],
    options: DocumentOptions,
) -> DocumentReport:
    read = [s for s in results if s.read]
    overall = _mean_scores([s.scores for s in read], [float(len(s.text)) for s in read])
    notices: list[str] = []
    failed = len(results) - len(read)
    if not read:
        notices.append(
            "The model could not read any sentence of this text: see each sentence's message."
        )
    elif failed:
        notices.append(
            f"The model could not read {failed} of {len(results)} sentences; each says why, and "
            "the other sentences were scored as usual."
        )
    windowed = [s for s in results if s.windows > 1]
    if windowed:
        numbers = ", ".join(str(s.number) for s in windowed)
        notices.append(
            f"Nothing was cut: {len(windowed)} sentence(s) over the model's limit (number "
            f"{numbers}) were read in overlapping windows, and their windows averaged."
        )
    return DocumentReport(
        text=plan.text,
        labels=tuple(labels),
        sentences=tuple(results),
        overall=overall,
        whole=_whole_reading(plan, whole, overall, options),
        aspects=tuple(_aspect(term, results, labels) for term in aspects),
        polarity=polarity,
        notices=tuple(notices),
    )


def _whole_reading(
    plan: _Plan, whole: Outcome | None, overall: tuple[LabelScore, ...], options: DocumentOptions
) -> WholeReading:
    aggregate = WholeReading(
        "sentences" if overall else "none",
        overall,
        "the sentence aggregate (each sentence's scores weighted by its length)",
    )
    if (
        isinstance(whole, Prediction)
        and not whole.truncated
        and len(plan.text) <= options.max_text_chars
    ):
        return WholeReading(
            "model",
            whole.scores,
            f"the model's reading of the whole text ({whole.num_tokens:,} tokens)",
        )
    setting = "--long-text-reading, SENTIMENT_LONG_TEXT_READING"
    if isinstance(whole, Prediction) and options.long_text_reading == "first_tokens":
        return WholeReading(
            "first_tokens",
            whole.scores,
            f"the model's reading of the first {whole.kept_tokens:,} tokens only; the rest was "
            f"ignored ({setting} is first_tokens)",
        )
    if isinstance(whole, Rejection):
        why = f"the model could not read the whole text ({whole.message})"
    elif isinstance(whole, Prediction):
        why = (
            f"the text is {whole.num_tokens:,} tokens, over the model's limit of "
            f"{whole.kept_tokens:,}"
        )
    else:
        why = (
            f"the text is over {options.max_text_chars:,} characters (--max-text-chars), more than "
            "the model reads at once"
        )
    return WholeReading(
        aggregate.method, aggregate.scores, f"{aggregate.note}, because {why} ({setting})"
    )


def _aspect(term: str, sentences: Sequence[SentenceResult], labels: Sequence[str]) -> AspectResult:
    pattern = aspect_pattern(term)
    mentions = [s for s in sentences if pattern.search(s.text)]
    counts = Counter(s.label for s in mentions if s.read)
    ordered = tuple((label, counts.get(label, 0)) for label in labels)
    if not mentions:
        verdict = "not mentioned"
    elif not counts:
        verdict = "not read"
    else:
        top = max(counts.values())
        leaders = [label for label, count in counts.items() if count == top]
        verdict = leaders[0] if len(leaders) == 1 else "mixed"
    return AspectResult(term, tuple(s.number for s in mentions), ordered, verdict)
