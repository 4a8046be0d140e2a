"""The learned selector (paper §4.2.1): shapes, masking, log-softmax, the top-3 + rank-1 rule,
the straight-through Gumbel top-k sampler, saving and loading from a pack folder."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from interreid.engine.errors import ModelPackError, UserError
from interreid.engine.full.selector import (LearnedSelector, SelectorNet, gumbel_topk_st, load_selector, random_selector,
                                  save_selector)

SMALL = {"layers": 2, "ffn": 256, "dropout": 0.0}


def test_default_architecture_is_the_papers():
    net = SelectorNet()
    layers = net.encoder.layers
    assert len(layers) == 5
    assert layers[0].self_attn.num_heads == 8 and layers[0].self_attn.embed_dim == 512
    assert layers[0].linear1.out_features == 2048
    assert layers[0].activation is torch.nn.functional.gelu
    assert net.head.bias is None and net.head.out_features == 1
    assert net.modality.num_embeddings == 2
    assert not any("pos" in name for name, _ in net.named_parameters())


def test_shapes_masking_and_log_softmax():
    net = random_selector(SMALL).eval()
    text, images = torch.randn(2, 512), torch.randn(2, 7, 512)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 4:] = False
    out = net(text, images, mask)
    assert out.shape == (2, 7)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2), atol=1e-5)
    assert (out[1, 4:] < -1000).all()  # padded → -1e4 before the softmax
    assert (net.scores(text, images, mask)[1, 4:] == -1e4).all()
    # padding does not change the real positions' scores (masked in attention too)
    alone = net(text[1:], images[1:, :4])
    assert torch.allclose(alone[0], out[1, :4], atol=1e-4)
    # no positional embedding: permuting the images permutes the scores
    perm = torch.tensor([3, 0, 2, 1])
    assert torch.allclose(net(text[1:], images[1:, :4][:, perm])[0], alone[0][perm], atol=1e-4)


def test_select_is_rank1_plus_top3_in_rank_order(rng):
    net = random_selector(SMALL, seed=1)
    sel = LearnedSelector(net, device="cpu")
    vectors = rng.normal(size=(50, 512)).astype(np.float32)
    topk = rng.permutation(50)[:20]
    query = rng.normal(size=512).astype(np.float32)
    chosen = sel.select(topk, vectors, c=4, query_vector=query)
    w = sel.weights(topk, vectors, query)
    best3 = set(int(topk[1 + p]) for p in np.argsort(-w)[:3])
    assert chosen[0] == int(topk[0]) and set(chosen[1:]) == best3
    positions = [list(topk).index(r) for r in chosen]
    assert positions == sorted(positions)
    assert sel.select(topk[:3], vectors, c=4, query_vector=query) == [int(r) for r in topk[:3]]


def test_select_without_query_vector_is_a_user_error(rng):
    sel = LearnedSelector(random_selector(SMALL), device="cpu")
    with pytest.raises(UserError, match="text embedding"):
        sel.select(np.arange(10), rng.normal(size=(10, 512)).astype(np.float32), c=4)


def test_gumbel_topk_straight_through():
    torch.manual_seed(0)
    logits = torch.randn(3, 12, requires_grad=True)
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[2, 6:] = False
    khot = gumbel_topk_st(torch.log_softmax(logits, -1), 3, tau=0.5, mask=mask)
    assert torch.allclose(khot.detach().sum(-1), torch.tensor(3.0))
    assert set(khot.detach().unique().tolist()) <= {0.0, 1.0}
    assert (khot.detach()[2, 6:] == 0).all()
    target = torch.randn(3, 12)
    (khot * target).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    # the selector itself gets a gradient through the sampler
    net = random_selector(SMALL)
    out = net(torch.randn(1, 512), torch.randn(1, 9, 512))
    (gumbel_topk_st(out, 3, tau=1.0) * torch.randn(1, 9)).sum().backward()
    assert net.head.weight.grad.abs().sum() > 0


def test_save_and_load_from_a_pack_folder(tmp_path, rng):
    net = random_selector(SMALL, seed=3).eval()
    files = save_selector(net, tmp_path / "pack" / "selector")
    assert set(files) == {"selector.safetensors", "selector.json"}
    sel = load_selector(tmp_path / "pack", device="cpu")
    assert sel.name == "learned"
    text, images = torch.randn(1, 512), torch.randn(1, 5, 512)
    assert torch.allclose(sel.net(text, images), net(text, images))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelPackError, match="no selector"):
        load_selector(tmp_path / "empty")


def test_full_size_selector_at_k200_picks_rank1_plus_three(rng, capsys):
    sel = LearnedSelector(random_selector(seed=0), device="cpu")  # the full 5-layer model
    vectors = rng.normal(size=(300, 512)).astype(np.float32)
    topk, query = np.arange(200), rng.normal(size=512).astype(np.float32)
    picks = sel.select(topk, vectors, query_vector=query)
    assert len(picks) == 4 and picks[0] == 0 and picks == sorted(picks) and len(set(picks)) == 4
    tick = time.perf_counter()
    for _ in range(5):
        sel.select(topk, vectors, query_vector=query)
    ms = (time.perf_counter() - tick) / 5 * 1000
    with capsys.disabled():
        print(f"\n[learned selector, k=200, CPU, {torch.get_num_threads()} threads] {ms:.1f} ms per select")
    # latency is reported above for the record; speed is benchmarked, never asserted in tests
