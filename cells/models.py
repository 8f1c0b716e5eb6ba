"""The two torch models behind the bundled checkpoints.

Both keep their recurrent part in a standard `nn.RNN` / `nn.LSTM` / `nn.GRU` called
`rnn`, so `cells.from_torch(model.rnn)` traces exactly what they compute.

Text classifier (embedding -> bidirectional cell -> additive attention -> linear):

    e_t = E[x_t]                                  (T, E)
    h_t = [h→_t ; h←_t] = BiCell(e)_t             (T, 2H)
    s_t = v · tanh(W h_t + b)                     (T,)    attention scores
    a_t = exp(s_t) / Σ_u exp(s_u)                 (T,)    attention weights
    c   = Σ_t a_t h_t                             (2H,)   context
    p   = softmax(U c + d)                        (C,)    class probabilities

Character language model (embedding -> cell, 1–2 layers -> linear over the vocabulary):

    h_t = Cell(e_1 … e_t)                         (T, H)  last layer
    p(x_{t+1} | x_≤t) = softmax(U h_t + d)        (T, V)

Dropout acts only in training; `eval()` models compute the equations above.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .checkpoint import ModelConfig  # the sizes, stored in each checkpoint's sidecar

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _cell(cfg: ModelConfig, bidirectional: bool) -> nn.Module:
    if cfg.kind not in CELLS:
        raise ValueError(f"unknown cell kind {cfg.kind!r}; expected one of {tuple(CELLS)}")
    inter = cfg.dropout if cfg.num_layers > 1 else 0.0
    return CELLS[cfg.kind](cfg.embed_size, cfg.hidden_size, cfg.num_layers, batch_first=True,
                           bidirectional=bidirectional, dropout=inter)


class TextClassifier(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_size, padding_idx=0)  # id 0 is <pad>
        self.rnn = _cell(cfg, bidirectional=True)
        self.attn_W = nn.Linear(2 * cfg.hidden_size, cfg.attention_size)  # W, b
        self.attn_v = nn.Linear(cfg.attention_size, 1, bias=False)  # v
        self.out = nn.Linear(2 * cfg.hidden_size, cfg.num_classes)  # U, d
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ids (B, T) padded with 0, lengths (B,) -> logits (B, C), attention weights (B, T)."""
        e = self.drop(self.embedding(ids))  # (B, T, E)
        # Packing keeps padding out of the backward direction, which reads from the end.
        packed = pack_padded_sequence(e, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, _ = self.rnn(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=ids.shape[1])  # (B, T, 2H)
        s = self.attn_v(torch.tanh(self.attn_W(h))).squeeze(-1)  # (B, T)
        pad = torch.arange(ids.shape[1], device=ids.device)[None, :] >= lengths[:, None]
        a = torch.softmax(s.masked_fill(pad, float("-inf")), dim=1)  # (B, T)
        c = torch.einsum("bt,btd->bd", a, h)  # (B, 2H)
        return self.out(self.drop(c)), a


class CharLM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.embed_size)
        self.rnn = _cell(cfg, bidirectional=False)
        self.out = nn.Linear(cfg.hidden_size, cfg.vocab_size)  # U, d
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (B, T) -> logits (B, T, V) and the state after the last step."""
        e = self.drop(self.embedding(ids))  # (B, T, E)
        h, state = self.rnn(e, state)  # (B, T, H)
        return self.out(self.drop(h)), state


def build(cfg: ModelConfig) -> nn.Module:
    return TextClassifier(cfg) if cfg.is_classifier else CharLM(cfg)


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
