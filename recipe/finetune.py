r"""Fine-tune a text classifier on anyone's labelled files, calibrate it, and write its model card.

    python -m recipe.finetune --data FILE [--data FILE ...] --text-column C --label-column L \\
        --base FOLDER_OR_HUB_ID --output models/NAME

`Trainer` with early stopping on validation macro-F1, class weights when the labels are skewed,
length-grouped batches, bf16 on CPUs that have it (fp16 on CUDA) and resumable checkpoints; then a
temperature fitted on the validation split is folded into the output layer, and `recipe.evaluate`
measures the saved folder through the app's own loader and writes the card. The output folder appears
only when everything succeeded: a failure or Ctrl-C leaves nothing half-written there. An existing
--output is replaced only when this recipe wrote it (or with --overwrite), and never when it holds input
data; the arguments are checked before anything is read or trained.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from sklearn.metrics import f1_score
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from recipe import evaluate
from recipe.calibration import apply_temperature, fit_temperature
from recipe.emoji_tokens import add_emoji_tokens
from recipe.labelled_data import (
    SPLITS,
    DataError,
    LabelledRows,
    assign_splits,
    label_names,
    listing,
    look_alike_labels,
    read_files,
    remove_duplicates,
    rename_labels,
)
from sentiment_demo.backends.torch_device import cpu_supports_bf16

logger = logging.getLogger(__name__)

# Class weights are used when the most frequent training label has this many times the rarest's rows.
SKEW_RATIO = 1.5
# training.json of a folder this recipe wrote starts its command with this; such a folder may be replaced.
COMMAND = "python -m recipe.finetune"
# Seeds go to numpy's generator, which takes these.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Recipe:
    """Hyperparameters; the defaults are the ones the embedded model was trained with."""

    learning_rate: float = 1e-4
    max_epochs: float = 3.0
    patience: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    batch_size: int = 32
    max_length: int = 128
    seed: int = 42
    balance: str = "auto"
    calibrate: bool = True
    mixed_precision: bool = True
    emoji_tokens: bool = False


class WeightedTrainer(Trainer):
    """Trainer whose cross-entropy weighs each label (inverse frequency), when weights are given."""

    def __init__(
        self, *args: Any, class_weights: torch.Tensor | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """Weighted cross-entropy; the parent's loss when no weights were given."""
        if self.class_weights is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = torch.nn.functional.cross_entropy(
            outputs.logits.float(), labels, weight=self.class_weights.to(outputs.logits.device)
        )
        return (loss, outputs) if return_outputs else loss


@dataclass(frozen=True)
class Cleaning:
    """What load_rows changed in the data, for training.json, the card and `recipe.evaluate`."""

    merged_labels: dict[str, str]
    duplicates_removed: int


def load_rows(args: argparse.Namespace, cache_dir: Path) -> tuple[LabelledRows, Cleaning]:
    """Every --data file read and checked; look-alike labels merged, exact duplicates removed.

    What was dropped, merged or removed is logged; `recipe.evaluate` repeats the same steps from
    what training.json records, so it rebuilds the same test split.
    """
    rows = read_files(
        args.data,
        args.text_column,
        args.label_column,
        args.source_column,
        args.split_column,
        cache_dir,
    )
    for why, count in rows.dropped.items():
        logger.warning("dropped %d rows: %s", count, why)
    given = args.labels.split(",") if args.labels else None
    look_alike = look_alike_labels(rows, given)
    if look_alike:
        counts = Counter(rows.labels)
        described = listing(
            [f"{old!r} ({counts[old]:,} rows) as {new!r}" for old, new in look_alike.items()]
        )
        if args.keep_look_alike_labels:
            logger.warning("look-alike labels kept apart (--keep-look-alike-labels): %s", described)
            look_alike = {}
        else:
            logger.warning(
                "merged look-alike labels (same after Unicode normalisation, case folding and "
                "removing invisible characters): %s; --keep-look-alike-labels keeps them apart",
                described,
            )
            rename_labels(rows, look_alike)
    duplicates = remove_duplicates(rows)
    if duplicates:
        logger.warning(
            "removed %d exact duplicate rows (same text and label) before splitting, so no text "
            "is both trained on and tested on",
            duplicates,
        )
    return rows, Cleaning(merged_labels=look_alike, duplicates_removed=duplicates)


def split_rows(rows: LabelledRows, seed: int) -> None:
    """Assign the split of every row that has none; every split must end up with rows."""
    assign_splits(rows, seed)
    missing = [name for name in SPLITS if name not in set(rows.splits)]
    if missing:
        raise DataError(
            f"the split column gives no {' or '.join(missing)} rows; every split needs some"
        )


def load_base(base: str, labels: list[str]) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and a fresh classification head on the base encoder, in float32.

    Raises:
        DataError: the base is neither a local model folder nor a Hub id that can be fetched.
    """
    try:
        AutoConfig.from_pretrained(base)
        tokenizer = AutoTokenizer.from_pretrained(base)
    except (OSError, ValueError) as exc:
        where = "a folder with no config.json" if Path(base).is_dir() else "not a local folder"
        raise DataError(
            f"--base {base}: cannot load a model ({where}, and the Hub could not provide it: "
            f"{str(exc).splitlines()[0][:200]}); give a model folder or a Hub id that is reachable"
        ) from exc
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # Some shipped tokenizers pad and truncate every input to a fixed length; pad per batch instead.
        backend.no_padding()
        backend.no_truncation()
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        dtype=torch.float32,
        ignore_mismatched_sizes=True,  # a base with another head gets a fresh one
    )
    if model.config.pad_token_id is None and tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


def class_weights(train_labels: list[int], num_labels: int, balance: str) -> torch.Tensor | None:
    """Inverse-frequency weights (mean 1) under --balance weights, or auto with skewed labels."""
    counts = np.bincount(train_labels, minlength=num_labels).astype(float)
    skewed = counts.max() / max(counts.min(), 1.0) >= SKEW_RATIO
    if balance == "none" or (balance == "auto" and not skewed):
        return None
    weights = counts.sum() / (num_labels * np.maximum(counts, 1.0))
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Train, calibrate, save, evaluate and write the card into args.output; returns training.json."""
    recipe = Recipe(
        learning_rate=args.learning_rate,
        max_epochs=args.max_epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        max_length=args.max_length,
        seed=args.seed,
        balance=args.balance,
        calibrate=not args.no_calibration,
        mixed_precision=not args.no_mixed_precision,
        emoji_tokens=args.emoji_tokens,
    )
    check_arguments(args)
    work_dir = args.work_dir or default_work_dir(args.output)
    rows, cleaning = load_rows(args, work_dir / "datasets")
    labels = label_names(rows, args.labels.split(",") if args.labels else None)
    split_rows(rows, args.split_seed)
    resume = claim_work_dir(work_dir, args, labels)
    label_id = {label: i for i, label in enumerate(labels)}
    tokenizer, model = load_base(args.base, labels)
    added_emoji = 0
    if recipe.emoji_tokens:
        added_emoji = add_emoji_tokens(tokenizer, model)
        logger.info("added %d emoji tokens the base vocabulary read as unknown", added_emoji)

    splits = DatasetDict(
        {
            name: Dataset.from_dict(
                {
                    "text": [t for t, s in zip(rows.texts, rows.splits, strict=True) if s == name],
                    "label": [
                        label_id[lab]
                        for lab, s in zip(rows.labels, rows.splits, strict=True)
                        if s == name
                    ],
                }
            )
            for name in SPLITS
        }
    )
    encoded = splits.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=recipe.max_length),
        batched=True,
        remove_columns=["text"],
    )
    weights = class_weights(splits["train"]["label"], len(labels), recipe.balance)
    logger.info(
        "%s; labels %s; class weights %s",
        ", ".join(f"{name} {len(splits[name]):,}" for name in SPLITS),
        listing([repr(label) for label in labels]),
        "none" if weights is None else [round(w, 3) for w in weights.tolist()],
    )

    on_cuda = torch.cuda.is_available()
    bf16 = recipe.mixed_precision and not on_cuda and cpu_supports_bf16()
    fp16 = recipe.mixed_precision and on_cuda
    set_seed(recipe.seed)
    trainer = WeightedTrainer(
        model=model,
        args=TrainingArguments(
            output_dir=str(work_dir / "checkpoints"),
            learning_rate=recipe.learning_rate,
            num_train_epochs=recipe.max_epochs,
            warmup_steps=recipe.warmup_ratio,  # below 1: a ratio of all steps
            weight_decay=recipe.weight_decay,
            per_device_train_batch_size=recipe.batch_size,
            per_device_eval_batch_size=128,
            train_sampling_strategy="group_by_length",
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=2,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            bf16=bf16,
            fp16=fp16,
            use_cpu=not on_cuda,
            seed=recipe.seed,
            data_seed=recipe.seed,
            logging_steps=50,
            report_to="none",
            dataloader_num_workers=0,
        ),
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_macro_f1,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=recipe.patience)],
        class_weights=weights,
    )
    started = time.perf_counter()
    clock = work_dir / "train-seconds.json"
    # A resumed run adds its time to the time the interrupted runs spent, kept beside the checkpoints.
    earlier = json.loads(clock.read_text())["seconds"] if resume and clock.is_file() else 0.0
    trainer.train(resume_from_checkpoint=True if resume else None)
    train_seconds = earlier + time.perf_counter() - started
    clock.write_text(json.dumps({"seconds": train_seconds}) + "\n")
    best_f1 = float(trainer.evaluate()["eval_macro_f1"])
    model = trainer.model.float().eval()

    temperature = 1.0
    if recipe.calibrate:
        predicted = trainer.predict(encoded["validation"])
        logits = predicted.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        # The labels the Trainer returns with the logits, not the dataset's column: its evaluation
        # loader may visit the rows in another order (length grouping).
        temperature = fit_temperature(
            np.asarray(logits, dtype=np.float64), np.asarray(predicted.label_ids)
        )
        apply_temperature(model, len(labels), temperature)
        logger.info("temperature %.3f fitted on the validation split", temperature)

    # Only paths relative to the folder the command ran from (or bare file names) are written: the
    # card and training.json travel to the Hub with the model.
    report = {
        "command": f"{COMMAND} " + shlex.join(public_argv(argv)),
        "base_model": public_path(args.base),
        "base_model_id": args.base_model_id or public_path(args.base),
        "labels": labels,
        "data": [public_path(path) for path in args.data],
        "text_column": args.text_column,
        "label_column": args.label_column,
        "source_column": args.source_column,
        "split_column": args.split_column,
        "split_seed": args.split_seed,
        "eval_data": [public_path(path) for path in args.eval_data],
        "sources_info": public_path(args.sources_info) if args.sources_info else None,
        "dropped_rows": dict(rows.dropped),
        "duplicates_removed": cleaning.duplicates_removed,
        "merged_labels": cleaning.merged_labels,
        "feedback_records": rows.feedback,
        "split_sizes": {name: len(splits[name]) for name in SPLITS},
        "train_labels": dict(
            sorted(
                Counter(rows.labels[i] for i, s in enumerate(rows.splits) if s == "train").items()
            )
        ),
        "class_weights": None
        if weights is None
        else dict(zip(labels, [round(w, 4) for w in weights.tolist()], strict=True)),
        "recipe": asdict(recipe),
        "mixed_precision": "bf16" if bf16 else "fp16" if fp16 else "none",
        "emoji_tokens_added": added_emoji,
        "epochs_trained": round(float(trainer.state.epoch or 0), 2),
        "best_checkpoint_epoch": _best_epoch(trainer),
        "validation_macro_f1": round(best_f1, 4),
        "temperature": round(temperature, 4),
        "train_seconds": round(train_seconds, 1),
        "resumed_from_checkpoint": bool(resume),
    }
    inputs = evaluate.Inputs(
        data=list(args.data),
        eval_data=list(args.eval_data),
        sources_info=str(args.sources_info) if args.sources_info else None,
    )
    _save_atomically(model, tokenizer, report, args.output, work_dir, inputs)
    return report


def check_arguments(args: argparse.Namespace) -> None:
    """Every argument checked before anything is read or trained; one line for the first bad one.

    Raises:
        DataError: a value outside its range, or an --output that must not be replaced.
    """
    at_least_one = (
        ("--batch-size", args.batch_size),
        ("--max-length", args.max_length),
        ("--patience", args.patience),
    )
    for flag, value in at_least_one:
        if value < 1:
            raise DataError(f"{flag} {value}: must be a whole number of at least 1")
    for flag, number in (
        ("--learning-rate", args.learning_rate),
        ("--max-epochs", args.max_epochs),
    ):
        if not (math.isfinite(number) and number > 0):
            raise DataError(f"{flag} {number}: must be a number above 0")
    for flag, value in (("--seed", args.seed), ("--split-seed", args.split_seed)):
        if not 0 <= value <= MAX_SEED:
            raise DataError(f"{flag} {value}: must be a whole number from 0 to {MAX_SEED}")
    check_output(args)


def check_output(args: argparse.Namespace) -> None:
    """Refuse an --output whose replacement would lose something that is not a model of ours.

    The output is replaced as a whole, so it may not be (or hold) the folder the command runs from,
    the work folder or any input file; an existing folder is replaced only when it is empty or this
    recipe wrote it (its training.json), unless --overwrite.

    Raises:
        DataError: naming --output, what it holds and what to do.
    """
    output = args.output.resolve()
    named = f"--output {args.output}"
    if Path.cwd().resolve().is_relative_to(output):
        raise DataError(
            f"{named}: is the folder the command runs from (or holds it), and the output folder "
            "is replaced as a whole; give a new folder such as models/my-model"
        )
    inputs = [("--data", p) for p in args.data] + [("--eval-data", p) for p in args.eval_data]
    inputs += [("--sources-info", args.sources_info)] if args.sources_info else []
    inputs += [("--work-dir", args.work_dir)] if args.work_dir else []
    for flag, path in inputs:
        if Path(path).resolve().is_relative_to(output):
            raise DataError(
                f"{named}: holds {path} ({flag}), and the output folder is replaced as a whole; "
                "write the model to another folder"
            )
    if not output.exists():
        return
    if not output.is_dir():
        raise DataError(f"{named}: is a file, not a folder; give a folder to write the model to")
    if args.overwrite or is_recipe_output(output) or not any(output.iterdir()):
        return
    held = sum(1 for _ in output.rglob("*"))
    raise DataError(
        f"{named}: exists, holds {held:,} files or folders and was not written by this recipe (no "
        "training.json of recipe.finetune); give a new folder, or add --overwrite to replace it"
    )


def is_recipe_output(folder: Path) -> bool:
    """Whether the folder is a model this recipe wrote: its training.json records our command."""
    try:
        training = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(training, dict) and str(training.get("command", "")).startswith(COMMAND)


def default_work_dir(output: Path) -> Path:
    """.cache/finetune/NAME-HASH: two outputs of the same name never share checkpoints."""
    digest = hashlib.sha256(os.path.abspath(output).encode()).hexdigest()[:10]
    return Path(".cache/finetune") / f"{Path(os.path.abspath(output)).name}-{digest}"


def claim_work_dir(work_dir: Path, args: argparse.Namespace, labels: list[str]) -> bool:
    """Record which run the work folder's checkpoints belong to; whether to resume from them.

    --resume continues only a run for the same --output, base and labels; a fresh run removes the
    checkpoints an earlier run left, so a later --resume cannot pick up a stranger's.

    Raises:
        DataError: --resume with checkpoints of another run.
    """
    checkpoints = work_dir / "checkpoints"
    owner_file = work_dir / "run.json"
    base = os.path.abspath(args.base) if Path(args.base).exists() else args.base
    owner = {
        "output": os.path.abspath(args.output),
        "base": base,
        "labels": labels,
        "emoji_tokens": args.emoji_tokens,  # another vocabulary: checkpoints would not load
    }
    found = sorted(checkpoints.glob("checkpoint-*"))
    if args.resume and found:
        try:
            recorded = json.loads(owner_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if recorded != owner:
            whose = (
                f"the run for {recorded.get('output')} with labels {recorded.get('labels')}"
                if isinstance(recorded, dict)
                else "a run that did not record its output"
            )
            raise DataError(
                f"--resume: the checkpoints in {checkpoints} belong to {whose}, not to this "
                f"--output with labels {labels}; drop --resume to train afresh, or give --work-dir"
            )
        return True
    for old in found:
        shutil.rmtree(old)
    work_dir.mkdir(parents=True, exist_ok=True)
    owner_file.write_text(json.dumps(owner) + "\n", encoding="utf-8")
    (work_dir / "train-seconds.json").unlink(missing_ok=True)
    return False


def public_path(path: str | os.PathLike[str]) -> str:
    """A path fit to publish: relative to the folder the command runs from, else the bare file name.

    A relative path that stays below that folder is kept as given; a Hub id passes unchanged.
    """
    given = os.fspath(path)
    if not os.path.isabs(given) and ".." not in Path(given).parts:
        return Path(given).as_posix()
    absolute, here = Path(os.path.abspath(given)), Path.cwd()
    return absolute.relative_to(here).as_posix() if absolute.is_relative_to(here) else absolute.name


def public_argv(argv: list[str]) -> list[str]:
    """The command line with every absolute or upward path made public (see public_path)."""

    def public(token: str) -> str:
        return public_path(token) if os.path.isabs(token) or token.startswith("..") else token

    shown = []
    for token in argv:
        flag, equals, value = token.partition("=")
        shown.append(
            f"{flag}={public(value)}" if token.startswith("--") and equals else public(token)
        )
    return shown


def _save_atomically(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    report: dict[str, Any],
    output: Path,
    work_dir: Path,
    inputs: evaluate.Inputs,
) -> None:
    """Save, evaluate and card into a hidden sibling folder, then move it to `output` in one rename."""
    partial = output.with_name(f".{output.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir(parents=True)
        # float16 on disk halves the size; the app loads it back in the precision its device wants.
        model.to(torch.float16).save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        (partial / "training.json").write_text(json.dumps(report, indent=2) + "\n")
        # Hand-written notes of the model's history survive a rebuild (the card includes them).
        notes = output / evaluate.CHANGES_FILE
        if notes.is_file():
            shutil.copy2(notes, partial / evaluate.CHANGES_FILE)
        evaluate.evaluate_folder(partial, work_dir=work_dir, card_name=output.name, inputs=inputs)
        previous = output.with_name(f".{output.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if output.exists():
            output.rename(previous)
        partial.rename(output)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _best_epoch(trainer: Trainer) -> float | None:
    best = trainer.state.best_model_checkpoint
    if not best:
        return None
    step = int(best.rsplit("-", 1)[-1])
    return next(
        (round(float(e["epoch"]), 2) for e in trainer.state.log_history if e.get("step") == step),
        None,
    )


def _macro_f1(prediction: EvalPrediction) -> dict[str, float]:
    logits = prediction.predictions
    logits = logits[0] if isinstance(logits, tuple) else logits
    predicted = np.argmax(logits, axis=-1)
    return {
        "macro_f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
        "accuracy": float((predicted == prediction.label_ids).mean()),
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option is recorded in training.json and the card."""
    defaults = Recipe()
    parser = argparse.ArgumentParser(
        prog="python -m recipe.finetune",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        action="append",
        required=True,
        help="CSV, TSV, JSON lines or Parquet, or the app's feedback database (.sqlite: its accepted "
        "records); repeatable (each file is a source unless --source-column)",
    )
    data.add_argument("--text-column", required=True)
    data.add_argument("--label-column", required=True)
    data.add_argument(
        "--labels", help="comma-separated label names in order (default: the data's, sorted)"
    )
    data.add_argument(
        "--keep-look-alike-labels",
        action="store_true",
        help="keep labels apart that differ only in case, Unicode form or invisible characters "
        "(default: merge them into the most frequent spelling, with a warning)",
    )
    data.add_argument(
        "--source-column", help="column naming each row's source, reported separately"
    )
    data.add_argument(
        "--split-column",
        help="column with train / validation / test per row (default: a stratified 80/10/10 split)",
    )
    data.add_argument("--split-seed", type=int, default=20261121)
    data.add_argument(
        "--eval-data",
        action="append",
        default=[],
        help="extra evaluation-only file (same columns); repeatable",
    )
    data.add_argument(
        "--sources-info",
        type=Path,
        help="JSON of each source's title, origin and licence, for the card",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--base", required=True, help="local model folder or Hugging Face Hub id")
    model.add_argument(
        "--base-model-id", help="Hub id to name in the card when --base is a local folder"
    )
    model.add_argument(
        "--output",
        type=Path,
        required=True,
        help="folder to write the model to; an existing one is replaced only if this recipe wrote it",
    )
    model.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --output that this recipe did not write (never one holding inputs)",
    )
    model.add_argument(
        "--work-dir",
        type=Path,
        help="checkpoints and caches (default .cache/finetune/NAME-HASH, one per --output)",
    )
    model.add_argument(
        "--resume",
        action="store_true",
        help="continue from the last checkpoint of this --output's run in the work folder",
    )
    training = parser.add_argument_group("training")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    training.add_argument("--max-epochs", type=float, default=defaults.max_epochs)
    training.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="epochs without a better validation macro-F1 before stopping",
    )
    training.add_argument("--batch-size", type=int, default=defaults.batch_size)
    training.add_argument(
        "--max-length", type=int, default=defaults.max_length, help="tokens kept per training text"
    )
    training.add_argument("--seed", type=int, default=defaults.seed)
    training.add_argument(
        "--balance",
        choices=("auto", "weights", "none"),
        default=defaults.balance,
        help=f"class weights: auto uses them when one label has {SKEW_RATIO}x another's rows",
    )
    training.add_argument("--no-calibration", action="store_true", help="skip temperature scaling")
    training.add_argument("--no-mixed-precision", action="store_true", help="train in float32")
    training.add_argument(
        "--emoji-tokens",
        action="store_true",
        help="add a token for every emoji the base vocabulary reads as unknown, its embedding "
        "started from the emoji's name (recipe/emoji_tokens.py; needs the emoji package)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a data or base-model problem exits 2 with one line saying what to fix."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        report = run(args, argv)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    print(f"wrote {args.output} (card: {args.output / 'README.md'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
