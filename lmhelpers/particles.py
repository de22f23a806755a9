"""Korean particles after a filled-in value: "{loss}(으)로" becomes "1.750으로" or "2.1로", "{name}을(를)"
becomes "LSTM을" or "GRU를".

A Korean particle depends on how the word before it is read: 이/가, 은/는, 을/를, 과/와 on whether its last
syllable ends in a consonant (받침), 으로/로 also on whether that consonant is ㄹ. A catalog's Korean template
writes the particle the way Korean forms do, "이(가)", "(으)로", "(이)라는", right after a placeholder, and
:func:`format_korean` picks the form that fits the value filled in: Hangul by its final consonant, digits as
read in Sino-Korean (0 영, 1 일, 3 삼, 6 육, 7 칠, 8 팔 end in a consonant; a trailing 0 of a longer number
is read 십/백/천/만, which do too), Latin letters as an English word or a spelled-out name (LSTM 엘에스티엠).
An English word is read by its last letter: l, m, n and ng end in a consonant (모델, 토큰), the others in a
vowel (레이어, 코드). Words such as "lock" (락) or "step" (스텝) break that rule, so a template should not put
a particle after a file name or a free English word.
"""

from __future__ import annotations

import re
import string
from typing import Any

# (with a final consonant, without): written "A(B)" after a placeholder.
_PAIRS = {"이(가)": ("이", "가"), "은(는)": ("은", "는"), "을(를)": ("을", "를"), "과(와)": ("과", "와")}
# A form right after a placeholder, or after the closing marks around it: "`{name}`(으)로", "**{x}**이(가)".
_FORMS = re.compile(r"([`'\"*)\]]*)(이\(가\)|은\(는\)|을\(를\)|과\(와\)|\(으\)로|\(이\))")

_RIEUL = 8  # index of ㄹ among the final consonants of a Hangul syllable
# How each digit is read at the end of a number: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINAL = {
    "0": "ㅇ",
    "1": "ㄹ",
    "2": "",
    "3": "ㅁ",
    "4": "",
    "5": "",
    "6": "ㄱ",
    "7": "ㄹ",
    "8": "ㄹ",
    "9": "",
}
# Letter names that end in a consonant: 엘, 엠, 엔, 알.
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
# Closing marks read as nothing: the particle follows what they enclose.
_SILENT = " \t\n`'\"*_)]}>»」』’”.,"


def final_consonant(text: str) -> str | None:
    """How ``text`` ends when read aloud in Korean: "" for a vowel, "ㄹ" for ㄹ, another marker for any
    other final consonant, None when it cannot tell (empty, or a script it does not read)."""
    text = str(text).rstrip(_SILENT)
    if not text:
        return None
    last = text[-1]
    if "가" <= last <= "힣":
        index = (ord(last) - ord("가")) % 28
        return "" if index == 0 else ("ㄹ" if index == _RIEUL else "ㅇ")
    if last.isdigit() and last.isascii():
        digits = re.search(r"\d+$", text).group()
        if last == "0" and len(digits) > 1 and digits.strip("0"):
            return "ㅂ"  # 십, 백, 천, 만: all end in a consonant other than ㄹ
        return _DIGIT_FINAL[last]
    if last.isascii() and last.isalpha():
        word = re.search(r"[A-Za-z]+$", text).group()
        if len(word) == 1 or word.isupper():  # a spelled-out name: GRU 지알유, LSTM 엘에스티엠
            return _LETTER_FINAL.get(word[-1].lower(), "")
        if word.lower().endswith("ng"):
            return "ㅇ"
        return {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ"}.get(
            word[-1].lower(), ""
        )  # model 모델, token 토큰, layer 레이어
    if last == "%":
        return ""  # 퍼센트
    return None


def particle(form: str, before: str) -> str:
    """The particle ``form`` ("이(가)", "(으)로", "(이)", …) as it reads after ``before``; the form as
    written when ``before`` cannot be read."""
    final = final_consonant(before)
    if final is None:
        return form
    if form == "(으)로":
        return "로" if final in ("", "ㄹ") else "으로"
    if form == "(이)":
        return "이" if final else ""
    with_final, without = _PAIRS[form]
    return with_final if final else without


# 이다 after a vowel contracts: "[2, 4]여야", "GRU예요", not "4어야".
_CONTRACTED = {"어": "여", "었": "였", "에": "예"}


def _fitted(form: str, before: str, rest: str) -> str:
    chosen = particle(form, before)
    if form == "(이)" and chosen == "" and rest[:1] in _CONTRACTED:
        return _CONTRACTED[rest[0]] + rest[1:]
    return chosen + rest


class _KoreanFormatter(string.Formatter):
    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:  # type: ignore[override]
        out: list[str] = []
        previous: str | None = None  # the text of the field just filled in, if the literal follows one
        for literal, field, spec, conversion in self.parse(format_string):
            if previous is not None and literal:
                match = _FORMS.match(literal)
                if match:
                    literal = match.group(1) + _fitted(match.group(2), previous, literal[match.end() :])
            out.append(literal)
            previous = None
            if field is None:
                continue
            value, _ = self.get_field(field, args, kwargs)
            value = self.convert_field(value, conversion)
            spec = self.vformat(spec, args, kwargs) if spec and "{" in spec else spec
            previous = self.format_field(value, spec or "")
            out.append(previous)
        return "".join(out)


_FORMATTER = _KoreanFormatter()


def format_korean(template: str, **values: Any) -> str:
    """``template.format(**values)``, with each particle written right after a placeholder fitted to the
    value filled in."""
    return _FORMATTER.vformat(template, (), values)
