"""Sentence segmenters measured on the hard cases of bench/segmenter_cases.py, and for speed.

Each candidate is tried raw (the whole text at once) and as the app uses its choice (one line at a
time, an emoji after a full stop kept with its sentence: sentiment_demo/documents/segment.py). Only
sentencex is a runtime requirement; install the others in a scratch environment to compare:

    python -m venv /tmp/seg && /tmp/seg/bin/pip install sentencex==1.0.32 pysbd==0.3.4 \
        blingfire==0.1.8 numpy spacy==3.8.18
    PYTHONPATH=. /tmp/seg/bin/python -m bench.segmenters
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.segmenter_cases import CASES

Segment = Callable[[str], list[str]]


def candidates() -> dict[str, Segment | str]:
    """Each candidate's split function, or why it could not be loaded."""
    found: dict[str, Segment | str] = {}
    try:
        import sentencex

        found["sentencex 1.0.32"] = lambda text: list(sentencex.segment("en", text))
    except ImportError as exc:
        found["sentencex"] = str(exc)
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False)
        found["pysbd 0.3.4"] = lambda text: list(segmenter.segment(text))
    except ImportError as exc:
        found["pysbd"] = str(exc)
    try:
        import blingfire

        found["blingfire 0.1.8"] = lambda text: blingfire.text_to_sentences(text).split("\n")
    except ImportError as exc:
        found["blingfire"] = str(exc)
    try:
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        found[f"spaCy {spacy.__version__} sentencizer"] = lambda text: [
            s.text for s in nlp(text).sents
        ]
    except ImportError as exc:
        found["spaCy"] = str(exc)
    return found


def per_line(segment: Segment) -> Segment:
    """The app's use of a segmenter: each line on its own (lists, Pros:/Cons: lines)."""
    return lambda text: [s for line in text.splitlines() for s in segment(line)]


def score(segment: Segment) -> tuple[int, list[str]]:
    """Hard cases split exactly as expected, and the names of those that were not."""
    failed = []
    for name, text, expected in CASES:
        got = tuple(s.strip() for s in segment(text) if s.strip())
        if got != expected:
            failed.append(name)
    return len(CASES) - len(failed), failed


def speed(segment: Segment) -> float:
    """Sentences per second on a 20,000-character review-like document."""
    text = " ".join(text for _, text, _ in CASES) * 20
    text = text[:20_000]
    started = time.perf_counter()
    count = len(segment(text))
    return count / (time.perf_counter() - started)


def main() -> None:
    from sentiment_demo.documents.segment import split_sentences

    print(f"{len(CASES)} hard cases (bench/segmenter_cases.py)\n")
    print(f"{'segmenter':32} {'raw':>6} {'per line':>9} {'sentences/s':>12}  failed (raw)")
    for name, segment in candidates().items():
        if isinstance(segment, str):
            print(f"{name:32} not installed ({segment})")
            continue
        raw, failed = score(segment)
        lines, _ = score(per_line(segment))
        print(f"{name:32} {raw:>6} {lines:>9} {speed(segment):>12,.0f}  {', '.join(failed)}")
    app, failed = score(lambda text: [s.text for s in split_sentences(text)])
    rate = speed(lambda text: [s.text for s in split_sentences(text)])
    print(f"{'the app (segment.py)':32} {app:>6} {'':>9} {rate:>12,.0f}  {', '.join(failed)}")


if __name__ == "__main__":
    main()
