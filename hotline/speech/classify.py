"""What a caller's words are about: weighted keyword rules per language give a work-order category
and the skills a seat needs (pure: no I/O but reading the rules text it is given).

Each category scores the summed weights of its distinct keywords found in the text. The best
category wins only if it scores at least `min_score`, holds at least `min_share` of all the
evidence and is not tied; otherwise the category is None and the IVR asks for keys instead.

Chinese is segmented with jieba and a keyword only counts where it starts or ends on a word
boundary: "工资" must not be found in "加工资料" (加工 / 资料). Korean and English are split
into words; with `match: prefix` a keyword also matches words it starts ("월급" in "월급을").
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from backoffice.domain.deadlines import Category
from hotline.speech.errors import RulesInvalid

RULES_DIR = Path(__file__).with_name("rules")
DEFAULT_RULES = RULES_DIR / "default.yaml"

Skill = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]

_WORD = re.compile(r"\w+")
_SPACE_BETWEEN_HAN = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_UNKNOWN = "[unk]"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRules(_Strict):
    skills: tuple[Skill, ...] = ()
    keywords: dict[Keyword, Annotated[float, Field(gt=0, le=100)]] = {}


class LanguageRules(_Strict):
    tokenizer: Literal["jieba", "words"] = "words"
    match: Literal["whole", "prefix"] = "whole"
    min_score: float = Field(default=2.0, gt=0)
    min_share: float = Field(default=0.5, gt=0, le=1)
    categories: dict[Category, CategoryRules]


class RuleBook(_Strict):
    version: Literal[1]
    languages: dict[Language, LanguageRules]

    def for_language(self, language: str) -> LanguageRules:
        try:
            return self.languages[language]
        except KeyError:
            known = ", ".join(sorted(self.languages))
            raise RulesInvalid(
                f"no classification rules for language {language!r} (rules for: {known})"
            ) from None


@dataclass(frozen=True)
class Classification:
    """The category (None: not sure enough), its skills, how sure, and the keywords behind it.

    `matched` holds the winning category's keywords, or every keyword found when none won.
    """

    category: Category | None
    skills: tuple[str, ...]
    confidence: float
    matched: list[str]


def load_rules(text: str, source: str = "rules") -> RuleBook:
    """Parse and validate rules YAML; RulesInvalid names the file and the rule at fault."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesInvalid(f"{source}: not valid YAML{where}") from None
    try:
        return RuleBook.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        rule = ".".join(str(p) for p in first["loc"]) or "the file"
        raise RulesInvalid(f"{source}: {rule}: {first['msg']}") from None


def load_rules_file(path: Path | None = None) -> RuleBook:
    """The rules in `path`, or the shipped defaults."""
    chosen = path or DEFAULT_RULES
    try:
        text = chosen.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesInvalid(f"can't read classification rules {chosen}: {exc}") from None
    return load_rules(text, source=str(chosen))


def classify(text: str, rules: LanguageRules) -> Classification:
    """The category of what the caller said, by the rules of the caller's language."""
    found = _found_keywords(normalize(text, rules), rules)
    weights = {cat: rules.categories[cat].keywords for cat in found}
    scores = {cat: sum(weights[cat][k] for k in kws) for cat, kws in found.items()}
    everything = [k for kws in found.values() for k in kws]
    ranked = sorted(scores.values(), reverse=True)
    if not ranked or ranked[0] < rules.min_score or ranked[1:2] == ranked[:1]:
        return Classification(None, (), 0.0, everything)
    best = max(scores, key=lambda c: scores[c])
    share = ranked[0] / sum(ranked)
    if share < rules.min_share:
        return Classification(None, (), 0.0, everything)
    # Share of the evidence, damped while the evidence itself is thin.
    confidence = share * ranked[0] / (ranked[0] + rules.min_score)
    return Classification(best, rules.categories[best].skills, round(confidence, 3), found[best])


def normalize(text: str, rules: LanguageRules) -> str:
    """Full-width forms folded, lower case, no [unk]; for Chinese, no spaces between Han."""
    folded = unicodedata.normalize("NFKC", text).lower().replace(_UNKNOWN, " ")
    if rules.tokenizer == "jieba":
        # Recognisers put spaces between Chinese words; jieba wants the running text.
        folded = _SPACE_BETWEEN_HAN.sub("", folded)
    return folded


def _found_keywords(text: str, rules: LanguageRules) -> dict[Category, list[str]]:
    """Each category's keywords found in the text, leaving out a keyword found only inside a
    longer one ("工资" in "拖欠工资"): the same words must not count as evidence twice."""
    matcher: _JiebaMatcher | _WordMatcher
    if rules.tokenizer == "jieba":
        matcher = _JiebaMatcher(text)
    else:
        matcher = _WordMatcher(text, prefix=rules.match == "prefix")
    hits = [
        (category, keyword, span)
        for category, cat_rules in rules.categories.items()
        for keyword in cat_rules.keywords
        for span in matcher.spans(_folded(keyword))
    ]
    spans = {span for _, _, span in hits}
    found: dict[Category, list[str]] = {}
    for category, keyword, span in hits:
        nested = any(_inside(span, other) for other in spans)
        if not nested and keyword not in found.setdefault(category, []):
            found[category].append(keyword)
    return {category: keywords for category, keywords in found.items() if keywords}


Span = tuple[int, int]


def _inside(span: Span, other: Span) -> bool:
    return span != other and other[0] <= span[0] and span[1] <= other[1]


def _folded(keyword: str) -> str:
    return unicodedata.normalize("NFKC", keyword).lower()


class _JiebaMatcher:
    """Where a keyword occurs in one Chinese text, on word boundaries."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bounds = {0}
        end = 0
        for token in jieba_tokenizer().lcut(text):
            end += len(token)
            self.bounds.add(end)

    def spans(self, keyword: str) -> list[Span]:
        found: list[Span] = []
        start = self.text.find(keyword)
        while start != -1:
            if self._aligned(start, start + len(keyword)):
                found.append((start, start + len(keyword)))
            start = self.text.find(keyword, start + 1)
        return found

    def _aligned(self, start: int, end: int) -> bool:
        # One end on a word boundary is enough: jieba sometimes glues a keyword's last
        # character to the next word (五险 / 一金断 / 缴), while a keyword that is only
        # characters out of the middle of other words (加工 / 资料) has neither end on one.
        return start in self.bounds or end in self.bounds


class _WordMatcher:
    """Where a keyword's words occur in a row in one text, whole or as word beginnings."""

    def __init__(self, text: str, prefix: bool) -> None:
        self.words = [(m.start(), m.group()) for m in _WORD.finditer(text)]
        self.prefix = prefix

    def spans(self, keyword: str) -> list[Span]:
        wanted = _WORD.findall(keyword)
        if not wanted:
            return []
        last = len(self.words) - len(wanted) + 1
        return [self._span(i, wanted) for i in range(max(last, 0)) if self._at(i, wanted)]

    def _at(self, i: int, wanted: list[str]) -> bool:
        pairs = zip((w for _, w in self.words[i : i + len(wanted)]), wanted, strict=True)
        if self.prefix:
            return all(word.startswith(w) for word, w in pairs)
        return all(word == w for word, w in pairs)

    def _span(self, i: int, wanted: list[str]) -> Span:
        # Up to the end of what the keyword covers, so "임금" sits inside "임금체불" even where
        # both match the same written word "임금체불을".
        return self.words[i][0], self.words[i + len(wanted) - 1][0] + len(wanted[-1])


_jieba_lock = threading.Lock()
_jieba: Any = None


def jieba_tokenizer() -> Any:
    """jieba's tokenizer with its dictionary loaded (about a second), once per process."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # it logs the dictionary load at DEBUG to stderr
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _jieba = tokenizer
        return _jieba
