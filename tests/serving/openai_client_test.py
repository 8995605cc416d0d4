#!/usr/bin/env python3
"""Drives a running `xpusim serve` with the official `openai` Python client (PyPI package `openai`).

Usage: openai_client_test.py BASE_URL MODEL. Exits 0 on success, 1 on a failed check, 77 when the `openai`
package is not installed (the caller reports the skip). Checks: model list, completion, chat, n > 1, streaming
chat with usage, concurrent requests, a 400 error surfacing as openai.BadRequestError, and a streaming client
that hangs up mid-stream.
"""
import sys
import threading

try:
    import openai
except ImportError:
    print("openai package not installed: skipping (./setup.sh --test installs it into build/pyvenv)")
    sys.exit(77)

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


check(any(m.id == model for m in client.models.list().data), "model listed")

completion = client.completions.create(model=model, prompt="The sky is", max_tokens=6, temperature=0)
check(completion.choices[0].text != "", "completion text")
check(completion.usage.completion_tokens >= 1, "completion usage")

chat = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hello."}],
                                      max_tokens=12, temperature=0.7, top_p=0.9, seed=5, n=2)
check(len(chat.choices) == 2, "n=2 gives two choices")
check(all(c.message.role == "assistant" for c in chat.choices), "assistant role")

pieces = []
usage = None
for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count to five."}],
                                            max_tokens=10, temperature=0, stream=True,
                                            stream_options={"include_usage": True}):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
check(len(pieces) >= 2, "streamed several deltas")
check(usage is not None and usage.completion_tokens >= 1, "usage in the last chunk")

results = []
def worker(i):
    r = client.completions.create(model=model, prompt=f"Number {i}:", max_tokens=5, temperature=0)
    results.append(r.choices[0].text)
threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(len(results) == 4, "four concurrent completions")

try:
    client.completions.create(model=model, prompt="x", max_tokens=4, temperature=7)
    check(False, "temperature 7 rejected")
except openai.BadRequestError as error:
    check("temperature" in str(error), "400 names the parameter")

stream = client.completions.create(model=model, prompt="A long story:", max_tokens=400, stream=True)
for i, _ in enumerate(stream):
    if i == 2:
        stream.close()  # hang up mid-stream
        break
print("openai client: all checks passed")
