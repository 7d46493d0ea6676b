"""Behavioural tests (CheckList-style) for any served model: capability by capability, side by side.

`suite` generates the cases from the data files in `data/`, `scoring` scores them and builds the
report, `user_tests` reads a user's own tests, and `python -m sentiment_demo.behaviour` runs it all
from the command line. No Gradio and no torch: models come as a name, a ModelInfo and outcomes.
"""

from sentiment_demo.behaviour.scoring import (
    BehaviourReport,
    capability_rows,
    failure_rows,
    markdown_table,
    run_suite,
)
from sentiment_demo.behaviour.suite import (
    DEFAULT_SEED,
    Suite,
    TestCase,
    generate_suite,
    training_suite,
)
from sentiment_demo.behaviour.user_tests import read_user_tests, with_user_tests

__all__ = [
    "DEFAULT_SEED",
    "BehaviourReport",
    "Suite",
    "TestCase",
    "capability_rows",
    "failure_rows",
    "generate_suite",
    "markdown_table",
    "read_user_tests",
    "run_suite",
    "training_suite",
    "with_user_tests",
]
