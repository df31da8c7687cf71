"""The synthetic corpus: deterministic financing-news articles and questions about them.

Every article comes from templates and an RNG seeded by its index, so file ``i`` is the same in
every corpus size and on every machine, and the benchmark's sizes are comparable run to run.
"""

from __future__ import annotations

import math
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS_VERSION = "bench-corpus-v1"
PARAGRAPHS_PER_FILE = 13  # about 10 chunks of 200 word pieces per file
CHUNKS_PER_FILE = 10

_SYL_A = ("Aur", "Bel", "Cor", "Dax", "Ely", "Fen", "Gal", "Hex", "Ion", "Jar", "Kel", "Lum", "Mor",
          "Nyx", "Orb", "Pax", "Quor", "Ryn", "Sol", "Tal", "Ulm", "Vex", "Wyl", "Xen", "Yor", "Zep")  # fmt: skip
_SYL_B = ("ora", "ent", "ix", "ium", "ara", "eon", "ic", "os", "ant", "ova", "ith", "un")
_KINDS = ("Labs", "AI", "Systems", "Robotics", "Compute", "Networks", "Dynamics", "Bio", "Cloud", "Energy")
_FUND_A = ("North", "Blue", "Granite", "Summit", "Harbor", "Iron", "Silver", "Cedar", "Atlas", "Beacon",
           "Crescent", "Delta", "Evergreen", "Falcon", "Horizon", "Keystone", "Lighthouse", "Meridian")  # fmt: skip
_FUND_B = ("gate", "stone", "ridge", "field", "brook", "wood", "point", "line", "peak", "bridge")
_FUND_KIND = ("Capital", "Partners", "Ventures", "Growth", "Holdings", "Investments", "Fund")
_FIRST = ("Ada", "Ben", "Chen", "Dara", "Eli", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena", "Mateo",
          "Nia", "Omar", "Priya", "Rafael", "Sara", "Tomas", "Uma", "Viktor", "Wen", "Yara", "Zane")  # fmt: skip
_LAST = ("Abara", "Brandt", "Castillo", "Dubois", "Eriksen", "Fujita", "Garcia", "Haddad", "Ivanova",
         "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
         "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zhou")  # fmt: skip
_CITIES = ("Austin", "Dublin", "Singapore", "Toronto", "Paris", "Berlin", "Seoul", "Nairobi", "Phoenix",
           "Oslo", "Madrid", "Sydney", "Denver", "Lisbon", "Osaka", "Warsaw")  # fmt: skip
_ROUNDS = ("seed", "Series A", "Series B", "Series C", "Series D", "Series E", "Series F", "Series G")
_CHIPS = ("GPUs", "accelerators", "custom ASICs", "TPUs", "inference chips")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_SENTENCES = (
    "{co} raised ${amt} billion in a {round} round led by {lead}, valuing the company at ${val} billion.",
    "{inv} and {inv2} also participated in the round, according to a filing dated {month} {day}, {year}.",
    "The company said the new capital would fund {chips} and a {gw}-gigawatt data center campus near {city}.",
    "{person}, the chief financial officer of {co}, told investors that revenue reached ${rev} million in {year}.",
    "Annualized revenue grew {pct} percent from the previous quarter, driven by enterprise contracts.",
    "{lead} committed ${amt2} billion in tranches tied to milestones over {years} years.",
    "Under the agreement, {co} will buy {chips} from {partner} worth up to ${amt2} billion.",
    "{partner} received warrants for up to {shares} million shares at an exercise price of ${price} each.",
    "The round brought total funding for {co} to ${total} billion since it was founded in {founded}.",
    "{co} employs about {staff} people across offices in {city} and {city2}.",
    "Analysts at {inv} estimated the deal at {mult} times forward revenue.",
    "A {debt} billion dollar credit facility arranged by {bank} Bank refinanced earlier loans.",
    "The board of {co} approved a tender offer letting employees sell shares at ${price} per share.",
    "{person2} joined the board as an independent director after the {round} closed.",
    "Regulators in {city2} reviewed the transaction and cleared it without conditions in {month}.",
    "{co} plans to deploy {units} thousand {chips} by the end of {year2}.",
    "The valuation was {pct2} percent above the price of the previous round in {prev_year}.",
    "{inv} declined to comment on the size of its stake, which sources put at {stake} percent.",
    "Compute spending is expected to exceed ${spend} billion over the next {years} years.",
    "The company said the {round} was oversubscribed, with {n_inv} investors taking part.",
    "Earlier in {prev_year}, {co} signed a ${amt2} billion cloud contract with {partner}.",
    "Shares of {partner} rose {pct} percent after the announcement in {month}.",
)
_QUESTIONS = (
    "Who led {co}'s {round} round?",
    "How much did {co} raise in its {round}, and at what valuation?",
    "Which chips will {co} buy from {partner}?",
    "What did {lead} commit to {co}?",
    "How many people does {co} employ?",
    "Which investors participated in the {co} financing?",
)


def _company(rng: random.Random) -> str:
    return f"{rng.choice(_SYL_A)}{rng.choice(_SYL_B)} {rng.choice(_KINDS)}"


def _fund(rng: random.Random) -> str:
    return f"{rng.choice(_FUND_A)}{rng.choice(_FUND_B)} {rng.choice(_FUND_KIND)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _sentence_values(rng: random.Random, facts: dict[str, str], year: int) -> dict[str, Any]:
    return {
        **facts, "inv": _fund(rng), "inv2": _fund(rng), "month": rng.choice(_MONTHS),
        "day": rng.randint(1, 28), "year": year, "year2": year + rng.randint(1, 3),
        "prev_year": year - rng.randint(1, 3), "chips": rng.choice(_CHIPS), "gw": rng.randint(1, 10),
        "city": rng.choice(_CITIES), "city2": rng.choice(_CITIES), "person": _person(rng),
        "person2": _person(rng), "rev": rng.randint(20, 9000), "pct": rng.randint(3, 180),
        "pct2": rng.randint(5, 300), "amt2": f"{rng.randint(1, 120) / 4:g}", "years": rng.randint(2, 10),
        "shares": rng.randint(5, 400), "price": f"{rng.randint(100, 20000) / 100:.2f}",
        "total": rng.randint(2, 90), "founded": rng.randint(2010, year), "staff": rng.randint(40, 9000),
        "mult": rng.randint(8, 90), "debt": rng.randint(1, 30), "bank": rng.choice(_FUND_A),
        "units": rng.randint(10, 900), "stake": rng.randint(1, 30), "spend": rng.randint(5, 500),
        "n_inv": rng.randint(3, 120),
    }  # fmt: skip


def article_facts(index: int, seed: int = 7) -> tuple[random.Random, dict[str, str], int]:
    """Article ``index``'s RNG, its fixed facts (company, lead investor, round...) and its year: the
    article and the questions about it are both drawn from these, so every question has its answer."""
    rng = random.Random(f"{seed}:{index}")
    facts = {
        "co": _company(rng), "lead": _fund(rng), "round": rng.choice(_ROUNDS),
        "amt": f"{rng.randint(1, 40) / 4:g}", "val": str(rng.randint(5, 400)), "partner": _company(rng),
    }  # fmt: skip
    return rng, facts, rng.randint(2019, 2026)


def paragraph(rng: random.Random, facts: dict[str, str], year: int, low: int = 4, high: int = 7) -> str:
    """``low`` to ``high`` template sentences about ``facts``, each with fresh incidental details."""
    templates = rng.sample(_SENTENCES, rng.randint(low, high))
    return " ".join(t.format(**_sentence_values(rng, facts, year)) for t in templates)


def synthetic_article(index: int, paragraphs: int = PARAGRAPHS_PER_FILE, seed: int = 7) -> str:
    """One deterministic financing-news article: title line, dateline, paragraphs."""
    rng, facts, year = article_facts(index, seed)
    title = f"{facts['co']} raises ${facts['amt']} billion {facts['round']} led by {facts['lead']}"
    lines = [title, "", f"As of {year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}.", ""]
    for _ in range(paragraphs):
        lines += [paragraph(rng, facts, year), ""]
    return "\n".join(lines)


def questions_for(n_files: int, count: int, seed: int = 7) -> list[str]:
    """``count`` distinct questions about articles spread over the first ``n_files``."""
    out: list[str] = []
    step = max(1, n_files // max(1, count))
    for k in range(count):
        index = (k * step + k // max(1, n_files)) % n_files
        _, facts, _ = article_facts(index, seed)
        out.append(_QUESTIONS[k % len(_QUESTIONS)].format(**facts))
    return out


def corpus_files(n_chunks: int) -> int:
    """How many articles make about ``n_chunks`` chunks."""
    return max(1, math.ceil(n_chunks / CHUNKS_PER_FILE))


def build_once(folder: Path, version: str, fill: Callable[[Path], None]) -> Path:
    """``folder``, filled by ``fill`` the first time and reused while it says it was made by ``version``.

    ``fill`` writes into a staging folder renamed into place at the end, so a run killed halfway
    leaves nothing a later run would mistake for a complete folder."""
    marker = folder / ".complete"
    if marker.is_file() and marker.read_text() == version:
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    fill(staging)
    (staging / ".complete").write_text(version)
    staging.rename(folder)
    return folder


def ensure_corpus(cache: Path, n_files: int) -> Path:
    """``cache/corpus-<n>f``: ``n_files`` articles (file i is the same in every corpus), made once."""

    def write_articles(folder: Path) -> None:
        for i in range(n_files):
            (folder / f"doc-{i:05d}.txt").write_text(synthetic_article(i), encoding="utf-8")

    return build_once(cache / f"corpus-{n_files}f", CORPUS_VERSION, write_articles)
