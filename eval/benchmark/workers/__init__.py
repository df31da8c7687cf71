"""The measurements, one module per kind; each function takes a JSON spec and returns a JSON result.

They run in child processes (``python eval/bench.py --worker NAME SPEC``, see
:mod:`benchmark.child`), so each one's peak RSS, model loads and imports are its own.
"""
