"""The embedding model run by onnxruntime: an INT8 export of the same weights, built once.

On two CPU cores the transformer is the ingest bottleneck (the pipeline around
it costs about 15%, ``eval/bench_results/bench.md``). Running the *same* MiniLM
weights through onnxruntime with the attention and layer-norm kernels fused and
the matrix multiplies quantized to INT8 (dynamic quantization: weights stored as
int8, activations quantized per call) encodes 1.8 to 2.3 times as fast as
PyTorch fp32, and its vectors stay within cosine 0.985 of the fp32 ones (mean
0.994; ``tests/test_bench.py`` checks >= 0.98); hit@5 on ``eval/questions.jsonl``
is 0.865 against 0.851 for fp32.

The export runs on first use, never at import: PyTorch traces the model to
ONNX, onnxruntime's transformer optimizer fuses it, ``quantize_dynamic``
quantizes it, and the result is renamed into place under
``~/.cache/rag-models`` (or ``$RAG_MODEL_CACHE``) so an interrupted export
never leaves a file a later run would trust; the file's SHA-256 is recorded
beside it (``.sha256``) and checked on every start, so a damaged, truncated or
replaced export is exported again rather than loaded; a file lock (``filelock``: an OS
lock on POSIX and Windows alike) makes concurrent first uses export once. The
file name carries a key of the source weights and the recipe, so a different
model or recipe gets its own file.

Tokenization uses the model's own ``tokenizer.json``, truncated at ``max_tokens``
(``embedding.max_tokens``) or at the length sentence-transformers uses
(``max_seq_length``), whichever is shorter; each text runs alone (see
:meth:`OnnxEncoder.encode`). Pooling and normalisation are read from the
model's sentence-transformers files (``modules.json``, ``1_Pooling/config.json``)
and done in numpy, as sentence-transformers would do them; a model with a module
or pooling mode this file cannot reproduce (a Dense projection, concatenated
poolings, weighted means) is refused with :class:`UnsupportedModel` rather than
given silently different vectors (the ``torch`` backend runs any such model).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rag.model_cache import cache_dir, matches_digest, record_digest

RECIPE = "opt-bert+int8-dynamic-v1"
_HASH_LIMIT = 32 * 1024 * 1024
_export_lock = threading.Lock()


def model_key(model_path: Path) -> str:
    """Short hash of the export recipe and the source model: small files by content; large weights
    by path, size and modification time (hashing 90 MB on every start would cost more than it saves)."""
    digest = hashlib.sha256(RECIPE.encode())
    names = ("config.json", "sentence_bert_config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin")
    for name in names:
        file = model_path / name
        if not file.is_file():
            continue
        stat = file.stat()
        if stat.st_size <= _HASH_LIMIT:
            digest.update(name.encode() + b"\0" + file.read_bytes())
        else:
            digest.update(f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def onnx_model_file(model_path: Path, cache: Path | None = None) -> Path:
    """Path of the INT8 ONNX model for ``model_path``, exporting it first when missing."""
    if cache is None:
        cache = cache_dir()
    target = cache / f"embedding-{model_key(model_path)}-int8.onnx"
    if matches_digest(target):
        return target
    from filelock import FileLock

    cache.mkdir(parents=True, exist_ok=True)
    # Another process exporting the same model: wait for its file.
    with _export_lock, FileLock(cache / ".export.lock"):
        if not matches_digest(target):
            for stale in cache.glob(".export-*"):  # left by an export that was killed; we hold the lock
                shutil.rmtree(stale, ignore_errors=True)
            reason = "its recorded SHA-256 does not match" if target.exists() else "once"
            print(f"rag: exporting the embedding model to ONNX INT8 in {cache} ({reason})", file=sys.stderr)
            with warnings.catch_warnings(), _quiet_root_logger():
                warnings.simplefilter("ignore")
                export_int8(model_path, target)
    return target


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime's quantizer logs advice to the root logger; it is not the user's concern."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def export_int8(model_path: Path, target: Path) -> None:
    """Trace ``model_path`` (a Hugging Face BERT-family encoder) to ONNX, fuse, quantize, rename into place."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        raw = Path(tmp) / "model.onnx"
        model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

        class Encoder(torch.nn.Module):  # keyword arguments: positional ones differ between transformers versions
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.model(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        ids = torch.ones((2, 16), dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(
                Encoder(),
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(raw),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    name: {0: "batch", 1: "sequence"}
                    for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
                },
                opset_version=17,
                dynamo=False,
            )
        fused = Path(tmp) / "fused.onnx"
        _fuse(raw, fused, config)
        quantized = Path(tmp) / "int8.onnx"
        quantize_dynamic(
            str(fused),
            str(quantized),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": 1},  # float: the fused ops have no shape inference
        )
        os.replace(quantized, target)  # same directory: an atomic rename, never a partial file
    record_digest(target)  # after the rename: a file without a matching record is never loaded


def _fuse(source: Path, target: Path, config: dict[str, Any]) -> None:
    """onnxruntime's BERT optimizer: fused attention, skip-layer-norm and GELU; a plain copy when it fails."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(source),
            model_type="bert",
            num_heads=int(config.get("num_attention_heads", 0)),
            hidden_size=int(config.get("hidden_size", 0)),
            opt_level=1,
        )
        optimized.save_model_to_file(str(target))
    except Exception:  # the optimizer is an accelerator, not a requirement
        os.replace(source, target)


class UnsupportedModel(ValueError):
    """The model's sentence-transformers pipeline has a step this encoder cannot reproduce."""


PoolingMode = Literal["mean", "cls", "max", "lasttoken"]
# sentence-transformers' pooling flags this encoder reproduces, and the mode each stands for.
_POOLING_FLAGS: dict[str, PoolingMode] = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_lasttoken": "lasttoken",
}


@dataclass(frozen=True)
class Pooling:
    """How token vectors become one text vector, as the model's sentence-transformers files say."""

    mode: PoolingMode
    normalize: bool
    dimension: int | None

    def apply(self, tokens: np.ndarray) -> np.ndarray:
        """One vector from a (tokens, hidden) array of one unpadded text."""
        if self.mode == "cls":
            pooled = tokens[0]
        elif self.mode == "lasttoken":
            pooled = tokens[-1]
        elif self.mode == "max":
            pooled = tokens.max(axis=0)
        else:
            pooled = tokens.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12) if self.normalize else pooled


def read_pooling(model_path: Path) -> Pooling:
    """The pooling and normalisation of a sentence-transformers model folder; :class:`UnsupportedModel` otherwise.

    A folder without ``modules.json`` is a plain transformers model, which
    sentence-transformers loads with mean pooling and no normalisation.
    """
    modules_file = model_path / "modules.json"
    if not modules_file.is_file():
        return Pooling("mean", normalize=False, dimension=None)
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    kinds = [str(module.get("type", "")).rsplit(".", 1)[-1] for module in modules]
    extra = [kind for kind in kinds if kind not in ("Transformer", "Pooling", "Normalize")]
    if extra or kinds[:2] != ["Transformer", "Pooling"] or kinds.count("Pooling") != 1:
        raise UnsupportedModel(
            f"{model_path.name}: the ONNX embedder reproduces Transformer -> Pooling [-> Normalize], "
            f'not {" -> ".join(kinds)}; set embedding.backend = "torch" for this model'
        )
    pooling_dir = next(module.get("path", "") for module, kind in zip(modules, kinds, strict=True) if kind == "Pooling")
    config = json.loads((model_path / pooling_dir / "config.json").read_text(encoding="utf-8"))
    chosen = [flag for flag, on in config.items() if flag.startswith("pooling_mode_") and on]
    if len(chosen) != 1 or chosen[0] not in _POOLING_FLAGS:
        raise UnsupportedModel(
            f"{model_path.name}: the ONNX embedder reproduces one of {', '.join(_POOLING_FLAGS.values())} pooling, "
            f'not {", ".join(chosen) or "none"}; set embedding.backend = "torch" for this model'
        )
    dimension = config.get("word_embedding_dimension")
    return Pooling(_POOLING_FLAGS[chosen[0]], normalize="Normalize" in kinds, dimension=dimension)


class OnnxEncoder:
    """``encode(texts, batch_size)`` like sentence-transformers', on onnxruntime, with the model's own pooling."""

    def __init__(
        self, model_path: Path, cache: Path | None = None, threads: int | None = None, max_tokens: int | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = model_path
        self.pooling = read_pooling(model_path)  # before the export: refuse what cannot be reproduced, cheaply
        self.file = onnx_model_file(model_path, cache)
        self.max_length = min(max_tokens or _max_seq_length(model_path), _max_seq_length(model_path))
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_length)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or usable_cpus()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(self.pooling.dimension or config.get("hidden_size", 384))

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), dim) vectors, pooled (and normalised) as the model's configuration says; one text per call.

        Dynamic quantization takes one activation scale per call, over the whole
        input: batching texts would make a text's vector depend on its neighbours
        (and on their padding), by up to ~1e-2. One text per call keeps every vector
        a function of its text alone, and is no slower on CPU: a 200-token sequence
        already fills the matrix units, and no padding is computed. ``batch_size``
        is accepted for the sentence-transformers signature and not needed.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out[row] = self.pooling.apply(self._session.run(None, feeds)[0][0])  # no padding: every token counts
        return out


def usable_cpus() -> int:
    """Threads for onnxruntime: ``OMP_NUM_THREADS`` when set (PyTorch honours it too), else the usable CPUs."""
    configured = os.environ.get("OMP_NUM_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _max_seq_length(model_path: Path) -> int:
    """sentence-transformers' truncation length for the model (256 for all-MiniLM-L6-v2)."""
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 512
