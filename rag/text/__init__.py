"""The text toolkit every stage shares, so they all split, tokenise and parse the same way.

- :mod:`rag.text.sentences`: the sentence splitter (answers and passages, quotable units, model replies);
- :mod:`rag.text.claims`: an answer's sentences with their citations;
- :mod:`rag.text.markers`: the ``[n]`` citation marker grammar;
- :mod:`rag.text.words`: word tokens, BM25 terms, the stemmer (:mod:`rag.text.porter`) and coverage stems;
- :mod:`rag.text.numbers`: money, numbers, percentages, dates and periods;
- :mod:`rag.text.abstention`: sentences that say the sources lack the answer;
- :mod:`rag.text.lexicon`: every word list (stopwords, abbreviations, measures, names).

Nothing here imports another stage.
"""
