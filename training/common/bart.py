"""A small BART-like encoder-decoder in PyTorch, with an exporter to the Hugging Face Optimum ONNX layout.

The runtime (src/models/seq2seq) loads what `export_optimum` writes: encoder_model.onnx,
decoder_model.onnx (first step, returns the cross-attention cache) and decoder_with_past_model.onnx
(later steps, KV cache), plus config.json. Input/output names follow Optimum so that a real
BioBART export and this model go through the same code. See docs/bundle-format.md.

Also here: reference greedy / beam / sampling-free generation used to make test fixtures; the
TypeScript runtime implements the same semantics (documented on each function).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class BartConfig:
    vocab_size: int
    d_model: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    encoder_attention_heads: int = 4
    decoder_attention_heads: int = 4
    encoder_ffn_dim: int = 1024
    decoder_ffn_dim: int = 1024
    max_position_embeddings: int = 256
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_function: str = "gelu"
    # Pre-LN trains more stably from scratch on small data; post-LN matches the original BART.
    pre_ln: bool = True
    scale_embedding: bool = False
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    decoder_start_token_id: int = 2
    extra: dict = field(default_factory=dict)

    def to_hf_config(self) -> dict:
        """config.json in the Hugging Face BART spelling (plus our own keys, which HF ignores)."""
        d = asdict(self)
        extra = d.pop("extra")
        d.update(
            {
                "model_type": "bart",
                "architectures": ["BartForConditionalGeneration"],
                "is_encoder_decoder": True,
                "tie_word_embeddings": True,
                "normalize_before": self.pre_ln,
                "forced_eos_token_id": self.eos_token_id,
            }
        )
        d.update(extra)
        return d

    @staticmethod
    def from_dict(d: dict) -> "BartConfig":
        known = {f for f in BartConfig.__dataclass_fields__ if f != "extra"}
        return BartConfig(**{k: v for k, v in d.items() if k in known})


class Attention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        assert d_model % heads == 0, "d_model must be divisible by heads"
        self.h = heads
        self.dh = d_model // heads
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.dh).transpose(1, 2)  # [B,H,T,Dh]

    def project_kv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.split(self.k(x)), self.split(self.v(x))

    def forward(
        self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        q = self.split(self.q(x)) * (self.dh**-0.5)
        scores = torch.matmul(q, k.transpose(-1, -2))
        if bias is not None:
            scores = scores + bias
        p = F.softmax(scores, dim=-1)
        p = F.dropout(p, self.dropout, self.training)
        out = torch.matmul(p, v)  # [B,H,T,Dh]
        b, _, t, _ = out.shape
        return self.o(out.transpose(1, 2).reshape(b, t, self.h * self.dh))


def _act(name: str):
    return {"gelu": F.gelu, "relu": F.relu}[name]


class EncoderLayer(nn.Module):
    def __init__(self, c: BartConfig):
        super().__init__()
        self.c = c
        self.attn = Attention(c.d_model, c.encoder_attention_heads, c.attention_dropout)
        self.ln1 = nn.LayerNorm(c.d_model)
        self.fc1 = nn.Linear(c.d_model, c.encoder_ffn_dim)
        self.fc2 = nn.Linear(c.encoder_ffn_dim, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        c, drop = self.c, lambda t: F.dropout(t, self.c.dropout, self.training)
        h = self.ln1(x) if c.pre_ln else x
        k, v = self.attn.project_kv(h)
        x = x + drop(self.attn(h, k, v, bias))
        if not c.pre_ln:
            x = self.ln1(x)
        h = self.ln2(x) if c.pre_ln else x
        x = x + drop(self.fc2(drop(_act(c.activation_function)(self.fc1(h)))))
        if not c.pre_ln:
            x = self.ln2(x)
        return x


class DecoderLayer(nn.Module):
    def __init__(self, c: BartConfig):
        super().__init__()
        self.c = c
        self.self_attn = Attention(c.d_model, c.decoder_attention_heads, c.attention_dropout)
        self.ln1 = nn.LayerNorm(c.d_model)
        self.cross_attn = Attention(c.d_model, c.decoder_attention_heads, c.attention_dropout)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.fc1 = nn.Linear(c.d_model, c.decoder_ffn_dim)
        self.fc2 = nn.Linear(c.decoder_ffn_dim, c.d_model)
        self.ln3 = nn.LayerNorm(c.d_model)

    def forward(
        self,
        x: torch.Tensor,
        self_bias: torch.Tensor,
        past_k: Optional[torch.Tensor],
        past_v: Optional[torch.Tensor],
        cross_k: torch.Tensor,
        cross_v: torch.Tensor,
        cross_bias: torch.Tensor,
    ):
        c, drop = self.c, lambda t: F.dropout(t, self.c.dropout, self.training)
        h = self.ln1(x) if c.pre_ln else x
        k, v = self.self_attn.project_kv(h)
        if past_k is not None and past_v is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        x = x + drop(self.self_attn(h, k, v, self_bias))
        if not c.pre_ln:
            x = self.ln1(x)
        h = self.ln2(x) if c.pre_ln else x
        x = x + drop(self.cross_attn(h, cross_k, cross_v, cross_bias))
        if not c.pre_ln:
            x = self.ln2(x)
        h = self.ln3(x) if c.pre_ln else x
        x = x + drop(self.fc2(drop(_act(c.activation_function)(self.fc1(h)))))
        if not c.pre_ln:
            x = self.ln3(x)
        return x, k, v


def _padding_bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B,S] 1/0 mask -> additive [B,1,1,S] bias (large negative where padded)."""
    return (1.0 - mask[:, None, None, :].to(dtype)) * -1e9


class Bart(nn.Module):
    """Encoder-decoder with learned positions, shared (tied) token embeddings and a final logits bias."""

    def __init__(self, c: BartConfig):
        super().__init__()
        self.config = c
        self.embed = nn.Embedding(c.vocab_size, c.d_model, padding_idx=c.pad_token_id)
        self.enc_pos = nn.Embedding(c.max_position_embeddings, c.d_model)
        self.dec_pos = nn.Embedding(c.max_position_embeddings, c.d_model)
        self.enc_ln_emb = nn.LayerNorm(c.d_model)
        self.dec_ln_emb = nn.LayerNorm(c.d_model)
        self.encoder = nn.ModuleList([EncoderLayer(c) for _ in range(c.encoder_layers)])
        self.decoder = nn.ModuleList([DecoderLayer(c) for _ in range(c.decoder_layers)])
        # Pre-LN stacks need a final norm; post-LN ones are already normalized.
        self.enc_ln_out = nn.LayerNorm(c.d_model) if c.pre_ln else nn.Identity()
        self.dec_ln_out = nn.LayerNorm(c.d_model) if c.pre_ln else nn.Identity()
        self.register_buffer("final_logits_bias", torch.zeros(1, c.vocab_size))
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def _scale(self) -> float:
        return math.sqrt(self.config.d_model) if self.config.scale_embedding else 1.0

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B,S] ids + mask -> [B,S,D] hidden states."""
        s = input_ids.shape[1]
        pos = torch.arange(s, device=input_ids.device)
        x = self.embed(input_ids) * self._scale() + self.enc_pos(pos)[None]
        x = F.dropout(self.enc_ln_emb(x), self.config.dropout, self.training)
        bias = _padding_bias(attention_mask, x.dtype)
        for layer in self.encoder:
            x = layer(x, bias)
        return self.enc_ln_out(x)

    def cross_kv(self, enc: torch.Tensor) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        return [layer.cross_attn.project_kv(enc) for layer in self.decoder]

    def decode(
        self,
        input_ids: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        cross: List[Tuple[torch.Tensor, torch.Tensor]],
        past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None,
    ):
        """Decoder step(s). Returns logits [B,t,V] and the self-attention cache [(k,v)] per layer."""
        t = input_ids.shape[1]
        past_len = past[0][0].shape[2] if past is not None else 0
        pos = torch.arange(t, device=input_ids.device) + past_len
        x = self.embed(input_ids) * self._scale() + self.dec_pos(pos)[None]
        x = F.dropout(self.dec_ln_emb(x), self.config.dropout, self.training)
        # Causal bias over [t, past_len + t]: query i sees keys up to past_len + i.
        q_idx = torch.arange(t, device=input_ids.device)[:, None] + past_len
        k_idx = torch.arange(past_len + t, device=input_ids.device)[None, :]
        self_bias = ((k_idx > q_idx).to(x.dtype) * -1e9)[None, None]
        cross_bias = _padding_bias(encoder_attention_mask, x.dtype)
        presents = []
        for i, layer in enumerate(self.decoder):
            pk, pv = (past[i] if past is not None else (None, None))
            ck, cv = cross[i]
            x, k, v = layer(x, self_bias, pk, pv, ck, cv, cross_bias)
            presents.append((k, v))
        x = self.dec_ln_out(x)
        logits = F.linear(x, self.embed.weight) + self.final_logits_bias
        return logits, presents

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        decoder_input_ids: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        label_smoothing: float = 0.0,
    ):
        """Teacher-forced forward; returns (logits, loss or None). Labels use -100 for ignored positions."""
        enc = self.encode(input_ids, attention_mask)
        logits, _ = self.decode(decoder_input_ids, attention_mask, self.cross_kv(enc))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                labels.reshape(-1),
                ignore_index=-100,
                label_smoothing=label_smoothing,
            )
        return logits, loss


def shift_tokens_right(labels: torch.Tensor, pad_token_id: int, decoder_start_token_id: int) -> torch.Tensor:
    """Decoder inputs for teacher forcing: [start] + labels[:-1], with -100 replaced by pad."""
    out = labels.new_zeros(labels.shape)
    out[:, 1:] = labels[:, :-1].clone()
    out[:, 0] = decoder_start_token_id
    return out.masked_fill(out == -100, pad_token_id)


# ---------------------------------------------------------------- ONNX export (Optimum layout)


class _EncoderExport(nn.Module):
    def __init__(self, m: Bart):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m.encode(input_ids, attention_mask)


class _DecoderExport(nn.Module):
    def __init__(self, m: Bart):
        super().__init__()
        self.m = m

    def forward(self, input_ids, encoder_attention_mask, encoder_hidden_states):
        cross = self.m.cross_kv(encoder_hidden_states)
        logits, presents = self.m.decode(input_ids, encoder_attention_mask, cross)
        out = [logits]
        for (k, v), (ck, cv) in zip(presents, cross):
            out += [k, v, ck, cv]
        return tuple(out)


class _DecoderWithPastExport(nn.Module):
    def __init__(self, m: Bart):
        super().__init__()
        self.m = m

    def forward(self, input_ids, encoder_attention_mask, *past_flat):
        n = self.m.config.decoder_layers
        past = [(past_flat[4 * i], past_flat[4 * i + 1]) for i in range(n)]
        cross = [(past_flat[4 * i + 2], past_flat[4 * i + 3]) for i in range(n)]
        logits, presents = self.m.decode(input_ids, encoder_attention_mask, cross, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def export_optimum(model: Bart, outdir: str, opset: int = 14, extra_config: Optional[dict] = None) -> None:
    """Writes encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx and config.json to outdir.

    I/O names are Optimum's: the encoder takes input_ids/attention_mask and returns last_hidden_state;
    the decoder takes input_ids/encoder_attention_mask/encoder_hidden_states and returns logits plus
    present.{i}.decoder.key|value and present.{i}.encoder.key|value; the with-past decoder takes
    input_ids/encoder_attention_mask and past_key_values.{i}.{decoder,encoder}.{key,value} and returns
    logits plus present.{i}.decoder.key|value (cross-attention keys never change, so it does not
    return them and does not need encoder_hidden_states).
    """
    os.makedirs(outdir, exist_ok=True)
    c = model.config
    was_training = model.training
    model.eval()
    b, s, t = 2, 5, 3
    ids = torch.randint(3, c.vocab_size, (b, s), dtype=torch.long)
    mask = torch.ones(b, s, dtype=torch.long)
    dec_ids = torch.randint(3, c.vocab_size, (b, t), dtype=torch.long)
    n = c.decoder_layers
    with torch.no_grad():
        enc = model.encode(ids, mask)
        torch.onnx.export(
            _EncoderExport(model),
            (ids, mask),
            os.path.join(outdir, "encoder_model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
                "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"},
            },
            opset_version=opset,
            do_constant_folding=True,
        )
        present_names = []
        dyn = {
            "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size", 1: "decoder_sequence_length"},
        }
        for i in range(n):
            for kind, axis in (("decoder", "past_decoder_sequence_length + 1"), ("encoder", "encoder_sequence_length_out")):
                for kv in ("key", "value"):
                    name = f"present.{i}.{kind}.{kv}"
                    present_names.append(name)
                    dyn[name] = {0: "batch_size", 2: axis if kind == "encoder" else "decoder_sequence_length"}
        torch.onnx.export(
            _DecoderExport(model),
            (dec_ids, mask, enc),
            os.path.join(outdir, "decoder_model.onnx"),
            input_names=["input_ids", "encoder_attention_mask", "encoder_hidden_states"],
            output_names=["logits"] + present_names,
            dynamic_axes=dyn,
            opset_version=opset,
            do_constant_folding=True,
        )
        cross = model.cross_kv(enc)
        _, presents = model.decode(dec_ids, mask, cross)
        past_flat, past_names, out_names = [], [], ["logits"]
        dyn = {
            "input_ids": {0: "batch_size"},
            "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
            "logits": {0: "batch_size"},
        }
        for i in range(n):
            for kind, (k, v) in (("decoder", presents[i]), ("encoder", cross[i])):
                for kv, tensor in (("key", k), ("value", v)):
                    name = f"past_key_values.{i}.{kind}.{kv}"
                    past_flat.append(tensor)
                    past_names.append(name)
                    dyn[name] = {
                        0: "batch_size",
                        2: "past_decoder_sequence_length" if kind == "decoder" else "encoder_sequence_length_out",
                    }
            for kv in ("key", "value"):
                name = f"present.{i}.decoder.{kv}"
                out_names.append(name)
                dyn[name] = {0: "batch_size", 2: "past_decoder_sequence_length + 1"}
        torch.onnx.export(
            _DecoderWithPastExport(model),
            (dec_ids[:, :1], mask, *past_flat),
            os.path.join(outdir, "decoder_with_past_model.onnx"),
            input_names=["input_ids", "encoder_attention_mask"] + past_names,
            output_names=out_names,
            dynamic_axes=dyn,
            opset_version=opset,
            do_constant_folding=True,
        )
    cfg = c.to_hf_config()
    if extra_config:
        cfg.update(extra_config)
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(outdir, "generation_config.json"), "w") as f:
        json.dump(
            {
                "bos_token_id": c.bos_token_id,
                "eos_token_id": c.eos_token_id,
                "pad_token_id": c.pad_token_id,
                "decoder_start_token_id": c.decoder_start_token_id,
            },
            f,
            indent=2,
        )
    model.train(was_training)


# ---------------------------------------------------------------- reference generation (fixtures)


@torch.no_grad()
def reference_greedy(model: Bart, input_ids: List[int], max_new_tokens: int) -> Tuple[List[int], float]:
    """Greedy decoding of one input. Returns generated ids (without the start token, with the final EOS if
    produced) and the sum of log-probabilities of the chosen tokens. Stops at EOS or max_new_tokens."""
    c = model.config
    model.eval()
    ids = torch.tensor([input_ids])
    mask = torch.ones_like(ids)
    cross = model.cross_kv(model.encode(ids, mask))
    cur = torch.tensor([[c.decoder_start_token_id]])
    past = None
    out: List[int] = []
    score = 0.0
    for _ in range(max_new_tokens):
        logits, past = model.decode(cur, mask, cross, past)
        logp = F.log_softmax(logits[0, -1].double(), dim=-1)
        tok = int(torch.argmax(logp))
        score += float(logp[tok])
        out.append(tok)
        if tok == c.eos_token_id:
            break
        cur = torch.tensor([[tok]])
    return out, score


@torch.no_grad()
def reference_beam(
    model: Bart,
    input_ids: List[int],
    num_beams: int,
    max_new_tokens: int,
    length_penalty: float = 1.0,
    early_stopping: bool = True,
    num_return_sequences: int = 1,
) -> List[Tuple[List[int], float]]:
    """Beam search with the semantics the TypeScript runtime implements:

    - beams start as [start] with scores [0, -inf, ...]; each step every beam's log-softmax is added to its
      score and the best 2*num_beams (beam, token) candidates over all beams are taken in descending score
      order (ties: lower flat index beam*V+token first);
    - a candidate ending in EOS becomes a finished hypothesis if its rank among the candidates is
      < num_beams, with score sum_logprobs / (generated_length ** length_penalty), generated_length counting
      the EOS; otherwise a candidate continues as a live beam until num_beams are live;
    - with early_stopping, a search is done once num_beams hypotheses are finished; without it, once
      num_beams are finished and the best live beam cannot beat the worst finished one
      (best_live_sum / (cur_len ** length_penalty) <= worst_finished);
    - at max_new_tokens the live beams join the hypotheses; the best num_return_sequences are returned,
      highest score first.
    """
    c = model.config
    model.eval()
    V = c.vocab_size
    ids = torch.tensor([input_ids] * num_beams)
    mask = torch.ones_like(ids)
    cross = model.cross_kv(model.encode(ids, mask))
    beams: List[List[int]] = [[] for _ in range(num_beams)]
    scores = torch.full((num_beams,), float("-inf"), dtype=torch.float64)
    scores[0] = 0.0
    cur = torch.full((num_beams, 1), c.decoder_start_token_id, dtype=torch.long)
    past = None
    hyps: List[Tuple[List[int], float]] = []

    def add_hyp(tokens: List[int], sum_logp: float) -> None:
        hyps.append((tokens, sum_logp / (len(tokens) ** length_penalty)))
        hyps.sort(key=lambda h: -h[1])
        del hyps[num_beams:]

    for step in range(max_new_tokens):
        logits, past = model.decode(cur, mask, cross, past)
        logp = F.log_softmax(logits[:, -1].double(), dim=-1)  # [nb, V]
        cand = (logp + scores[:, None]).reshape(-1)
        # Stable descending order: sort by (-score, index).
        order = sorted(range(cand.shape[0]), key=lambda j: (-float(cand[j]), j))[: 2 * num_beams]
        next_beams, next_scores, src = [], [], []
        for rank, j in enumerate(order):
            b, tok = divmod(j, V)
            sc = float(cand[j])
            if sc == float("-inf"):
                continue
            if tok == c.eos_token_id:
                if rank < num_beams:
                    add_hyp(beams[b] + [tok], sc)
                continue
            next_beams.append(beams[b] + [tok])
            next_scores.append(sc)
            src.append(b)
            if len(next_beams) == num_beams:
                break
        cur_len = step + 1
        done = False
        if len(hyps) >= num_beams:
            if early_stopping:
                done = True
            else:
                best_live = max(next_scores) if next_scores else float("-inf")
                done = best_live / (cur_len**length_penalty) <= hyps[-1][1]
        if done or step == max_new_tokens - 1 or not next_beams:
            if not done:
                for tokens, sc in zip(next_beams, next_scores):
                    add_hyp(tokens, sc)
            break
        beams = next_beams
        scores = torch.tensor(next_scores, dtype=torch.float64)
        idx = torch.tensor(src)
        past = [(k[idx], v[idx]) for k, v in past]
        cur = torch.tensor([[b[-1]] for b in beams])
    return hyps[:num_return_sequences]
