"""Written-out arithmetic evaluated as a reader reads it: precedence, parentheses and powers.

A computed claim shows its arithmetic ("(11512 + 2763) / 86392 × 100 = 16.52"); the checker
redoes it (:mod:`rag.verification.computed`). Operators are + - − × * / ^ with the usual
precedence (^ binds tightest and to the right), so "(a − b) / b × 100" means what it says.
Besides the value, the evaluator reports each operand and whether it is a *count*: a bare
number right after "/" (an average's "/ 2") or anywhere in an exponent (a compound rate's
"^ (1 / 2)"). A count is how many values were averaged or years compounded, which no
source prints; every other operand must be a figure a cited source states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[-+−×*/^()]")
_MINUS = ("-", "−")


@dataclass(frozen=True)
class Operand:
    value: float
    count: bool  # a divisor or exponent written as a bare number: a count, not a figure


class MalformedArithmetic(ValueError):
    """The text is not well-formed arithmetic (or divides by zero)."""


def evaluate(expression: str) -> tuple[float, list[Operand]]:
    """The value of ``expression`` and its operands in order; raises :class:`MalformedArithmetic` when malformed."""
    tokens = TOKEN_RE.findall(expression)
    if "".join(tokens) != re.sub(r"\s+", "", expression):
        raise MalformedArithmetic(f"not arithmetic: {expression!r}")
    parser = _Parser(tokens)
    value = parser.expression(count=False)
    if parser.position != len(tokens):
        raise MalformedArithmetic(f"unexpected {tokens[parser.position]!r}")
    return value, parser.operands


class _Parser:
    """Recursive descent over the tokens: expression := term (± term)*, term := power (×/ power)*,
    power := atom (^ power)?, atom := number | ( expression )."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.operands: list[Operand] = []

    def peek(self) -> str:
        return self.tokens[self.position] if self.position < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        if not token:
            raise MalformedArithmetic("the arithmetic ends too early")
        self.position += 1
        return token

    def expression(self, count: bool) -> float:
        value = self.term(count)
        while self.peek() in ("+", *_MINUS):
            operator = self.take()
            right = self.term(count)
            value = value + right if operator == "+" else value - right
        return value

    def term(self, count: bool) -> float:
        value = self.power(count, bare_count=False)
        while self.peek() in ("×", "*", "/"):
            operator = self.take()
            right = self.power(count, bare_count=operator == "/")
            if operator == "/":
                if right == 0:
                    raise MalformedArithmetic("division by zero")
                value /= right
            else:
                value *= right
        return value

    def power(self, count: bool, bare_count: bool) -> float:
        base = self.atom(count, bare_count)
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.power(count=True, bare_count=True)
        if base < 0:
            raise MalformedArithmetic("a negative base under a power")
        return float(base**exponent)

    def atom(self, count: bool, bare_count: bool) -> float:
        token = self.take()
        if token == "(":
            value = self.expression(count)
            if self.take() != ")":
                raise MalformedArithmetic("unbalanced parentheses")
            return value
        if not token[0].isdigit():
            raise MalformedArithmetic(f"unexpected {token!r}")
        value = float(token)
        self.operands.append(Operand(value, count or bare_count))
        return value
