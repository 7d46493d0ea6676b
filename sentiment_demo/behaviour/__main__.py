"""`python -m sentiment_demo.behaviour`: the capability suite from the command line, for a model's CI.

    python -m sentiment_demo.behaviour --model models/minilm-sentiment --model vader \
        --output report.json --max-failure negation=0.3 --max-failure fairness=0.05

Models load through `backends.load_models` (a folder, a Hub id, `vader` or an http(s) URL) and texts
run through `BatchEngine`, as in the app. It prints the capability table and exits 1 when a capability
fails more often than its --max-failure allows, 2 on a usage error or a model that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sentiment_demo.backends import load_models
from sentiment_demo.behaviour.scoring import (
    FAILURE_COLUMNS,
    BehaviourReport,
    failure_rows,
    markdown_table,
    run_suite,
    summary_lines,
)
from sentiment_demo.behaviour.suite import DEFAULT_SEED, HALVES, Suite, generate_suite
from sentiment_demo.behaviour.user_tests import read_user_tests, with_user_tests
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Outcome
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.served_model import display_names
from sentiment_demo.errors import InputError, ModelLoadError
from sentiment_demo.evaluation.label_mapping import AUTOMATIC, PRESETS
from sentiment_demo.files import spreadsheet_safe

CHUNK = 64  # texts per engine call: the progress bar moves between chunks


def parse_limit(value: str) -> tuple[str, float]:
    """`CAPABILITY=RATE`, the rate as 0.2 or 20%."""
    name, sep, raw = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected CAPABILITY=RATE (e.g. negation=0.2), got {value!r}"
        )
    try:
        rate = float(raw.strip().rstrip("%")) / (100 if raw.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: the rate must be a number like 0.2 or 20%"
        ) from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{value!r}: the rate must be between 0 and 1 (or 0-100%)")
    return name.strip(), rate


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sentiment_demo.behaviour",
        description="Run the behavioural capability suite on one or more models.",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="a local folder, Hub id, `vader` or http(s) URL; repeat for several",
    )
    parser.add_argument("--output", type=Path, required=True, help="the report, as JSON")
    parser.add_argument("--failures", type=Path, help="also write every failing case as CSV")
    parser.add_argument(
        "--max-failure",
        action="append",
        type=parse_limit,
        default=[],
        metavar="CAPABILITY=RATE",
        help="exit 1 when CAPABILITY fails more often than RATE (0.2 or 20%%); repeatable",
    )
    parser.add_argument(
        "--tests",
        type=Path,
        help="your own tests: a .csv/.tsv/.jsonl with text, expected, capability",
    )
    parser.add_argument("--no-suite", action="store_true", help="run only the --tests file")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generation seed")
    parser.add_argument("--half", choices=HALVES, default="eval", help="which half of the data")
    parser.add_argument(
        "--label-coding",
        choices=list(PRESETS),
        default=AUTOMATIC,
        help="how labels that are not named negative/neutral/positive read as sentiments",
    )
    parser.add_argument("--device", help="as app.py's --device (default: SENTIMENT_DEVICE or auto)")
    parser.add_argument("--dtype", help="as app.py's --dtype")
    parser.add_argument("--num-threads", type=int, help="as app.py's --num-threads")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def build_suite(args: argparse.Namespace, settings: Settings) -> tuple[Suite, list[str]]:
    """The built-in suite and/or the user's tests, and the names of their sources."""
    suite = None if args.no_suite else generate_suite(args.seed, args.half)
    sources = [] if args.no_suite else ["built-in suite"]
    if args.tests:
        user = read_user_tests(args.tests, settings.max_upload_kb * 1024, settings.max_eval_rows)
        suite = with_user_tests(suite, user, args.seed, args.half)
        sources.append(args.tests.name)
    if suite is None:
        raise InputError("--no-suite needs --tests FILE: there is nothing else to run.")
    return suite, sources


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; 0 when every limit holds, 1 when one is exceeded, 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            model=",".join(args.model),
            device=args.device,
            dtype=args.dtype,
            num_threads=args.num_threads,
            warmup=False,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        suite, sources = build_suite(args, settings)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    known = {case.capability for case in suite.cases}
    unknown = sorted({name for name, _ in args.max_failure} - known)
    if unknown:
        parser.error(
            f"--max-failure names {', '.join(unknown)}, which the suite does not have; "
            f"its capabilities are {', '.join(sorted(known))}"
        )
    try:
        loaded = load_models(settings.models, settings)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = display_names([info.model for _, info in loaded])
    engines = [BatchEngine(classifier, settings.max_text_chars) for classifier, _ in loaded]

    def classify_all(texts: Sequence[str]) -> list[list[Outcome]]:
        results: list[list[Outcome]] = []
        with tqdm(
            total=len(texts) * len(engines), unit="texts", desc="behaviour", disable=args.quiet
        ) as bar:
            for name, engine in zip(names, engines, strict=True):
                bar.set_postfix_str(name)
                outcomes: list[Outcome] = []
                for start in range(0, len(texts), CHUNK):
                    outcomes += engine.classify(texts[start : start + CHUNK])
                    bar.update(len(texts[start : start + CHUNK]))
                results.append(outcomes)
        return results

    models = [(name, info) for name, (_, info) in zip(names, loaded, strict=True)]
    report = run_suite(suite, models, classify_all, args.label_coding, sources)
    write_outputs(report, args.output, args.failures)
    print(markdown_table(report))
    print("\n".join(summary_lines(report)))
    exceeded = report.over_limits(dict(args.max_failure))
    for line in exceeded:
        print(f"FAIL {line}", file=sys.stderr)
    return 1 if exceeded else 0


def write_outputs(report: BehaviourReport, output: Path, failures: Path | None) -> None:
    """The JSON report, and the failures as a spreadsheet-safe CSV when asked for."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if failures:
        table = pd.DataFrame(failure_rows(report, None), columns=FAILURE_COLUMNS)
        table = table.map(spreadsheet_safe)
        failures.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(failures, index=False)


if __name__ == "__main__":
    sys.exit(main())
