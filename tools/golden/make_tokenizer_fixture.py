#!/usr/bin/env python3
"""Builds the tokenizer fixture for ssm4j's BpeTokenizer tests.

The GPT-NeoX tokenizer.json used by state-spaces/mamba-*-hf cannot be downloaded here, so this
script TRAINS a small byte-level BPE tokenizer configured like it (NFC normalizer, ByteLevel
pre-tokenizer with the GPT-2 regex and add_prefix_space=false, ByteLevel decoder and
post-processor, <|endoftext|> and <|padding|> as special added tokens with ids 0 and 1, runs of
spaces as non-special "normalized" added tokens) on a corpus written below, and records what the
reference implementation (Hugging Face `tokenizers`) produces for a set of test texts:

    ssm-core/src/test/resources/tokenizer/tokenizer.json   the trained tokenizer (~1000 tokens)
    ssm-core/src/test/resources/tokenizer/goldens.json     expected ids / tokens / decodes

goldens.json holds several "variants": each is the base tokenizer.json with a few patches
(add_prefix_space=true, merges in the legacy "a b" string form, extra added tokens with
lstrip/rstrip/single_word flags, no normalizer, ignore_merges). The Java test applies the same
patches to the parsed JSON, so only one tokenizer.json is stored.

Run from the repository root (CI never runs it; its output is committed):
    /opt/golden-venv/bin/python tools/golden/make_tokenizer_fixture.py
"""
import copy
import json
import os
import sys

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = os.path.join("ssm-core", "src", "test", "resources", "tokenizer")

# A few paragraphs of our own text in several scripts, repeated so that BPE finds merges for
# English words, digits, whitespace runs, accented Latin, CJK and emoji bytes.
CORPUS = [
    "The selective state-space model reads one token at a time and keeps a fixed-size state.",
    "Unlike attention, its cost grows linearly with the length of the sequence.",
    "A small model was trained on 12,000 sentences in 3.5 hours; the loss fell from 9.21 to 2.04.",
    "We don't know whether it'll work, but they've tried and I'm sure we'd like to see it.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 100 1000 2024 3.14159 -42 +7 1e-5 0x1F",
    "def scan(x, a, b):\n    h = 0\n    for t in range(len(x)):\n        h = a[t] * h + b[t] * x[t]\n    return h\n",
    "Café, naïve, résumé, façade, jalapeño, Ångström, Zürich, São Paulo, crème brûlée.",
    "Große Straße, schöne Grüße; élève, où, déjà vu; señor, niño, año.",
    "東京は日本の首都です。状態空間モデルは長い系列を扱えます。",
    "我们今天学习选择性状态空间模型。这是一个测试句子。",
    "Emoji: 😀 😃 😄 🎉 👍 👍🏽 ❤️ 🚀 ✨ 🙂 — and symbols: © ® ™ § ¶ † ‡ • … ‰ € £ ¥",
    "Whitespace:  two  spaces,   three   spaces,\ttabs\t\tand\n\nnewlines\r\n   indented lines.",
    "<|endoftext|> marks the end of a document in GPT-NeoX style corpora.",
    "Question? Answer! (Parenthesis) [brackets] {braces} \"quotes\" 'single' `code` #hash @at 50% & more...",
    "Training is running, the learning rate is warming up, and the gradients are flowing nicely.",
    "Reading, writing, tokenizing, encoding and decoding strings is the boring but necessary thing.",
    "The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly.",
    "Discretization turns the continuous parameters (delta, A, B) into a recurrence over time steps.",
    "Hardware-aware kernels fuse the scan, keep the state in fast memory and recompute in backward.",
    "Chunked algorithms split long sequences into blocks; within a block they use matrix products.",
    "Checkpoints are stored as safetensors files with a JSON header followed by little-endian data.",
    "Le modèle lit une séquence très longue; el modelo procesa secuencias largas; das Modell ist schnell.",
    "Ελληνικά κείμενα, русский текст, עברית, العربية, हिन्दी, 한국어 문장도 포함합니다.",
    "Mathematics: α + β = γ, ∑ x_i² ≤ ∞, ∂f/∂x ≈ 0.001, √2 ≈ 1.41421, π r² ⇒ area.",
]
CORPUS = CORPUS * 20

# Test texts: mixed English, numbers, punctuation, whitespace runs, newlines, accents (composed
# and decomposed), CJK, emoji (with skin tone, ZWJ sequences, flags), special tokens in the text.
TEXTS = [
    "Hello, world! It's 2024-03-15; the price is $1,234.56 (approx.)\n\n\tIndented   with   spaces...   \n"
    "Café naïve résumé — Ångström. 東京は日本の首都です。 😀🎉👍🏽 <|endoftext|>Next doc: don't we'll they've I'm  \r\n   trailing   ",
    "",
    " leading space",
    "<|endoftext|>",
    "<|endoftext|><|padding|>x<|endoftext|>",
    "almost special <|endoftext| and <|endoftext|>> and <|ENDOFTEXT|>",
    "decomposed: e\u0301 a\u0308 n\u0303 vs composed: é ä ñ",
    "12345678901234567890 3.14159 -42 1,000,000 0.5e-10",
    "a  b   c    d\n\n\n  e\t\t f      ",
    "She'll've ISN'T it's O'Neil's rock'n'roll 'quoted'",
    "👨‍👩‍👧‍👦 family; 🇯🇵 flag; 🏳️‍🌈; keycap 1️⃣",
    "def f(x):\n    return x**2  # square\n\n\n",
    "\u0000\u0007 bell \u00a0non-breaking\u3000ideographic space\u2028line sep\u0085nel",
    "supercalifragilisticexpialidocious aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "   ",
    "\n",
    "mask test: <mask> a<mask>b  <mask>  end <mask>",
]


def build_base():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        min_frequency=2,
        show_progress=False,
        special_tokens=[
            AddedToken("<|endoftext|>", special=True, normalized=False),
            AddedToken("<|padding|>", special=True, normalized=False),
        ],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    # Like GPT-NeoX: runs of spaces are non-special, normalized added tokens (ids after the vocab).
    tok.add_tokens([AddedToken(" " * n, normalized=True, special=False) for n in (8, 4, 3, 2)])
    return json.loads(tok.to_str())


def apply(base, patches):
    """Applies patches exactly like the Java test does (see TokenizerGoldenTest.applyPatches)."""
    j = copy.deepcopy(base)
    for p in patches:
        op = p["op"]
        if op == "set":
            node = j
            for k in p["path"][:-1]:
                node = node[k]
            node[p["path"][-1]] = p["value"]
        elif op == "append":
            node = j
            for k in p["path"]:
                node = node[k]
            node.append(p["value"])
        elif op == "merges_to_strings":
            j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
        else:
            raise ValueError(op)
    return j


def variants(base):
    vocab = base["model"]["vocab"]
    next_id = max(max(vocab.values()), max(t["id"] for t in base["added_tokens"])) + 1
    ing = vocab.get("ing")
    assert ing is not None, "the corpus should produce an 'ing' token"
    return [
        ("base", []),
        ("prefix_space", [{"op": "set", "path": ["pre_tokenizer", "add_prefix_space"], "value": True}]),
        ("legacy_merges", [{"op": "merges_to_strings"}]),
        ("no_normalizer", [{"op": "set", "path": ["normalizer"], "value": None}]),
        ("ignore_merges", [{"op": "set", "path": ["model", "ignore_merges"], "value": True}]),
        ("added_token_flags", [
            {"op": "append", "path": ["added_tokens"], "value": {
                "id": next_id, "content": "<mask>", "single_word": True, "lstrip": True, "rstrip": True,
                "normalized": False, "special": True}},
            {"op": "append", "path": ["added_tokens"], "value": {
                "id": ing, "content": "ing", "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": True, "special": False}},
        ]),
    ]


def main():
    if not os.path.isdir(os.path.join("ssm-core", "src")):
        sys.exit("run from the repository root")
    os.makedirs(OUT, exist_ok=True)
    base = build_base()
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(base, f, ensure_ascii=False, indent=1)
        f.write("\n")

    out = {
        "generator": "tools/golden/make_tokenizer_fixture.py",
        "tokenizers_version": tokenizers.__version__,
        "tokenizer": "tokenizer.json",
        "variants": [],
    }
    for name, patches in variants(base):
        tok = Tokenizer.from_str(json.dumps(apply(base, patches)))
        for t in apply(base, patches)["added_tokens"]:  # ids in the file are the ids HF assigns
            assert tok.token_to_id(t["content"]) == t["id"], (name, t)
        cases = []
        for text in TEXTS:
            enc = tok.encode(text)  # the ByteLevel post-processor adds no tokens
            assert enc.ids == tok.encode(text, add_special_tokens=False).ids
            case = {
                "text": text,
                "ids": enc.ids,
                "tokens": enc.tokens,
                "decoded": tok.decode(enc.ids, skip_special_tokens=False),
                "decoded_skip_special": tok.decode(enc.ids, skip_special_tokens=True),
            }
            if name == "base":
                # Decoding single ids exercises lossy UTF-8 on partial multi-byte characters.
                case["decode_each"] = [tok.decode([i], skip_special_tokens=False) for i in enc.ids]
            cases.append(case)
        out["variants"].append({
            "name": name,
            "patches": patches,
            "vocab_size": tok.get_vocab_size(with_added_tokens=True),
            "cases": cases,
        })
    with open(os.path.join(OUT, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", OUT, "vocab", out["variants"][0]["vocab_size"])


if __name__ == "__main__":
    main()
