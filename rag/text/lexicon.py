"""Every word list the stages use, in one place, each named for its job.

Some lists look alike but serve different purposes, and merging them would
change what a stage returns: the BM25 stopwords decide which tokens are
indexed (a change would alter every BM25 score and the stored index); the
coverage stopwords decide which words the checker's lexical coverage counts
(its scores are calibrated on them); the attribution stopwords decide which
words tie an uncited model sentence to a passage. Likewise each sentence
splitter has the abbreviation list its own boundary rule was tuned with. They
are kept apart on purpose, and documented side by side so a change to one is
a visible choice rather than a silent divergence.
"""

from __future__ import annotations


def word_set(words: str) -> frozenset[str]:
    """A vocabulary written as one whitespace-separated string, so long lists stay readable."""
    return frozenset(words.split())


# --- stopwords --------------------------------------------------------------------------------------------

# Tokens BM25 never indexes (rag.text.words.tokenize). Changing this set changes every BM25 score and
# requires a new rag.text.words.TOKENIZER_VERSION.
BM25_STOPWORDS = word_set(
    """
    s t i ll re ve a an and are as at be by did do does for from had has have how in is it its of on or that
    the this to was were what when where which who whom why will with about into than then there their they
    them these those been being also not no but if so such can could would should may might much many
    """
)
# Words the checker's lexical coverage ignores (rag.text.words.stems): function words only, so that
# "participated" and "participants" count and "the" does not. The verifier's weights are fitted with it.
COVERAGE_STOPWORDS = word_set(
    """
    a an the and or but of to in on at by for from with as is are was were be been being has have had it its
    this that these those which who whom whose what when where while than then there their they them he she his
    her we our you your i me my not no also into onto over under about after before during since until per via so
    such both each any all some more most other another up out off do does did done can could would should may
    might will shall just only very s itself themselves
    """
)
# Words that do not tie a model's uncited sentence to a passage (rag.generation.completion.attribute).
ATTRIBUTION_STOPWORDS = word_set(
    """
    the and for with from that this these those which who whom what when where why how are was were been being
    has have had its their they them than then also not but into about over after before such can could would
    should may might will one all any each other more most some very our your his her she him there here does did
    """
)

# --- abbreviations (a full stop after these does not end a sentence) --------------------------------------

# Answers and passages (rag.text.sentences.sentence_spans). That splitter also treats dotted acronyms
# ("U.S.") and initials on their own, and ends a sentence after a company suffix when a sentence starter
# follows ("... Alphabet Inc. The round ...").
ANSWER_ABBREVIATIONS = word_set(
    """
    mr mrs ms dr prof sr jr st inc corp co ltd llc plc bros vs e.g i.e approx fig figs jan feb mar apr
    jun jul aug sep sept oct nov dec dept govt
    """
)
COMPANY_SUFFIXES = word_set("inc corp co ltd llc plc")
# After a company suffix ("Inc.") these words start a new sentence rather than continue a name.
SENTENCE_STARTERS = word_set(
    """
    the it its this that these those they he she we in on at by but however and a an also after
    """
)
# Quotable units of a source passage (rag.text.sentences.split_units); any single letter counts too.
UNIT_ABBREVIATIONS = word_set(
    """
    mr mrs ms dr prof inc ltd co corp jr sr st vs etc e.g i.e u.s u.k u.n no fig approx est jan feb mar apr
    jun jul aug sep sept oct nov dec dept gov sen rep gen col lt mt ft bn mn
    """
)
# A model's reply (rag.text.sentences.reply_sentences); any single letter counts too.
REPLY_ABBREVIATIONS = word_set("inc corp co ltd llc plc mr mrs ms dr prof st jr sr vs etc no fig approx")

# --- questions --------------------------------------------------------------------------------------------

# Question words a follow-up rewrite never carries over from the previous question.
QUESTION_WORDS = word_set("what which who whom whose when where why how did does do is are was were")
# Capitalised words of a question that name nothing the answer must cover.
QUESTION_FILLER_WORDS = QUESTION_WORDS | word_set("according corpus documents tell give list name")

# --- measures: what a figure is a figure of --------------------------------------------------------------

REVENUE_WORDS = ("revenue", "sales", "run rate", "run-rate", "annualized", "annualised")
CAPEX_WORDS = ("capex", "capital expenditure", "spend", "spending", "property and equipment", "pp&e")

# What a figure in a sentence measures, from a keyword at most a few words away (the checker's
# "Sources disagree" notes, rag.verification.conflicts). Figures with none of these are plain amounts.
FIGURE_MEASURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("valuation", ("valuation", "valued", "valuing", "value", "worth", "pre-money", "post-money", "price tag")),
    ("revenue", REVENUE_WORDS),
    ("capex", CAPEX_WORDS),
    ("stake", ("stake", "owns", "holds", "percent", "%")),
    ("tranche", ("tranche", "initial", "first instalment", "first payment")),
    ("round size", ("round", "raised", "raises")),
)
# The words an answering sentence must contain when a question asks for a measure (the extractive
# answerer): "Oracle's $7 billion Stargate commitment" does not answer "Oracle's stake in OpenAI".
# Broader than FIGURE_MEASURES: a sentence that merely mentions equity may answer a stake question.
ANSWER_MEASURES: dict[str, tuple[str, ...]] = {
    "revenue": REVENUE_WORDS,
    "rate": ("rate", "%", "percent", "coupon", "yield"),
    # An interest rate is not any percentage: "62.5 percent of the October raise was debt" states none.
    "interest": ("interest", "coupon", "yield", "per annum", "bearing", "sofr", "libor", "basis points"),
    "price": ("price", "priced", "per share", "closed at", "traded"),
    "stake": ("stake", "equity", "ownership", "own ", "owns", "%", "percent", "share of"),
    "employee": ("employee", "staff", "headcount", "workers"),
    "gigawatt": ("gigawatt", "gw"),
    "capex": (*CAPEX_WORDS, "capital spending", "outlay"),
    "profit": ("profit", "income", "earnings", "margin"),
    "loss": ("loss", "losses", "burn"),
    "debt": ("debt", "loan", "notes", "bond", "credit"),
    "user": ("user", "subscriber", "customer"),
}
# Words in a question that ask for one of ANSWER_MEASURES.
MEASURE_QUESTION_WORDS = {
    "revenue": "revenue", "revenues": "revenue", "sales": "revenue",
    "interest rate": "interest", "interest rates": "interest", "rate": "rate", "yield": "interest",
    "coupon": "interest",
    "price": "price", "priced": "price",
    "stake": "stake", "ownership": "stake",
    "employees": "employee", "employee": "employee", "headcount": "employee", "staff": "employee",
    "gigawatts": "gigawatt", "gigawatt": "gigawatt", "gw": "gigawatt",
    "capex": "capex", "capital expenditure": "capex", "capital expenditures": "capex",
    "profit": "profit", "profits": "profit", "margin": "profit",
    "loss": "loss", "losses": "loss",
    "debt": "debt", "loan": "debt", "loans": "debt", "notes": "debt", "bonds": "debt",
    "users": "user", "subscribers": "user", "customers": "user",
}  # fmt: skip

# --- names ------------------------------------------------------------------------------------------------

# Capitalised words that start sentences or name no one; not organisations or people.
NOT_NAMES = word_set(
    """
    a an the this that these those it its it's they their there here he she his her we our you your i in
    on at by for from to of with as and or but if so yet also after before when while since during
    although though however meanwhile moreover instead then thus still both each every all some most
    many several few such other another one according under over about around between among including
    earlier later early late first second third last next new total combined overall key summary
    sources source note notes yes no not neither nor none only just even why what which who how
    investors investor backers founders employees staff reports report analysts filings shares ai agi
    api apis ipo ceo cfo cto coo gpu gpus tpu tpus gw mw arr llm llms usd eur pbc lp llc inc corp q1 q2
    q3 q4 h1 h2 series round rounds tranche
    """
)
# Suffixes that do not identify a company on their own ("Thrive Capital" is named by "Thrive").
GENERIC_NAME_PARTS = word_set(
    """
    inc corp corporation co ltd llc lp plc pbc group holdings capital ventures partners management
    platforms technologies technology labs lab ai the of and & company venture
    """
)
# Spellings of one name. Google and Alphabet are deliberately not aliases: the sources distinguish them.
ALIASES: dict[str, tuple[str, ...]] = {
    "aws": ("amazon web services", "amazon"),
    "amazon web services": ("aws",),
    "a16z": ("andreessen horowitz",),
    "andreessen horowitz": ("a16z",),
    "us": ("united states", "u s", "america"),
    "united states": ("us",),
    "uk": ("united kingdom", "britain"),
    "x": ("twitter",),
    "twitter": ("x",),
}
