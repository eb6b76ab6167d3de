"""`qa`: a thin command line over the library (index, ask, serve).

User errors print one line and exit with status 1; no tracebacks. Usage errors
(an unknown option, a bad value) are click's plain message and status 2.
Importing this module loads no model, FAISS, scikit-learn or Gradio: each
command imports what it needs, so `qa --help` and `qa index --check` are instant.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from qa.config import Settings, get_settings
from qa.errors import IndexMismatchError, IndexNotFoundError, QAError
from qa.evaluate import Report
from qa.loaders import CorpusCheck
from qa.records import TOP_K_MAX, AskResult

app = typer.Typer(
    help="Answer parents' questions with verbatim, cited passages from curated health content.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help and errors: flags show as `--json`, not `--json <bool>`, and a usage error is a few
    # plain lines instead of a box drawn across the terminal.
    rich_markup_mode=None,
)

CorpusOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--corpus", help="Corpus file or folder (.txt, .md, .jsonl, .csv, .tsv); repeat for several. Default: corpus/."
    ),
]
IndexDirOpt = Annotated[Path | None, typer.Option("--index-dir", help="Index folder. Default: index/ (QA_INDEX_DIR).")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Embedding model name or folder. Default: all-MiniLM-L6-v2 (QA_MODEL)."),
]

F = TypeVar("F", bound=Callable[..., None])
WARNINGS_SHOWN = 10
"""Warnings a build prints before it says how many more there are; `--check` prints them all."""


def user_errors(command: F) -> F:
    """Turn a QAError into one clear line on stderr and exit status 1."""

    @wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except QAError as exc:
            _fail(str(exc))
        except OSError as exc:  # a path the user gave cannot be read or written
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except ValidationError as exc:  # a QA_* environment variable of the wrong type
            problem = exc.errors()[0]
            _fail(f"invalid setting QA_{str(problem['loc'][0]).upper()}: {problem['msg']}")
        except SettingsError as exc:
            _fail(f"invalid QA_* setting: {exc} (lists such as QA_CORPUS are JSON, e.g. '[\"corpus\"]')")

    return wrapper  # type: ignore[return-value]


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def _settings(corpus: list[Path] | None = None, index_dir: Path | None = None, model: str | None = None) -> Settings:
    overrides: dict[str, object] = {}
    if corpus:
        overrides["corpus"] = corpus
    if index_dir is not None:
        overrides["index_dir"] = index_dir
    if model is not None:
        overrides["model"] = model
    return get_settings().model_copy(update=overrides)


@app.command()
@user_errors
def index(
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only read and check the corpus; report every problem; write nothing.")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the kept builds with their manifests.")] = False,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Serve the previous kept build again (running servers follow).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Check the corpus, embed what is new and write a build; it becomes current only when complete."""
    settings = _settings(corpus, index_dir, model)
    if sum((check, list_, rollback)) > 1:
        _fail("choose one of --check, --list and --rollback")
    if list_:
        return _list_builds(settings.index_dir)
    if rollback:
        from qa.index import rollback as roll_back

        back = roll_back(settings.index_dir)
        version = back.manifest.version if back.manifest else back.name
        return typer.echo(f"Rolled back: now serving {version} ({back.name})")
    if check:
        from qa.loaders import check_corpus  # no model, no FAISS: a bad file is reported at once

        found = check_corpus(settings.corpus)
        _show_problems(found, every=True)
        errors, warnings = len(found.errors), len(found.warnings)
        learned = f" and {len(found.examples)} example questions" if found.examples else ""
        typer.echo(
            f"{len(found.entries)} entries{learned} in {len(found.files)} files: {errors} errors, {warnings} warnings"
        )
        if errors:
            raise typer.Exit(1)
        return None
    from qa.builder import build, read_corpus

    read = read_corpus(settings.corpus)  # before the model loads, and read once: `build` takes it as is
    _show_problems(read.check, every=False)
    if read.check.errors:
        _fail(f"{len(read.check.errors)} errors in the corpus (listed above); nothing was indexed")
    from qa.embedder import open_embedder

    progress = not quiet and sys.stderr.isatty()
    embedder = open_embedder(settings, progress)
    report = build(settings.corpus, settings.index_dir, embedder, read=read)
    typer.echo(
        f"Indexed {report.manifest.entries} entries ({report.manifest.rows} vectors) and "
        f"{report.manifest.examples} example questions in {report.seconds:.1f} s "
        f"-> {report.folder} (version {report.manifest.version})\n"
        f"  {report.changes.summary()}; {report.embedded} texts embedded, {report.cached} from the cache"
    )
    return None


def _show_problems(found: CorpusCheck, every: bool) -> None:
    """Errors always; warnings all with `--check`, else the first few and how many more."""
    shown = found.problems if every else (*found.errors, *found.warnings[:WARNINGS_SHOWN])
    for problem in shown:
        typer.echo(str(problem), err=True)
    if len(shown) < len(found.problems):
        more = len(found.problems) - len(shown)
        typer.echo(f"... and {more} more warnings (`qa index --check` lists them)", err=True)


def _list_builds(index_dir: Path) -> None:
    from qa.index import list_builds

    kept = list_builds(index_dir)
    if not kept:
        _fail(f"no builds in {index_dir}; run `qa index` to build one")
    for build in kept:
        mark = "*" if build.current else " "
        m = build.manifest
        about = (
            f"{m.entries} entries, {m.rows} vectors ({m.vector_index.get('kind')}), model {m.model_id}, "
            f"corpus {m.corpus_fingerprint[:8]}, "
            f"built {m.built_at} in {m.build_seconds:.1f} s"
            if m
            else "unreadable or of another format"
        )
        typer.echo(f"{mark} {build.name}  {about}")
    typer.echo("(* = served)")


def render(result: AskResult) -> str:
    """Human-readable answer: safety banner first, then answers with their citations."""
    lines: list[str] = []
    if result.red_flag.triggered and result.red_flag.banner:
        lines += [result.red_flag.banner, ""]
    if result.abstained:
        lines.append("I don't have an answer for that in my sources.")
        if result.suggestions:
            lines.append("Closest questions I can answer:")
            lines += [f"  - {s.question}" for s in result.suggestions]
    for number, answer in enumerate(result.answers, start=1):
        cite = answer.citation
        where = f"{cite.source}, lines {cite.lines[0]}-{cite.lines[1]}"
        lines += [
            f"[{number}] {cite.question}  (confidence {answer.score:.2f})",
            answer.text,
            f"    Source: {where}" + (f" <{cite.url}>" if cite.url else ""),
            "",
        ]
    from qa.safety import DISCLAIMER  # here, so `qa index --check` never loads the safety layer (scikit-learn)

    lines.append(DISCLAIMER)
    return "\n".join(lines).rstrip()


@app.command()
@user_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=TOP_K_MAX, help="Most answers to show (1-10).")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON body the API returns.")] = False,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
) -> None:
    """Answer a question from the index, word for word, with citations."""
    from qa.records import validate_question
    from qa.service import open_service

    validate_question(question, top_k)  # before the slow model load
    result = open_service(_settings(index_dir=index_dir, model=model)).ask(question, top_k)
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False) if as_json else render(result))


@app.command("eval")
@user_errors
def eval_(
    file: Annotated[
        Path,
        typer.Argument(help='JSON Lines of {"question": ..., "expected": [entry ids] or "none"}.', show_default=False),
    ],
    min_acceptable: Annotated[
        float | None,
        typer.Option("--min-acceptable", min=0.0, max=1.0, help="Exit 1 if acceptable@1 is below this (e.g. 0.95)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    unseen: Annotated[
        bool,
        typer.Option(
            "--unseen", help="Set aside the index's example questions that are in the file, so it is judged as new."
        ),
    ] = False,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
) -> None:
    """Check answers stay right: acceptable@1, MRR@3, answered and abstained rates, and every failure."""
    from qa.evaluate import load_labelled
    from qa.service import open_service

    items = load_labelled(file)  # before the slow model load
    report = open_service(_settings(index_dir=index_dir, model=model)).evaluate(items, unseen=unseen)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(render_report(report))
    if min_acceptable is not None and report.in_scope == 0:
        _fail("--min-acceptable needs in-scope questions, and the file has none")
    if min_acceptable is not None and report.acceptable_at_1 < min_acceptable:
        _fail(f"acceptable@1 is {report.acceptable_at_1:.1%}, below the floor of {min_acceptable:.1%}")


def render_report(report: Report) -> str:
    def share(value: float, count: int) -> str:
        return f"{value:.1%}" if count else "-"

    lines = [
        f"in-scope questions      {report.in_scope}",
        f"  acceptable first      {share(report.acceptable_at_1, report.in_scope)}  (an abstention counts as a miss)",
        f"  MRR@{report.mrr_depth}                 {f'{report.mrr:.3f}' if report.in_scope else '-'}",
        f"  answered              {share(report.answered, report.in_scope)}",
        f"out-of-scope questions  {report.out_of_scope}",
        f"  abstained             {share(report.abstained, report.out_of_scope)}",
    ]
    if report.seen:
        lines += [
            "",
            f"note: {report.seen} of these questions are example questions of the index, so the figures above are "
            "not first sight; --unseen sets them aside",
        ]
    if report.failures:
        lines += ["", f"{len(report.failures)} failures:"]
    for failure in report.failures:
        wanted = ", ".join(failure.expected) or "none (should abstain)"
        first = failure.ranked_first
        got = failure.got or (f"abstained (ranked first: {first})" if first else "abstained (nothing offered)")
        lines.append(f"  - {failure.question!r}\n      expected {wanted}; got {got} ({failure.score:.2f})")
        if failure.note:
            lines.append(f"      {failure.note}")
    return "\n".join(lines)


@app.command()
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on (1-65535).")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes; each serves any build made current within seconds.")
    ] = 1,
    index_dir: IndexDirOpt = None,
    corpus: CorpusOpt = None,
    model: ModelOpt = None,
) -> None:
    """Serve the JSON API (and the chat) on one port; builds the index first if needed."""
    ensure_port_free(host, port)  # before the model loads: a taken port is known in milliseconds
    import os

    import uvicorn

    from qa.builder import build
    from qa.embedder import model_id_of, open_embedder
    from qa.index import read_manifest
    from qa.loaders import fingerprint
    from qa.web import served_app

    settings = _settings(corpus, index_dir, model)
    embedder = None  # loaded only to build, or to serve in this process: `--workers` each load their own
    try:
        manifest = read_manifest(settings.index_dir)
        changed = manifest.corpus_fingerprint != fingerprint(settings.corpus)
        stale = changed or manifest.model_id != model_id_of(settings)
        reason = "the corpus or model changed since the last build" if stale else ""
    except (IndexNotFoundError, IndexMismatchError) as exc:
        reason = str(exc).split(";")[0]
    if reason:
        typer.echo(f"Building the index ({reason})...")
        embedder = open_embedder(settings)
        report = build(settings.corpus, settings.index_dir, embedder)
        typer.echo(f"Indexed {report.manifest.entries} entries in {report.seconds:.1f} s")
    admin = "; admin: /api/admin/reindex, /api/admin/reload" if settings.admin_token else ""
    if workers > 1:  # each worker process builds its own engine from the same settings
        # Workers share the cores: each model call gets its share, so workers do not fight over threads.
        threads = settings.model_threads or max(1, (os.cpu_count() or 1) // workers)
        os.environ.update(
            QA_MODEL_THREADS=str(threads),
            QA_INDEX_DIR=str(settings.index_dir),
            QA_MODEL=settings.model,
            QA_CORPUS=json.dumps([str(path) for path in settings.corpus]),
        )
        typer.echo(f"Serving on http://{host}:{port}/ with {workers} workers  (API: /api/ask, docs: /docs{admin})")
        typer.echo("Note: the chat is not yet reliable across workers (README: Replicas); the API is.")
        options = {"host": host, "port": port, "workers": workers, "log_level": "warning", "access_log": False}
        uvicorn.run("qa.web:engine_app", factory=True, **options)  # type: ignore[arg-type]
        return
    application = served_app(settings, embedder or open_embedder(settings))
    typer.echo(f"Serving on http://{host}:{port}/  (API: /api/ask, docs: /docs{admin})")
    # uvicorn's access log is off: `qa.logs` writes one that holds no client address (README: privacy).
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


def ensure_port_free(host: str, port: int) -> None:
    """Fail with one line if uvicorn could not listen on `host:port`.

    The probe binds as uvicorn does (SO_REUSEADDR, so a port left in TIME_WAIT by a stopped server still
    counts as free) and lets go at once; otherwise a taken port would be found only after the model loaded
    and perhaps an index build, as a uvicorn log line.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                _fail(f"port {port} on {host} is already in use; stop the server using it or choose another --port")
            _fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}")


def main() -> None:
    sys.exit(app())


# --- qa feedback: what parents thought of the chat's replies (thumbs up/down) -----------------

feedback_app = typer.Typer(help="Chat feedback (thumbs up/down) for maintainers.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
@user_errors
def feedback_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write. Default: stdout.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    db: Annotated[Path | None, typer.Option("--db", help="Feedback SQLite file. Default: QA_FEEDBACK_DB.")] = None,
) -> None:
    """Export every rated chat reply: timestamp, question, answer ids, abstained, rating, index version."""
    import io

    settings = get_settings()  # first: it turns the hub off before `ui` imports Gradio (and huggingface_hub)
    from ui.feedback import FeedbackStore

    if fmt.lower() not in ("csv", "jsonl"):
        raise QAError(f"--format must be csv or jsonl, not {fmt!r}")
    buffer = io.StringIO()  # everything is read before anything is written: no half-written file
    count = FeedbackStore(db or settings.feedback_db).export(buffer, "jsonl" if fmt.lower() == "jsonl" else "csv")
    if output is None:
        sys.stdout.write(buffer.getvalue())
    else:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        typer.echo(f"Exported {count} ratings to {output}", err=True)
