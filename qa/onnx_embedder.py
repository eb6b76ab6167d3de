"""The same sentence-transformers model on ONNX Runtime: the same vectors, several times faster per query.

sentence-transformers' own ONNX route needs `optimum-onnx`, which will not install beside
sentence-transformers 6, so the model's transformer is exported here with `torch.onnx`, once per model,
into `QA_MODEL_CACHE` (default `.cache/models/`, never committed: 86 MB), and quantised to int8 for
`onnx-int8`. Serving then needs neither torch nor transformers: the model's `tokenizer.json`
tokenises, ONNX Runtime runs the transformer, and mean pooling plus normalisation are done in numpy,
exactly as the model's own modules do (`tests/test_backends.py` holds fp32 to the torch vectors).

Only models made of Transformer → mean Pooling (→ Normalize) can take this path; any other is refused
with a pointer to `QA_BACKEND=torch`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import filelock
from qa.batching import BATCHED, MAX_BATCH
from qa.errors import ModelLoadError

if TYPE_CHECKING:
    from tokenizers import Encoding

EXPORT_VERSION = 1
"""Part of the cache key: bump it when the export itself changes."""
BATCH = 32
PADDING_WASTE = 1.5
"""A batch may hold at most this many times its real tokens once padded (`length_batches`)."""
MICRO_BATCH = range(BATCHED, MAX_BATCH + 1)
"""Texts in a call that runs on one core (`OnnxEmbedder.encode`): a batch `qa.batching` lets past its queue,
such as the API's micro-batches of concurrent questions, up to the most one model call should take."""
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _check_architecture(folder: Path) -> int:
    """The model's maximum sequence length, once its modules are known to be ones this path reproduces."""
    modules = _read_json(folder / "modules.json") or []
    kinds = [str(module.get("type", "")).rsplit(".", 1)[-1] for module in modules]
    pooling = _read_json(folder / "1_Pooling" / "config.json") or {}
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    mean = modes == ["pooling_mode_mean_tokens"] or pooling.get("pooling_mode") == "mean"  # newer configs say it so
    mean_pooled = kinds[:2] == ["Transformer", "Pooling"] and mean
    if not mean_pooled or set(kinds[2:]) - {"Normalize"}:
        raise ModelLoadError(
            f"the model in {folder} is not Transformer + mean pooling, which the ONNX backend reproduces; "
            "set QA_BACKEND=torch"
        )
    config = _read_json(folder / "sentence_bert_config.json") or {}
    return int(config.get("max_seq_length") or 512)


def cache_folder(model_folder: Path, cache_root: Path) -> Path:
    """One folder per model version: a changed weights file gets a new export, never a stale one."""
    weights = [p for p in sorted(model_folder.iterdir()) if p.suffix in {".safetensors", ".bin"}]
    stamp = [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in weights]
    key = hashlib.sha256(json.dumps([EXPORT_VERSION, str(model_folder), stamp]).encode()).hexdigest()[:12]
    return cache_root / f"{model_folder.name}-{key}"


def _export_fp32(model_folder: Path, target: Path) -> None:
    import torch

    from qa.embedder import SentenceTransformerEmbedder

    # Eager attention traces to plain ONNX operators; the default (SDPA) does not export as cleanly.
    model = SentenceTransformerEmbedder(str(model_folder), model_kwargs={"attn_implementation": "eager"}).model
    transformer: Any = model[0].auto_model
    transformer.eval()
    sample = model.tokenizer(["an example sentence to trace", "another one"], padding=True, return_tensors="pt")
    names = [name for name in _INPUTS if name in sample]  # RoBERTa-like models have no token types
    inputs = tuple(sample[name] for name in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*names, "last_hidden_state")}

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow: expected, and not actionable
        torch.onnx.export(
            Wrapped(),
            inputs,
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _quantise(fp32: Path, target: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a pre-processing hint, on the root logger, for a step that fails here
    try:
        # Per-channel: per-tensor scales lose too much (mean cosine 0.959 against 0.993; shared/notes/onnx-cpu.md).
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def _atomically(path: Path, make: Callable[[Path], None]) -> None:
    """Made under a temporary name and renamed, so a crash never leaves a half-written model in the cache."""
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".onnx.partial")
    os.close(handle)
    try:
        make(Path(partial))
        os.chmod(partial, 0o644)  # readable by every replica sharing the cache, as a normal file would be
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


def _fuse(fp32: Path, target: Path, model_folder: Path) -> None:
    """ONNX Runtime's BERT graph fusions (attention, skip layer norm, GELU): the same vectors (to 2e-7 in
    `tests/test_backends.py`), one short query about 30% faster. Other architectures keep the plain export."""
    config = _read_json(model_folder / "config.json") or {}
    if config.get("model_type") != "bert":
        shutil.copyfile(fp32, target)
        return
    from onnxruntime.transformers import optimizer

    heads, hidden = int(config["num_attention_heads"]), int(config["hidden_size"])
    fused = optimizer.optimize_model(str(fp32), model_type="bert", num_heads=heads, hidden_size=hidden)
    fused.save_model_to_file(str(target))


def exported(model_folder: Path, cache_root: Path, quantised: bool) -> Path:
    """The cached ONNX file for the model, made on first use (needs torch then, never afterwards).

    `model.onnx` is the plain export; `onnx` serves its fused form, `onnx-int8` its quantisation."""
    folder = cache_folder(model_folder, cache_root)
    fp32, fused, int8 = folder / "model.onnx", folder / "model-fused.onnx", folder / "model-int8.onnx"
    wanted = int8 if quantised else fused
    if wanted.exists():
        return wanted
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with filelock.exclusive(folder):  # two workers starting together export once; the second finds the file
            if not fp32.exists():
                _atomically(fp32, lambda partial: _export_fp32(model_folder, partial))
            if not quantised and not fused.exists():
                _atomically(fused, lambda partial: _fuse(fp32, partial, model_folder))
            if quantised and not int8.exists():
                _atomically(int8, lambda partial: _quantise(fp32, partial))
    except OSError as exc:
        raise ModelLoadError(f"cannot write the ONNX export to {folder}: {exc.strerror or exc}") from exc
    except Exception as exc:  # tracing or optimising failed: this model cannot take the ONNX path
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelLoadError(f"cannot export {model_folder} to ONNX ({first}); set QA_BACKEND=torch") from exc
    return wanted


def length_batches(lengths: Sequence[int], limit: int = BATCH, waste: float = PADDING_WASTE) -> list[list[int]]:
    """Indices in order of token length, cut into batches of at most `limit` whose padded size (count x
    longest) stays within `waste` x their real tokens. Pure.

    Concurrent requests arrive in one call (`qa.batching`): without the second cut, one 256-token story
    pads 31 short questions to its length, and every one of them waits as long as the story.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    tokens = 0
    for index in order:
        length = lengths[index]
        if current and (len(current) == limit or (len(current) + 1) * length > waste * (tokens + length)):
            batches.append(current)
            current, tokens = [], 0
        current.append(index)
        tokens += length
    if current:
        batches.append(current)
    return batches


class OnnxEmbedder:
    def __init__(
        self,
        model_folder: Path,
        model_id: str,
        cache_root: Path,
        quantised: bool = False,
        progress: bool = False,
        threads: int | None = None,
    ) -> None:
        """`progress`: a progress bar on stderr while encoding (for a person at a terminal, never a pipe)."""
        import onnxruntime
        from tokenizers import Tokenizer

        max_length = _check_architecture(model_folder)
        path = exported(model_folder, cache_root, quantised)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Idle ORT threads spin for a while after each run instead of sleeping, so the next run's many small
        # parallel steps need no wake-ups. With numpy and FAISS on one thread (`qa/service.py`), the spin
        # takes no core the answer needs: ask in-process p50 8.2-9.1 ms without it, 6.2-6.5 ms with it
        # (same process, alternating); over HTTP one at a time 8.4-8.6 ms against 12.3-12.4 ms, while 32 at
        # once gave 199-217/s against 217-223/s, within this machine's noise. Micro-batches run on the
        # one-thread session, which has no pool to spin; `--workers N` gives each worker's pool its share.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
        except Exception as exc:  # a damaged cache file or tokenizer; either way it cannot serve
            raise ModelLoadError(f"cannot load the ONNX model {path}: {str(exc).splitlines()[0]}") from exc
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        self._progress = progress
        self._path, self._options = path, options
        self._one_core: Any = None if options.intra_op_num_threads > 1 else self._session
        self._opening = threading.Lock()
        self.model_id = model_id
        self._inputs = {graph_input.name for graph_input in self._session.get_inputs()}
        size = self._session.get_outputs()[0].shape[-1]
        self.dimension = size if isinstance(size, int) else self._probe_dimension()

    def _one_core_session(self) -> Any:
        """A session with one thread, which runs on the calling thread, so several calls run side by side.

        Opened on the first micro-batch, not at load: it costs a second copy of the weights (about 90 MB
        and 0.2-0.7 s here), which a command-line `ask` or a build never needs."""
        with self._opening:
            if self._one_core is None:
                import onnxruntime

                self._options.intra_op_num_threads = 1
                self._one_core = onnxruntime.InferenceSession(
                    str(self._path), self._options, providers=["CPUExecutionProvider"]
                )
            return self._one_core

    def _probe_dimension(self) -> int:
        return int(self._run(self._tokenizer.encode_batch(["dimension"]), self._session).shape[1])

    def _run(self, encodings: Sequence[Encoding], session: Any) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {name: given[name] for name in self._inputs}
        hidden = session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Tokenised once, then run in batches of similar length (`length_batches`).

        A lone question, or a build's thousands of texts, gets every core. A micro-batch (`MICRO_BATCH`) is
        what the API's two workers send side by side under load, while Python work of other requests needs
        a core too: on all cores each call's threads then wait on whichever one was preempted, so it runs
        on one core, on the calling thread (measured at 32 requests at once: README, performance).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches: Iterable[list[int]] = length_batches([len(encoding.ids) for encoding in encodings])
        if self._progress and len(texts) > 256:
            from tqdm import tqdm

            batches = tqdm(list(batches), desc="Batches", unit="batch")
        session = self._one_core_session() if len(texts) in MICRO_BATCH else self._session
        for chosen in batches:
            out[chosen] = self._run([encodings[i] for i in chosen], session)
        return out

    def vocabulary(self) -> frozenset[str]:
        """Whole words the tokenizer knows; the query speller leaves them alone."""
        return frozenset(word for word in self._tokenizer.get_vocab() if word.isalpha())
