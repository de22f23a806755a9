"""한국어 카탈로그: the Korean words and messages, looked up by :mod:`lmhelpers.language`.

The sentences of the written readings are in :mod:`lmhelpers.korean_sentences`, the exercise hints in
:mod:`lmhelpers.korean_exercises`.

Written for Korean learners, not word for word: a technical term appears in Korean with its English name
in parentheses where a learner first meets it (글자당 비트 수(bits per character)). Sentences are built
so that no Korean particle has to follow a run's name (which may end in a letter or a digit).
"""

from __future__ import annotations

# The sentence the Korean notebooks show by default (01's tokenizer comparison, 03's attention map).
SAMPLE_SENTENCE = "사느냐 죽느냐, 그것이 문제로다."

# Labels, column titles and fixed phrases, by their English text.
WORDS = {
    # figures
    "optimizer step": "최적화 스텝",
    "training time (s)": "학습 시간(초)",
    "wall time (s), evaluation included": "경과 시간(초, 평가 포함)",
    "wall time (s)": "경과 시간(초)",
    "loss per token (nats)": "토큰당 손실(nats)",
    "tokens of context seen": "지금까지 본 문맥 토큰 수",
    "validation loss (nats)": "검증 손실(nats)",
    "validation loss by position in the context": "문맥 위치별 검증 손실",
    "key (attended to)": "키(주목받는 위치)",
    "query": "쿼리",
    "validation bits per character": "검증 글자당 비트 수",
    "parameters": "파라미터 수",
    "tokens per character (lower: shorter sequences)": "글자당 토큰 수(낮을수록 시퀀스가 짧음)",
    "vocabulary size (log scale)": "어휘 크기(로그 축)",
    "encoding speed (characters/s)": "인코딩 속도(초당 글자 수)",
    "val": "검증",
    "train": "학습",
    # table columns
    "run": "실행",
    "model": "모델",
    "tokenizer": "토크나이저",
    "params": "파라미터",
    "tokens/s": "토큰/초",
    "gen tok/s": "생성 토큰/초",
    "val loss": "검증 손실",
    "perplexity": "퍼플렉서티",
    "bits/char": "글자당 비트",
    "± s.e.": "± 표준오차",
    "seeds": "시드 수",
    "sd": "표준편차",
    "carried state saves": "상태를 이어 갈 때 줄어드는 비트",
    "Over seeds": "시드에 걸친 평균과 편차",
    "training window (block_size)": "학습 문맥 창(block_size)",
    "sliding window {block}, stride {stride}": "길이 {block}의 미끄러지는 창(sliding window), 보폭 {stride}",
    "state carried through the text": "텍스트 끝까지 상태를 이어 감",
    "reset every {n} tokens": "{n}토큰마다 상태 초기화",
    "scored": "채점 방식",
    "training": "학습 방식",
    "random windows, zero state": "무작위 창, 매번 0 상태에서 시작",
    "stateful (truncated BPTT)": "상태 유지(truncated BPTT)",
    "state carried: bits/char": "상태를 이어 갈 때: 글자당 비트",
    "state reset every window: bits/char": "창마다 상태 초기화: 글자당 비트",
    "carrying saves": "이어 가서 아낀 비트",
    "window {k}: rows start at {starts}": "창 {k}: 행마다 시작 위치 {starts}",
    " (a new pass: state reset)": " (새로 한 바퀴 시작: 상태 초기화)",
    "tokens scored": "채점한 토큰",
    "loss ± s.e.": "손실 ± 표준오차",
    "bits/char ± s.e.": "글자당 비트 ± 표준오차",
    "train s": "학습(초)",
    "wall s": "경과(초)",
    "vocabulary": "어휘 크기",
    "tokens/char": "글자당 토큰",
    "OOV rate": "미등록어 비율",
    "encode chars/s": "인코딩 글자/초",
    "notebook": "노트북",
    "seconds": "초",
    "total": "합계",
    # notebook 00's memory table and notebook 01's unigram table
    "preset": "프리셋",
    "batch x context x vocabulary": "배치 x 문맥 x 어휘",
    "Transformer parameters": "Transformer 파라미터 수",
    "parameters + gradients + AdamW (MB)": "파라미터 + 기울기 + AdamW (MB)",
    "float32 logits of one batch (MB)": "배치 하나의 float32 로짓 (MB)",
    "GPU memory it asks for (GB)": "필요한 GPU 메모리 (GB)",
    "tokenizer (vocabulary)": "토크나이저 (어휘 크기)",
    "unigram loss per token (nats)": "유니그램 토큰당 손실 (nats)",
    "unigram bits per char": "유니그램 글자당 비트",
    # notebook 00's preset table
    "layers x width": "층 x 너비",
    "context": "문맥",
    "steps x batch": "스텝 x 배치",
    "meant for": "용도",
    "tests; checking that a notebook runs": "테스트, 노트북이 돌아가는지 확인",
    "`make run`: a few minutes for both models on 2 CPU cores": "`make run`: CPU 코어 2개로 두 모델 모두 몇 분",
    "nanoGPT's CPU example at the same steps and tokens, with a better recipe": (
        "nanoGPT의 CPU 예제와 같은 스텝과 토큰, 더 나은 학습 설정"
    ),
    "a free Colab T4 (16 GB)": "무료 Colab T4 (16 GB)",
    "the original guide's experiment (a GPU with 30 GB or more)": "원래 가이드의 실험 (30 GB 이상 GPU)",
    # notebook 02's lesson table
    "LSTM + attention, no mask (leaky)": "LSTM + 어텐션, 마스크 없음 (새는 모델)",
    "LSTM + attention, causal mask (fixed)": "LSTM + 어텐션, 인과 마스크 (고친 모델)",
    "recurrent layers": "순환 층 수",
    "steps": "스텝",
    "validation loss": "검증 손실",
    # a run's settings (config_markdown)
    "context (block_size)": "문맥 길이 (block_size)",
    "dropout": "드롭아웃",
    "learning rate": "학습률",
    "evaluate every": "평가 주기",
    "device, seed": "장치, 시드",
    "leaky": "새는 모델",
    "fixed": "고친 모델",
    # notebook 02's gradient figure
    "plain RNN (tanh)": "단순 RNN (tanh)",
    "LSTM, PyTorch's initialisation": "LSTM, PyTorch 기본 초기화",
    "LSTM, forget-gate bias 1 (this package)": "LSTM, 망각 게이트 편향 1 (이 패키지)",
    "distance d: how many steps before the last output": "거리 d: 마지막 출력보다 몇 스텝 앞인지",
    "gradient size, relative to d = 0": "기울기 크기 (d = 0 대비)",
    # samples
    "temperature": "온도",
    "seed": "시드",
    # exercise checks
    "your GPT": "직접 만든 GPT",
    "the package's GPT": "패키지의 GPT",
    "block": "블록",
    "step": "스텝",
    "above the full block": "온전한 블록보다 높은 만큼",
    "the full block": "온전한 블록",
    "no residual connections": "잔차 연결 없음",
    "no LayerNorm": "LayerNorm 없음",
    "post-LayerNorm": "사후 LayerNorm(post-LayerNorm)",
    "not written yet: your function raises NotImplementedError": (
        "아직 작성하지 않았습니다: 함수가 NotImplementedError를 냅니다"
    ),
    "your function returned None: did you forget `return`?": "함수가 None을 돌려줍니다. `return`을 빠뜨리지 않았나요?",
    # summary headings
    "## Results": "## 결과",
    "## Reading": "## 해석",
    "## Notebooks": "## 노트북",
    "yes": "예",
    "no": "아니요",
    # allowed values of settings (ConfigError.allowed)
    "a positive integer": "양의 정수",
    "an integer": "정수",
    "an integer >= 0": "0 이상의 정수",
    "an integer >= 1": "1 이상의 정수",
    "an existing sweep file (a path, or a name in sweeps/)": "있는 스윕 파일(경로, 또는 sweeps/ 안의 이름)",
    "an integer in [2, 1000000]": "2 이상 1000000 이하의 정수",
    "a number strictly between 0 and 1": "0보다 크고 1보다 작은 수",
    "a number in [0, 1)": "0 이상 1 미만의 수",
    "a number >= 0": "0 이상의 수",
    "a number >= 0 (0 disables clipping)": "0 이상의 수(0이면 클리핑을 끕니다)",
    "a positive number such as 3e-4": "3e-4 같은 양수",
    "True or False": "True 또는 False",
    "None or a positive integer": "None 또는 양의 정수",
    "None (set from the tokenizer) or an integer >= 2": "None(토크나이저에서 정함) 또는 2 이상의 정수",
    "a name such as 'tinyshakespeare', or a text file or folder": (
        "'tinyshakespeare' 같은 이름, 또는 텍스트 파일이나 폴더 경로"
    ),
    "a folder path such as 'runs/notebooks'": "'runs/notebooks' 같은 폴더 경로",
}

# Phrases with values inside, as (regular expression, replacement).
PATTERNS = [
    (r"choose one of (\[.*\])", r"다음 중 하나: \1"),
    (r"one of (\[.*\])", r"다음 중 하나: \1"),
    (
        r"must be divisible by n_head=(\d+) \(each head gets n_embd // n_head dims\)",
        r"n_head=\1로 나누어떨어져야 합니다(헤드마다 n_embd // n_head 차원을 받습니다)",
    ),
    (r"None or a number in \[0, learning_rate=(.*)\]", r"None 또는 0 이상 learning_rate=\1 이하의 수"),
    (r"layer (\d+) of (\d+), head (\d+) of (\d+)", r"\2개 층 중 \1번째 층, \4개 헤드 중 \3번째 헤드"),
    (r"wrong shape: expected (.*), got (.*)", r"모양이 다릅니다: \1이어야 하는데 \2입니다"),
    (
        r"max absolute difference (\S+) at index (.*): yours (\S+), expected (\S+) \(tolerance (.*)\)",
        r"최대 절대 차이 \1 (위치 \2): 내 값 \3, 기대값 \4 (허용 오차 \5)",
    ),
    (r"your function raised (.*)", r"함수에서 오류가 났습니다: \1"),
    (
        r"not written yet: (\S+) raises NotImplementedError",
        r"아직 작성하지 않았습니다: \1에서 NotImplementedError가 납니다",
    ),
    (
        r"your module has no (.*): name its layers as the exercise says",
        r"모듈에 다음이 없습니다: \1. 층(layer) 이름을 문제에서 말한 대로 지으세요",
    ),
    (
        r"your module has parameters the package's has not: (.*)",
        r"패키지 모듈에는 없는 파라미터가 있습니다: \1",
    ),
    (
        r"(\S+) is (\[.*\]) in your module, (\[.*\]) in the package's",
        r"\1의 모양이 직접 만든 모듈에서는 \2, 패키지 모듈에서는 \3입니다",
    ),
    (
        r"your module has (\S+) parameters, the package's (\S+) \(a tied matrix counts once\)",
        r"직접 만든 모듈의 파라미터는 \1개, 패키지 모듈은 \2개입니다(묶인(tied) 행렬은 한 번만 셉니다)",
    ),
    (
        r"(\S+) must be a class, a subclass of nn.Module, not (.*)",
        r"\1: nn.Module을 상속한 클래스여야 합니다. 받은 것: \2",
    ),
    (r"expected (.*), got (.*) \(off by (.*)\)", r"기대값 \1, 내 값 \2 (차이 \3)"),
    (
        r"expected (\S+), got (\S+) \(difference (\S+); tolerance (.*)\)",
        r"기대값 \1, 내 값 \2 (차이 \3, 허용 오차 \4)",
    ),
    (r"returned (.*), expected (.*)", r"돌려준 값 \1, 기대값 \2"),
    (r"(.*) val", r"\1 검증"),
    (r"(.*) train", r"\1 학습"),
    (r"### (.*): sample at temperature (.*)", r"### \1: 온도(temperature) \2에서 생성한 샘플"),
]

MESSAGES = {
    "check_correct": "정답입니다: {name} (사례 {n}개)",
    "check_not_yet": "아직입니다: {name}, 사례 {n}개 중 {i}번째: {call}\n  {problem}\n힌트: {hint}",
    "check_not_a_function": "아직입니다: {name}에는 함수 자체를 넘겨야 합니다. {got}이 아니라 괄호 없이 "
    "check_{name}({name})처럼 쓰세요",
    "solution": "풀이: <code>{name}</code> (눌러서 열기)",
    "matches": "일치: {name} (최대 차이 {diff:.1g})",
    "matches_exactly": "일치: {name} (완전히 같음)",
    "check_more_hint": '두 번째 힌트(코드의 뼈대)가 필요하면 새 셀에서 실행하세요: hint("{name}")',
    "using_yours": "직접 만든 {name}: 검사를 통과했습니다. 아래 셀들은 이것을 씁니다",
    "gpt_same": "{steps:,} 스텝 뒤 두 검증 손실의 차이는 {gap:.2g} nats로 0.05 이내입니다. 같은 모델을 같은 방식으로 "
    "학습한 것입니다. 남은 차이는 부동소수점 반올림 오차입니다. 패키지의 융합된 어텐션은 같은 수를 다른 순서로 "
    "더하고, 학습하는 동안 그런 차이가 조금씩 커집니다.",
    "gpt_close": "{steps:,} 스텝 뒤 두 검증 손실의 차이는 {gap:.3f} nats로 0.05 이내입니다. 같은 모델을 같은 방식으로 "
    "학습했지만, 드롭아웃(dropout)이 두 모델에서 서로 다른 마스크를 뽑기 때문에 작은 차이가 남습니다.",
    "gpt_differs": "{steps:,} 스텝 뒤 두 검증 손실의 차이는 {gap:.3f} nats로 0.05보다 큽니다. 두 모델이 같은 계산을 "
    "하지 않습니다. 위의 검사를 다시 실행해 보세요.",
    "deep_best": "{steps:,} 스텝 뒤 검증 손실이 가장 낮은 것은 {best}입니다({loss:.3f}).",
    "using_reference": "참고: 직접 만든 {name}: 아직 검사를 통과하지 못했습니다(이유는 위의 검사 결과에 있습니다). 그래서 "
    "아래 셀들은 그 자리에 lmhelpers.solutions의 참고 답안을 씁니다. 직접 만든 것을 완성한 뒤 이 셀을 다시 실행하세요.",
    "text": "텍스트: `{text}`",
    "n_tokens": "토큰 {n}개",
    "cannot_encode": "인코딩할 수 없습니다: {detail}",
    "recommend_fits": "{device}, 메모리 {memory} GB: `{name}` 프리셋의 용도는 {purpose}입니다.",
    "recommend_small": "{device}의 메모리가 {memory} GB뿐입니다. `{name}`으로 시작하세요.",
    "recommend_mps": "애플 GPU: `{name}` 프리셋으로 시작한 뒤 설정으로 크기를 키우세요.",
    "sample_unreadable": "{name}: 기본 한국어 문장을 이 토크나이저로 읽을 수 없어서(말뭉치에 한글이 없습니다) 말뭉치의 "
    '한 줄을 대신 씁니다. 한국어 문장으로 보려면 한국어 말뭉치(settings = {{"dataset": "내_텍스트.txt"}})나 '
    'tokenizer = "bpe"를 쓰세요.',
    "resume_restart": "restart (이전 실행을 먼저 옆으로 옮겨 둡니다)",
    "resume_none_yet": "{mode}: 체크포인트가 아직 없어서 0 스텝부터 학습합니다",
    "resume_never": "never: {step} 스텝의 체크포인트가 있으므로 덮어쓰지 않고 멈춥니다",
    "resume_auto": "auto: 같은 실행이면 {step} 스텝의 체크포인트에서 이어서 학습합니다",
    "ways_out": "두 실행을 모두 지키려면 이 실행을 다른 곳에 쓰거나(다른 run_dir, 명령줄에서는 --out), "
    "resume='restart'(--restart)로 처음부터 시작하세요. 이때 {name} 폴더는 먼저 {name}.before-<시각>으로 옮겨지고 "
    "아무것도 지워지지 않습니다.",
    "starting_over": "처음부터 학습합니다: 0 / {total:,} 스텝",
    "moved_to": ". 이전 실행은 {where}(으)로 옮겼습니다",
    "resume_false_conflict": "resume=False인데 {ckpt}에 이전 실행({step} 스텝)이 있습니다. 학습하면 덮어쓰게 "
    "됩니다. 이어서 학습하려면 resume='auto'를 쓰세요. {ways_out}",
    "record_without_checkpoint": "{out}에 이전 실행의 기록이 있지만 이어서 학습할 체크포인트({ckpt})가 없어서, "
    "여기서 학습하면 그 기록을 덮어쓰게 됩니다. {ways_out}",
    "resumed": "{ckpt}에서 이어서 학습합니다: {step:,} / {total:,} 스텝",
    "fresh_start": "{ckpt}에 체크포인트가 없어서 0 스텝부터 학습합니다 (전체 {total:,} 스텝)",
    "run_where": "결과:     {out}\n체크포인트: {ckpt}\n이어 학습: {resume}",
    "tokenizer_trained_here": "여기서 학습 텍스트로 새로 학습함",
    "eval_line": "스텝 {step} | 학습 손실 {train:.3f} | 검증 손실 {val:.3f} | 학습 {seconds:.0f}초",
    "time_left": " | 약 {left} 남음",
    "seconds": "{n:.0f}초",
    "minutes": "{n:.0f}분",
    "hours": "{n:.1f}시간",
    "train_bar": "{arch} 학습",
    "layers_width": "{layers} x {width}",
    "layers_width_heads": "{layers} x {width}, 헤드 {heads}개",
    "vocab_cap": "{kind} (어휘 상한 {cap:,})",
    "lr_schedule": "{lr:g} (워밍업 {warmup} 스텝, 코사인으로 {final:g}까지)",
    "eval_every": "{interval} 스텝마다 배치 {batches}개로",
    "sample_head": "**온도 {temperature}**{top_k} (프롬프트 {prompt!r}, 시드 {seed})",
    "source_from": "`{name}`, `{where}` {line}번째 줄부터:",
    "does_not_match": "결과가 {name}와(과) 다릅니다: {problem}",
    "leak_check_reads_future": "{name}: 앞쪽 출력이 최대 {change:.1e}만큼 바뀌었습니다. 미래를 읽고 있습니다.",
    "leak_check_causal": "{name}: 앞쪽 출력이 최대 {change:.1e}만큼 바뀌었습니다. 미래를 읽지 않습니다(인과적).",
    "leak_trained": "두 모델을 {seconds:.1f}초 만에 학습했습니다.",
    "leak_the_model_above": "위에서 학습한 {arch}",
    "leak_gap": "{steps:,} 스텝 뒤 새는 모델의 검증 손실은 **{leaky:.3f}**로, 마스크를 씌운 고친 모델"
    "({fixed:.3f})보다 {gap:.3f} 낮습니다. 데이터도, 배치도, 초기 가중치도 같으니 이 차이는 실력이 아니라 미래를 "
    "읽어서 얻은 것입니다.",
    "leak_too_good": "심지어 위에서 {step:,} 스텝 학습한 {layers}층 {arch}({loss:.3f})보다도 낮습니다. 정직한 쌍둥이 "
    "모델은 닿지 못하는 점수이니, 믿기에는 너무 좋은 결과입니다.",
    "leak_unclear": "{steps:,} 스텝 뒤에도 새는 모델({leaky:.3f})이 고친 모델({fixed:.3f})보다 뚜렷하게 낮지 "
    "않습니다. 아직 앞을 읽는 법을 배우지 못했으니, 이만큼 짧게 학습해서는 손실만으로 누출을 볼 수 없습니다. 그래도 "
    "인과성 검사는 학습 전에 이미 잡아냈습니다. `cpu` 프리셋에서 `leak_iters = 200`으로 돌리면 새는 모델이 앞을 "
    "읽는 법을 배우는 모습을 볼 수 있습니다.",
    "leak_jump": "읽을 미래가 없는 마지막 위치에서 새는 모델의 손실은 창 뒤쪽 절반의 다른 위치들 평균보다 "
    "{leaky_jump:+.3f}만큼 높습니다(고친 모델: {fixed_jump:+.3f}). 생성할 때는 새 토큰이 언제나 마지막 위치에 있습니다. "
    "그 자리에서 새는 모델은 **{leaky_last:.3f}**, 고친 모델은 **{fixed_last:.3f}**입니다.",
    "leak_no_jump": "마지막 위치에서 손실이 아직 뚜렷하게 뛰어오르지 않습니다(새는 모델 {leaky_jump:+.3f}, 고친 모델 "
    "{fixed_jump:+.3f}, 위치별 손실의 흩어짐(표준편차) {spread:.3f}). {steps:,} 스텝으로는 누출을 아직 배우지 못했습니다.",
    "state_size": "모델이 과거에 대해 간직하는 것은 이것이 전부입니다: {shapes} = 숫자 {numbers:,}개. 텍스트가 아무리 "
    "길어도 그대로입니다.",
    "recommend_cpu": "GPU가 없습니다: `{name}` 프리셋은 몇 분이면 학습이 끝나고, 배우는 모습도 충분히 보입니다.",
    "invalid": "매개변수 {name}={value!r} 값을 쓸 수 없습니다. 허용되는 값: {allowed}",
    "invalid_here": "이 노트북에서는 매개변수 {name}={value!r} 값을 쓸 수 없습니다. 다음 중 하나를 고르세요: {choices}",
    "settings_not_dict": "매개변수 settings={value!r} 값을 쓸 수 없습니다. 설정 이름과 값의 딕셔너리(dict)여야 "
    "합니다. 예: {{'n_layer': 2, 'learning_rate': 1e-3}}{hint}",
    "settings_hint": " (papermill의 -p는 값을 글자로 넘깁니다. 딕셔너리는 -y 'settings: {{n_layer: 2}}'나 -f YAML 파일로 "
    "넘기세요)",
    "given_twice": "{names}이(가) 매개변수와 settings 양쪽에 모두 있습니다. 한 곳에만 쓰세요",
    "do_not_fit": "매개변수 {names}가 서로 맞지 않습니다: {detail}",
    "unknown": "잘못된 매개변수입니다: {detail}",
    "drive_off_colab": "매개변수 {name}={value!r}은(는) 구글 드라이브(Google Drive) 폴더인데, 드라이브는 Colab에서만 "
    "쓸 수 있습니다. 여기서는 로컬 폴더(또는 None)를 쓰세요",
    "not_encodable": "매개변수 {name}={value!r}은(는) 여기서 쓸 수 없습니다: {detail}. {name} = None으로 두면 말뭉치의 "
    "한 줄을 쓰고, 직접 고를 때는 말뭉치에 있는 글자와 단어로 된 텍스트를 고르세요.",
    # 거짓 없는 기록, 폴더 하나에 쓰는 실행 하나, Ctrl-C로 멈추기
    "resume_change": "change-settings: {step} 스텝의 체크포인트에서 이 실행의 학습 설정으로 바꿔 이어서 학습합니다"
    "(어느 스텝 구간에 어떤 설정을 썼는지 기록에 남습니다)",
    "change_settings_hint": "학습 설정을 일부러 바꿔서 그 실행을 이어 가려면 resume='change-settings'"
    "(--change-settings)를 쓰세요. 그러면 어느 스텝 구간에 어떤 설정을 썼는지 기록에 남습니다.",
    "change_nothing_left": "{ckpt}은(는) 이미 {total:,} 스텝을 모두 학습했습니다(지금 {step:,} 스텝). 바꾼 학습 "
    "설정을 쓸 스텝이 남아 있지 않으니, 이대로 두면 기록에 가중치를 학습할 때 쓰지 않은 설정이 적힙니다. 바꾼 "
    "설정으로 더 학습하려면 max_iters도 늘리세요.",
    "resumed_with_changes": ", {step:,} 스텝부터 학습 설정을 바꿨습니다: {changes}",
    "folder_in_use": "{folder} 폴더에는 지금 다른 실행이 쓰고 있습니다: {host}의 프로세스 {pid}, {since}부터, "
    "시작 명령 `{command}` (잠금 파일(lock file) {lock}).",
    "folder_in_use_kernel": "노트북 커널(kernel)이 잡고 있는 폴더입니다. 커널은 종료될 때까지(Kernel > Shut Down) "
    "폴더를 놓지 않습니다.",
    "folder_in_use_elsewhere": "{folder} 폴더에는 다른 컴퓨터의 실행이 쓰고 있습니다: {host}의 프로세스 {pid}, "
    "{since}부터, 시작 명령 `{command}`. 잠금 파일 {lock}은(는) {age:.0f}초 전에 마지막으로 갱신되었습니다. 다른 "
    "컴퓨터의 잠금은 {stale:.0f}초 동안 갱신되지 않아야 끝난 것으로 봅니다. 그 실행이 이미 끝났다면(예: 연결이 끊긴 "
    "Colab 런타임) 그만큼 기다리거나 {lock}을(를) 지우세요.",
    "folder_ways_out": "그 실행이 끝날 때까지 기다리거나(또는 멈추거나), 이 실행을 다른 곳에 쓰세요: 다른 run_dir, "
    "명령줄에서는 --out.",
    "lock_taken_over": "참고: {lock}은(는) 이미 끝난 프로세스 {pid}({since}부터)가 남긴 잠금 파일입니다. 이 실행이 "
    "폴더를 넘겨받습니다.",
    "stopping_after_step": "Ctrl-C: 진행 중인 스텝을 마치고 그 자리에서 체크포인트를 저장한 뒤 멈춥니다(한 번 더 "
    "누르면 마지막 체크포인트를 남겨 두고 바로 멈춥니다).",
    "interrupted_saved": "학습을 {step:,} / {total:,} 스텝에서 멈췄습니다(중단, interrupt). 체크포인트 {ckpt}에 이 "
    "스텝까지 저장되어 있으니, 같은 셀들을 다시 실행하면(또는 같은 명령을 다시 실행하면) 여기서 이어서 학습합니다.",
    "interrupted_no_checkpoint": "학습을 {step:,} / {total:,} 스텝에서 멈췄습니다(중단, interrupt). 이 스텝에서 "
    "이어서 학습할 체크포인트는 없습니다(이 학습은 체크포인트를 쓰지 않거나, 아직 학습한 스텝이 없습니다).",
    "interrupted_cli": "{step:,} / {total:,} 스텝에서 멈췄습니다(Ctrl-C). 체크포인트 {ckpt}에 이 스텝까지 저장되어 "
    "있으니, 같은 명령을 다시 실행하면 여기서 이어서 학습합니다.",
    "interrupted_cli_nothing_saved": "멈췄습니다(Ctrl-C). 앞서 저장한 체크포인트와 기록은 그대로 있습니다. 같은 "
    "명령을 다시 실행하면 마지막 체크포인트가 있을 때 거기서 이어서 학습합니다.",
    # 02: 손으로 쓰는 학습 루프
    "loop_init": "학습 전 모델의 손실: {loss:.3f} nats. ln(vocab_size) = ln({vocab}) = {ln:.3f}",
    "loop_eval": "고정 배치에서의 검증 손실: 학습 전 모델 {untrained:.3f}, 바이그램(bigram) {bigram:.3f} nats",
    "loop_step": "스텝 {step}: 손실 {loss:.3f}, 학습률 {lr:.2e}, 기울기 노름 {norm:.2f}",
    "bigram_floor": "같은 배치에서 바이그램 하한: {bigram:.3f} nats, 이 모델: {loss:.3f} nats ({verdict})",
    "bigram_beaten": "모든 모델이 그래야 하듯 하한보다 낮습니다",
    "bigram_not_beaten": "아직 하한보다 낮지 않습니다. 빈도표로도 배울 수 있는 것 이상은 배우지 못했습니다",
    "clip_norm": "{T:>3} 스텝에 걸쳐 펼쳤을 때: 기울기 노름 {norm:>12,.1f}",
    "clip_run": "{label}: 가장 큰 기울기 노름 {norm:,.0f}, 한 스텝에서 가중치가 바뀐 가장 큰 크기 {change:,.3g}, "
    "{steps} 스텝 뒤 손실 {loss:.3f}",
    "clip_without": "자르기 없이",
    "clip_with": "노름 {clip:g}로 자르기(clipping)",
    "context_header": "| 문맥 길이 T | LSTM, 토큰당 µs | Transformer, 토큰당 µs |",
    "context_seconds": "{device}에서 {seconds:.1f}초 동안 잼",
}
