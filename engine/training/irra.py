"""IRRA on the retriever's CLIP (docs/training.md "Retriever"): token-level features, the training
heads, and the three losses (SDM + ID + MLM, unweighted).

The model's state dict has IRRA's layout: the CLIP under ``base_model.`` and the training-only
heads under ``classifier.``, ``cross_attn.``, ``cross_modal_transformer.``, ``ln_pre_t.``,
``ln_pre_i.``, ``ln_post.``, ``mlm_head.`` — which ``engine.full.clip_model`` knows to skip, so
a checkpoint written here is what ``interreid pack build --irra`` reads.

Two shortcuts that do not change the losses' values: the text tower runs on the batch's tokens
up to its longest end-of-text (the causal mask makes the pooled feature independent of the
padding after it), and the MLM vocabulary head is applied to the masked positions only.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F


def _project(x: torch.Tensor, proj) -> torch.Tensor:
    if proj is None:
        return x
    return proj(x) if isinstance(proj, nn.Linear) else x @ proj


def encode_text_trimmed(clip, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pooled (B, D), token features (B, L, D), trimmed tokens (B, L)) of int64 tokens (B, 192);
    L = the position of the batch's last end-of-text + 1. Pooled = projected output at the
    end-of-text token (the largest id), unnormalised."""
    eot = tokens.argmax(dim=-1)
    length = int(eot.max()) + 1
    t = tokens[:, :length]
    x = clip.token_embedding(t) + clip.positional_embedding[:length].to(clip.token_embedding.weight.dtype)
    x = clip.transformer(x, attn_mask=clip.attn_mask[:length, :length])
    x = clip.ln_final(x)
    feats = _project(x, clip.text_projection)
    pooled = feats[torch.arange(feats.shape[0], device=feats.device), eot]
    return pooled, feats, t


def encode_image_tokens(clip, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(pooled (B, D) = projected CLS, all tokens (B, 1 + P, D) projected), unnormalised."""
    visual = clip.visual
    x = visual._embeds(pixels)
    x = visual.transformer(x)
    x = visual.ln_post(x)
    feats = _project(x, visual.proj)
    return feats[:, 0], feats


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class IrraModel(nn.Module):
    """CLIP (``base_model``) + IRRA's ID classifier and cross-modal MLM branch."""

    def __init__(self, clip, num_classes: int, vocab_size: int = 49408, cmt_depth: int = 4,
                 temperature: float = 0.02):
        super().__init__()
        from open_clip.transformer import LayerNorm, Transformer

        self.base_model = clip
        dim = int(clip.text_projection.shape[1])
        heads = max(1, dim // 64)
        self.temperature = float(temperature)
        self.classifier = nn.Linear(dim, num_classes)
        nn.init.normal_(self.classifier.weight, std=0.001)
        nn.init.constant_(self.classifier.bias, 0.0)
        self.cross_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.cross_modal_transformer = Transformer(width=dim, layers=int(cmt_depth), heads=heads)
        self.ln_pre_t = LayerNorm(dim)
        self.ln_pre_i = LayerNorm(dim)
        self.ln_post = LayerNorm(dim)
        self.mlm_head = nn.Sequential(OrderedDict([
            ("dense", nn.Linear(dim, dim)), ("gelu", QuickGELU()), ("ln", LayerNorm(dim)),
            ("fc", nn.Linear(dim, vocab_size))]))
        scale = self.cross_modal_transformer.width ** -0.5
        proj_std = scale * ((2 * self.cross_modal_transformer.layers) ** -0.5)
        fc_std = (2 * self.cross_modal_transformer.width) ** -0.5
        for block in self.cross_modal_transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=scale)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.cross_attn.in_proj_weight, std=scale)
        nn.init.normal_(self.cross_attn.out_proj.weight, std=proj_std)
        nn.init.normal_(self.mlm_head.dense.weight, std=fc_std)
        nn.init.normal_(self.mlm_head.fc.weight, std=proj_std)

    def head_parameters(self) -> list[str]:
        """Names of the parameters IRRA trains at the higher learning rate (everything new)."""
        return [n for n, _ in self.named_parameters() if not n.startswith("base_model.")]

    def cross_former(self, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
        x = self.cross_attn(self.ln_pre_t(q), self.ln_pre_i(kv), self.ln_pre_i(kv), need_weights=False)[0]
        x = self.cross_modal_transformer(x)
        return self.ln_post(x)

    def forward(self, pixels: torch.Tensor, tokens: torch.Tensor, pids: torch.Tensor, mlm_tokens: torch.Tensor,
                mlm_labels: torch.Tensor, losses: tuple[str, ...] = ("sdm", "id", "mlm")) -> dict:
        """The losses of one batch: {"sdm", "id", "mlm", "loss"} (scalar tensors)."""
        clip = self.base_model
        i_pooled, i_tokens = encode_image_tokens(clip, pixels)
        t_pooled, _, _ = encode_text_trimmed(clip, tokens)
        out: dict[str, torch.Tensor] = {}
        if "sdm" in losses:
            out["sdm"] = sdm_loss(i_pooled, t_pooled, pids, 1.0 / self.temperature)
        if "id" in losses:
            labels = pids
            out["id"] = 0.5 * (F.cross_entropy(self.classifier(i_pooled.float()), labels)
                               + F.cross_entropy(self.classifier(t_pooled.float()), labels))
        if "mlm" in losses:
            _, m_tokens, trimmed = encode_text_trimmed(clip, mlm_tokens)
            x = self.cross_former(m_tokens, i_tokens)
            labels = mlm_labels[:, :trimmed.shape[1]]
            chosen = labels > 0
            if bool(chosen.any()):
                scores = self.mlm_head(x[chosen]).float()
                out["mlm"] = F.cross_entropy(scores, labels[chosen])
            else:
                out["mlm"] = x.sum() * 0.0
        out["loss"] = sum(out.values())
        return out


def sdm_loss(image_features: torch.Tensor, text_features: torch.Tensor, pids: torch.Tensor, logit_scale: float,
             epsilon: float = 1e-8) -> torch.Tensor:
    """Similarity distribution matching (IRRA): KL between the softmax of scaled cosines and the
    normalised same-identity matrix, image-to-text plus text-to-image."""
    pid = pids.reshape(-1, 1)
    labels = (pid == pid.t()).float()
    image_norm = F.normalize(image_features.float(), dim=-1)
    text_norm = F.normalize(text_features.float(), dim=-1)
    t2i = logit_scale * (text_norm @ image_norm.t())
    i2t = t2i.t()
    target = labels / labels.sum(dim=1, keepdim=True)
    i2t_loss = F.softmax(i2t, dim=1) * (F.log_softmax(i2t, dim=1) - torch.log(target + epsilon))
    t2i_loss = F.softmax(t2i, dim=1) * (F.log_softmax(t2i, dim=1) - torch.log(target + epsilon))
    return i2t_loss.sum(dim=1).mean() + t2i_loss.sum(dim=1).mean()


def mask_tokens(tokens: torch.Tensor, generator: torch.Generator, mask_id: int, vocab_size: int,
                prob: float = 0.15, special: tuple[int, ...] = (49406, 49407)) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT-style masking of text tokens (IRRA): each real token is chosen with ``prob``; a chosen
    token becomes the mask token (80 %), a random token (10 %) or stays (10 %). Returns
    (masked tokens, labels: the original id where chosen, 0 elsewhere)."""
    real = tokens > 0
    for s in special:
        real &= tokens != s
    u = torch.rand(tokens.shape, generator=generator)
    chosen = real & (u < prob)
    how = torch.rand(tokens.shape, generator=generator)
    random_ids = torch.randint(1, vocab_size - len(special) - 1, tokens.shape, generator=generator)
    masked = tokens.clone()
    masked[chosen & (how < 0.8)] = mask_id
    swap = chosen & (how >= 0.8) & (how < 0.9)
    masked[swap] = random_ids[swap]
    labels = torch.where(chosen, tokens, torch.zeros_like(tokens))
    return masked, labels
