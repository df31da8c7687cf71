"""Adapters that plug this library into other frameworks; each is imported on its own, never by ``rag`` itself.

- :mod:`rag.integrations.llama_index`: retriever, reranker, citation evaluator and
  query engine as llama-index components.
"""
