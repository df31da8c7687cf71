"""The words that tell what a figure is and who plays which role, for :mod:`rag.financing.extract`.

Kept in one table-like module so extending the extractor to a new phrasing
("w/", "val.", "pre"/"post", a new verb) is an edit here, not in the logic.
"""

from __future__ import annotations

import re

from rag.financing.model import Attribute

# Words before a figure that say what it is (checked nearest first, within the clause before the figure).
VALUE_CUES: tuple[tuple[Attribute, re.Pattern[str]], ...] = (
    ("valuation_pre", re.compile(r"pre-?money", re.I)),
    ("valuation_post", re.compile(r"post-?money", re.I)),
    ("valuation", re.compile(r"valu\w*|\bworth\b|\bval\.|\bpriced?\b|\bmarket\s+cap\w*", re.I)),
    ("revenue", re.compile(r"revenue|run[- ]rate|\bARR\b|annuali[sz]ed|\bsales\b|recurring", re.I)),
    ("capex", re.compile(r"capex|capital\s+(?:expenditure|spending)|\bspend\w*", re.I)),
    ("debt", re.compile(r"\bdebt\b|\bloans?\b|\bnotes\b|\bbonds?\b|credit\s+facility|borrow\w*|\blend\w*", re.I)),
    ("commitment", re.compile(r"\bcommit\w*|\bpledge\w*|\bcontract\w*|\bup\s+to\b|\bover\s+\w+\s+years\b", re.I)),
    (
        "amount",
        re.compile(
            r"\brais\w*|\bround\b|\bfunding\b|\bfinanc\w*|\bclosed\b|\bsecured\b|\binvest\w*|\bSeries\s+[A-Z]\b|\bseed\b"
            r"|\btender\b|\bsecondary\b|\bsale\b|\bacqui\w*|\bdeal\b|\bbought\b|\bpurchase\w*",
            re.I,
        ),
    ),
)
# "at a $183 billion valuation", "at $157 billion": a figure after "at" following an amount is a valuation.
AT_FIGURE_RE = re.compile(r"\bat\s+(?:an?\s+)?(?:(?:about|around|roughly|nearly|approximately|some)\s+)?$", re.I)
VALUATION_AFTER_RE = re.compile(r"^\s*(?:post-money\s+|pre-money\s+)?valuation", re.I)
POST_AFTER_RE = re.compile(r"^\s*post-money", re.I)
PRE_AFTER_RE = re.compile(r"^\s*pre-money", re.I)
LEAD_BEFORE_RE = re.compile(
    r"\b(?:led|co-led)\s+by\s+(?:(?:the|its|an?|existing|new|(?-i:[a-z][\w-]*|[A-Z][a-z]+))\s+){0,5}?$|\bleaders?\b[^.]{0,30}?\b(?:as|were|was|are|is)\s+$|\blead(?:s|ing)?(?:\s+investors?)?\s*(?:was|were|:)?\s*$",
    re.I,
)
LEAD_AFTER_RE = re.compile(
    r"^\s*(?:,\s*[^,]{0,40},\s*)?(?:led|co-led|leads|will\s+lead|(?:was|is)\s+leading)\s+(?:the|its|a|this|\w+(?:'s|’s))\b"
    r"|^\s*,?\s*as\s+(?:the\s+)?(?:lead\s+investor|lead|leader)\b",
    re.I,
)
PARTICIPANTS_RE = re.compile(
    r"\b(?:participants?(?:\s+\w+)?\s+(?:include[sd]?|were)|leaders?\s+of\s+the\s+round\s+as|participation\s+from|investors?\s+(?:include[sd]?|were)|backed\s+by"
    r"|backers?\s+(?:include[sd]?|were)|joined\s+by|alongside|along\s+with|with\s+(?:backing|money)\s+from|also\s+"
    r"(?:backing|investing)|from\s+investors?\s+including|(?:other\s+)?participants\s+included|investors\s+included|investors?\s+(?:are|is)"
    r"|(?:investments?|funding|money|capital)\s+from|(?:investors?|buyers?|backers?|funders?)(?:\s+\w+){0,3}?\s+(?:were|are|include[sd]?)"
    r"|(?:investors|buyers|backers)\s*:|(?:investors|backers|participants|buyers)\s+(?:including|such\s+as))",
    re.I,
)
PARTICIPATE_AFTER_RE = re.compile(
    r"^\s*(?:also\s+)?(?:invested|participated|joined|backed|put\s+money|took\s+part|came\s+in"
    r"|(?:is|was|are|were)\s+(?:one\s+of|among))\b",
    re.I,
)
SUBJECT_VERBS_RE = re.compile(
    r"^\s*(?:has\s+|had\s+|have\s+|is\s+|was\s+)?(?:closed|raised|raises|secured|announced|completed|disclosed|"
    r"received|landed|obtained|is\s+raising|was\s+valued|is\s+valued|reached|hit|took\s+in|drew|won|sold|"
    r"signed|spent|expects|generated|posted)\b",
    re.I,
)
INVESTMENT_VERBS = (
    r"(?:committed|invested|put\s+in|put|contributed|provided|pledged|agreed\s+to\s+invest|supplied|added)"
)
# "X's" makes X the subject only when a financing word follows ("Anthropic's Series F", "xAI's 2024 rounds"), not
# for "Republic World's report" or "Singapore's sovereign wealth fund".
POSSESSIVE_SUBJECT_RE = re.compile(
    r"^(?:'s|’s)\s+(?:[\w$€£.,-]+\s+){0,4}?(?:round|rounds|series|valuation|funding|financing|raise|investment|capex"
    r"|capital|revenue|deal|commitment|ipo|stake|shares|debt|backers|investors|funders|seed|tender|value|worth|spending|"
    r"compute|secondary|sale|acquisition|merger|loan|notes|bonds|mega-rounds?|price)\b",
    re.I,
)
INVEST_IN_RE = re.compile(r"^\s*(?:\w+\s+){0,2}?in(?:to)?\s+$", re.I)
INVESTOR_VERB_RE = re.compile(
    rf"^\s*(?:(?:said|says|announced|agreed)\s+(?:that\s+)?it\s+)?(?:has\s+|had\s+|have\s+|would\s+|will\s+)?(?:now\s+|so\s+far\s+)?"
    rf"(?:agreed\s+to\s+|plans\s+to\s+|pledged\s+to\s+)?"
    rf"(?:invest(?:ed|s)?|{INVESTMENT_VERBS}|took\s+an?|bought\s+an?)\s+(?:up\s+to\s+|about\s+|around\s+|roughly\s+|a\s+further\s+|another\s+"
    rf"|a\s+total\s+of\s+|in\s+total\s+)?$",
    re.I,
)
# "committed to buy $300 billion of computing power from Oracle", "a $300 billion contract with Oracle", "$250 billion
# of Azure services": the words between a commitment's figure and the party on the other side of it.
COUNTERPARTY_AFTER_RE = re.compile(
    r"^\s*(?:of\s+(?:\w+\s+){0,3}?(?:from|with|on|to)\s+|(?:\w+\s+){0,3}?(?:contract|deal|agreement|commitment)s?\s+"
    r"(?:with|from|for)\s+|of\s+(?:additional\s+|incremental\s+)?)$",
    re.I,
)
# "a $38 billion AWS contract": the party named between the figure and the contract.
COUNTERPARTY_BEFORE_DEAL_RE = re.compile(r"^\s*(?:contract|deal|agreement|commitment)s?\b", re.I)
# "Microsoft's investments in OpenAI": the document's figures are the investor's money in the investee.
INVESTMENTS_TITLE_RE = re.compile(
    r"^\W*(?P<investor>[\w.&' -]+?)(?:'s|’s)\s+(?:\w+\s+)?investments?\s+in\s+(?P<investee>[\w.&-]+)"
)
LABEL_LINE_RE = re.compile(r"^\W*(?:[A-Z]|[a-z]+[A-Z])[\w .&'-]{0,40}:\s")  # "Thrive Capital: ...", "xAI: ..."
TOPIC_CAPEX_RE = re.compile(r"\bcapex\b|capital\s+(?:expenditure|spending)", re.I)
ROUND_WORDS_RE = re.compile(r"\bround\b|\bseries\b|\bfunding\b|\binvest\w*|\bvaluation\b|\bstake\b", re.I)
NOT_COMPANIES = frozenset(
    """reuters bloomberg cnbc afp mint techcrunch axios fortune forbes wired verdict wsj ft the information zdnet
    guardian ndtv nyt cnn bbc semafor livemint aiwire panews times journal post economist insider
    according sources source note key figures total series round january february march april may june july
    august september october november december lead investors investor participants amount valuation date
    size announced previous next value growth strategic global investment investments funding company startup
    shares stock buyers backers half against both other others jv generative dutch saudi french chinese american
    british german japanese korean indian emirati qatari claude llama gemini chatgpt gpt grok together eligible
    overall meanwhile however additionally combined including adding altogether crunchbase pitchbook dealroom
    preqin""".split()
) | frozenset({"generative ai", "cb insights"})  # data providers count the market's money; they raise none of it

# Deal roles between two named parties, read from the words between them: (attribute, pattern, reversed). The fact's
# subject is the acquired, borrowing or buying company and its counterparty the acquirer, lender or supplier; when
# ``reversed`` is False the first name is the counterparty ("Google bought Wiz"), when True it is the subject ("Wiz
# was bought by Google", "xAI borrowed $5 billion from Morgan Stanley").
_FILL = r"[^.;:]{0,70}?"
DEAL_ROLES: tuple[tuple[Attribute, re.Pattern[str], bool], ...] = (
    (
        "acquirer",
        re.compile(
            r"^\s*(?:has\s+|had\s+|will\s+|would\s+)?(?:agreed\s+to\s+|plans\s+to\s+|moved\s+to\s+|undertook\s+to\s+)?"
            r"(?:acquired?|acquires|acquiring|bought|buys?|buying|purchased?|purchases|took\s+over|takes\s+over)"
            r"(?:\s+(?:the\s+)?(?:start-?up|company|firm|rival|maker|developer|lab))?\s+$"
            r"|^(?:'s|’s)\s+(?:\$?[\w.]+\s+(?:billion|million)\s+)?(?:acquisition|purchase|takeover|buyout)\s+of\s+$",
            re.I,
        ),
        False,
    ),
    (
        "acquirer",
        re.compile(
            r"^\s*(?:,\s*)?(?:was|is|has\s+been|will\s+be|agreed\s+to\s+be|to\s+be)\s+(?:being\s+)?"
            r"(?:acquired|bought|purchased|taken\s+over)" + _FILL + r"\bby\s+$",
            re.I,
        ),
        True,
    ),
    (
        "lender",
        re.compile(
            r"^\s*(?:has\s+|had\s+|will\s+)?(?:agreed\s+to\s+)?(?:lent|lend|lends|loaned|loans|extended|provided|"
            r"arranged|underwrote)\b"
            + _FILL
            + r"\b(?:loan|credit|debt|financing|facility|notes|bonds?)?\w*"
            + _FILL
            + r"\bto\s+$",
            re.I,
        ),
        False,
    ),
    (
        "lender",
        re.compile(
            r"^\s*(?:has\s+|had\s+|will\s+)?(?:borrowed|borrows|took\s+out|secured|raised|obtained|drew)\b"
            + _FILL
            + r"\b(?:loan|credit|debt|facility|notes|bonds?|borrow\w*)\w*"
            + _FILL
            + r"\bfrom\s+$"
            r"|^\s*(?:has\s+|had\s+|will\s+)?borrowed" + _FILL + r"\bfrom\s+$",
            re.I,
        ),
        True,
    ),
    (
        "supplier",
        re.compile(
            r"^\s*(?:has\s+|had\s+|will\s+|would\s+)?(?:agreed\s+to\s+|is\s+to\s+)?"
            r"(?:supplies|supplied|supply|supplying|sells|sold|sell|delivers?|delivered|ships?|shipped|rents?|rented|"
            r"leases?|leased)\b" + _FILL + r"\bto\s+$|^\s*(?:is|was|will\s+be|became)\s+(?:a|an|the)\s+"
            r"(?:\w+\s+)?(?:supplier|provider|vendor)\s+(?:of\s+\w+\s+)?(?:to|for)\s+$",
            re.I,
        ),
        False,
    ),
    (
        "supplier",
        re.compile(
            r"^(?:(?:'s|’s)\s+(?:\w+\s+){0,2}?(?:division|unit|arm|subsidiary)\s+)?\s*(?:has\s+|had\s+|will\s+)?"
            r"(?:agreed\s+to\s+)?(?:sell|sells|sold|rent|rents|rented|lease|leases|leased|offer|offers|offered)\s+$",
            re.I,
        ),
        False,
    ),
    (
        "supplier",
        re.compile(
            r"^\s*(?:has\s+|had\s+|will\s+|would\s+)?(?:agreed\s+to\s+|undertook\s+to\s+)?(?:buys?|bought|buying|purchases?|"
            r"purchased|sources?|sourced|rents?|rented|leases?|leased|orders?|ordered)\b(?!\s+(?:the\s+)?"
            r"(?:start-?up|company|firm|stake))" + _FILL + r"\b(?:chips?|gpus?|processors?|accelerators?|compute|"
            r"capacity|servers?|power|cloud|hardware|systems?|tpus?)\b" + _FILL + r"\b(?:from|on|with)\s+$",
            re.I,
        ),
        True,
    ),
)
# What compute or money is for: "for training", "for inference" (stored with the facts of the sentence).
PURPOSE_RE = re.compile(r"\bfor\s+(?:\w+\s+){0,2}?(?P<purpose>training|inference)\b", re.I)
