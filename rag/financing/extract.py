"""Financing facts from a document's prose: bind figures, names, rounds and dates into relations.

The mention extractor (:func:`rag.verification.facts.extract_facts`, the same one
the citation checker uses) finds money, dates, round labels and names with their
spans; this module decides what each figure *is* from the words around it
("valuation of", "raised", "committed", "revenue") and whom it belongs to
("Amazon's $50 billion", "$30 billion from Nvidia"), and reads investor roles
("led by X", "participants include A, B and C"). A sentence that names no
company is read in its document's context: the company and round its title is
about, so "ICONIQ Capital led the round" in the Series F brief is a fact about
Anthropic's Series F. Tables are handled by :mod:`rag.financing.tables`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.financing.cues import (
    AT_FIGURE_RE,
    COUNTERPARTY_AFTER_RE,
    COUNTERPARTY_BEFORE_DEAL_RE,
    DEAL_ROLES,
    INVEST_IN_RE,
    INVESTMENT_VERBS,
    INVESTMENTS_TITLE_RE,
    INVESTOR_VERB_RE,
    LABEL_LINE_RE,
    LEAD_AFTER_RE,
    LEAD_BEFORE_RE,
    NOT_COMPANIES,
    PARTICIPANTS_RE,
    PARTICIPATE_AFTER_RE,
    POSSESSIVE_SUBJECT_RE,
    POST_AFTER_RE,
    PRE_AFTER_RE,
    PURPOSE_RE,
    ROUND_WORDS_RE,
    SUBJECT_VERBS_RE,
    TOPIC_CAPEX_RE,
    VALUATION_AFTER_RE,
    VALUE_CUES,
)
from rag.financing.model import Attribute, FinancingFact, Statement
from rag.financing.tables import TableRow, facts_from_table, table_rows
from rag.text.claims import sentence_spans
from rag.verification.facts import Fact, extract_facts

# Stored with the facts: a new extractor version makes the next ingest re-extract every stored file's facts.
FACTS_VERSION = "6"
# "citing Bloomberg", "according to Reuters": a name that reports a figure, not the company it is about.
ATTRIBUTION_BEFORE_RE = re.compile(r"\b(?:citing|carrying|according\s+to|via|per|quoting|by)\s+(?:the\s+)?$", re.I)
# "OpenAI said it had raised", "OpenAI is now worth": a name the next few words make the one raising or valued.
LONE_SUBJECT_VERB_RE = re.compile(
    r"\s*(?:[\w,]+\s+){0,4}?(?:raised|raises|raising|closed|secured|valued|worth|sold|received|bought|acquired"
    r"|borrowed|announced|signed|spent|generated|posted|expects|landed|obtained|took\s+in|agreed|invested"
    r"|committed|pledged|put)\b",
    re.I,
)
APPOSITIVE_RE = re.compile(r"^\s*,[^,;.]{0,80},")
LABELLED_FIGURE_RE = re.compile(r"\s*:\s*(?:about\s+|around\s+|roughly\s+|approximately\s+|some\s+)?")
# Words between a figure and its own date: "$X in 2025", "$X planned for 2026", "$X (May 2026)", "$X, as of March".
DATE_AFTER_RE = re.compile(
    r"[\s,(]*(?:(?:planned|expected|forecast|budgeted|guided|spent|raised)\s+)?(?:in|for|during|by|as\s+of|on)?\s*"
)
# A date that names the figure a sentence compares with, not the sentence's own time: "than 2025's $72.22 billion",
# "twice what it spent in 2025", "three times the 2024 level". It dates only a figure it is the possessive of.
# Lower-case, within a few words of the date: "the Financial Times' site reports ... in May 2026" compares nothing.
COMPARED_DATE_BEFORE_RE = re.compile(
    r"\b(?:than|twice|times|compared\s+(?:with|to)|versus|vs\.?|up\s+from|down\s+from)\b[^.;$€£]{0,30}$"
)
POSSESSIVE_DATE_AFTER_RE = re.compile(r"^['’]s\s+(?:about\s+|roughly\s+|around\s+)?$", re.I)
OWN_MEASURES = frozenset({"capex", "revenue"})  # what a company spends or earns itself, never an investor's money
UNLABELLED_FIGURE_RE = re.compile(r"\s*(?:about\s+|around\s+|roughly\s+|approximately\s+|some\s+)?")
VALUE_WORD_RE = re.compile(r"\bvalu\w*|\bworth\b", re.I)
# "bringing total funding to $12 billion", "Microsoft's total investment to date at $13 billion": a running total, not
# the money of one round or check (it would be summed again with the rounds it adds up).
CUMULATIVE_BEFORE_RE = re.compile(r"\b(?:(?<!\ba\s)total|cumulative|to\s+date|so\s+far)\b[^.;:$€£]{0,40}$", re.I)
CUMULATIVE_AFTER_RE = re.compile(r"^\s*(?:to\s+date|so\s+far)\b", re.I)
DEBT_AFTER_RE = re.compile(r"^\s*(?:of|in)\s+(?:new\s+|secured\s+)?(?:debt|loans?|notes|bonds|borrowings?)\b", re.I)
# Spending and sales are reported as totals ("total capex of $91 billion"): those stay.
OWN_TOTALS_RE = re.compile(r"revenue|run[- ]rate|\bsales\b|capex|capital\s+(?:expenditure|spending)|\bspend\w*", re.I)
# "In January 2025 the company said ...": the document's company, named by a common noun before any other name.
ANAPHORIC_SUBJECT_RE = re.compile(
    r"^[^.;]{0,40}?\b(?:the|this)\s+(?:company|start-?up|firm|lab|group|developer)\b(?!\s+(?:that|which|whose))", re.I
)
SEED_RE = re.compile(r"\bseed(?:\s+round|\s+funding|\s+financing)?\b(?!\s+(?:investor|fund|stage\s+investor))", re.I)
# "Microsoft and Nvidia commit up to $15 billion to Anthropic": a title about money going *to* a company is about it.
TITLE_TARGET_RE = re.compile(
    r"\b(?:commit|commits|committed|invest|invests|invested|pledge|pledges|pledged|put|puts|lend|lends|lent)\b"
    r"[^.:;]*?\b(?:to|in|into)\s+(?P<target>[A-Z][\w.&-]*(?:\s+[A-Z][\w.&-]*){0,2})"
)
ROUND_AFTER_RE = re.compile(r"^\s*(?:\w+\s+)?(?:round|raise|seed|series|financing|funding)\b", re.I)
OTHER_ROUND_RE = re.compile(r"\band\s+(?:the|a|an)\s+(?:\w+\s+){0,2}$|\bthen\b", re.I)
# "Microsoft: just under $1 billion", "Thrive: about $1.25 billion": the words that hedge a figure.
APPROXIMATELY = (
    r"(?:(?:up\s+to|about|around|roughly|nearly|almost|some|over|under|more\s+than|less\s+than|approximately)\s+)?"
)
# "... $10 billion and Microsoft $5 billion": a name that follows a figure and a conjunction.
GAPPED_BEFORE_RE = re.compile(r"(?:billion|million|bn|[mb]|\d)\s*(?:,\s*and|,|and)\s*$", re.I)


@dataclass(frozen=True)
class DocumentContext:
    """What a document is about, read from its title: the default subject, round and date of its sentences."""

    doc_id: str
    path: str
    source: str
    subject: str
    round: str
    date: str
    investor: str = ""  # "Microsoft's investments in OpenAI": the investor every figure of the document belongs to
    topic: Attribute | None = None  # "Alphabet's AI capex": a figure "raised" to $91 billion is capex, not a round
    figures: frozenset[float] = frozenset()  # the title's amounts: a sentence repeating one is about the title's round


@dataclass
class _Reading:
    """What carries from one sentence to the next: the company last written about, and an open list's role."""

    subject: str = ""
    list_role: Attribute | None = None
    values: bool = False  # a heading about value ("How the value splits"): the label lines after it are valuations


def extract_financing_facts(
    text: str, title: str, doc_id: str, path: str, source: str, doc_date: str = "", infer_subject: bool = True
) -> list[FinancingFact]:
    """All financing facts of one document, prose and tables, in order of appearance.

    ``infer_subject=False`` reads a lone claim or passage rather than a document: without a title nothing is
    assumed to be about the first company named, so "Nvidia and Cisco also took part" states no fact, and a
    sentence without a subject of its own takes the one the previous sentence named.
    """
    context = document_context(text, title, doc_id, path, source, doc_date, infer_subject)
    facts: list[FinancingFact] = []
    spans = sentence_spans(text)
    rows: list[TableRow] = []
    reading = _Reading(subject=context.subject)
    for start, end in spans:
        if "http" in text[start:end]:
            continue  # source lists: a URL's words ("raises-110-billion-dollars") are not statements
        row = table_rows(text, start, end)
        if row is not None:
            rows.append(row)
            continue
        if rows:
            facts.extend(facts_from_table(rows, context, _year_month))
            rows = []
        listed = _list_item_facts(text, start, end, context, reading)
        if listed is not None:
            facts.extend(listed)
            continue
        facts.extend(_sentence_facts(text, start, end, context, reading))
    if rows:
        facts.extend(facts_from_table(rows, context, _year_month))
    return _dated_by_round(list({f.id: f for f in facts}.values()))


def _dated_by_round(facts: list[FinancingFact]) -> list[FinancingFact]:
    """A round's date, stated once, dates every fact of that round in the document: "Thrive Capital led the round"
    in a Series J paragraph is as old as the Series J ("December 2024"), not undated (which a question about a later
    round would accept) nor dated by the year alone. The round's earliest month is taken (its announcement)."""
    months: dict[tuple[str, str], str] = {}
    for fact in facts:
        if fact.round and len(fact.date) >= len("2024-12"):
            key = (fact.subject, fact.round)
            months[key] = min(months.get(key, fact.date[:7]), fact.date[:7])
    dated = []
    for fact in facts:
        month = months.get((fact.subject, fact.round), "")
        if month and len(fact.date) < len(month) and month.startswith(fact.date):
            fact = replace(fact, date=month)
        dated.append(fact)
    return dated


def document_context(
    text: str, title: str, doc_id: str, path: str, source: str, doc_date: str, infer_subject: bool = True
) -> DocumentContext:
    """The company, round and date a document's title is about (the first company-like name in the title).

    Without a title the document's opening stands in for it, and failing that its most named company, unless
    ``infer_subject`` is False.
    """
    head = title or (text[:300] if infer_subject else "")
    mentions = extract_facts(head)
    # Title case makes phrases look like names ("Examining Global AI Industry's"): a company is named in 1-3 words.
    names = [m for m in mentions if m.kind == "name" and _is_company(m.text) and _short_name(m.text)]
    possessive = [m for m in names if _possessive(head, m)]
    # "Thinking Machines Lab: Mira Murati's $2 billion seed round": the name a title opens with, before its colon, is
    # what the title is about, whoever else it names with a possessive.
    colon = head.find(":") if title else -1
    opening = [m for m in mentions if m.kind == "name" and _is_company(m.text) and m.end <= colon]
    named_first = [m for m in opening if not head[: m.start].strip(" \"'#*") and not head[m.end : colon].strip()]
    subject = next((_clean_name(m.text) for m in named_first or possessive or names), "")
    if not subject and infer_subject:
        counts = Counter(_clean_name(m.text) for m in extract_facts(text[:3000]) if m.kind == "name")
        subject = next((n for n, _ in counts.most_common() if _is_company(n)), "")
    target = TITLE_TARGET_RE.search(head)
    if target and any(_clean_name(m.text) == target.group("target") for m in names):
        subject = target.group("target")  # "Microsoft and Nvidia commit up to $15 billion to Anthropic"
    investor = ""
    invests = INVESTMENTS_TITLE_RE.search(head)
    if invests:
        investor, subject = invests.group("investor").strip(), invests.group("investee").strip()
    round_label = _round_label(head, mentions)
    dates = [_year_month(m) for m in mentions if m.kind == "date"]
    # "(2023-2026)": a title spanning several years dates none of its sentences.
    date = dates[0] if dates and len({d[:4] for d in dates if d}) == 1 else ""
    if not date and not dates:
        years = re.findall(r"\b(?:19|20)\d{2}\b", head)
        date = years[-1] if len(set(years)) == 1 else ""
    figures = frozenset(float(m.key[1]) for m in _round_segment(head, mentions) if m.kind == "money")  # type: ignore[arg-type]
    topic: Attribute | None = "capex" if TOPIC_CAPEX_RE.search(head) else None
    return DocumentContext(
        doc_id, path, source, subject, round_label, date or "", investor=investor, topic=topic, figures=figures
    )


def _round_label(text: str, mentions: list[Fact] | tuple[Fact, ...]) -> str:
    """The round a text names: its Series label, else "seed" for a seed round (which has no letter)."""
    series = next((f"Series {m.key[0]}" for m in mentions if m.kind == "series"), "")
    return series or ("seed" if SEED_RE.search(text) else "")


def _round_segment(title: str, mentions: list[Fact]) -> list[Fact]:
    """The title's mentions that describe its labelled round: "Series G ($30 billion at $380 billion, ...) and the
    reported $65 billion round" keeps the first two figures; a title without a round label keeps all."""
    series = next((m for m in mentions if m.kind == "series"), None)
    if series is None:
        return mentions
    stop = re.search(r"\)|\band\s+(?:the|a|an)\b|\bthen\b", title[series.end :])
    end = series.end + stop.start() if stop else len(title)
    return [m for m in mentions if m.start < end]


def _list_item_facts(
    text: str, start: int, end: int, context: DocumentContext, reading: _Reading
) -> list[FinancingFact] | None:
    """An item of a list opened by "Participants include:": its companies ("chipmakers Nvidia and AMD"), investors of
    the company last written about; None when the span is not such an item (the list has ended)."""
    sentence = text[start:end]
    if reading.list_role is None:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    bulleted = re.fullmatch(r"\s*(?:[-*+•·▪●]|\d{1,2}[.)])\s*", text[line_start:start]) is not None
    if not bulleted or len(sentence) > 160 or _mentions_money(sentence):
        reading.list_role = None  # a paragraph, not an item: the list is over
        return None
    names = [m for m in _mentions(sentence) if m.kind == "name" and _is_company(m.text)]
    if not names:
        reading.list_role = None
        return None
    in_context = reading.subject == context.subject
    statement = Statement(context.doc_id, context.path, context.source, start, end, sentence)
    return [
        statement.fact(
            reading.subject,
            reading.list_role,
            name,
            start,
            _clean_name(name.text),
            context.round if in_context else "",
            context.date if in_context else "",
        )
        for name in names
        if _clean_name(name.text) != reading.subject
    ]


def _sentence_facts(
    text: str, start: int, end: int, context: DocumentContext, reading: _Reading
) -> list[FinancingFact]:
    sentence = text[start:end]
    mentions = _mentions(sentence)
    names = [m for m in mentions if m.kind == "name" and _is_company(m.text)]
    opens_list = sentence.rstrip().endswith(":") and PARTICIPANTS_RE.search(sentence) is not None
    reading.list_role = "investor" if opens_list else None
    in_value_list = reading.values and LABEL_LINE_RE.match(sentence) is not None
    reading.values = in_value_list or bool(VALUE_WORD_RE.search(sentence) and not _mentions_money(sentence))
    deals = _deal_roles(sentence, names)
    subject = _subject(sentence, names, context) or (
        "" if context.subject else _named_before_money(sentence, names) or reading.subject
    )
    if not subject and deals:
        subject = _clean_name(deals[0][1].text)  # "xAI agreed to acquire SpaceX": the deal names its parties
    if any(_clean_name(n.text) == context.subject for n in names):
        reading.subject = context.subject  # a list after this sentence is about the document's company
    elif subject:
        reading.subject = subject
    if not subject:
        return []
    round_label = _round_label(sentence, mentions)
    own_date = next((_year_month(m) for m in mentions if m.kind == "date" and not _compared_date(sentence, m)), "")
    repeats_title = any(float(m.key[1]) in context.figures for m in mentions if m.kind == "money")  # type: ignore[arg-type]
    in_context = subject == context.subject and (not own_date or own_date == context.date or repeats_title)
    if not round_label and in_context:
        round_label = context.round  # "ICONIQ Capital led the round" in the Series F brief
    date = own_date or (context.date if subject == context.subject else "")

    statement = Statement(context.doc_id, context.path, context.source, start, end, sentence)
    purpose = next((m.group("purpose").lower() for m in PURPOSE_RE.finditer(sentence)), "")

    series = next((m for m in mentions if m.kind == "series"), None)

    def make(attribute: Attribute, mention: Fact, counterparty: str = "") -> FinancingFact:
        # "Series G and the reported $65 billion round": a figure past "and the ..." is another round's.
        other_round = series is not None and bool(OTHER_ROUND_RE.search(sentence[series.end : mention.start]))
        label = "" if other_round else round_label
        own = (
            (_date_after(sentence, mention, mentions) or _possessive_date(sentence, mention, mentions))
            if (mention.kind == "money")
            else ""
        )
        return statement.fact(subject, attribute, mention, start, counterparty, label, own or date, purpose)

    facts: list[FinancingFact] = []
    for role, party, other in deals:
        facts.append(replace(make(role, other, _clean_name(other.text)), subject=_clean_name(party.text)))
    moneys = [m for m in mentions if m.kind == "money"]
    previous_end = 0
    for m in moneys:
        if m.start < previous_end:
            continue  # "$175-185 billion" is mentioned twice (bottom and top): one figure, read at its bottom
        if _cumulative(sentence, m, previous_end):
            previous_end = m.end
            continue
        investment = _investment_in(sentence, m, names)
        if investment is not None:
            investor, investee = investment
            facts.append(replace(make("investment", m, investor), subject=investee))
            previous_end = m.end
            continue
        attribute = _money_attribute(sentence, m, previous_end, moneys)
        if deals and attribute in (None, "amount", "commitment", "debt"):
            role, party, other = deals[0]  # "Google bought Wiz for $32 billion": the deal's size, about the target
            deal_attribute: Attribute = "debt" if role == "lender" else attribute or "amount"
            deal = replace(make(deal_attribute, m, _clean_name(other.text)), subject=_clean_name(party.text))
            facts.append(deal)
            previous_end = m.end
            continue
        valued = _valued_label(sentence, m, names, in_value_list)
        if valued:
            facts.append(replace(make("valuation", m), subject=valued))
            previous_end = m.end
            continue
        owner = _figure_owner(sentence, m, names, subject)
        if attribute in (None, "amount") and context.topic and not ROUND_WORDS_RE.search(sentence):
            attribute = context.topic
        if owner and attribute in (None, "amount", "commitment"):
            facts.append(make("investment", m, owner))
        elif attribute == "commitment":
            facts.append(make(attribute, m, _commitment_party(sentence, m, names, subject)))
        elif attribute in OWN_MEASURES and (label := _line_label(sentence, names, subject)):
            facts.append(replace(make(attribute, m), subject=label))  # "Amazon: about $125 billion of capex"
        elif attribute is not None:
            facts.append(make(attribute, m))
        previous_end = m.end
    for role, name in _investor_roles(sentence, names, subject):
        facts.append(make(role, name, _clean_name(name.text)))
    return facts


def _subject(sentence: str, names: list[Fact], context: DocumentContext) -> str:
    """The company the sentence is about: "X's ..." or "X raised/closed ...", else the document's subject if named
    or if the sentence names no company of its own."""
    if context.subject and re.match(rf"^\W*(?:[\w-]+:\s*\W*)?{re.escape(context.subject)}\s*:", sentence):
        return context.subject  # "Thinking Machines Lab: Mira Murati's $2 billion seed round", a labelled heading
    for m in names:
        after = sentence[m.end : m.end + 40]
        possessive = _possessive(sentence, m)
        if possessive or SUBJECT_VERBS_RE.match(after):
            name = _clean_name(m.text)
            if name:
                return name
    if context.subject and re.search(rf"\b{re.escape(context.subject)}\b", sentence):
        return context.subject
    first_name = names[0].start if names else len(sentence)
    if context.subject and ANAPHORIC_SUBJECT_RE.match(sentence[:first_name]):
        return context.subject  # "the company said it had completed the Series J; Meta Platforms joined ..."
    if LABEL_LINE_RE.match(sentence):
        return context.subject  # "- Thrive Capital: about $1.25 billion" in a brief about one company's round
    # A lone capitalised word opening the sentence may be an ordinary word ("Eligible employees sold ..."): it does
    # not make the sentence about another company.
    own = [m for m in names if _clean_name(m.text) != context.subject and not _sentence_opener(sentence, m)]
    return context.subject if not own or not _mentions_money(sentence) else ""


def _date_after(sentence: str, m: Fact, mentions: tuple[Fact, ...]) -> str:
    """The date written right after a figure ("$380 billion in 2025 and $630-700 billion planned for 2026"): that
    figure's own, whatever date the sentence gives first; "" when none follows within its clause."""
    for other in mentions:
        if other.kind != "date" or other.start < m.end:
            continue
        between = sentence[m.end : other.start]
        if len(between) <= 25 and DATE_AFTER_RE.fullmatch(between):
            return _year_month(other)
        return ""
    return ""


def _compared_date(sentence: str, date: Fact) -> bool:
    """Whether ``date`` names a compared figure's time ("than 2025's", "twice what it spent in 2025", "the 2024
    level"), not the time of the sentence's own figures."""
    return bool(
        COMPARED_DATE_BEFORE_RE.search(sentence[: date.start])  # a cue within 30 characters before it
        or re.match(r"['’]s\b|\s+levels?\b", sentence[date.end :])
    )


def _possessive_date(sentence: str, m: Fact, mentions: tuple[Fact, ...]) -> str:
    """The year a figure is written as the possessive of ("2025's $72.22 billion"): that figure's own date."""
    for other in mentions:
        if (
            other.kind == "date"
            and other.end <= m.start
            and POSSESSIVE_DATE_AFTER_RE.match(sentence[other.end : m.start])
        ):
            return _year_month(other)
    return ""


def _line_label(sentence: str, names: list[Fact], subject: str) -> str:
    """The company a label line opens with ("Amazon: about $125 billion of capex"), when it is not the subject: a
    company's own spending or sales, unlike a round's per-investor lines ("Thrive Capital: $1.25 billion")."""
    if not names or not LABEL_LINE_RE.match(sentence) or sentence[: names[0].start].strip(" -*•·#"):
        return ""
    label = _clean_name(names[0].text)
    rest = sentence[names[0].end :].lstrip("*_ ")
    return label if rest.startswith(":") and label.lower() != subject.lower() else ""


def _valued_label(sentence: str, m: Fact, names: list[Fact], in_value_list: bool = False) -> str:
    """ "How the value splits - SpaceX: about $1 trillion - xAI: about $250 billion": each labelled figure is the
    labelled company's valuation when the sentence (or the heading of its list) speaks of value before it; so is
    each named figure in parentheses after a valuation ("valued at $1.25 trillion (SpaceX about $1 trillion, xAI
    about $250 billion)")."""
    label = next((n for n in reversed(names) if n.end <= m.start), None)
    if label is None:
        return ""
    before, between = sentence[: label.start], sentence[label.end : m.start]
    paren = before.rfind("(")
    in_parentheses = paren > before.rfind(")") and VALUE_WORD_RE.search(before[:paren]) is not None
    if in_parentheses and UNLABELLED_FIGURE_RE.fullmatch(between):
        return _clean_name(label.text)
    if not LABELLED_FIGURE_RE.fullmatch(between):
        return ""
    return _clean_name(label.text) if in_value_list or VALUE_WORD_RE.search(before) else ""


def _named_before_money(sentence: str, names: list[Fact]) -> str:
    """In a lone sentence, the company named first before its first figure ("On 2 October 2024 OpenAI said it had
    raised $6.6 billion"), skipping names that are quoted sources ("citing Bloomberg", "(NDTV Profit)")."""
    money = next((m for m in _mentions(sentence) if m.kind == "money"), None)
    if money is None:
        return ""
    for name in names:
        before = sentence[: name.start]
        quoted = before.count("(") > before.count(")") or ATTRIBUTION_BEFORE_RE.search(before)
        if name.end <= money.start and not quoted and LONE_SUBJECT_VERB_RE.match(sentence[name.end : money.start]):
            return _clean_name(name.text)
    return ""


def _sentence_opener(sentence: str, m: Fact) -> bool:
    """A lone capitalised word opening the sentence ("Eligible employees sold ..."): maybe an ordinary word, so it
    does not make the sentence about another company (it may still be the subject: "Nvidia committed ...")."""
    return not sentence[: m.start].strip(" -*•·") and re.fullmatch(r"[A-Z][a-z]+", m.text) is not None


def _possessive(text: str, m: Fact) -> bool:
    """ "Anthropic's Series F", "xAI's valuation" (the name's span ends before or after its "'s")."""
    after = text[m.end - 2 :] if re.search(r"['’]s$", m.text) else text[m.end :]
    return POSSESSIVE_SUBJECT_RE.match(after) is not None


def _mentions_money(sentence: str) -> bool:
    return any(m.kind == "money" for m in _mentions(sentence))


@lru_cache(maxsize=256)
def _mentions(sentence: str) -> tuple[Fact, ...]:
    """The mentions of one sentence, extracted once: several readings of a sentence (its subject, whether it
    names money, its facts) ask for them, and on a 10-K this extraction is most of the ingest's fact cost."""
    return tuple(extract_facts(sentence))


def _money_attribute(sentence: str, m: Fact, previous_end: int, moneys: list[Fact]) -> Attribute | None:
    """What a figure is, from the nearest cue before it (within its clause), else the words right after it."""
    before = sentence[max(previous_end, m.start - 80) : m.start]
    before = re.split(r"[;:(]|\.\s", before)[-1]
    after = sentence[m.end : m.end + 40]
    if POST_AFTER_RE.match(after):
        return "valuation_post"
    if PRE_AFTER_RE.match(after):
        return "valuation_pre"
    if VALUATION_AFTER_RE.match(after) or (AT_FIGURE_RE.search(before) and m is not moneys[0]):
        return "valuation"
    if DEBT_AFTER_RE.match(after):
        return "debt"  # "raised $5.25 billion of debt financing": borrowed, however it was raised
    best: tuple[int, Attribute] | None = None
    for attribute, cue in VALUE_CUES:
        for hit in cue.finditer(before):
            distance = len(before) - hit.end()
            if best is None or distance < best[0]:
                best = (distance, attribute)
    if best is not None:
        return best[1]
    # After the figure the nearest cue wins: "$40B round, which valued the company at $300B" is a round size.
    following = [(cue_at.start(), attribute) for attribute, cue in VALUE_CUES if (cue_at := cue.search(after[:25]))]
    return min(following, key=lambda item: item[0])[1] if following else None


def _cumulative(sentence: str, m: Fact, previous_end: int) -> bool:
    """A running total ("bringing total funding to $12 billion", "$13 billion to date") rather than one round's or
    one investor's money; a valuation is never one ("a total valuation of")."""
    before = sentence[max(previous_end, m.start - 60) : m.start]
    if VALUE_WORD_RE.search(before) or VALUE_WORD_RE.match(sentence[m.end : m.end + 20].strip()):
        return False
    if OWN_TOTALS_RE.search(before):
        return False
    return bool(CUMULATIVE_BEFORE_RE.search(before) or CUMULATIVE_AFTER_RE.match(sentence[m.end : m.end + 20]))


def _investment_in(sentence: str, m: Fact, names: list[Fact]) -> tuple[str, str] | None:
    """(investor, investee) for "Microsoft agreed to invest $1 billion in OpenAI", else None.

    A gapped list gives each investor its own figure: in "Nvidia committed $10 billion and Microsoft $5 billion to
    Anthropic" the $5 billion is Microsoft's, and both go to Anthropic.
    """
    investor = next(
        (n for n in reversed(names) if n.end <= m.start and INVESTOR_VERB_RE.match(sentence[n.end : m.start])), None
    )
    if investor is None and re.search(rf"\b{INVESTMENT_VERBS}\b", sentence[: m.start], re.I):
        investor = next(
            (
                n
                for n in reversed(names)
                if n.end <= m.start
                and re.fullmatch(r"(?:'s|’s)?\s*(?:about\s+|up\s+to\s+)?", sentence[n.end : m.start])
                and GAPPED_BEFORE_RE.search(sentence[: n.start])
            ),
            None,
        )
    investee = next((n for n in names if n.start >= m.end and INVEST_IN_RE.match(sentence[m.end : n.start])), None)
    if investee is None and investor is not None:
        investee = next(
            (
                n
                for n in names
                if n.start >= m.end
                and re.search(r"\b(?:in|into|to)\s+$", sentence[m.end : n.start])
                and len(re.findall(r"\w+", sentence[m.end : n.start])) <= 10
                and not re.search(r"[;.]\s", sentence[m.end : n.start])
            ),
            None,
        )
    if investor is None or investee is None:
        return None
    return _clean_name(investor.text), _clean_name(investee.text)


def _deal_roles(sentence: str, names: list[Fact]) -> list[tuple[Attribute, Fact, Fact]]:
    """(role, subject, counterparty) for acquisitions, loans and supply deals between two consecutive names.

    "Google bought Wiz" gives (acquirer, Wiz, Google); "xAI borrowed $5 billion from Morgan Stanley" gives
    (lender, xAI, Morgan Stanley); "Nvidia supplies GPUs to OpenAI" gives (supplier, OpenAI, Nvidia).
    """
    found: list[tuple[Attribute, Fact, Fact]] = []
    for i, first in enumerate(names):
        for second in names[i + 1 : i + 4]:
            # "SpaceX, Elon Musk's rocket and satellite company, agreed to acquire xAI": the appositive is skipped.
            between = APPOSITIVE_RE.sub("", sentence[first.end : second.start], count=1)
            if re.search(r"['’]s$", first.text):
                between = "'s" + between
            role = next(((r, reverse) for r, pattern, reverse in DEAL_ROLES if pattern.search(between)), None)
            if role is not None:
                found.append((role[0], first, second) if role[1] else (role[0], second, first))
                break
    return found


def _figure_owner(sentence: str, m: Fact, names: list[Fact], subject: str) -> str:
    """The investor a figure belongs to: "Amazon's $50 billion", "Nvidia committed $30 billion", "$30bn from Nvidia".

    A name in a list ("$110 billion round from Amazon, Nvidia and SoftBank") owns nothing alone.
    """
    for i, name in enumerate(names):
        clean = _clean_name(name.text)
        if not clean or clean == subject or _in_list(sentence, names, i):
            continue
        between = sentence[name.end : m.start]
        if ROUND_AFTER_RE.match(sentence[m.end :]) and re.fullmatch(r"(?:'s|’s)?\s*", between):
            continue  # "Mira Murati's $2 billion seed round": the round she raised, not her money
        if 0 <= m.start - name.end <= 40 and re.fullmatch(
            rf"(?:'s|’s)?\s*[:–-]?\s*(?:\w+\s+)?(?:{INVESTMENT_VERBS}\s+)?{APPROXIMATELY}",
            between,
            re.I,
        ):
            return clean
        after = sentence[m.end : name.start]
        if 0 <= name.start - m.end <= 25 and re.fullmatch(r"\s*(?:\w+\s+)?(?:from|by)\s+", after, re.I):
            return clean
    return ""


def _commitment_party(sentence: str, m: Fact, names: list[Fact], subject: str) -> str:
    """The other side of a commitment: "$300 billion of computing power from Oracle", "$250 billion of Azure
    services", "a $38 billion AWS contract"; "" when the sentence does not say."""
    for name in names:
        clean = _clean_name(name.text)
        if not clean or clean.lower() == subject.lower() or name.start < m.end or name.start - m.end > 80:
            continue
        between = sentence[m.end : name.start]
        if COUNTERPARTY_AFTER_RE.match(between) and not re.search(r"[;.]\s", between):
            return clean
        if not between.strip() and COUNTERPARTY_BEFORE_DEAL_RE.match(sentence[name.end :]):
            return clean
    return ""


def _in_list(sentence: str, names: list[Fact], i: int) -> bool:
    """Whether names[i] is joined to a neighbouring name by a comma, "and" or "&"."""
    joiner = r"\s*(?:,|,?\s+and|&)\s*"
    after = i + 1 < len(names) and re.fullmatch(joiner, sentence[names[i].end : names[i + 1].start])
    before = i > 0 and re.fullmatch(joiner, sentence[names[i - 1].end : names[i].start])
    return bool(after or before)


def _investor_roles(sentence: str, names: list[Fact], subject: str) -> list[tuple[Attribute, Fact]]:
    """Lead and participating investors named in the sentence (never the subject itself)."""
    roles: list[tuple[Attribute, Fact]] = []
    cue = PARTICIPANTS_RE.search(sentence)
    for name in names:
        clean = _clean_name(name.text)
        if not clean or clean == subject:
            continue
        before = sentence[max(0, name.start - 40) : name.start]
        after = sentence[name.end : name.end + 80]
        if LEAD_BEFORE_RE.search(before) or LEAD_AFTER_RE.match(after):
            roles.append(("lead", name))
        elif (cue and cue.end() <= name.start) or PARTICIPATE_AFTER_RE.match(after):
            roles.append(("investor", name))
        elif (
            roles
            and roles[-1][0] == "lead"
            and re.fullmatch(r"\s*(?:,|and|&)\s*", sentence[roles[-1][1].end : name.start])
            and not re.match(r"(?:'s|’s)\s", sentence[name.end - 2 : name.end + 1])
        ):
            roles.append(("lead", name))  # "led by GIC and Coatue", not "led by GIC, Singapore's fund"
    return _spread_over_lists(sentence, names, roles)


def _spread_over_lists(
    sentence: str, names: list[Fact], roles: list[tuple[Attribute, Fact]]
) -> list[tuple[Attribute, Fact]]:
    """ "Khosla, Altimeter and MGX also took part": a role read at one end of a list holds for the whole list."""
    role_of = {id(name): role for role, name in roles}
    changed = True
    while changed:  # until every name of a list has its neighbour's role
        changed = False
        for i in range(len(names) - 1):
            left, right = names[i], names[i + 1]
            if not re.fullmatch(r"\s*(?:,|,?\s+and|&)\s*", sentence[left.end : right.start]):
                continue
            if re.search(r"['’]s$", right.text):
                continue  # "led by GIC, Singapore's sovereign wealth fund": an appositive, not a second name
            if id(right) in role_of and id(left) not in role_of:
                role_of[id(left)] = role_of[id(right)]
                changed = True
            elif id(left) in role_of and id(right) not in role_of:
                role_of[id(right)] = role_of[id(left)]
                changed = True
    return [(role_of[id(name)], name) for name in names if id(name) in role_of]


def _short_name(name: str) -> bool:
    words = _clean_name(name).split()
    return 1 <= len(words) <= 3 and not words[0].lower().endswith("ing")


def _is_company(name: str) -> bool:
    clean = _clean_name(name)
    return bool(clean) and clean.lower() not in NOT_COMPANIES and not re.fullmatch(r"[A-Z]\.?", clean)


def _clean_name(raw: str) -> str:
    """A name without possessive, surrounding markup or a leading "The"."""
    name = re.sub(r"(?:'s|’s)$", "", raw.strip(" *_#:,.()"))
    return re.sub(r"^(?:The|According|As)\s+", "", name)


def _year_month(m: Fact) -> str:
    """A date mention as "YYYY", "YYYY-MM" or "YYYY-MM-DD" (period mentions give their year)."""
    if m.kind != "date" or not m.key or not isinstance(m.key[0], int) or not 1900 <= m.key[0] <= 2100:
        return ""
    parts = [f"{m.key[0]:04d}"]
    for part in m.key[1:3]:
        if not isinstance(part, int):
            break
        parts.append(f"{part:02d}")
    return "-".join(parts)
