"""Conflict rules: a claim whose facts all appear in the source can still contradict it.

Three ways, each a pure function over text and extracted facts: the claim
negates what the source states or the reverse (:func:`negation_conflict`); it
uses the other word of an antonym pair ("majority"/"minority", "pre-money"/
"post-money": :func:`antonym_conflict`, :func:`figure_antonym_conflict`); or it
pins a figure on a different company or reporting outlet than the source does
(:func:`binding_conflict`).
"""

from __future__ import annotations

import re

from rag.text.lexicon import GENERIC_NAME_PARTS
from rag.text.words import WORD_RE, normalise_text, stems
from rag.verification.facts import Fact, TextIndex, same_value

# "rather than" / "instead of" negate what follows them ("went to OpenAI LP, not to the nonprofit" is
# "went to OpenAI LP rather than the nonprofit"); "failed to" negates the verb after it.
# "not only provides funds but also ..." affirms; it negates nothing.
NEGATION_RE = re.compile(
    r"\b(?:not(?!\s+only\b)|no|never|none|neither|nor|without|cannot|nobody|nothing|rather than|instead of"
    r"|fail(?:s|ed)? to|lack(?:s|ed)?(?: of)?)\b"
    r"|n't\b",
    re.IGNORECASE,
)
SCOPE_END_RE = re.compile(r"[;:.()!?\[\]]")
SCOPE_WORDS = 4
# Words that flip a claim's meaning when swapped for their partner ("majority" vs "minority").
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("more than", "less than"),
    ("at least", "at most"),
    ("majority", "minority"),
    ("above", "below"),
    ("higher", "lower"),
    ("increase", "decrease"),
    ("largest", "smallest"),
    ("pre-money", "post-money"),
    ("primary", "secondary"),
    ("multiyear", "single-year"),
    ("open-source", "closed-source"),
    ("voting", "non-voting"),
    # Which side of a deal: a claim naming the other side than the passage has swapped the roles.
    ("buyer", "seller"),
    ("buyers", "sellers"),
    ("bought", "sold"),
    ("buys", "sells"),
    ("lender", "borrower"),
    ("lenders", "borrowers"),
    ("payable", "receivable"),
    ("secured", "unsecured"),
    ("inflows", "outflows"),
    ("joined", "left"),
    ("joins", "leaves"),
)
ANTONYM_PARTNER = {a: b for pair in ANTONYMS for a, b in (pair, pair[::-1])}
NEAR_WORDS = 3
BINDABLE = ("money", "percent", "number", "multiple", "fraction")
BINDING_GAP_WORDS = 6
REPORTER_GAP_WORDS = 15
QUOTED_RE = re.compile(r"\b(?:citing|by|via)\s+(?:the\s+)?$", re.IGNORECASE)
REPORTING_RE = re.compile(
    r"\b(?:says?|said|reports?|reported|notes?|noted|gives?|gave|describe[sd]?|told|stated?|states"
    r"|quotes?|quoted|writes?|wrote|estimates?|estimated)\b",
    re.IGNORECASE,
)
ATTRIBUTION_RE = re.compile(
    r"\b(?:according to|citing|cited by|via|by|carrying|relaying|per|from|on|in|into|at)\s+(?:the\s+)?$", re.IGNORECASE
)
Key = tuple[object, ...]


def negation_scopes(text: str) -> list[frozenset[str]]:
    """For each negation cue, the stems of the few content words it governs.

    "had no voting rights or board seats at Anthropic" gives {vot, right, board,
    seat}: a claim about Google's investment in the same sentence is not
    touched by that "no", but a claim that Google "held voting rights" is.
    """
    folded = normalise_text(text)
    scopes = []
    for m in NEGATION_RE.finditer(folded):
        clause = SCOPE_END_RE.split(folded[m.end() :], maxsplit=1)[0]
        # Figures are the hard checks' business: "not currently party to the 2023 364 Day Agreement" negates
        # the party, not every claim about a 364-day facility.
        scopes.append(frozenset(w for w in stems(clause)[:SCOPE_WORDS] if not w.replace(".", "").isdigit()))
    return scopes


def negation_conflict(claim: str, source: str) -> str | None:
    """Why the claim's polarity differs from the source's, or None.

    A negation counts when the words it governs are talked about on the other
    side; it is matched when the other side negates at least one of them too.
    """
    claim_stems, source_stems = set(stems(claim)), set(stems(source))
    claim_scopes, source_scopes = negation_scopes(claim), negation_scopes(source)
    for scope in claim_scopes:
        if scope & source_stems and not any(scope & other for other in source_scopes):
            return "the claim negates what the source states"
    for scope in source_scopes:
        if scope & claim_stems and not any(scope & other for other in claim_scopes):
            return "the source negates what the claim states"
    return None


def antonym_conflict(claim: str, source: str) -> tuple[str, str] | None:
    """(claim word, source word) when the claim uses one side of an antonym pair and the source the other."""
    lowered_claim, lowered_source = normalise_text(claim).lower(), normalise_text(source).lower()
    for a, b in ANTONYMS:
        for mine, theirs in ((a, b), (b, a)):
            pattern, other = rf"(?<![\w-]){re.escape(mine)}(?![\w-])", rf"(?<![\w-]){re.escape(theirs)}(?![\w-])"
            if (
                re.search(pattern, lowered_claim)
                and not re.search(other, lowered_claim)
                and re.search(other, lowered_source)
                and not re.search(pattern, lowered_source)
            ):
                return mine, theirs
    return None


def _word_near(text: str, fact: Fact) -> str | None:
    """The antonym-pair word closest to a figure, if one is within a few words of it ("$730 billion pre-money")."""
    lowered = text.lower()
    best: tuple[int, int, str] | None = None
    for word in ANTONYM_PARTNER:
        for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
            after = m.start() >= fact.end
            gap = lowered[fact.end : m.start()] if after else lowered[m.end() : fact.start]
            # As near before as after ("€10 billion pre-money, €11.7 billion post-money"): the label after the
            # figure is its own.
            rank = (len(WORD_RE.findall(gap)), 0 if after else 1)
            if rank[0] <= NEAR_WORDS and (best is None or rank < best[:2]):
                best = (*rank, word)
    return best[2] if best else None


def figure_antonym_conflict(claim: str, fact: Fact, units: list[TextIndex]) -> tuple[str, str] | None:
    """(claim word, source word) when every mention of the figure in the source carries the opposite word.

    "CNBC put the pre-money valuation at $300 billion" against a source where
    $300 billion is only ever "post-money".
    """
    mine = _word_near(claim, fact)
    if mine is None:
        return None
    theirs = [_word_near(u.text, f) for u in units for f in u.facts if f.kind != "name" and same_value(fact, f)]
    partner = ANTONYM_PARTNER[mine]
    return (mine, partner) if theirs and all(t == partner for t in theirs) else None


def bindings(text: str, facts: list[Fact] | tuple[Fact, ...]) -> list[tuple[str, frozenset[Key], Key]]:
    """The figures a sentence pins on a name: ``(role, names, figure)``, role "subject" or "reporter".

    Two kinds of attribution count. Tight ones: the figure follows the name
    within a few words, with no other figure in between ("Thrive Capital:
    about $1.25 billion", "Oracle had committed $7 billion", "| Amazon | $50
    billion |"); names joined by "and" or commas share it ("Microsoft and
    Nvidia ... $15 billion"). And reported ones: every figure after a
    reporting verb belongs to the source that reports it ("Mint ... says the
    funding pushed OpenAI's valuation to $840 billion"; "according to X").
    Names in parentheses or after "according to", "citing", "via", "by" are
    not the subject of the figures next to them and get no tight binding.
    """
    pairs: list[tuple[str, frozenset[Key], Key]] = []
    group: list[Fact] = []
    for fact in facts:
        if fact.kind == "name":
            if _attribution(text, fact):
                continue
            if group and not re.fullmatch(r"\s*(?:,|and|&|,\s*and)\s*", text[group[-1].end : fact.start]):
                group = []
            group.append(fact)
        elif fact.kind in BINDABLE:
            gap = text[group[-1].end : fact.start] if group else ""
            if group and len(WORD_RE.findall(gap)) <= BINDING_GAP_WORDS and not re.search(r"[()\[\];]", gap):
                pairs.append(("subject", frozenset(f.key for f in group), (fact.kind, *fact.key)))
            group = []
    figures = [f for f in facts if f.kind in BINDABLE]
    for reporter, after in _reporters(text, facts):
        pairs.extend(("reporter", frozenset({reporter.key}), (f.kind, *f.key)) for f in figures if f.start >= after)
    return pairs


def _reporters(text: str, facts: list[Fact] | tuple[Fact, ...]) -> list[tuple[Fact, int]]:
    """(source name, offset from which the figures it reports start) for each reporting clause."""
    names = [f for f in facts if f.kind == "name" and not _inside_parentheses(text, f)]
    found: list[tuple[Fact, int]] = []
    for name in names:
        before = text[: name.start]
        if re.search(r"\baccording to\s+(?:the\s+)?$", before, re.IGNORECASE):
            found.append((name, 0))
    for verb in REPORTING_RE.finditer(text):
        subjects = [n for n in names if n.end <= verb.start() and not QUOTED_RE.search(text[: n.start])]
        if subjects and len(WORD_RE.findall(text[subjects[-1].end : verb.start()])) <= REPORTER_GAP_WORDS:
            found.append((subjects[-1], verb.end()))
    return found


def _inside_parentheses(text: str, fact: Fact) -> bool:
    before = text[: fact.start]
    return before.count("(") > before.count(")")


def _attribution(text: str, fact: Fact) -> bool:
    return _inside_parentheses(text, fact) or bool(ATTRIBUTION_RE.search(text[: fact.start]))


def _distinctive(name: Key) -> Key:
    """A name without its generic parts, so "Thrive Capital" and "Thrive" bind as one."""
    return tuple(t for t in name if t not in GENERIC_NAME_PARTS) or name


def binding_conflict(claim: str, claim_facts: list[Fact], units: tuple[TextIndex, ...]) -> str | None:
    """A figure the claim gives one name while the source gives it to another ("SoftBank put in $1.25B"
    when the source's $1.25B is Thrive's and SoftBank's is $500M); None when there is no such swap.

    Subjects and reporting sources are compared separately: "$15 billion"
    can be both Amazon's (subject) and FashionUnited's (who reports it).
    """
    by_value: dict[tuple[str, Key], set[Key]] = {}
    by_name: dict[tuple[str, Key], set[Key]] = {}
    for unit in units:
        for role, group, value in bindings(unit.text, unit.facts):
            names = {_distinctive(n) for n in group}
            by_value.setdefault((role, value), set()).update(names)
            for name in names:
                by_name.setdefault((role, name), set()).add(value)
    claimed: dict[tuple[str, Key], set[Key]] = {}
    for role, group, value in bindings(claim, claim_facts):
        claimed.setdefault((role, value), set()).update(_distinctive(n) for n in group)
    texts = {(f.kind, *f.key): f.text.strip() for f in claim_facts}
    for (role, value), names in claimed.items():
        owners = by_value.get((role, value), set())
        if not owners or owners & names:
            continue
        for name in sorted(names, key=str):
            theirs = by_name.get((role, name), set())
            if theirs and value not in theirs:
                label = " ".join(str(t) for t in name)
                verb = "attributes" if role == "reporter" else "gives"
                return f"the source {verb} {texts.get(value, 'that figure')} to someone other than {label}"
    return None
