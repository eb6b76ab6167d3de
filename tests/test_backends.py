"""The ONNX backends against the model's own torch path: same vectors (fp32), close ones (int8), clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.embedder import Embedder, SentenceTransformerEmbedder, open_embedder, resolve_model
from qa.errors import ModelLoadError
from qa.onnx_embedder import MICRO_BATCH, OnnxEmbedder, cache_folder

TEXTS = [
    "my baby's face twitches, is that normal?",
    "siezure or startle??",
    "😟 он дёргается во сне",  # another script, an emoji
    "a",
    "word " * 400,  # past the model's 256 tokens: truncated the same way
    "Infantile spasms are brief, sudden movements. " * 12,
    "what causes west syndrome\nand how is it treated",
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def test_the_default_backend_is_onnx_and_gives_the_torch_vectors(
    embedder: Embedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.model_id == torch_embedder.model_id  # same vectors, so the same index and caches serve both
    assert embedder.dimension == torch_embedder.dimension == 384
    onnx, torch = embedder.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert np.abs(onnx - torch).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    # Batched or alone, padded or not, on one core (a micro-batch) or on all, a text gets the same vector.
    assert len(TEXTS) in MICRO_BATCH and 1 not in MICRO_BATCH and len(TEXTS) * 10 not in MICRO_BATCH
    assert np.abs(embedder.encode(TEXTS[:1])[0] - onnx[0]).max() < 1e-6
    assert np.abs(embedder.encode(TEXTS * 10)[-len(TEXTS) :] - onnx).max() < 1e-6
    assert embedder.encode([]).shape == (0, 384)
    assert embedder.vocabulary() == torch_embedder.vocabulary()


def test_int8_is_close_and_keeps_its_own_id(torch_embedder: SentenceTransformerEmbedder) -> None:
    int8 = open_embedder(Settings(backend="onnx-int8"))
    assert int8.model_id == f"{torch_embedder.model_id}+int8"  # an fp32 index or cache is never mixed with it
    cosines = (int8.encode(TEXTS) * torch_embedder.encode(TEXTS)).sum(axis=1)
    assert cosines.min() > 0.97, cosines


def test_the_export_is_made_once_and_reused(tmp_path: Path, embedder: Embedder) -> None:
    source = resolve_model("all-MiniLM-L6-v2")
    folder = cache_folder(Path(source.location), Settings().model_cache)
    copy = cache_folder(Path(source.location), tmp_path)
    copy.mkdir(parents=True)
    for name in ("model.onnx", "model-fused.onnx"):
        shutil.copy(folder / name, copy / name)
    before = (copy / "model-fused.onnx").stat().st_mtime_ns
    OnnxEmbedder(Path(source.location), source.model_id, tmp_path)
    assert (copy / "model-fused.onnx").stat().st_mtime_ns == before
    assert not list(copy.glob("*.partial"))


def test_a_damaged_export_is_a_clear_error(tmp_path: Path) -> None:
    source = resolve_model("all-MiniLM-L6-v2")
    folder = cache_folder(Path(source.location), tmp_path)
    folder.mkdir(parents=True)
    (folder / "model-fused.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load the ONNX model"):
        OnnxEmbedder(Path(source.location), source.model_id, tmp_path)


def test_a_model_onnx_cannot_reproduce_is_refused_with_the_way_out(tmp_path: Path) -> None:
    model = tmp_path / "cls-pooled"
    shutil.copytree(resolve_model("all-MiniLM-L6-v2").location, model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="QA_BACKEND=torch"):
        open_embedder(Settings(model=str(model), model_cache=tmp_path / "cache"))


def test_both_ways_of_saying_mean_pooling_are_understood(tmp_path: Path) -> None:
    from qa.onnx_embedder import _check_architecture

    source = Path(resolve_model("all-MiniLM-L6-v2").location)
    (tmp_path / "1_Pooling").mkdir()
    for name in ("modules.json", "sentence_bert_config.json"):
        shutil.copy(source / name, tmp_path / name)
    for pooling in ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, {"pooling_mode": "mean"}):
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 384, **pooling}))
        assert _check_architecture(tmp_path) == 256
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "cls"}))
    with pytest.raises(ModelLoadError, match="QA_BACKEND=torch"):
        _check_architecture(tmp_path)


def test_a_hub_name_not_on_disk_fails_at_once_with_the_hub_off(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not in the local Hugging Face cache, and the hub is off"):
        open_embedder(Settings(model="someone/other-model", model_cache=tmp_path))


def test_a_bad_backend_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from qa.cli import app
    from qa.config import get_settings

    monkeypatch.setenv("QA_BACKEND", "tensorflow")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ask", "hello"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "QA_BACKEND" in result.output and "onnx" in result.output


def test_quantising_leaves_the_process_s_logging_as_it_was(tmp_path: Path) -> None:
    import logging

    from qa.onnx_embedder import _quantise

    source = resolve_model("all-MiniLM-L6-v2")
    fp32 = cache_folder(Path(source.location), Settings().model_cache) / "model.onnx"
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.INFO)
    try:
        _quantise(fp32, tmp_path / "int8.onnx")
        assert root.level == logging.INFO  # a server's own logs are not silenced by its first int8 export
    finally:
        root.setLevel(before)
    assert (tmp_path / "int8.onnx").stat().st_size > 0
