"""Settings precedence and validation (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import SettingsError, load_settings, parse_assignments


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
    with pytest.raises(SettingsError, match=r"cannot use 'many' as int"):
        load_settings({"retrieval.top_k": "many"}, environ={})
    with pytest.raises(SettingsError, match=r"section\.key=value"):
        parse_assignments(["rerank"])


def test_secrets_are_masked() -> None:
    settings = load_settings(environ={"OPENAI_API_KEY": "sk-secret"})
    assert settings.generator.openai_api_key == "sk-secret"
    assert settings.to_dict()["generator"]["openai_api_key"] == "***"
