"""evaluation stage: ``rag eval`` and the UI's Evaluation tab.

One job per module, imported in this order (no module imports one below it):
``questions`` (question-set schema and loading), ``gold`` (where gold quotes
sit, which chunks overlap them), ``results`` (the per-question record),
``metrics`` (pure metric functions and the run summary), ``formatting``
(terminal text), ``report`` (charts, report.md, report.html), ``rundir``
(provenance, writing and reading run directories, comparisons) and
``runner`` (the one loop that drives the pipeline).
"""
