"""Citation-checked question answering over documents.

The package is split one module per pipeline stage (load, chunk, embed, store,
retrieve, generate, verify); :class:`rag.pipeline.Pipeline` wires them together
and is the single entry point used by the CLI, the UI and the evaluator.
Nothing heavy is imported here so that ``rag --help`` stays fast.
"""

__version__ = "0.1.0"
