"""The embedded model's training data and vocabulary: the suite's training half, medicine reviews, emoji."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from recipe.augment import behaviour_training_rows, template_label
from recipe.corpora import DRUG_REVIEW_SPLITS, read_drug_reviews
from sentiment_demo.behaviour import generate_suite


@pytest.fixture(scope="module")
def augmented() -> dict[str, str]:
    corpus = behaviour_training_rows()
    return dict(zip(corpus.texts, corpus.labels, strict=True))


def test_no_text_the_suite_tests_on_is_trained_on(augmented: dict[str, str]) -> None:
    # The card's capability table is measured on the eval half with its default seed and others.
    for seed in (2020, 1, 7):
        tested = set(generate_suite(seed, "eval").texts())
        assert not tested & set(augmented), f"seed {seed}: eval-half texts in the training rows"


def test_every_capability_with_labels_is_taught(augmented: dict[str, str]) -> None:
    assert len(augmented) > 3000
    assert Counter(augmented.values()).keys() == {"negative", "neutral", "positive"}
    suite_texts = {
        case.capability: case.texts for case in generate_suite(11, "train").cases
    }  # one example text per capability
    taught = {cap for cap, texts in suite_texts.items() if texts[0] in augmented}
    # directional cases state a direction, not a label: they are the only ones left out
    assert taught == set(suite_texts) - {"directional"}


def test_negations_and_invariances_get_the_labels_they_mean(augmented: dict[str, str]) -> None:
    negated_positive = [t for t in augmented if t.startswith("This ") and " isn't " in t]
    assert negated_positive
    train = generate_suite(11, "train")
    for case in train.cases:
        if case.tag == "negated positive":
            assert augmented[case.texts[0]] == "negative", case.texts[0]
        if case.tag == "negated negative":
            assert augmented[case.texts[0]] == "positive", case.texts[0]
        if case.test_type == "inv":
            # every variant (another name, a typo, a URL) carries one label
            assert len({augmented[text] for text in case.texts}) == 1, case.texts


def test_a_template_label_comes_from_its_sentiment_slots() -> None:
    assert template_label("{name} thinks this {noun} is {pos_adj}.") == "positive"
    assert template_label("my {noun} {emoji_neg}{emoji_neg2}") == "negative"
    assert template_label("{name} is a nurse from our town.") == "neutral"
    assert template_label("We {pos_verb} this {noun}, but we {neg_verb} that {noun2}.") is None


@pytest.mark.parametrize(("name", "rows"), [("drug_reviews", 600), ("drug_reviews_test", 379)])
def test_the_medicine_reviews_are_read_with_real_neutral_rows(name: str, rows: int) -> None:
    corpus = read_drug_reviews(name)
    assert name in DRUG_REVIEW_SPLITS
    assert len(corpus.texts) == rows
    counts = Counter(corpus.labels)
    assert counts.keys() == {"negative", "neutral", "positive"}
    assert counts["neutral"] >= 30  # 5 and 6 stars of 10
    assert not any("&#039;" in text or text.startswith('"') for text in corpus.texts)
    assert any("I've" in text for text in corpus.texts)  # entities decoded, not dropped


def test_emoji_get_tokens_that_start_from_their_names(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from recipe.emoji_tokens import add_emoji_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    before = model.get_input_embeddings().weight.detach().clone()
    # Before: both emoji are one unknown token, so 😊🎉 and 😤💩 read the same.
    assert tokenizer.tokenize("the flight 😊🎉") == tokenizer.tokenize("the flight 😤💩")
    added = add_emoji_tokens(tokenizer, model)
    assert added > 1000
    happy, angry = tokenizer.tokenize("the flight 😊🎉"), tokenizer.tokenize("the flight 😤💩")
    assert happy[-2:] == ["😊", "🎉"]
    assert angry[-2:] == ["😤", "💩"]
    assert tokenizer.tokenize("❤️ it") == ["❤", "it"]  # the variation selector is dropped
    weight = model.get_input_embeddings().weight
    assert weight.shape[0] == len(tokenizer)
    pieces = tokenizer("thumbs up", add_special_tokens=False)["input_ids"]
    known = [p for p in pieces if p != tokenizer.unk_token_id]
    if known:  # the tiny vocabulary may lack the words; then the row keeps its fresh start
        expected = before[known].mean(dim=0)
        assert weight[tokenizer.convert_tokens_to_ids("👍")].detach().allclose(expected)
    # Nothing the vocabulary already had is touched.
    assert weight[: before.shape[0]].detach().equal(before)
    assert add_emoji_tokens(tokenizer, model) == 0  # a second call adds nothing
