"""The financing fact: who raised, lent, bought or committed what, from whom, when, said where.

One record per (subject, attribute, value, counterparty) stated by one sentence
or table row of one document. Facts carry the character span of their value and
of the sentence they came from in the document's full text, so an answer built
from a fact cites the chunk that holds that span and the UI can highlight it.
They are stored beside the chunks (a Chroma collection), so with a Chroma server
every machine sees the same facts.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rag.verification.facts import Fact

Attribute = Literal[
    "amount",  # money raised in a round, or a deal's size
    "investment",  # one investor's money in the subject (per-entity figure; counterparty = investor)
    "valuation",
    "valuation_pre",
    "valuation_post",
    "commitment",  # a pledge or contract over time (compute, cloud, chips)
    "revenue",
    "capex",
    "debt",
    "investor",  # counterparty invested (no figure)
    "lead",  # counterparty led the round
    "acquirer",  # counterparty bought the subject
    "lender",  # counterparty lent to the subject (the borrower)
    "supplier",  # counterparty supplies the subject (its customer) with chips, compute or services
]
MONEY_ATTRIBUTES = frozenset(
    {"amount", "investment", "valuation", "valuation_pre", "valuation_post", "commitment", "revenue", "capex", "debt"}
)
VALUATIONS = frozenset({"valuation", "valuation_pre", "valuation_post"})


@dataclass(frozen=True)
class FinancingFact:
    """One typed fact with where it was stated.

    ``subject`` is the company the fact is about (the one raising, valued,
    acquired, spending); ``counterparty`` the other party (investor, lead,
    acquirer), "" when none. ``value`` is in units of ``currency`` (1.3e10 for
    "$13 billion"), 0 for facts without a figure. ``date`` is "YYYY", "YYYY-MM"
    or "YYYY-MM-DD" ("" when the text gives none), so dates sort as text.
    ``start``/``end`` locate the value (or the counterparty's name) in the
    document's text; ``sentence_start``/``sentence_end`` the sentence or table row.
    ``purpose`` is what the sentence says the money or compute is for, so "for
    inference" and "for training" are told apart.
    """

    doc_id: str
    path: str
    source: str
    subject: str
    attribute: Attribute
    value: float
    currency: str
    value_text: str
    counterparty: str
    round: str
    date: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    sentence: str
    purpose: str = ""  # "training" or "inference" when the sentence says what the money or compute is for

    @property
    def id(self) -> str:
        """Stable across re-ingests of the same content, so writing a fact twice is idempotent."""
        key = f"{self.doc_id}|{self.attribute}|{self.subject}|{self.counterparty}|{self.start}|{self.end}"
        return "fact-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]

    @property
    def has_value(self) -> bool:
        return self.attribute in MONEY_ATTRIBUTES

    def to_metadata(self) -> dict[str, str | int | float]:
        """Flat metadata for Chroma (no nested values, no None)."""
        data = asdict(self)
        data.pop("sentence")
        return data

    @classmethod
    def from_record(cls, sentence: str, meta: dict[str, Any]) -> FinancingFact:
        return cls(
            doc_id=str(meta["doc_id"]),
            path=str(meta["path"]),
            source=str(meta["source"]),
            subject=str(meta["subject"]),
            attribute=meta["attribute"],
            value=float(meta["value"]),
            currency=str(meta["currency"]),
            value_text=str(meta["value_text"]),
            counterparty=str(meta["counterparty"]),
            round=str(meta["round"]),
            date=str(meta["date"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            sentence_start=int(meta["sentence_start"]),
            sentence_end=int(meta["sentence_end"]),
            sentence=sentence,
            purpose=str(meta.get("purpose", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``rag facts --json``."""
        return {"id": self.id, **asdict(self)}


@dataclass(frozen=True)
class Statement:
    """Where facts are stated: a document, and the sentence or table row's span and text in it."""

    doc_id: str
    path: str
    source: str
    start: int
    end: int
    text: str

    def fact(
        self,
        subject: str,
        attribute: Attribute,
        mention: Fact,
        offset: int,
        counterparty: str = "",
        round_label: str = "",
        date: str = "",
        purpose: str = "",
    ) -> FinancingFact:
        """The fact ``mention`` states (a figure, or the counterparty's name); ``offset`` places the mention's
        span, relative to the text it was found in, in the document."""
        money = mention.kind == "money"
        return FinancingFact(
            doc_id=self.doc_id,
            path=self.path,
            source=self.source,
            subject=subject,
            attribute=attribute,
            value=float(mention.key[1]) if money else 0.0,  # type: ignore[arg-type]
            currency=str(mention.key[0]) if money else "",
            value_text=mention.text if money else "",
            counterparty=counterparty,
            round=round_label,
            date=date,
            start=offset + mention.start,
            end=offset + mention.end,
            sentence_start=self.start,
            sentence_end=self.end,
            sentence=" ".join(self.text.split()),
            purpose=purpose,
        )
