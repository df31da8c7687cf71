"""Settings precedence and validation (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import SettingsError, load_settings, parse_assignments
from rag.types import AskOptions


def test_defaults_then_file_then_env_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "rag.toml"
    config.write_text('[retrieval]\ntop_k = 4\nrerank = true\n[generator]\nname = "local"\n')
    env = {"RAG_RETRIEVAL_TOP_K": "7", "RAG_DATA_DIR": "/tmp/somewhere"}
    settings = load_settings({"generator.name": "extractive"}, environ=env, config_file=config)
    assert settings.retrieval.top_k == 7
    assert settings.retrieval.rerank is True
    assert settings.generator.name == "extractive"
    assert settings.store.data_dir == Path("/tmp/somewhere")
    assert settings.chunking.chunk_size == 200


def test_unknown_and_mistyped_settings_are_reported() -> None:
    with pytest.raises(SettingsError, match=r"unknown setting retrieval\.topk"):
        load_settings({"retrieval.topk": "3"}, environ={})
    with pytest.raises(SettingsError, match=r"retrieval\.top_k: input should be a valid integer.*got 'many'"):
        load_settings({"retrieval.top_k": "many"}, environ={})
    with pytest.raises(SettingsError, match=r"section\.key=value"):
        parse_assignments(["rerank"])


def test_secrets_are_masked() -> None:
    settings = load_settings(environ={"OPENAI_API_KEY": "sk-secret"})
    assert settings.generator.openai_api_key == "sk-secret"
    assert settings.to_dict()["generator"]["openai_api_key"] == "***"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # The example: -3 used to be accepted and sliced the results to [:-3].
        ({"retrieval.top_k": "-3"}, r"^retrieval\.top_k: input should be greater than or equal to 1, got '-3'$"),
        ({"retrieval.candidates": "0"}, r"retrieval\.candidates: input should be greater than or equal to 1"),
        ({"ingest.workers": "0"}, r"ingest\.workers: input should be greater than or equal to 1"),
        ({"generator.temperature": "3"}, r"generator\.temperature: input should be less than or equal to 2"),
        ({"verify.threshold": "1.5"}, r"verify\.threshold: input should be less than or equal to 1"),
        ({"store.timeout_s": "0"}, r"store\.timeout_s: input should be greater than 0"),
        ({"generator.name": "gpt-17"}, r"^unknown generator\.name 'gpt-17': use auto, extractive, local or openai$"),
        ({"embedding.backend": "tensorflow"}, r"^unknown embedding\.backend 'tensorflow': use onnx or torch$"),
        ({"chunking.chunk_overlap": "200"}, r"chunk_overlap \(200\) must be smaller than chunking\.chunk_size"),
        ({"store.chroma_url": "localhost:8000"}, r"store\.chroma_url must start with http:// or https://"),
        ({"generator.local_model_path": "/nonexistent/model.gguf"}, r"local_model_path .* is not a file"),
    ],
)
def test_out_of_range_values_are_refused_at_load_with_one_line(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(overrides, environ={})
    assert "\n" not in str(info.value)


def test_values_from_every_source_are_validated(tmp_path: Path) -> None:
    config = tmp_path / "rag.toml"
    config.write_text("[retrieval]\ntop_k = 0\n")
    with pytest.raises(SettingsError, match=r"retrieval\.top_k"):
        load_settings(environ={}, config_file=config)
    with pytest.raises(SettingsError, match=r"retrieval\.top_k"):
        load_settings(environ={"RAG_RETRIEVAL_TOP_K": "-1"})
    with pytest.raises(SettingsError, match=r"store\.data_dir .* is a file"):
        load_settings(environ={"RAG_DATA_DIR": str(config)})


def test_valid_text_values_are_coerced_and_paths_expanded() -> None:
    settings = load_settings(
        {"retrieval.top_k": "8", "verify.strict": "yes", "store.data_dir": "~/rag-data"}, environ={}
    )
    assert settings.retrieval.top_k == 8
    assert settings.verify.strict is True
    assert settings.store.data_dir == Path.home() / "rag-data"


def test_request_options_follow_the_same_rules_as_the_settings() -> None:
    """UI and API arguments go through AskOptions, which checks the same annotated rules (one place for each)."""
    with pytest.raises(ValueError, match=r"^top_k: input should be greater than or equal to 1, got -5$"):
        AskOptions(top_k=-5)
    with pytest.raises(ValueError, match=r"^unknown generator 'gpt-17': use auto, extractive, local or openai$"):
        AskOptions(generator="gpt-17")
    with pytest.raises(ValueError, match=r"^unknown mode 'fuzzy': use hybrid, dense or bm25$"):
        AskOptions(mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"top_k: input should be a valid integer"):
        AskOptions(top_k=True)  # a flag is not a count
    assert AskOptions(top_k=3, mode="dense", generator="extractive", strict=True).top_k == 3
