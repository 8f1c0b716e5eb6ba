"""Attribution for the bundled models (Model.explain) against torch's autograd on the same checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cells
from cells import checkpoint, zoo

TEXT = "the film is not bad at all"


def unrolled(rnn: torch.nn.Module, e: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """rnn (one layer, nn.LSTM/GRU/RNN) over e (T, E), written out step by step so that every
    h_t keeps its total gradient (torch's fused kernel gives only the output's)."""
    H, T = rnn.hidden_size, e.shape[0]
    hs_all, keep = [], {}
    for d in range(2 if rnn.bidirectional else 1):
        sfx = "_l0" + ("_reverse" if d else "")
        W_ih, W_hh, b_ih, b_hh = (getattr(rnn, n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        h, c = torch.zeros(H), torch.zeros(H)
        hs = [None] * T
        for t in (range(T - 1, -1, -1) if d else range(T)):
            ax, ah = W_ih @ e[t] + b_ih, W_hh @ h + b_hh
            if isinstance(rnn, torch.nn.LSTM):
                a = ax + ah
                i, f, g, o = torch.sigmoid(a[:H]), torch.sigmoid(a[H:2 * H]), torch.tanh(a[2 * H:3 * H]), torch.sigmoid(a[3 * H:])
                c = f * c + i * g
                h = o * torch.tanh(c)
            elif isinstance(rnn, torch.nn.GRU):
                r, z = torch.sigmoid(ax[:H] + ah[:H]), torch.sigmoid(ax[H:2 * H] + ah[H:2 * H])
                h = (1 - z) * torch.tanh(ax[2 * H:] + r * ah[2 * H:]) + z * h
            else:
                h = torch.tanh(ax + ah)
            h.retain_grad()
            keep[(0, d, t)] = h
            hs[t] = h
        hs_all.append(torch.stack(hs))
    return torch.cat(hs_all, dim=1), keep


def classifier_logp(module, e: torch.Tensor, target: int) -> tuple[torch.Tensor, dict]:
    h, keep = unrolled(module.rnn, e)
    s = module.attn_v(torch.tanh(module.attn_W(h))).squeeze(-1)
    c = torch.softmax(s, 0) @ h
    return torch.log_softmax(module.out(c), -1)[target], keep


def lm_logp(module, e: torch.Tensor, position: int, target: int) -> tuple[torch.Tensor, dict]:
    h, keep = unrolled(module.rnn, e)
    return torch.log_softmax(module.out(h[position]), -1)[target], keep


def torch_saliencies(f, E: torch.Tensor, unk: torch.Tensor) -> dict[str, np.ndarray]:
    def grad(x):
        x = x.detach().requires_grad_()
        lp, keep = f(x)
        lp.backward()
        return lp.item(), x.grad, keep
    lp, g, keep = grad(E)
    ig = sum(grad(E * ((k + 0.5) / 32))[1] for k in range(32)) / 32
    occ = []
    for t in range(len(E)):
        x = E.clone()
        x[t] = unk
        occ.append(lp - f(x)[0].item())
    return {"grad_x_input": (g * E).sum(-1).numpy(), "integrated_gradients": (ig * E).sum(-1).numpy(),
            "occlusion": np.array(occ), "logp": lp, "base": grad(torch.zeros_like(E))[0], "keep": keep}


@pytest.mark.parametrize("name", ["sst2-rnn", "sst2-lstm", "trec-gru"])
def test_classifier_attributions_equal_autograd(name):
    m = cells.load_model(name)
    module = checkpoint.load_module(zoo.WEIGHTS / name)[0]
    ids = torch.from_numpy(m.encode(TEXT))
    unk = module.embedding.weight[m.vocab.index("<unk>")].detach()
    for target in (None, 0):
        e = m.explain(TEXT, target=target)
        want = torch_saliencies(lambda x: classifier_logp(module, x, e.target), module.embedding(ids).detach(), unk)
        assert e.logprob == pytest.approx(want["logp"], abs=1e-5) and e.baseline_logprob == pytest.approx(want["base"], abs=1e-5)
        for k in ("grad_x_input", "integrated_gradients", "occlusion"):
            np.testing.assert_allclose(e.saliency[k], want[k], atol=2e-5, err_msg=k)
        T = len(e.tokens)
        for d in (0, 1):  # ‖dL/dh_t‖ of each direction, recurrence included
            got = e.grad_norms[(0, d)]
            np.testing.assert_allclose(got, [want["keep"][(0, d, t)].grad.norm().item() for t in range(T)], rtol=1e-4, atol=1e-7)
    assert e.target == 0 and e.target_label == m.labels[0]


def test_integrated_gradients_are_complete_within_5_percent():
    for name in ("sst2-lstm", "trec-rnn", "shakespeare-gru"):
        m = cells.load_model(name)
        e = m.explain(TEXT, position=10) if not m.is_classifier else m.explain(TEXT)
        gap = e.logprob - e.baseline_logprob
        assert abs(e.saliency["integrated_gradients"].sum() - gap) <= 0.05 * abs(gap) + 1e-6, name


@pytest.mark.parametrize("name", ["jaychou-gru", "shakespeare-lstm", "jaychou-rnn"])
def test_language_model_connectivity_equals_autograd(name):
    m = cells.load_model(name)
    module = checkpoint.load_module(zoo.WEIGHTS / name)[0]
    text = "分开的时候我的心在下雨" if name.startswith("jaychou") else "ROMEO: soft, what light"
    position = 5
    e = m.explain(text, position=position)
    ids = torch.from_numpy(m.encode(text))[: position + 1]
    assert e.tokens == m.analyze(text).tokens[: position + 1] and e.target == m.encode(text)[position + 1]
    unk = module.embedding.weight[m.vocab.index("<unk>")].detach()
    want = torch_saliencies(lambda x: lm_logp(module, x, position, e.target), module.embedding(ids).detach(), unk)
    assert e.logprob == pytest.approx(want["logp"], abs=1e-5)
    for k in ("grad_x_input", "integrated_gradients", "occlusion"):
        np.testing.assert_allclose(e.saliency[k], want[k], atol=2e-5, err_msg=k)
    np.testing.assert_allclose(e.grad_norms[(0, 0)], [want["keep"][(0, 0, t)].grad.norm().item() for t in range(position + 1)],
                               rtol=1e-4, atol=1e-7)


def test_bad_targets_and_positions_are_clear_errors():
    sst, lm = cells.load_model("sst2-gru"), cells.load_model("jaychou-lstm")
    with pytest.raises(ValueError, match="class index from 0 to 1"):
        sst.explain(TEXT, target=2)
    with pytest.raises(ValueError, match="position is for language models"):
        sst.explain(TEXT, position=1)
    with pytest.raises(ValueError, match="from 0 to 1"):
        lm.explain("分开的", position=2)  # past the last character with a next one
    with pytest.raises(ValueError, match="target is for classifiers"):
        lm.explain("分开的", target=1, position=0)
    with pytest.raises(ValueError, match="from 0 to -1"):
        lm.explain("分", position=0)  # T = 1: nothing follows
    with pytest.raises(ValueError, match="not in the vocabulary"):
        cells.load_model("shakespeare-gru").explain("ab☃", position=1)
    with pytest.raises(ValueError, match="untrained"):
        cells.untrained_model("lstm").explain("abc")
    e = sst.explain(TEXT)
    with pytest.raises(ValueError):
        e.saliency["occlusion"][0] = 1.0


def test_connectivity_rows_are_gradient_norms_from_autograd():
    m = cells.load_model("jaychou-lstm")
    module = checkpoint.load_module(zoo.WEIGHTS / "jaychou-lstm")[0]
    text = "分开的时候我的心"
    C = m.connectivity(text)
    ids = m.encode(text)
    assert C.shape == (len(text) - 1, len(text)) and not C.flags.writeable
    for p in (0, 3, 6):
        e = module.embedding(torch.from_numpy(ids[: p + 1])).detach().requires_grad_()
        lp, _ = lm_logp(module, e, p, int(ids[p + 1]))
        lp.backward()
        np.testing.assert_allclose(C[p, : p + 1], e.grad.norm(dim=1).numpy(), rtol=1e-4, atol=1e-7)
        assert (C[p, p + 1:] == 0).all()  # a language model cannot look ahead
    with pytest.raises(ValueError, match="not a trained language model"):
        cells.load_model("trec-gru").connectivity(text)


def test_uniform_attention_moves_the_prediction_as_torch_says():
    m = cells.load_model("sst2-gru")
    module = checkpoint.load_module(zoo.WEIGHTS / "sst2-gru")[0]
    T = len(m.analyze(TEXT).tokens)
    got = m.probs_with_attention(TEXT, np.full(T, 1 / T))
    with torch.no_grad():
        h, _ = module.rnn(module.embedding(torch.from_numpy(m.encode(TEXT)))[None])
        want = torch.softmax(module.out(h[0].mean(0)), -1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(m.probs_with_attention(TEXT, m.analyze(TEXT).attention), m.analyze(TEXT).probs, atol=1e-6)
    with pytest.raises(ValueError, match="sum to 1"):
        m.probs_with_attention(TEXT, np.ones(T))


def test_kendall_tau_and_forget_products():
    from cells import readout
    from cells.explain import kendall_tau

    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1 and kendall_tau([1, 2, 3], [3, 2, 1]) == -1
    assert kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert np.isnan(kendall_tau([1, 1, 1], [1, 2, 3]))
    a = cells.load_model("sst2-lstm").analyze(TEXT)
    f = np.asarray(a.trace.layer(0, 0).gates["f"], np.float64)
    P = readout.forget_products(a.trace, 0, 0)
    np.testing.assert_allclose(P[2], f[3:].prod(axis=0)) and np.testing.assert_allclose(P[-1], 1)
    with pytest.raises(ValueError, match="no forget gate"):
        readout.forget_products(cells.load_model("sst2-gru").analyze(TEXT).trace, 0, 0)


def test_gradient_files_read_back():
    from cells import export

    e = cells.load_model("trec-lstm").explain("who wrote hamlet ?")
    data = export.gradients_to_csv(dict(e.dh), dict(e.dc), e.tokens)
    back = export.read_csv(data)
    np.testing.assert_array_equal(back.get("dh", 0, 1), np.asarray(e.dh[(0, 1)], np.float32))
    np.testing.assert_array_equal(back.get("dc", 0, 0), np.asarray(e.dc[(0, 0)], np.float32))
    arrays = export.gradient_arrays(dict(e.dh), dict(e.dc), dict(e.saliency))
    import io
    with np.load(io.BytesIO(export.gradients_to_npz(arrays))) as z:
        np.testing.assert_array_equal(z["saliency/occlusion"], e.saliency["occlusion"])
