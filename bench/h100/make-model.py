#!/usr/bin/env python3
"""Write a synthetic llama-architecture GGUF of realistic shape with
all-zero Q4_0 weights, so it costs the GPU what a real Q4_0 model of that
shape costs while compressing to almost nothing. Shapes:
  1.1b  TinyLlama 1.1B: 22 layers, n_embd 2048, GQA 32/4 heads, n_ff 5632
  7b    Llama 2 7B: 32 layers, n_embd 4096, 32/32 heads, n_ff 11008
both with a 32000-token SPM vocab. Runs with python3-gguf (Debian sid) in
the guest root: make-model.py OUT.gguf [1.1b|7b]"""
import sys

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType, LlamaFileType, TokenType

# name: (n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx)
SHAPES = {
    "1.1b": (2048, 22, 32, 4, 5632, 2048),
    "7b": (4096, 32, 32, 32, 11008, 4096),
}
N_VOCAB = 32000
Q4_0_BLOCK, Q4_0_BYTES = 32, 18


def q4_0_zeros(rows, cols, cache={}):
    key = (rows, cols)
    if key not in cache:
        assert cols % Q4_0_BLOCK == 0
        cache[key] = np.zeros((rows, cols // Q4_0_BLOCK * Q4_0_BYTES), dtype=np.uint8)
    return cache[key]


def main(path, shape):
    N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, N_FF, N_CTX = SHAPES[shape]
    HEAD_DIM = N_EMBD // N_HEAD
    w = GGUFWriter(path, "llama")
    w.add_name("pearvisor-synthetic-%s-q4_0" % shape)
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_file_type(LlamaFileType.MOSTLY_Q4_0)

    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256
    while len(tokens) < N_VOCAB:
        tokens.append("\u2581t%d" % len(tokens))
        types.append(TokenType.NORMAL)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * N_VOCAB)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    q4 = GGMLQuantizationType.Q4_0
    ones = np.ones(N_EMBD, dtype=np.float32)
    w.add_tensor("token_embd.weight", q4_0_zeros(N_VOCAB, N_EMBD), raw_dtype=q4)
    for i in range(N_LAYER):
        p = "blk.%d." % i
        w.add_tensor(p + "attn_norm.weight", ones)
        w.add_tensor(p + "attn_q.weight", q4_0_zeros(N_EMBD, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "attn_k.weight", q4_0_zeros(N_HEAD_KV * HEAD_DIM, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "attn_v.weight", q4_0_zeros(N_HEAD_KV * HEAD_DIM, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "attn_output.weight", q4_0_zeros(N_EMBD, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "ffn_norm.weight", ones)
        w.add_tensor(p + "ffn_gate.weight", q4_0_zeros(N_FF, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "ffn_up.weight", q4_0_zeros(N_FF, N_EMBD), raw_dtype=q4)
        w.add_tensor(p + "ffn_down.weight", q4_0_zeros(N_EMBD, N_FF), raw_dtype=q4)
    w.add_tensor("output_norm.weight", ones)
    w.add_tensor("output.weight", q4_0_zeros(N_VOCAB, N_EMBD), raw_dtype=q4)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] not in SHAPES):
        sys.exit("usage: make-model.py OUT.gguf [%s]" % "|".join(SHAPES))
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "1.1b")
