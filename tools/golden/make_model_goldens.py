#!/usr/bin/env python3
"""Golden fixtures for ssm4j's model and training tests, made by Hugging Face transformers.

The Java tests only READ the files this script writes (CI has no Python). Regenerate with:

    python3 -m venv /opt/golden-venv
    /opt/golden-venv/bin/pip install --no-index --find-links DIR_WITH_WHEELS \
        torch==2.13.0+cpu transformers==5.17.0 safetensors numpy
    /opt/golden-venv/bin/python tools/golden/make_model_goldens.py

Reference: MambaForCausalLM / Mamba2ForCausalLM on their pure-PyTorch path (no CUDA kernels), fp32.
For every model NAME it writes into ssm-core/src/test/resources/golden/NAME/:
  config.json, model.safetensors          the checkpoint (HF names; a tied lm_head is absent)
  golden.json                             token ids, generation settings, greedy continuation
  expected.safetensors                    F32 tensors:
      logits                [L, V]   parallel forward over `tokens`
      hidden.{i}            [L, H]   output of layer i (i < num_layers); hidden.{num_layers} = norm_f output
      logits_recurrent      [L, V]   the same tokens fed one at a time through HF's cache
      logits_prefill_decode [L, V]   prefill of the first `prefill` tokens, then one token at a time
      logits_batch          [2, L, V] a left-padded batch: row 0 = tokens, row 1 = batch_row1 padded on
                                     the left with pad_token_id (attention_mask 0 there); only positions
                                     with mask 1 are meaningful. transformers zeroes masked rows of
                                     each mixer's input and of the conv output (not of in_proj's
                                     output), so with use_bias=True a left-padded row is NOT the same
                                     as the row run alone: the conv sees in_proj's bias at pad positions.
                                     A model that wants to match must apply the mask at those two places.
config.json writes time_step_limit's infinity as {"__float__": "Infinity"} (transformers 5 JSON encoding).
and into ssm-train/src/test/resources/golden/NAME/:
  grads.safetensors     loss (shape [1]) and the gradient of every parameter (HF names) of the mean
                        next-token cross-entropy of `train_tokens` (labels = inputs, shifted inside HF)
  adamw.json            5 steps of torch.optim.AdamW on a fixed batch: the loss of each step before its
                        update, with the hyper-parameters and the no-weight-decay rule used.

Mamba-1's multi-token continuation from a cache is NOT taken from transformers: its CPU path restarts the
selective scan from a zero state (it ignores the cached SSM state), so the tests compare a continued chunk
against `logits` (one pass over the whole sequence) instead.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import Mamba2Config, Mamba2ForCausalLM, MambaConfig, MambaForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORE = os.path.join(ROOT, "ssm-core", "src", "test", "resources", "golden")
TRAIN = os.path.join(ROOT, "ssm-train", "src", "test", "resources", "golden")

L = 23          # test sequence length (not a multiple of the Mamba-2 chunk size 8)
PREFILL = 15
ROW1 = 14       # length of the shorter row of the padded batch

MODELS = {
    # odd hidden size, d_state not a multiple of 8, conv width 3, biases on, untied embeddings
    "mamba1": ("mamba", dict(vocab_size=101, hidden_size=37, state_size=5, num_hidden_layers=2, expand=2,
                             conv_kernel=3, use_bias=True, use_conv_bias=True, time_step_rank="auto",
                             layer_norm_epsilon=1e-5, tie_word_embeddings=False, pad_token_id=0,
                             bos_token_id=1, eos_token_id=2)),
    "mamba1_tied": ("mamba", dict(vocab_size=64, hidden_size=16, state_size=4, num_hidden_layers=2, expand=2,
                                  conv_kernel=4, use_bias=False, use_conv_bias=True, time_step_rank=3,
                                  layer_norm_epsilon=1e-5, tie_word_embeddings=True, pad_token_id=0,
                                  bos_token_id=1, eos_token_id=2)),
    # odd hidden size and head_dim, d_state 12, conv width 3, n_groups 2, biases on, untied, chunk 8 < L
    "mamba2": ("mamba2", dict(vocab_size=97, hidden_size=45, state_size=12, num_hidden_layers=2, expand=2,
                              num_heads=6, head_dim=15, n_groups=2, conv_kernel=3, use_bias=True,
                              use_conv_bias=True, chunk_size=8, layer_norm_epsilon=1e-5,
                              tie_word_embeddings=False, pad_token_id=0, bos_token_id=1, eos_token_id=2)),
    "mamba2_tied": ("mamba2", dict(vocab_size=64, hidden_size=16, state_size=8, num_hidden_layers=2, expand=2,
                                   num_heads=4, head_dim=8, n_groups=1, conv_kernel=4, use_bias=False,
                                   use_conv_bias=True, chunk_size=4, layer_norm_epsilon=1e-5,
                                   tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=2)),
}

NO_DECAY_SUFFIXES = ("A_log", ".D", "dt_proj.bias", "dt_bias", "norm.weight", "norm_f.weight", ".bias")


def build(kind, kw, seed):
    torch.manual_seed(seed)
    if kind == "mamba":
        model = MambaForCausalLM(MambaConfig(**kw))
    else:
        model = Mamba2ForCausalLM(Mamba2Config(**kw))
    # Perturb every parameter so no bias is exactly 0 and no norm weight exactly 1 (defaults hide bugs).
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def ids(n, vocab, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (n,), generator=g)


def recurrent_logits(model, tokens, prefill):
    """Feeds tokens[:prefill] as one chunk (prefill > 0) and the rest one token at a time."""
    out = []
    cache = None
    start = 0
    if prefill > 0:
        r = model(tokens[None, :prefill], use_cache=True)
        out.append(r.logits[0])
        cache = r.cache_params
        start = prefill
    for t in range(start, tokens.shape[0]):
        r = model(tokens[None, t:t + 1], cache_params=cache, use_cache=True)
        cache = r.cache_params
        out.append(r.logits[0])
    return torch.cat(out, 0)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def model_goldens(name, kind, kw, seed):
    model = build(kind, kw, seed)
    cfg = model.config
    V = cfg.vocab_size
    d = os.path.join(CORE, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    for junk in ("generation_config.json",):
        if os.path.exists(os.path.join(d, junk)):
            os.remove(os.path.join(d, junk))

    tokens = ids(L, V, seed + 2)
    with torch.no_grad():
        full = model(tokens[None], output_hidden_states=True)
        logits = full.logits[0]
        hidden = [h[0] for h in full.hidden_states]
        step = recurrent_logits(model, tokens, 0)
        pre = recurrent_logits(model, tokens, PREFILL)
        row1 = ids(ROW1, V, seed + 3)
        batch = torch.full((2, L), cfg.pad_token_id, dtype=torch.long)
        mask = torch.zeros((2, L), dtype=torch.long)
        batch[0] = tokens
        mask[0] = 1
        batch[1, L - ROW1:] = row1
        mask[1, L - ROW1:] = 1
        blog = model(batch, attention_mask=mask).logits
        prompt = tokens[None, :10]
        gen = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12, do_sample=False,
                             pad_token_id=cfg.pad_token_id, eos_token_id=None)
    exp = {"logits": logits, "logits_recurrent": step, "logits_prefill_decode": pre, "logits_batch": blog}
    for i, h in enumerate(hidden):
        exp[f"hidden.{i}"] = h
    save_file({k: v.contiguous().float() for k, v in exp.items()}, os.path.join(d, "expected.safetensors"))
    print(f"{name}: max |logits - recurrent| = {(logits - step).abs().max():.3g}, "
          f"prefill+decode {(logits - pre).abs().max():.3g}, batch row0 {(logits - blog[0]).abs().max():.3g}")
    write_json(os.path.join(d, "golden.json"), {
        "model_type": kind,
        "tokens": tokens.tolist(),
        "prefill": PREFILL,
        "batch_row1": row1.tolist(),
        "greedy_prompt": prompt[0].tolist(),
        "greedy_new_tokens": 12,
        "greedy_output": gen[0].tolist(),
        "note": "made by tools/golden/make_model_goldens.py with transformers " + __import__("transformers").__version__,
    })
    return model


def train_goldens(name, model, seed):
    cfg = model.config
    d = os.path.join(TRAIN, name)
    os.makedirs(d, exist_ok=True)
    V = cfg.vocab_size
    g = torch.Generator().manual_seed(seed + 4)
    train_tokens = torch.randint(0, V, (2, 17), generator=g)
    model.train()
    model.zero_grad()
    out = model(train_tokens, labels=train_tokens)
    out.loss.backward()
    grads = {"loss": out.loss.detach().reshape(1)}
    for n, p in model.named_parameters():
        grads["grad." + n] = p.grad.detach().clone()
    save_file({k: v.contiguous().float() for k, v in grads.items()}, os.path.join(d, "grads.safetensors"))

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if n.endswith(NO_DECAY_SUFFIXES) else decay).append(p)
    hp = dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=hp["lr"], betas=tuple(hp["betas"]), eps=hp["eps"])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = model(train_tokens, labels=train_tokens).loss
        losses.append(loss.item())
        loss.backward()
        opt.step()
    write_json(os.path.join(d, "adamw.json"), {
        "train_tokens": train_tokens.tolist(),
        "loss_is": "mean next-token cross-entropy, labels = inputs shifted by one inside the model",
        "hyper_parameters": hp,
        "no_weight_decay_suffixes": list(NO_DECAY_SUFFIXES),
        "losses": losses,
        "note": "loss of each step's batch before its update; torch " + torch.__version__,
    })
    print(f"{name}: loss {grads['loss'].item():.6f}, adamw losses {['%.5f' % x for x in losses]}")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for i, (name, (kind, kw)) in enumerate(MODELS.items()):
        model = model_goldens(name, kind, kw, 1000 + 10 * i)
        train_goldens(name, model, 1000 + 10 * i)


if __name__ == "__main__":
    sys.exit(main())
