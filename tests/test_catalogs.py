"""The message catalogs (lmhelpers/locale/, tools/catalog.py) and the Korean particles (lmhelpers.particles).

Every text the package and the notebooks mark with tr()/N_() has a Korean translation with the same
placeholders, no translation is left whose text is gone, the compiled .mo is the .po's; and a particle
written after a placeholder reads right whatever value fills it.
"""

from __future__ import annotations

import re
import shutil
import string

import catalog
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from lmhelpers.language import message
from lmhelpers.particles import final_consonant, format_korean, particle


def test_the_korean_catalog_is_complete_stale_free_and_compiled():
    assert catalog.problems("ko") == []


@pytest.fixture()
def scratch_locale(tmp_path, monkeypatch):
    """A copy of the catalogs that the checks read instead of the real ones."""
    shutil.copytree(catalog.LOCALE, tmp_path / "lmhelpers" / "locale")
    monkeypatch.setattr(catalog, "LOCALE", tmp_path / "lmhelpers" / "locale")
    path = catalog._po("ko")
    with path.open("rb") as f:
        po = read_po(f, locale="ko")

    def rewrite(change):
        change(po)
        with path.open("wb") as f:
            write_po(f, po, width=110)

    return rewrite


def test_a_missing_stale_or_mismatched_translation_and_an_old_mo_are_caught(scratch_locale):
    template = catalog.extracted()
    before = set(catalog.problems("ko", template))  # empty on a finished tree; compared, not assumed
    new = Catalog()
    for m in template:
        if m.id:
            new.add(m.id, locations=m.locations)
    new.add("a text marked just now", locations=[("lmhelpers/new.py", 1)])
    assert set(catalog.problems("ko", new)) - before == {
        "no ko translation of 'a text marked just now' (lmhelpers/new.py:1)"
    }

    chosen: list[str] = []

    def break_it(po):
        text = next(m.id for m in po if m.id in template and m.string and "{step" in m.id)
        chosen.append(text)
        po[text].string = "자리표시자가 없는 번역"
        po.add("a text nobody marks", "아무도 쓰지 않는 번역")

    scratch_locale(break_it)
    found = set(catalog.problems("ko", template)) - before
    assert {line.split(":")[0] for line in found} == {
        f"ko translation of {chosen[0]!r} has placeholders []".split(":")[0],
        "stale ko entry",
        "lmhelpers/locale/ko/LC_MESSAGES/lmhelpers.mo is out of date",
    }, found
    assert any(
        line.startswith(f"ko translation of {chosen[0]!r} has placeholders [], the text [") for line in found
    )
    assert any("'a text nobody marks'" in line for line in found)


# ------------------------------------------------------------------------------------------------ particles
# How each digit is read at the end of a number: 영 일 이 삼 사 오 육 칠 팔 구.
DIGITS = {
    "0": "은",
    "1": "은",
    "2": "는",
    "3": "은",
    "4": "는",
    "5": "는",
    "6": "은",
    "7": "은",
    "8": "은",
    "9": "는",
}
TO = {
    "0": "으로",
    "1": "로",
    "2": "로",
    "3": "으로",
    "4": "로",
    "5": "로",
    "6": "으로",
    "7": "로",
    "8": "로",
    "9": "로",
}


@pytest.mark.parametrize("digit", sorted(DIGITS))
def test_a_digit_takes_the_particle_of_its_korean_reading(digit):
    assert format_korean("{x}은(는)", x=int(digit)) == f"{digit}{DIGITS[digit]}"
    assert format_korean("{x}(으)로", x=int(digit)) == f"{digit}{TO[digit]}"
    assert format_korean("{x:.3f}(으)로", x=1.75 + int(digit) / 1000) == f"1.75{digit}{TO[digit]}"


@pytest.mark.parametrize(
    ("value", "subject", "object_", "towards"),
    [
        ("모델", "이", "을", "로"),  # 받침 ㄹ takes 로, not 으로
        ("트랜스포머", "가", "를", "로"),  # no 받침
        ("검증 손실", "이", "을", "로"),  # ㄹ
        ("상태", "가", "를", "로"),
        ("창", "이", "을", "으로"),
        ("LSTM", "이", "을", "으로"),  # 엘에스티엠
        ("GRU", "가", "를", "로"),  # 지알유
        ("RNN", "이", "을", "으로"),  # 알엔엔
        ("R", "이", "을", "로"),  # 알: ㄹ
        ("cpu", "가", "를", "로"),  # 씨피유
        ("char", "가", "를", "로"),  # 차
        ("model", "이", "을", "로"),  # 모델
        ("token", "이", "을", "으로"),  # 토큰
        ("gpt2", "가", "를", "로"),  # …투: 2 이
        ("10", "이", "을", "으로"),  # 십
        ("[2, 4]", "가", "를", "로"),  # the bracket is not read
        ("['block_size', 'n_head']", "가", "를", "로"),  # 헤드
        ("`cpu`", "가", "를", "로"),
        ("**1.230**", "이", "을", "으로"),
        ("50%", "가", "를", "로"),  # 퍼센트
    ],
)
def test_a_value_takes_the_particle_of_how_it_is_read(value, subject, object_, towards):
    assert (
        format_korean("{v}이(가) {v}을(를) {v}(으)로", v=value)
        == f"{value}{subject} {value}{object_} {value}{towards}"
    )
    with_final = subject == "이"
    assert format_korean("{v}(이)어야", v=value) == value + ("이어야" if with_final else "여야")
    assert format_korean("{v}과(와)", v=value) == value + ("과" if with_final else "와")


def test_an_unreadable_value_keeps_the_written_form_and_literals_are_left_alone():
    assert final_consonant("") is None and final_consonant("→") is None
    assert format_korean("{v}을(를) 봅니다", v="→") == "→을(를) 봅니다"
    assert particle("(으)로", "서울") == "로" and particle("(으)로", "부산") == "으로"
    assert format_korean("값을(를) {v}", v="LSTM") == "값을(를) LSTM"  # only right after a placeholder
    assert format_korean("{{v}}을(를) {v}", v=1) == "{v}을(를) 1"


PARTICLE_AFTER_FIELD = re.compile(r"\}[`'\"*)\]]*(?:이\(가\)|은\(는\)|을\(를\)|과\(와\)|\(으\)로|\(이\))")
VALUES = [0, 3, 6, 2, 4, 1.75, "cpu", "LSTM", "GRU", "[2, 4]", "트랜스포머", "모델"]
WRITTEN_FORM = re.compile(r"이\(가\)|은\(는\)|을\(를\)|과\(와\)|\(으\)로")
# Wrong pairs: a digit read with a final consonant (영 일 삼 육 칠 팔) before a form for a vowel, and one
# read without (이 사 오 구) before a form for a consonant; 으로 after ㄹ (일 칠 팔).
WRONG = re.compile(r"[013678](?:가|를|는|와|여야)(?![가-힣])|[2459](?:을|은|과|으로|이어야)|[178]으로")


def _ko_templates_with_particles() -> list[tuple[str, str]]:
    with catalog._po("ko").open("rb") as f:
        po = read_po(f, locale="ko")
    return [(m.id, m.string) for m in po if m.id and PARTICLE_AFTER_FIELD.search(m.string)]


def test_every_korean_template_with_a_particle_reads_right_for_every_kind_of_value():
    """The real templates, each placeholder filled with digits, decimals, Latin names, brackets and
    Hangul: no particle is left in its written form, and none after a digit is the wrong one."""
    templates = _ko_templates_with_particles()
    assert len(templates) >= 5
    for english, korean in templates:
        fields = {f for _, f, _, _ in string.Formatter().parse(korean) if f}
        for value in VALUES:
            try:
                text = format_korean(korean, **{f: value for f in fields})
            except (ValueError, TypeError):  # a numeric format spec given a name: numbers only
                if isinstance(value, str):
                    continue
                raise
            assert not WRITTEN_FORM.search(text), (english, value, text)
            if isinstance(value, (int, float)):
                assert not WRONG.search(text), (english, value, text)


def test_the_real_messages_fill_their_particles():
    assert "`cpu`로" in message("recommend_small", "ko", device="CPU", memory=2, name="cpu")
    assert "`LSTM`으로" in message("recommend_small", "ko", device="CPU", memory=2, name="LSTM")


def test_the_korean_catalog_writes_each_term_the_glossarys_way():
    from _glossary import glossary_violations

    with catalog._po("ko").open("rb") as f:
        po = read_po(f, locale="ko")
    assert glossary_violations({f"msgid {m.id[:50]!r}": m.string for m in po if m.id}) == []
