"""Question plans: what a question asks for, before anything is looked up.

A plan names the question's kind (amount, comparison, latest, total, ...), the
companies and rounds it is about, the attributes it asks for and its time
constraint. The composer fills one *slot* per (entity, attribute) from the
financing facts, and the coverage check reports the slots left empty, so an
answer can say "the documents give OpenAI's valuation but not xAI's" instead of
quoting something nearby. Planning is rule-based and deterministic: no model
that installs here can be trusted to do it, and a plan is shown to the user
("Understood as ..."), so a wrong plan is visible rather than silent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from rag.text.numbers import MONTH_NAME, YEAR_RE
from rag.verification.facts import extract_facts

Kind = Literal[
    "amount",
    "valuation",
    "investors",
    "date",
    "comparison",
    "breakdown",
    "latest",
    "total",
    "list",
    "why",
    "yesno",
    "multihop",
    "other",
]
Attribute = Literal["amount", "valuation", "investors", "lead", "date", "revenue", "capex", "stake"]

# Words that ask for an attribute; the first match in the question decides its order in the plan.
ATTRIBUTE_CUES: tuple[tuple[Attribute, re.Pattern[str]], ...] = (
    (
        "lead",
        re.compile(r"\b(?:who|which\s+\w+)\s+led\b|\blead(?:ing)?\s+investors?\b|\bled\s+by\b|\bwho\s+led\b", re.I),
    ),
    (
        "investors",
        re.compile(
            r"\binvestors?\b|\bbackers?\b|\bparticipa\w*|\bwho\s+(?:else\s+)?(?:invested|backed|funded|put|bought|joined|wrote)\b"
            r"|\bwhich\s+(?:\w+\s+)?(?:compan(?:y|ies)|firms?|investors?|funds?)\s+(?:invested|participated|backed"
            r"|joined|put)\b"
            r"|\bwho\s+(?:were|are)\s+the\s+(?:main\s+)?(?:investors|backers)\b|\bw/"
            r"|\b(?:which|what)\s+(?:\w+\s+)?(?:strategics?|strategic\s+investors?|funds?)\s+(?:came\s+in|joined)\b",
            re.I,
        ),
    ),
    (
        "valuation",
        re.compile(r"\bvalu\w*|\bval\.|\bworth\b|\bpre-?money\b|\bpost-?money\b|\bpre\b|\bpost\b|\bprice[d]?\b", re.I),
    ),
    ("revenue", re.compile(r"\brevenues?\b|\brun[- ]rate\b|\bsales\b|\bARR\b", re.I)),
    ("capex", re.compile(r"\bcapex\b|\bcapital\s+expenditures?\b|\bcapital\s+spending\b|\bspend(?:ing)?\b", re.I)),
    ("stake", re.compile(r"\bstake\b|\bownership\b|\bown(?:s|ed)?\b|\bshare\s+of\b", re.I)),
    (
        "amount",
        re.compile(
            r"\bhow\s+much\b|\braise[sd]?\b|\braising\b|\bfunding\b|\bfinancings?\b|\binvest(?:ed|ment)?\b|\bcommit\w*"
            r"|\bsize\b|\bpledge[sd]?\b|\bput\s+in\b|\bamounts?\b|\b(?:bring|brought|pull(?:ed)?|t(?:ake|ook))\s+in\b",
            re.I,
        ),
    ),
    # "When did ...", "... and when?": a "when" opening a clause ("what's in it for X when it rents ...") asks no date.
    (
        "date",
        re.compile(
            r"^\s*when\b|(?:[,;:]\s*|\band\s+|\b(?:since|by|until)\s+)when\b|\bwhat\s+(?:date|month|year|day)\b"
            r"|\bwhich\s+(?:date|month|year|day)\b",
            re.I,
        ),
    ),
)
COMPARISON_RE = re.compile(
    r"\bcompar\w*|\bvs\.?|\bversus\b|\bstack\s+up\b|\bagainst\b|\bhow\s+(?:far|much)\s+did\s+.*\b(?:rise|grow|"
    r"increase|jump|climb|fall|change)\b|\b(?:rise|rose|grew|growth|increase|jump)\w*\s+from\b|\brelative\s+to\b|\bdifference\s+between\b|\b(?:larger|bigger|smaller|higher|"
    r"lower|more|less)\s+than\b|\bwhich\s+(?:was|is)\s+(?:larger|bigger|higher|smaller|lower)\b|\bhow\s+many\s+times\b"
    r"|\bchange[sd]?\s+(?:\w+\s+){0,3}?from\b|\b(?:went|go|move[sd]?)\s+from\b"
    # "Which round was bigger, A or B?", "Which company plans more capex, A or B?", "Whose seed was bigger?"
    r"|\b(?:bigger|larger|higher|greater|smaller|lower|more|less)\b[^?]*\bor\b|^\s*whose\b[^?]*\b(?:bigger|larger"
    r"|higher|greater|smaller|lower|more)\b"
    # "Is Meta or Alphabet guiding to the bigger budget?": the alternatives first, then the measure
    r"|\bor\b[^?]*\b(?:the\s+)?(?:bigger|larger|higher|greater|smaller|lower)\b",
    re.I,
)
BREAKDOWN_RE = re.compile(
    r"\bdivided\b|\bsplit\b|\bbreak\s*down\b|\bbreakdown\b|\bitemi[sz]e\b"
    r"|\beach\s+(?:of\s+the\s+(?:\w+\s+)?)?(?:investors?|backers?|participants?|company|companies|firms?)\b"
    r"|\bper\s+investor\b|\bby\s+investor\b|\bhow\s+much\s+did\s+each\b|\bwho\s+(?:put\s+in|contributed)\s+what\b"
    r"|\bshares?\s+of\s+the\s+round\b|\bcheck\s+sizes?\b|\bcontributions\b|\bwho\s+put\s+in\s+how\s+much\b"
    # "how big were the cheques" asks for each one's size; "who wrote cheques" only for the names
    r"|\b(?:how\s+(?:much|big|large)|sizes?)\b[^?]*\b(?:cheques|checks)\b",
    re.I,
)
LATEST_RE = re.compile(
    r"\blatest\b|\bmost\s+recent\w*|\bcurrent(?:ly)?\b|\bnewest\b|\bfreshest\b|\bup[- ]to[- ]date\b|\btoday\b|\bnow\b"
    r"|\blast\s+(?:reported|known)\b",
    re.I,
)
TOTAL_RE = re.compile(
    r"\btotal\b|\bin\s+all\b|\bcombined\b|\baltogether\b|\btogether\b|\bsum(?:med)?\b|\bcumulative\w*"
    r"|\badd(?:ed|ing)?\s+up\b|\bacross\b|\bcounting\b|\bbetween\s+them\b",
    re.I,
)
LIST_RE = re.compile(
    r"^\s*(?:list|name|enumerate)\b|\bwhich\s+(?:[A-Z]\w*\s+)?(?:companies|firms|investors|rounds|deals|countries|backers"
    r"|start-?ups|labs)\b|\bwhat\s+(?:[A-Z]\w*\s+)?(?:companies|firms|rounds|deals|start-?ups|labs)\b|\ball\s+(?:the\s+)?(?:investors|companies|rounds|backers)\b"
    r"|\bsuccessive\b|\bover\s+time\b|\bin\s+order\b|\btimeline\b|\bhistory\s+of\b",
    re.I,
)
WHY_RE = re.compile(
    r"^\s*(?:why|how\s+come)\b|\bwhat\s+(?:was|is|were)\s+the\s+(?:reason|rationale|purpose|motivation)\b"
    r"|\bfor\s+what\s+purpose\b|\bwhat\s+for\b|\bwhy\b",
    re.I,
)
# "How did xAI finance ...", "How is Stargate structured": a how-question with no figure asked is answered by reasons.
HOW_RE = re.compile(r"^\s*how\s+(?:did|does|do|was|is|were|will|are)\b", re.I)
YESNO_RE = re.compile(r"^\s*(?:did|does|do|is|was|were|has|have|had|can|will|are|would|could)\b", re.I)
BRIDGE_NOUN = (
    r"(?:firm|company|investor|fund|backer|one|start-?up|lab|group|bank|chipmaker|lead\s+investor|vc|venture\s+firm"
    r"|shareholder|owner|lender|supplier)"
)
# The entity a two-step question names by description: "the firm that led X's Series J", "the Anthropic shareholder
# that is capped at 15%", "the company holding ~27% of OpenAI", "the OpenAI co-founder's start-up that signed ...",
# "the lead investor of OpenAI's $40bn round".
BRIDGE_RE = re.compile(
    rf"\bthe\s+(?P<descriptor>(?:[\w.'’-]+\s+){{0,2}}?{BRIDGE_NOUN})\s+(?P<link>that|which|who|holding|owning)\s+"
    r"(?P<rest>.*?)(?=\s+(?:also|then|later|too|still|ever)\b|[,?]|\s+[-–—]\s+|$)"
    r"|\bthe\s+lead(?:\s+investor)?\s+(?:of|in)\s+(?P<led>.+?)(?=\s+(?:play|plays|do|does|did|have|has|hold|holds"
    r"|also|then|get|gets|take|takes)\b|[,?]|\s+[-–—]\s+|$)",
    re.I,
)
ROUND_RE = re.compile(
    r"\bSeries\s+[A-Z](?:(?:\s*,\s*|,?\s+and\s+)[A-Z])*\b(?:\s+extension)?|\bseed(?:\s+round)?\b|\btender\s+offer\b|\bsecondary(?:\s+sale)?\b"
    r"|\bemployee\s+share\s+sale\b|\bIPO\b|\brecapitali[sz]ation\b",
    re.I,
)
# "Oct '24": a month with a two-digit year, read as 2024 ("'24" alone could be anything).
SHORT_YEAR_RE = re.compile(rf"\b(?P<month>{MONTH_NAME})\s+['’](?P<yy>\d{{2}})\b")
INVESTOR_MONEY = r"(?:committed|invested|put|pledged|commitments?|investments?|stakes?|money|bets?)"
EARLIEST_RE = re.compile(r"\b(?:first|earliest|initial|original|debut)\b", re.I)
# A question headed by a measure no financing fact holds ("What interest rate do the notes carry?", "At what share
# price does the tranche vest?"): the words after it ("debt raise", "price") ask for no amount or valuation, and a
# fact of those kinds would answer beside the point; it is answered by quotes that name the measure, or not at all.
UNHELD_MEASURE_RE = re.compile(
    r"^\s*(?:at\s+)?(?:what|which)\s+(?:(?:is|was|are|were)\s+(?:the\s+)?)?(?:[\w.'’-]+\s+){0,3}?"
    r"(?:interest\s+rates?|coupons?|yields?|(?:share|stock|exercise|strike)\s+prices?|multiples?)\b",
    re.I,
)
# Capitalised words in questions that are not entities (the mention extractor keeps sentence-initial names).
NOT_ENTITIES = frozenset(
    """how what which who whom whose when where why did does do is are was were has have had can will would could
    list name compare series round seed ipo and or the a an in of for by with vs versus between add sum total
    combined tally
    january february march april may june july august september october november december""".split()
)


@dataclass(frozen=True)
class Slot:
    """One thing the answer must state: an attribute of an entity (entity "" = the question's subject).

    ``qualifier`` names the side of a comparison or part of a total when it is a
    round or a month rather than a company ("Series E" vs "Series F" of Anthropic).
    """

    entity: str
    attribute: Attribute
    qualifier: str = ""


@dataclass(frozen=True)
class QuestionPlan:
    """What a question asks for; ``describe()`` is the "Understood as" line shown with the answer."""

    question: str
    kind: Kind
    entities: tuple[str, ...] = ()
    rounds: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    years: tuple[int, ...] = ()
    latest: bool = False
    bridge: str = ""
    slots: tuple[Slot, ...] = field(default=())
    periods: tuple[str, ...] = ()  # "2024-10": months the question names, for comparisons over time
    earliest: bool = False  # "first round", "initial", "earliest"
    amounts: tuple[float, ...] = ()  # figures the question states ("the $110 billion financing")
    investor: str = ""  # whose money a comparison or total is about ("Amazon's commitments to OpenAI and Anthropic")

    def describe(self) -> str:
        """One plain line: the kind, who it is about, what it asks for and when."""
        about = _join(self.entities) or "the question's subject"
        asked = _join([a.replace("_", " ") for a in self.attributes]) or "the answer"
        parts = [f"{KIND_WORDS[self.kind]}: {asked} of {about}"]
        if self.rounds:
            parts.append(f"round {_join(self.rounds)}")
        if self.years:
            parts.append(f"in {_join([str(y) for y in self.years])}")
        if self.latest:
            parts.append("most recent figure")
        if self.investor:
            parts.append(f"{self.investor}'s money")
        if self.bridge:
            parts.append(f'first resolving "{self.bridge}"')
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for ``rag ask --json``."""
        return {
            "kind": self.kind,
            "entities": list(self.entities),
            "rounds": list(self.rounds),
            "attributes": list(self.attributes),
            "years": list(self.years),
            "latest": self.latest,
            "bridge": self.bridge,
            "periods": list(self.periods),
            "earliest": self.earliest,
            "investor": self.investor,
            "slots": [{"entity": s.entity, "attribute": s.attribute, "qualifier": s.qualifier} for s in self.slots],
            "described": self.describe(),
        }


KIND_WORDS: dict[Kind, str] = {
    "amount": "Amount",
    "valuation": "Valuation",
    "investors": "Investors",
    "date": "Date",
    "comparison": "Comparison",
    "breakdown": "Breakdown by investor",
    "latest": "Latest figure",
    "total": "Total",
    "list": "List",
    "why": "Reason",
    "yesno": "Yes or no",
    "multihop": "Two-step question",
    "other": "Question",
}


def plan_question(
    question: str,
    known_entities: Iterable[str] = (),
    subjects: Collection[str] = (),
    passages: Sequence[str] = (),
) -> QuestionPlan:
    """The plan of ``question``; ``known_entities`` (from the fact index) are matched first, whatever their case;
    ``passages`` (those retrieved for it) tell a capitalised opening word from a name (:func:`ordinary_opening`).

    ``subjects`` are the companies facts are *about* (not their investors): a
    comparison of one subject's rounds or months ("OpenAI's Oct 2024 round vs the
    March 2025 SoftBank-led round") has one side per round or month, not one for
    the investor named in passing.
    """
    text = SHORT_YEAR_RE.sub(lambda m: f"{m.group('month')} 20{m.group('yy')}", " ".join(question.split()))
    bridge_match = BRIDGE_RE.search(text)
    bridge = bridge_match.group(0).strip() if bridge_match else ""
    entities = _entities(text, known_entities, passages)
    attributes = asked_attributes(text)
    rounds = tuple(dict.fromkeys(label for m in ROUND_RE.finditer(text) for label in _round_labels(m.group(0))))
    years = tuple(dict.fromkeys(int(m.group("y")) for m in YEAR_RE.finditer(text)))
    latest = bool(LATEST_RE.search(text))
    periods = periods_in(text)
    if UNHELD_MEASURE_RE.search(text):
        attributes = ()
    kind = _kind(text, entities, attributes, rounds, periods, bridge, latest)
    if kind in ("investors", "list") and not attributes:
        attributes = ("investors",)
    # Ownership is divided in shares, not in money put in: "How is Stargate's ownership divided?" is answered by
    # its stakes ("40% each"), and the investors' dollar commitments would answer beside the point.
    if kind in ("breakdown", "comparison", "total") and not set(attributes) & {*FIGURES, "stake"}:
        attributes = ("amount", *attributes)
    sides = tuple(
        e for e in entities if not re.search(rf"{re.escape(e)}-(?:led|backed)\b|led\s+by\s+{re.escape(e)}", text)
    )
    investor = _investor(text, sides) if kind in ("comparison", "total") else ""
    sides = tuple(e for e in sides if e != investor)
    slots = _slots(kind, sides or entities, attributes, rounds, periods, subjects)
    if kind == "comparison":
        slots = _paired_rounds(text, slots, rounds)
    earliest = bool(EARLIEST_RE.search(text))
    amounts = tuple(float(f.key[1]) for f in extract_facts(text) if f.kind == "money")  # type: ignore[arg-type]
    return QuestionPlan(
        text, kind, entities, rounds, attributes, years, latest, bridge, slots, periods, earliest, amounts, investor
    )


FIGURES: tuple[Attribute, ...] = ("valuation", "revenue", "capex", "amount")


def other_figures(text: str, stated: Sequence[float]) -> bool:
    """Whether ``text`` states money and none of it is a figure the question states (within 1%): a sentence about
    another deal than the one the question picks by its figures ("Who led Perplexity's $200 million round?" is not
    answered by "a $500 million round led by Accel")."""
    if not stated:
        return False
    money = [float(m.key[1]) for m in extract_facts(text) if m.kind == "money"]  # type: ignore[arg-type]
    return bool(money) and not any(abs(value - amount) <= 0.01 * amount for value in money for amount in stated)


def bridge_noun(bridge: str) -> str:
    """What a bridge is ("start-up" in "the OpenAI co-founder's start-up that ..."), "" for "the lead investor of"."""
    match = BRIDGE_RE.fullmatch(bridge.strip())
    return match.group("descriptor").split()[-1] if match and match.group("descriptor") else ""


def bridge_question(bridge: str) -> str:
    """A multi-hop bridge asked alone: "the firm that led X's Series J" -> "Who led X's Series J?", "the Anthropic
    shareholder that is capped at 15%" -> "Which Anthropic shareholder is capped at 15%?", "the lead investor of X" ->
    "Who led X?", "the company holding 27% of X" -> "Which company holds 27% of X?"."""
    match = BRIDGE_RE.fullmatch(bridge.strip())
    if match is None:
        return f"Who is {bridge.strip()}?"
    if match.group("led"):
        return f"Who led {match.group('led')}?"
    descriptor, rest = match.group("descriptor"), match.group("rest").rstrip(" ?")
    if match.group("link").lower() in ("holding", "owning"):
        rest = f"{match.group('link')[:-3]}s {rest}"  # "holding 27% of X" -> "holds 27% of X"
    if len(descriptor.split()) == 1:
        return f"Who {rest}?"
    return f"Which {descriptor} {rest}?"


def _slots(
    kind: Kind,
    entities: tuple[str, ...],
    attributes: tuple[Attribute, ...],
    rounds: tuple[str, ...],
    periods: tuple[str, ...],
    subjects: Collection[str],
) -> tuple[Slot, ...]:
    """One slot per entity and attribute; a comparison or total of one company's rounds or months has one per side."""
    if kind in ("comparison", "total"):
        # The figure named first: "amounts and valuations" compares the amounts, each side given with its valuation.
        figure = next((a for a in attributes if a in FIGURES), attributes[0] if attributes else "amount")
        about = [e for e in entities if any(e.lower() == s.lower() for s in subjects)]
        if (len(rounds) >= 2 or len(periods) >= 2) and len(about) <= 1:
            entity = (about or list(entities) or [""])[0]
            sides = rounds if len(rounds) >= 2 else periods
            return tuple(Slot(entity, figure, side) for side in sides)
        return tuple(Slot(e, figure) for e in (entities or ("",)))
    return tuple(Slot(e, a) for e in (entities or ("",)) for a in attributes)


def _investor(text: str, entities: tuple[str, ...]) -> str:
    """The company whose money is compared or summed across the others ("How much has Amazon committed to OpenAI
    compared with Anthropic?", "Nvidia's commitment to OpenAI vs its commitment to Anthropic"), when two remain."""
    if len(entities) < 3:
        return ""
    for entity in entities:
        money = rf"{re.escape(entity)}(?:'s|’s)?\s+(?:has\s+|have\s+|had\s+)?{INVESTOR_MONEY}\b[^?]*?\b(?:to|in|into)\b"
        if re.search(money, text, re.I):
            return entity
    return ""


def _paired_rounds(text: str, slots: tuple[Slot, ...], rounds: tuple[str, ...]) -> tuple[Slot, ...]:
    """Each company side with the round the question gives it: "xAI's Series E or Anthropic's Series G" compares
    those two rounds, and "whose seed round was bigger, A's or B's" the two seeds, not each company's latest figure."""
    sides = {slot.entity for slot in slots}
    if len(sides) < 2 or any(slot.qualifier for slot in slots):
        return slots
    own: dict[Slot, list[str]] = {}
    for slot in slots:
        match = re.search(rf"{re.escape(slot.entity)}(?:'s|’s|'|’)?\s+(?:{ROUND_RE.pattern})", text, re.I)
        said = re.sub(r"^(?:'s|’s|'|’)?\s*", "", match.group(0)[len(slot.entity) :]) if match else ""
        own[slot] = _round_labels(said) if said else []
    # "whose seed round was bigger, A's or B's": the one round named holds for every side; "A's first round vs B's
    # seed": it is B's alone, and A's round is read from A's own words (its first, its latest).
    shared = list(rounds) if len(rounds) == 1 and not any(own.values()) else []
    # A round named after the sides is the nearest one's ("OpenAI's for 2025, or Anthropic's at the time of its
    # Series G"): only the round named before them all ("whose seed round was bigger, A's or B's") is every side's.
    named_at = {slot: text.lower().find(slot.entity.lower()) for slot in slots}
    named_round = ROUND_RE.search(text)
    round_at = named_round.start() if named_round else len(text)
    before = [slot for slot in slots if 0 <= named_at[slot] < round_at]
    nearest = max(before, key=lambda slot: named_at[slot]) if shared and before else None
    paired = []
    for slot in slots:
        label = own[slot] if len(own[slot]) == 1 else shared if nearest in (None, slot) else []
        paired.append(replace(slot, qualifier=label[0]) if len(label) == 1 else slot)
    return tuple(paired)


def _kind(
    text: str,
    entities: tuple[str, ...],
    attributes: tuple[Attribute, ...],
    rounds: tuple[str, ...],
    periods: tuple[str, ...],
    bridge: str,
    latest: bool,
) -> Kind:
    """The most specific kind whose cue is present; order matters (a "why" about a total is a "why")."""
    if bridge:
        return "multihop"
    if BREAKDOWN_RE.search(text):
        return "breakdown"
    if COMPARISON_RE.search(text) and (
        len(entities) + len(rounds) + len(periods) >= 2 or re.search(r"\bvs\.?|\bversus\b", text)
    ):
        return "comparison"
    if WHY_RE.search(text):
        return "why"
    if YESNO_RE.search(text):
        return "yesno"
    if TOTAL_RE.search(text) and ("amount" in attributes or "capex" in attributes or len(rounds) + len(periods) >= 2):
        return "total"
    if latest:
        return "latest"
    if LIST_RE.search(text):
        return "list"
    for attribute in attributes:
        if attribute in ("lead", "investors"):
            return "investors"
        if attribute in ("amount", "valuation", "date"):
            return attribute
    if HOW_RE.search(text):
        return "why"
    return "other"


def asked_attributes(text: str) -> tuple[Attribute, ...]:
    """Asked-for attributes in the order the question names them (none added by default)."""
    found: list[tuple[int, Attribute]] = []
    spans: dict[Attribute, tuple[int, int]] = {}
    for attribute, cue in ATTRIBUTE_CUES:
        match = cue.search(text)
        if match:
            found.append((match.start(), attribute))
            spans[attribute] = match.span()
    found.sort()
    attributes = [a for _, a in found]
    if not attributes and re.search(r"\bround\b", text, re.I):
        attributes.append("amount")  # "Tell me about the Series F round": its size is the headline
    if "lead" in spans and "investors" in spans:
        (lead_start, lead_end), (start, end) = spans["lead"], spans["investors"]
        if start < lead_end and lead_start < end:  # "the lead investor": one ask, not two
            attributes.remove("investors")
    return tuple(attributes)


def _entities(text: str, known_entities: Iterable[str], passages: Sequence[str] = ()) -> tuple[str, ...]:
    """Companies and investors named in the question: known names first (longest first), then capitalised names
    (less an ordinary opening word, as the ``passages`` found for the question write it)."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(text)
    for name in sorted({n.strip() for n in known_entities if n.strip()}, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w]){re.escape(name)}(?:'s|’s)?(?![\w])", text, re.I):
            if not any(taken[m.start() : m.end()]):
                found.append((m.start(), name))
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    for fact in extract_facts(text):
        if fact.kind != "name" or any(taken[fact.start : fact.end]):
            continue
        words = re.sub(r"(?:'s|’s)$", "", fact.text.strip()).split()
        while words and words[0].lower() in NOT_ENTITIES:
            words.pop(0)  # "Is Mistral ...": a sentence-initial question word is kept in the name by the extractor
        name = " ".join(words)
        if not name or name.lower() in NOT_ENTITIES or ROUND_RE.fullmatch(name) or re.fullmatch(r"[A-Z]", name):
            continue
        opening = not text[: fact.start].strip() and ordinary_opening(text, name, passages)
        if not opening and not _owner_of_known(text, fact.start, name, found):
            found.append((fact.start, name))
    found.sort()
    return tuple(dict.fromkeys(name for _, name in found))


def _owner_of_known(text: str, start: int, name: str, known: list[tuple[int, str]]) -> bool:
    """Whether an unknown name only describes the known company it owns ("Sutskever's Safe Superintelligence",
    "Musk's xAI"): the question is about the company, and the person is no side of it."""
    owner = re.match(rf"{re.escape(name)}(?:'s|’s)\s+", text[start:])
    return owner is not None and any(at == start + owner.end() for at, _ in known)


def ordinary_opening(question: str, word: str, passages: Sequence[str]) -> bool:
    """Whether the question's first word ``word`` is an ordinary word capitalised only because it opens the question
    ("Per the CFO ...", "Once the deals closed ...", "Itemise the five deals ..."), not a name: the passages write it
    in lower case, or, when it stands alone (no possessive, no capitalised word after it, as in "Anthropic's ..." or
    "Inflection AI ..."), never capitalise it within a sentence, where only a name is. Without passages, a name."""
    opening = re.match(rf"\s*{re.escape(word)}(?P<after>\S*)\s*(?P<next>\S*)", question)
    if opening is None or not passages or not word[1:].islower():
        return False
    if any(re.search(rf"\b{re.escape(word.lower())}\b", text) for text in passages):
        return True
    alone = not opening.group("after").startswith(("'", "’")) and not opening.group("next")[:1].isupper()
    within = re.compile(rf"(?<=[a-z0-9,;:%)] ){re.escape(word)}\b")
    return alone and not any(within.search(text) for text in passages)


def periods_in(text: str) -> tuple[str, ...]:
    """Months named with their year ("Oct 2024", "March 2025") as "YYYY-MM", in question order."""
    found = []
    for fact in extract_facts(text):
        if fact.kind == "date" and isinstance(fact.key[0], int) and isinstance(fact.key[1], int):
            found.append(f"{fact.key[0]:04d}-{fact.key[1]:02d}")
    return tuple(dict.fromkeys(found))


def _round_labels(raw: str) -> list[str]:
    """ "Series E, F and G" -> Series E, Series F, Series G; other labels in one spelling."""
    if raw.lower().startswith("series"):
        extension = " extension" if raw.lower().endswith("extension") else ""
        letters = re.findall(r"\b[A-Z]\b", raw[len("series") :])
        return [f"Series {letter}{extension}" for letter in letters]
    return ["IPO" if raw.upper() == "IPO" else raw.lower().removesuffix(" round")]


def _join(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
