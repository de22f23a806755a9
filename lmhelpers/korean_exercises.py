"""한국어 카탈로그의 연습 문제 부분: the Korean hints of the exercises, first (the idea) and second (the shape).

:mod:`lmhelpers.checking` looks them up by exercise name when the learner's language is Korean; the rest
of the Korean catalog (words, messages) is in :mod:`lmhelpers.korean`. Code inside a hint stays as it is.
"""

from __future__ import annotations

# Hints of the exercises (lmhelpers.exercises), by exercise name.
HINTS = {
    "transformer_params": "블록마다 LayerNorm 두 개(이득, bias가 있으면 이동), q/k/v와 출력 투영(4 C^2), MLP(8 C^2), "
    "bias가 있으면 그 편향들. 그다음 토큰 표와 위치 표, 마지막 LayerNorm, 그리고 묶여(tied) 있지 않을 때만 헤드(편향 없음)",
    "logits_bytes": "위치마다, 배치의 행마다, 어휘 하나당 float32 점수 하나: 하나에 4바이트",
    "count_pairs": "각 id와 바로 다음 id가 쌍 하나를 이룹니다(마지막 id로 시작하는 쌍은 없습니다). 쌍마다 몇 번 나오는지 세세요",
    "merge": "왼쪽에서 오른쪽으로 가며, 바꾼 쌍은 두 id를 모두 써 버리므로 두 번의 교체가 id 하나를 함께 쓰는 일은 없습니다. "
    "바꾼 쌍에 들지 않은 id는 마지막 것까지 모두 그대로 남깁니다",
    "bits_per_char": "손실은 토큰당, nats 단위입니다. 답은 글자당, 비트 단위입니다(1비트는 ln 2 nats)",
    "rnn_step": "새 상태는 행렬곱 두 개(입력의 것 하나, 이전 상태의 것 하나)에 편향 두 개를 더한 것의 tanh입니다. "
    "PyTorch는 가중치를 [출력, 입력] 모양으로 저장합니다",
    "lstm_step": "일반 RNN과 같은 두 행렬곱을 네 배 넓게 하면 네 게이트가 한꺼번에 나오며, 입력 i, 망각 f, 셀 후보 g, 출력 o "
    "순서로 쌓여 있습니다. 셀은 옛 셀의 일부를 남기고 후보의 일부를 더하며, h는 tanh를 거친 셀의 일부를 보여 줍니다",
    "gru_step": "세 게이트 블록은 리셋(reset), 업데이트(update), 새 내용(new) 순서입니다. 입력의 곱과 상태의 곱을 "
    "따로 두세요. 리셋 게이트는 새 내용 중 상태 쪽 부분만(그 편향까지) 곱하기 때문입니다. 업데이트 게이트 z가 둘을 "
    "섞으며, z가 1에 가까우면 옛 상태를 유지합니다",
    "causal_average": "출력의 t번째 행은 0..t번째 행의 평균입니다. t번째 행의 0..t열에 1/(t+1)이 들어 있는 아래 삼각 가중치 "
    "행렬과의 행렬곱 하나로 됩니다",
    "masked_softmax": "토큰은 자기 자신과 과거는 보지만 미래는 볼 수 없습니다. 소프트맥스 전에 대각선 위의 점수를 가려 정확히 0을 "
    "받게 하고, 남은 것들로 각 행을 정규화하세요",
    "multi_head": "행렬곱 하나가 q, k, v를 나란히 줍니다. 각각을 C // n_head 너비의 헤드 n_head개로 자르고, 헤드마다 따로 "
    "(자기 너비로 스케일해) 어텐션을 한 뒤, 헤드를 원래 순서대로 다시 나란히 붙이고 출력 투영을 적용하세요",
    "apply_temperature": "온도는 점수가 어휘 위의 확률이 되기 전에 점수를 나눕니다(곱하지 않습니다). 1보다 낮으면 가능성 높은 토큰이 "
    "더 높아집니다",
    "perplexity": "퍼플렉서티(perplexity)는 같은 손실을 내는, 똑같이 그럴듯한 선택지의 수입니다. 손실은 자연로그(nats)이니 "
    "그 로그를 되돌리세요",
    "loss_at_time": "t를 둘러싼 기록된 두 점 사이의 직선이며, 인덱스가 아니라 시간으로 잽니다. t가 기록된 시간 자체일 수도, "
    "첫 시간이나 마지막 시간일 수도 있습니다",
    "grid_runs": "키마다 값 하나씩 고른 모든 조합이며, 첫 키가 가장 느리게 바뀝니다(키 순서대로 중첩한 for 루프처럼). 실행 "
    "하나는 모든 키를 가진 dict 하나입니다",
    "Head": "x를 학습되는 투영 세 개(query, key, value)에 통과시킨 뒤, 4단계의 어텐션을 그대로 합니다: 점수를 "
    "sqrt(head_size)로 나누고, 행마다 소프트맥스를 하기 전에 미래를 가리고, 그 가중치로 값(value)을 섞습니다",
    "MultiHeadAttention": "너비가 n_embd // n_head인 헤드 n_head개가 모두 같은 x를 읽습니다. 그 출력을 나란히 붙이면 "
    "다시 n_embd 너비가 되고, Linear 층 하나(proj)가 이를 섞습니다",
    "FeedForward": "위치마다 따로, 위치끼리 섞지 않고: 4 * n_embd로 넓히고(fc), GELU를 거쳐, 다시 n_embd로 "
    "돌아옵니다(proj)",
    "Block": "사전 LayerNorm(pre-LayerNorm): 각 가지(branch)는 x를 정규화한 사본을 읽고, 그 결과를 x에 더합니다"
    "(잔차 스트림, residual stream). 어텐션이 먼저, 그다음 MLP이며, 둘 다 자기 LayerNorm을 하나씩 가집니다",
    "GPT": "토큰 벡터에 위치 벡터(위치 0..T-1)를 더하고, 블록을 차례로 거친 뒤, 마지막 LayerNorm, 그리고 lm_head로 "
    "모든 위치에서 어휘 항목마다 점수를 냅니다. cfg.tie_weights이면 lm_head의 가중치가 곧 tok_emb의 가중치입니다. "
    "손실은 B x T개 위치 전체의 평균 교차 엔트로피이고, targets가 없으면 None입니다",
}

# Second hints (the shape of the code), printed by lmhelpers.exercises.hint(name); code stays as it is.
SHAPE_HINTS = {
    "count_pairs": (
        "counts = {}\n"
        "for pair in <각 id와 그다음 id: 리스트와 첫 id를 뺀 리스트의 zip>:\n"
        "    counts[pair] = <전보다 하나 더, 처음이면 0에서>\n"
        "return counts"
    ),
    "merge": (
        "out, i = [], 0\n"
        "while i < len(ids):\n"
        "    if <ids[i] 뒤에 id가 있고, 두 id가 그 쌍이면>: new_id를 append, i += 2\n"
        "    else: ids[i]를 append, i += 1\n"
        "return out"
    ),
    "bits_per_char": "return <손실 곱하기 토큰 수: 텍스트 전체의 nats> / <글자 수> / math.log(2)",
    "rnn_step": "return torch.tanh(<x 곱하기 전치한 W_ih> + b_ih + <h 곱하기 전치한 W_hh> + b_hh)",
    "lstm_step": (
        "gates = <rnn_step처럼 두 행렬곱과 두 편향>   # [B, 4H]\n"
        "i, f, g, o = gates.chunk(4, dim=-1)\n"
        "<i, f, o에는 시그모이드, g에는 tanh>\n"
        "c_next = <f 곱하기 옛 c> + <i 곱하기 g>\n"
        "h_next = <o 곱하기 c_next의 tanh>\n"
        "return h_next, c_next"
    ),
    "gru_step": (
        "r_x, z_x, n_x = (x @ W_ih.T + b_ih).chunk(3, dim=-1)\n"
        "r_h, z_h, n_h = <h, W_hh, b_hh로 같은 것>\n"
        "r, z = <r_x + r_h의 시그모이드>, <z_x + z_h의 시그모이드>\n"
        "n = torch.tanh(n_x + <r 곱하기 n_h>)\n"
        "return <(1 - z) 곱하기 n> + <z 곱하기 h>"
    ),
    "causal_average": (
        "weights = torch.tril(torch.ones(T, T))   # t번째 행: 0..t에 1\n"
        "weights = <각 행을 그 합으로 나눈 것>\n"
        "return weights @ x"
    ),
    "masked_softmax": (
        "future = <T x T bool 텐서, 대각선 위가 True: torch.ones(...).triu(diagonal=1)>\n"
        "return scores.masked_fill(future, <exp가 정확히 0인 점수>).softmax(dim=<열 방향>)"
    ),
    "multi_head": (
        "q, k, v = (x @ W_qkv.T).split(C, dim=-1)\n"
        "각각: .view(B, T, n_head, hd).transpose(1, 2)   # [B, n_head, T, hd], hd = C // n_head\n"
        "y = <q @ k.transpose(-2, -1) / math.sqrt(hd)의 마스크 소프트맥스> @ v\n"
        "y = <헤드와 시간 축을 다시 바꾼 y>.reshape(B, T, C)\n"
        "return y @ W_proj.T"
    ),
    "apply_temperature": "return <로짓을 온도로 나눈 것의, 마지막 차원에 대한 소프트맥스>",
    "perplexity": "return <e의 손실 제곱: math 모듈에 있습니다>",
    "loss_at_time": (
        "for t0, t1, l0, l1 in <이웃한 시간 쌍과 손실 쌍을 zip한 것>:\n"
        "    if t0 <= t <= t1:\n"
        "        return l0 + (l1 - l0) * <t0에서 t1까지 간 비율>"
    ),
    "grid_runs": (
        "combinations = <키 순서대로 값 리스트들의 데카르트 곱: itertools에 있습니다>\n"
        "return [dict(zip(<키들>, values)) for values in combinations]"
    ),
    "Head": (
        "__init__: self.query = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias), self.key와 self.value도 같게, "
        "그리고 self.dropout = nn.Dropout(cfg.dropout)\n"
        "forward:  세 층으로 q, k, v를 만듭니다(각각 [B, T, head_size])\n"
        "          scores = q @ k.transpose(-2, -1) / math.sqrt(head_size)   # [B, T, T]\n"
        "          scores = scores.masked_fill(<대각선 위가 True인 T x T>, float('-inf'))\n"
        "          return self.dropout(<행마다 소프트맥스>) @ v"
    ),
    "MultiHeadAttention": (
        "__init__: self.heads = nn.ModuleList(Head(cfg, <헤드 하나의 너비>) for _ in range(cfg.n_head)),\n"
        "          self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias), Dropout 하나\n"
        "forward:  torch.cat([<x에 대한 각 헤드의 출력>], dim=-1), 그다음 self.proj, 그다음 드롭아웃"
    ),
    "FeedForward": (
        "__init__: self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias), 4 * cfg.n_embd에서 "
        "cfg.n_embd로 돌아오는 self.proj, Dropout 하나\n"
        "forward:  fc, 그다음 F.gelu, 그다음 proj, 그다음 드롭아웃"
    ),
    "Block": (
        "__init__: self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias), self.attn = MultiHeadAttention(cfg),\n"
        "          self.ln_2 (LayerNorm 하나 더), self.mlp = FeedForward(cfg)\n"
        "forward:  x = x + <정규화한 x의 어텐션>\n"
        "          x = x + <방금 계산한 x를 ln_2로 정규화한 것의 MLP>\n"
        "          return x"
    ),
    "GPT": (
        "__init__: self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd), self.pos_emb = "
        "nn.Embedding(cfg.block_size, cfg.n_embd),\n"
        "          self.drop = nn.Dropout(cfg.dropout), self.blocks = nn.ModuleList(<Block cfg.n_layer개>),\n"
        "          self.ln_f = nn.LayerNorm(...), self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False),\n"
        "          그리고 cfg.tie_weights이면 self.lm_head.weight = self.tok_emb.weight\n"
        "forward:  x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device)))\n"
        "          블록을 차례로 거친 뒤 logits = self.lm_head(self.ln_f(x))\n"
        "          targets가 None이 아니면 loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)), "
        "아니면 None\n"
        "          return logits, loss"
    ),
}
