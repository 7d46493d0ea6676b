"""Settings of the app: one frozen dataclass, read once at start-up from SENTIMENT_* variables and flags.

Each field declares its environment variable, command-line flag and help text in one place, so `--help`,
the README table and `from_env` cannot drift apart. Nothing else in the package reads os.environ.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "models" / "minilm-sentiment"
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")
BACKENDS = ("local", "remote")
# Upload limits that the readers in inputs/ also take as defaults, so that a call without settings
# (a test, a script) gets the app's limits.
MAX_COLUMNS = 1000
MAX_HEADER_KB = 64
FEEDBACK_PUSH = ("accepted", "all")
LONG_TEXT_READINGS = ("sentences", "first_tokens")
RUNTIMES = ("auto", "torch", "onnx")


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false, 1/0, yes/no or on/off")


def _setting(
    default: Any,
    help: str,
    *,
    cast: Callable[[str], Any] = str,
    choices: Sequence[str] = (),
    minimum: int | None = None,
) -> Any:
    return field(
        default=default,
        metadata={"help": help, "cast": cast, "choices": tuple(choices), "minimum": minimum},
    )


@dataclass(frozen=True)
class Settings:
    """Everything the app can be told at start-up. The defaults run locally on a CPU."""

    model: str = _setting(
        str(DEFAULT_MODEL),
        "local folder or Hugging Face Hub id of a text-classification model, `vader` (a lexicon "
        "baseline), or an http(s) URL of a remote classifier (a text-embeddings-inference server, "
        "an Inference Endpoint, or another instance's /predict); repeat the flag, or separate them with commas, to serve several side "
        "by side (the first answers /predict and the Analyse tab)",
    )
    device: str = _setting("auto", "auto picks cuda, then mps, then cpu", choices=DEVICES)
    dtype: str = _setting(
        "auto",
        "auto: float16 on cuda, bfloat16 on CPUs with native bf16 instructions, float32 otherwise",
        choices=DTYPES,
    )
    runtime: str = _setting(
        "torch",
        "how transformers models run on the CPU: torch, onnx (ONNX Runtime; int8 where it passes "
        "the parity gate, else float32), or auto (measures them at start-up and keeps the "
        "fastest; CUDA keeps torch)",
        choices=RUNTIMES,
    )
    onnx_cache: str = _setting(
        "",
        "folder for ONNX exports made on first start (a model without an onnx/ folder of its "
        "own); empty means ~/.cache/sentiment-demo/onnx",
    )
    num_threads: int = _setting(
        0,
        "torch intra-op threads; 0 means one per core (fastest under load in bench/); set 1 "
        "when other processes share a small machine",
        cast=int,
        minimum=0,
    )
    max_batch_size: int = _setting(
        32, "most texts per forward pass and per queued batch", cast=int, minimum=1
    )
    max_batch_tokens: int = _setting(
        8192,
        "most padded tokens per forward pass (long texts get smaller batches)",
        cast=int,
        minimum=1,
    )
    max_bulk_chars: int = _setting(
        16_000,
        "most characters of bulk work (Batch and Evaluate jobs, explanations, long /predict lists) "
        "in one forward pass; single texts ride in passes of their own and wait for at most one "
        "such pass",
        cast=int,
        minimum=1,
    )
    batch_wait_ms: float = _setting(
        0.0,
        "how long the model waits after a request for others to join its batch, in ms "
        "(0: it takes whatever is already waiting; a wait measured slower in bench/)",
        cast=float,
        minimum=0,
    )
    unpadded: bool = _setting(
        True,
        "run BERT-family models on real tokens only, without padding (checked against the padded "
        "forward at start-up; other architectures always use the padded one)",
        cast=_bool,
    )
    handler_concurrency: int = _setting(
        1,
        "queued Gradio batches that may wait on the model at once (2 measured no faster in "
        "bench/ on 2 cores)",
        cast=int,
        minimum=1,
    )
    max_text_chars: int = _setting(
        2000, "longest accepted text, in characters", cast=int, minimum=1
    )
    max_tokens: int = _setting(
        0,
        "tokens kept per text before truncation; 0 means the model's own maximum",
        cast=int,
        minimum=0,
    )
    max_batch_rows: int = _setting(1000, "most texts in one Batch-tab request", cast=int, minimum=1)
    max_eval_rows: int = _setting(
        5000, "most labelled rows in one Evaluate-tab file", cast=int, minimum=1
    )
    max_upload_kb: int = _setting(
        1024, "largest accepted upload in the Batch tab, in KiB", cast=int, minimum=1
    )
    max_columns: int = _setting(
        MAX_COLUMNS,
        "most columns in an uploaded CSV or TSV file (and keys in a JSON-lines file)",
        cast=int,
        minimum=1,
    )
    max_header_kb: int = _setting(
        MAX_HEADER_KB,
        "longest first line (the header) of an uploaded CSV or TSV file, in KiB",
        cast=int,
        minimum=1,
    )
    parse_seconds: float = _setting(
        10.0,
        "longest an upload may take to read, in seconds; files are read in a separate process, "
        "which is stopped when the time is up",
        cast=float,
        minimum=1,
    )
    file_lifetime: int = _setting(
        3600,
        "seconds that result downloads and uploads stay on disk; Gradio's cache is swept every "
        "tenth of that",
        cast=int,
        minimum=1,
    )
    max_body_kb: int = _setting(
        16384,
        "largest request body, in KiB, on every route but file uploads (which --max-upload-kb "
        "bounds); bigger bodies are refused with 413 before they are read",
        cast=int,
        minimum=1,
    )
    upload_kb_per_minute: int = _setting(
        10240,
        "KiB one client (address) may upload per minute; more are refused with 429 until the "
        "minute has passed",
        cast=int,
        minimum=1,
    )
    upload_timeout: int = _setting(
        60,
        "seconds an upload's body may take to arrive; a slower one is cut off with 408",
        cast=int,
        minimum=1,
    )
    max_cache_mb: int = _setting(
        1024,
        "MiB of uploads and downloads kept in Gradio's cache in all; past it the oldest files are "
        "removed first, whatever their age",
        cast=int,
        minimum=1,
    )
    max_explain_words: int = _setting(
        60,
        "words weighed by an explanation (each costs one extra text in the batch)",
        cast=int,
        minimum=1,
    )
    max_document_chars: int = _setting(
        20_000,
        "longest text the sentence view (Analyse, Compare, Batch by sentence, /sentences) takes, "
        "in characters",
        cast=int,
        minimum=1,
    )
    max_document_sentences: int = _setting(
        500, "most sentences in one text of the sentence view", cast=int, minimum=1
    )
    max_aspects: int = _setting(
        20, "most aspect terms in one request of the sentence view or Batch", cast=int, minimum=1
    )
    long_text_reading: str = _setting(
        "sentences",
        "the whole-text answer of the sentence view for a text over the model's token limit: "
        "sentences (the length-weighted sentence aggregate) or first_tokens (the model's reading "
        "of the first tokens)",
        choices=LONG_TEXT_READINGS,
    )
    queue_size: int = _setting(
        256,
        "requests allowed to wait in Gradio's queue (browser and gradio_client); more are told "
        "the server is busy",
        cast=int,
        minimum=1,
    )
    queue_texts: int = _setting(
        4096,
        "texts allowed to wait for the model, for browser users and for API clients each; more "
        "are told the server is busy (429 on /predict)",
        cast=int,
        minimum=1,
    )
    max_events_per_client: int = _setting(
        # A classroom behind one NAT is one address: room for its users, a quarter of the queue.
        64,
        "requests one client (address) may have waiting or running in Gradio's queue at once, "
        "browser and API alike; more are told the server is busy (429)",
        cast=int,
        minimum=1,
    )
    max_sessions_per_client: int = _setting(
        256,
        "Gradio sessions (browser tabs, API calls) whose state is kept per client address; a new "
        "one past this drops that client's oldest",
        cast=int,
        minimum=1,
    )
    trusted_proxies: str = _setting(
        "",
        "comma-separated addresses or networks (CIDR) of the proxies in front of the app, whose "
        "X-Forwarded-For is believed; empty: none, the connection's address identifies a client",
        cast=lambda value: ",".join(str(n) for n in parse_trusted_proxies(value)),
    )
    host: str = _setting(
        "",
        "address to listen on; empty means Gradio's default (GRADIO_SERVER_NAME, else 127.0.0.1)",
    )
    port: int = _setting(
        0,
        "port to listen on; 0 means Gradio's default (GRADIO_SERVER_PORT, else 7860)",
        cast=int,
        minimum=0,
    )
    share: bool = _setting(False, "also open a public gradio.live link", cast=_bool)
    auth: str = _setting(
        "", "require a login: user:password, or the path of a file with one user:password per line"
    )
    backend: str = _setting(
        "local", "local: run the model here; remote: send texts to --endpoint", choices=BACKENDS
    )
    endpoint: str = _setting(
        "",
        "with --backend remote: URL of a text-embeddings-inference server, an Inference "
        "Endpoint, or another instance's /predict",
    )
    mcp: bool = _setting(False, "also serve the API as MCP tools at /gradio_api/mcp", cast=_bool)
    warmup: bool = _setting(True, "run a few texts through the model before serving", cast=_bool)
    feedback: str = _setting(
        "",
        "collect visitors' feedback (is this label right?) in this SQLite file; empty: off",
    )
    feedback_max_mb: int = _setting(
        200,
        "largest size of the feedback database, in MiB; then new feedback is refused",
        cast=int,
        minimum=1,
    )
    feedback_per_minute: int = _setting(
        20, "feedback records one client may send per minute", cast=int, minimum=1
    )
    feedback_note_chars: int = _setting(
        280,
        "longest note a visitor may add to a feedback record, in characters",
        cast=int,
        minimum=0,
    )
    feedback_owner: str = _setting(
        "",
        "owner login for the Feedback tab: user:password, or a file of such lines; empty: the "
        "users of --auth review (and nobody without --auth)",
    )
    feedback_salt: str = _setting(
        "",
        "secret mixed into the session hash of each record; empty: one is generated and kept in "
        "the database",
    )
    feedback_dataset: str = _setting(
        "",
        "OWNER/NAME of a private Hub dataset that feedback records are pushed to on a schedule "
        "(needs HF_TOKEN); empty: none",
    )
    feedback_push: str = _setting(
        "accepted",
        "which records go to --feedback-dataset: accepted ones, or all new ones",
        choices=FEEDBACK_PUSH,
    )
    feedback_push_minutes: float = _setting(
        10.0, "minutes between pushes to --feedback-dataset", cast=float, minimum=1
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read SENTIMENT_<FIELD> variables over the defaults; fail naming the variable and value."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = env_name(spec.name)
            if name in environ:
                values[spec.name] = _convert(spec.name, environ[name], f"{name}={environ[name]!r}")
        return cls(**values)

    @property
    def models(self) -> tuple[str, ...]:
        """Every model to serve, the default first (the `model` setting split at commas).

        `--backend remote --endpoint URL` is the older spelling of `--model URL`: the endpoint alone.
        """
        if self.backend == "remote" and self.endpoint:
            return (self.endpoint,)
        return tuple(name.strip() for name in self.model.split(",") if name.strip())

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def auth_credentials(self) -> list[tuple[str, str]] | None:
        """The (user, password) pairs for Gradio's login, or None when no login is required."""
        return _credentials(self.auth, "SENTIMENT_AUTH / --auth")

    def feedback_owner_credentials(self) -> list[tuple[str, str]] | None:
        """The owner's (user, password) pairs for the Feedback tab, or None when not set."""
        return _credentials(self.feedback_owner, "SENTIMENT_FEEDBACK_OWNER / --feedback-owner")


def _credentials(value: str, setting: str) -> list[tuple[str, str]] | None:
    """`user:password`, or a file of such lines, as pairs; None for an empty value."""
    if not value:
        return None
    path = Path(value)
    if not path.is_file() and ("/" in value or value.endswith(".txt")):
        # It looks like a path: reading it as user:password would make a login from a typo.
        # Never echo the value: it may be the secret itself.
        raise ValueError(
            f"{setting} looks like a file path (it has a / or ends in .txt) but no such file "
            "exists; give an existing file of user:password lines (put a password that has a / "
            "in such a file)"
        )
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [value]
    pairs = []
    for number, line in enumerate((ln.strip() for ln in lines), start=1):
        if not line:
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            # The value is a secret: say where and what is wrong, never echo it.
            where = f"file {path}, line {number}" if path.is_file() else setting
            raise ValueError(
                f"{where}: expected user:password (a user name, a colon, then the password)"
            )
        pairs.append((user, password))
    if not pairs:
        # A login nobody can pass, while the routes Gradio's login does not cover stay open.
        raise ValueError(
            f"file {path}: has no user:password line; write one per line, or leave "
            f"{setting} unset for an app without a login"
        )
    return pairs


def parse_trusted_proxies(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of --trusted-proxies; raises ValueError naming a bad entry.

    `*` is refused: trusting every hop means believing the left-most, client-written address.
    """
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item == "*":
            raise ValueError(
                "'*' would believe any X-Forwarded-For a client writes; give the proxy's "
                "addresses or networks, e.g. 10.0.0.0/8"
            )
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from None
    return networks


def env_name(field_name: str) -> str:
    """SENTIMENT_<FIELD>, the environment variable of a setting."""
    return f"SENTIMENT_{field_name.upper()}"


def _convert(name: str, raw: str, where: str) -> Any:
    spec = next(f for f in fields(Settings) if f.name == name)
    meta = spec.metadata
    try:
        value = meta["cast"](raw)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if meta["choices"] and value not in meta["choices"]:
        raise ValueError(f"{where}: must be one of {', '.join(meta['choices'])}")
    if meta["minimum"] is not None and value < meta["minimum"]:
        raise ValueError(f"{where}: must be at least {meta['minimum']}")
    return value


def build_parser(defaults: Settings) -> argparse.ArgumentParser:
    """The command line of app.py: one flag per setting, defaulting to its SENTIMENT_* variable."""
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="Serve a sentiment classifier in a Gradio app. Every flag can also be set "
        "with the environment variable shown; a flag wins over its variable.",
    )
    for spec in fields(Settings):
        flag = "--" + spec.name.replace("_", "-")
        current = getattr(defaults, spec.name)
        help_text = f"{spec.metadata['help']} [{env_name(spec.name)}; now: {current}]"
        if spec.metadata["cast"] is _bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        elif spec.name == "model":
            parser.add_argument(
                flag, action="append", default=None, metavar="MODEL", help=help_text
            )
        else:
            parser.add_argument(
                flag,
                default=None,
                metavar=spec.name.upper(),
                help=help_text,
                choices=spec.metadata["choices"] or None,
            )
    return parser


def parse_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
) -> Settings:
    """Settings from the environment, then the command line on top. Raises SystemExit on errors."""
    parser = build_parser(Settings())
    try:
        base = Settings.from_env(environ)
    except ValueError as exc:
        parser.error(str(exc))
    args = vars(parser.parse_args(argv))
    overrides: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = args[spec.name]
        if raw is None:
            continue
        if isinstance(raw, bool):
            overrides[spec.name] = raw
            continue
        if isinstance(raw, list):  # --model given several times
            raw = ",".join(raw)
        try:
            overrides[spec.name] = _convert(
                spec.name, raw, f"--{spec.name.replace('_', '-')} {raw}"
            )
        except ValueError as exc:
            parser.error(str(exc))
    return base.with_overrides(**overrides)
