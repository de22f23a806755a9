"""한국어 읽기 문장: the Korean sentences of the written readings, the counterpart of :mod:`lmhelpers.sentences`.

Each entry takes the same arguments as its English one in :data:`lmhelpers.sentences.SENTENCES` and says
what the figures mean for a Korean learner in natural Korean (not a rendering of the English sentence).
No Korean particle follows a run's or a model's name, which may end in a letter or a digit.
"""

from __future__ import annotations


def _pairs(items, fmt: str, sep: str = ", ") -> str:
    return sep.join(fmt.format(*item) for item in items)


_VERDICT = {
    "supports": "이번 실행은 이 예상을 뒷받침합니다",
    "contradicts": "이번 실행은 이 예상과 어긋납니다",
    "mixed": "이번 실행의 결과는 엇갈립니다",
    "within_noise": "이번 실행만으로는 두 모델의 차이를 잡음(noise)과 구별할 수 없습니다",
    "cannot_tell": "이번 실행만으로는 판단할 수 없습니다",
}


def noise_ko(noise_sd: float, noise_basis: str) -> str:
    """차이가 넘어야 하는 허용 범위와 그 잡음의 출처."""
    margin = f"±{2 * noise_sd:.3f}"
    return {
        "preset": f"{margin}(이 프리셋에서 시드(seed)에 따라 달라지는 폭의 표준편차 두 배, 해당하는 경우 평가 오차 포함)",
        "seeds": f"{margin}(여러 시드의 흩어짐에서 구한 표준오차의 두 배)",
        "evaluation": f"{margin}(평가 오차만 반영한 값: 이 프리셋은 시드별 편차를 잰 적이 없어서 실제 잡음은 더 큽니다)",
        "threshold": f"{margin}(이 프리셋은 시드별 편차를 잰 적이 없어서 고정된 기준을 씁니다)",
    }[noise_basis]


def _ahead(winner) -> str:
    return f"{winner} 쪽이 앞섭니다" if winner else "차이가 잡음 범위 안에 있습니다"


def _guide_better(
    rnn,
    gpt,
    rnn_bpc,
    gpt_bpc,
    noise_sd,
    noise_basis,
    curve_noise_sd,
    same_steps,
    params_ratio,
    time,
    flops,
    steps_winner,
    verdict,
):
    head = f'원래 가이드는 "Transformer가 대체로 더 좋다"고 예상했습니다. {_VERDICT[verdict]}.'
    if rnn_bpc is None or gpt_bpc is None or not same_steps:
        return head + " 두 실행의 학습 스텝 수가 달라서 점수를 그대로 비교할 수 없습니다."
    text = (
        f" 같은 스텝에서 검증 텍스트 전체로 잰 글자당 비트 수: {gpt} {gpt_bpc:.3f}, {rnn} {rnn_bpc:.3f}. "
        f"차이 {abs(rnn_bpc - gpt_bpc):.3f}, 허용 범위 {noise_ko(noise_sd, noise_basis)}. "
        f"따라서 {_ahead(steps_winner)}."
    )
    if time["at"] is not None:
        text += (
            f" 같은 학습 시간({time['at']:.3g}초, 그림의 가로축과 같은 시계)에서 곡선의 값: {gpt} {time['gpt']:.3f}, "
            f"{rnn} {time['rnn']:.3f}. {_ahead(time['winner'])}."
        )
    if flops["at"] is not None:
        text += (
            f" 같은 학습 연산량({flops['at']:.3g} FLOPs)에서: {gpt} {flops['gpt']:.3f}, {rnn} {flops['rnn']:.3f}. "
            f"{_ahead(flops['winner'])}."
        )
    if time["at"] is not None or flops["at"] is not None:
        text += f" 곡선 비교의 허용 범위는 ±{2 * curve_noise_sd:.3f}입니다."
    if 0.8 <= params_ratio <= 1.25:
        return (
            head
            + text
            + f" 두 모델의 크기가 비슷해서({params_ratio:.2f}배) 파라미터 수가 거의 같은 조건의 비교이기도 합니다."
        )
    return (
        head
        + text
        + (
            f" 다만 {gpt}의 파라미터 수가 {rnn}의 {params_ratio:.1f}배라서, 크기가 같을 때도 그런지는 이번 실행으로는 "
            "알 수 없습니다(sweeps/sizes.yaml로 크기를 바꿔 비교해 볼 수 있습니다)."
        )
    )


def _guide_converges(rnn, gpt, early, noise_sd, noise_basis, mean_gap, verdict):
    head = f'원래 가이드는 "RNN이 더 빨리 수렴할 수도 있다"고 예상했습니다. {_VERDICT[verdict]}.'
    if not early:
        return head + " 비교할 초기 평가가 없습니다(max_iters를 늘리거나 eval_interval을 줄이세요)."
    return (
        head
        + f" 학습의 처음 3분의 1 구간에서 검증 글자당 비트 수({rnn} / {gpt}): "
        + _pairs(early, "{0:,} 스텝 {1:.3f} / {2:.3f}")
        + f". 이 구간에서 {rnn} 값에서 {gpt} 값을 뺀 평균: {mean_gap:+.3f}, 허용 범위 "
        + noise_ko(noise_sd, noise_basis)
        + "."
    )


def _guide_longer(rnn, gpt, noise_sd, noise_basis, verdict, start_gap, end_gap, n=0):
    head = f'원래 가이드는 "시퀀스가 길수록 Transformer의 이점이 커진다"고 예상했습니다. {_VERDICT[verdict]}.'
    if start_gap is None:
        return head + " 판단하려면 두 모델의 검증 텍스트 전체에 대한 문맥 길이별 손실이 필요합니다."
    return head + (
        f" 검증 텍스트 전체에서 {rnn} 손실에서 {gpt} 손실을 뺀 값(토큰당 nats): {n}토큰 문맥 창의 앞쪽 4분의 1에서 "
        f"{start_gap:+.3f}, 뒤쪽 4분의 1에서 {end_gap:+.3f}. 변화량 {end_gap - start_gap:+.3f}, 허용 범위 "
        f"{noise_ko(noise_sd, noise_basis)}. 문맥 길이 스윕(sweeps/context.yaml)은 같은 질문을 본 토큰 수를 맞춘 "
        "채 여러 문맥 길이에서 확인합니다."
    )


def _carried_context(name, carried_bpc, reset_bpc, gain, noise_sd, reset_every, verdict):
    what = {
        "helps": f"상태를 이어 가면 {name} 모델은 글자당 {gain:.3f} 비트를 아낍니다",
        "hurts": f"상태를 이어 가면 {name} 모델은 오히려 글자당 {-gain:.3f} 비트를 더 씁니다",
        "within_noise": f"상태를 이어 가도 {name} 모델의 점수 변화는 잡음보다 작습니다",
    }[verdict]
    return (
        f"문맥 창 너머의 문맥: 검증 텍스트 전체에 걸쳐 은닉 상태(hidden state)를 이어 가면 {name} 모델의 글자당 비트 "
        f"수는 {carried_bpc:.3f}, {reset_every}토큰마다 상태를 초기화하면 {reset_bpc:.3f}입니다. {what}"
        f"(허용 범위 ±{2 * noise_sd:.3f}, 짝지은 차이의 표준오차 두 배)."
    )


def _context_sweep(gaps, change, noise_sd, noise_basis, verdict):
    return (
        "본 토큰 수를 맞춘 채 문맥 길이별로 잰, RNN이 Transformer보다 글자당 더 쓰는 비트 수: "
        + _pairs(gaps, "길이 {0}: {1:+.3f}")
        + f". 가장 짧은 길이에서 가장 긴 길이까지 이 차이의 변화량 {change:+.3f}, 허용 범위 "
        + noise_ko(noise_sd, noise_basis)
        + f". 원래 가이드는 이 차이가 길이와 함께 커진다고 예상했습니다. {_VERDICT[verdict]}."
    )


def _context_gain(name, first, late, gain, n):
    change = (
        f"긴 문맥 덕분에 {gain:.3f} nats 낮아집니다"
        if gain > 0
        else f"문맥이 길어져도 낮아지지 않고 오히려 {-gain:.3f} nats 높아집니다"
    )
    return (
        f"{name} 모델은 문맥이 한 토큰일 때 {first:.3f} nats이고, {n}토큰 문맥 창의 마지막 4분의 1에서는 {late:.3f} "
        f"nats로, {change}."
    )


def _curves_part(lower, higher, start, n, threshold, end_gap):
    where = "첫 위치부터" if start == 1 else f"{n}개 위치 중 {start}번째부터"
    return (
        f"위치별 손실 곡선은 {where} 갈라집니다: 창 끝까지 {lower} 모델이 {higher} 모델보다 {threshold} nats 넘게 "
        f"낮습니다(위치 {n}에서 {end_gap:.3f} nats 차이)."
    )


SENTENCES = {
    "different_steps": lambda steps: (
        "두 실행의 학습 스텝 수가 다릅니다("
        + _pairs(steps, "{0}: {1}")
        + "). 아래 차이의 일부는 구조가 아니라 학습 길이 때문입니다."
    ),
    "level": lambda a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis: (
        f"검증 텍스트에서 두 모델의 점수는 잡음 범위 안에서 같습니다. 글자당 비트 수(bits per character): {a} "
        f"{a_bpc:.3f}, {b} {b_bpc:.3f}. 차이 {gap:.3f}, 허용 범위 {noise_ko(noise_sd, noise_basis)}."
    ),
    "better": lambda a, a_bpc, b, b_bpc, gap, share, noise_sd, noise_basis: (
        f"검증 텍스트의 글자당 비트 수(bits per character): {a} {a_bpc:.3f}, {b} {b_bpc:.3f}. {a} 쪽이 글자당 "
        f"{gap:.3f} 비트 덜 씁니다({share:.1%} 적음). 이 차이는 허용 범위 {noise_ko(noise_sd, noise_basis)}보다 큽니다."
    ),
    "same_tokenizer": lambda tokenizer, n, losses: (
        f"모든 모델이 같은 {tokenizer} 토크나이저(tokenizer)로 텍스트를 읽으므로 토큰당 수치도 그대로 비교할 수 "
        "있습니다: " + _pairs(losses, "{0} {1:.3f} nats(퍼플렉서티(perplexity) {2:.2f})") + "."
    ),
    "different_tokenizers": lambda tokenizers: (
        f"실행마다 토크나이저가 다릅니다({', '.join(tokenizers)}). 손실과 퍼플렉서티(perplexity)는 서로 다른 "
        "단위당 값이므로 글자당 비트 수로만 비교하세요."
    ),
    "throughput": lambda fast, fast_tps, slow, slow_tps, device, ratio: (
        f"학습 처리량(throughput)은 {fast} 초당 {fast_tps:,.0f} 토큰, {slow} 초당 {slow_tps:,.0f} 토큰입니다"
        f"({device}에서 {fast} 쪽이 {ratio:.1f}배 빠릅니다)."
    ),
    "equal_time": lambda time, first, ranked: (
        f"같은 학습 시간 {time:.3g}초({first}의 학습이 끝난 시점)에서 검증 텍스트의 글자당 비트 수는 "
        + _pairs(ranked, "{0} {1:.3f}")
        + f"입니다. 같은 시간을 더 잘 활용한 쪽은 {ranked[0][0]}입니다."
    ),
    "size": lambda big, big_params, small, small_params, ratio: (
        f"파라미터 수는 {big} {big_params:,}개, {small} {small_params:,}개로 {big} 쪽이 {ratio:.1f}배 많습니다."
    ),
    "generation": lambda speeds: (
        "한 시퀀스를 토큰 하나씩 생성하는 속도: " + _pairs(speeds, "{0} 초당 {1:,.0f} 토큰") + "."
    ),
    "overfitting": lambda name, best, best_step, last: (
        f"{name} 모델은 과적합(overfitting)되고 있습니다. 검증 손실이 {best_step:,} 스텝의 {best:.3f}에서 "
        f"{last:.3f}로 올랐습니다. 스텝을 줄이거나 드롭아웃(dropout)을 늘리면 도움이 됩니다."
    ),
    "generalisation_gap": lambda name, gap: (
        f"{name} 모델은 학습 텍스트에서의 손실이 검증 텍스트보다 {gap:.2f} nats 낮게 끝나지만, 마지막 평가까지 "
        "검증 손실이 계속 내려가고 있었습니다. 일반화 격차(generalisation gap)일 뿐 아직 과적합은 아닙니다."
    ),
    "context_gain": _context_gain,
    "curves_together": lambda a, b, end_gap, most: (
        f"{a}, {b} 두 모델의 위치별 손실 곡선은 끝까지 확실히 갈라지지 않습니다. 창 끝에서의 차이는 {end_gap:.3f} "
        f"nats(어느 위치에서든 최대 {most:.3f})입니다."
    ),
    "curves_part": _curves_part,
    "guide_better": _guide_better,
    "guide_converges": _guide_converges,
    "guide_longer": _guide_longer,
    "carried_context": _carried_context,
    "no_scores": lambda: "아직 검증 점수가 나온 실행이 없습니다.",
    "sweep_best": lambda name, arch, tokenizer, bits_per_char: (
        f"검증 글자당 비트 수가 가장 낮은 실행: {name}({arch}, {tokenizer}), {bits_per_char:.3f}."
    ),
    "sweep_worst": lambda name, bpc, gap, share: (
        f"검증 글자당 비트 수가 가장 높은 실행: {name}, {bpc:.3f}. 가장 좋은 실행보다 글자당 {gap:.3f}비트({share:.0%}) "
        "뒤처집니다."
    ),
    "sweep_fastest": lambda name, tps, slow, ratio: (
        f"학습이 가장 빠른 실행: {name}, 초당 {tps:,.0f} 토큰으로 가장 느린 실행({slow})의 {ratio:.1f}배입니다."
    ),
    "sweep_smallest": lambda name, params, bpc: (
        f"가장 작은 모델: {name}, 파라미터 {params:,}개로 글자당 {bpc:.3f}비트를 기록합니다."
    ),
    "context_sweep": _context_sweep,
}
