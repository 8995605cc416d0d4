#!/usr/bin/env python3
"""Bounded, self-stopping load test of `xpusim serve` on loopback (127.0.0.1 only).

Usage: load_test.py XPUSIM_BINARY. Exits 0 when every check holds, 1 on a failed check, 77 when the default
model (real SmolLM2-135M GGUF) is not in the model cache (ctest reports the skip).

At the same time, against one server started with --max-requests LIMIT:
  * CLIENTS concurrent clients (default 256), each sending ROUNDS requests: a third stream (SSE), a third do
    not, and every eighth hangs up abruptly (right after sending, or after the first event);
  * SLOW slow clients (default 50): half send 8 bytes of their request one byte every 0.5 s, then nothing
    (cut by the idle timeout, 2 s); the other half trickle a byte every 0.5 s forever, a header that never
    ends (never idle, cut by the whole-request deadline, --request-timeout, default 10 s);
  * one chunked POST of BIG_MB MB (default 300) to /v1/chat/completions (refused at the 1 MiB body limit);
  * a probe sending a small normal request every 0.25 s, whose latency is measured.
Checks: every well-formed request gets a complete valid answer (200 with a parsed body or a stream ending in
[DONE]) or HTTP 429 with Retry-After; no connection reset or answerless close for a well-formed request; every
probe answered in < 2 s; the slow clients are cut (the trickling ones within the deadline + 1.5 s); the big body gets 413; the server's peak RSS stays under
RSS_BOUND_MB; afterwards the engine holds no request and no KV and the only open connection is the stats
request's own. Prints the figures.
Bounds: every socket operation has a timeout, the whole run stops itself after DEADLINE_S (120 s) and
the server is killed at the end whatever happens.
Scaling: XPUSIM_LOAD_SCALE (default 1.0) multiplies CLIENTS and SLOW (e.g. 0.25 on a very slow machine); the
default is what issue 18 asks for.
"""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

SCALE = float(os.environ.get("XPUSIM_LOAD_SCALE", "1.0"))
CLIENTS = max(8, int(256 * SCALE))
SLOW = max(4, int(50 * SCALE))
ROUNDS = 2
BIG_MB = 300
LIMIT = 64  # --max-requests: requests in flight before 429
RSS_BOUND_MB = 1024
IDLE_TIMEOUT_S = 2
REQUEST_TIMEOUT_S = 10  # the server's default
DEADLINE_S = 120  # ctest TIMEOUT is 150
PROBE_LATENCY_BOUND_S = 2.0
MODEL = os.path.join(os.environ.get("XPUSIM_MODEL_DIR", os.path.expanduser("~/.cache/xpusim/models")),
                     "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf")


class Figures:
    def __init__(self):
        self.ok = 0
        self.ok_stream = 0
        self.busy_429 = 0
        self.disconnects = 0
        self.resets = 0
        self.invalid = []
        self.probe_latencies = []  # during the attack alone (slow clients + big body)
        self.probe_latencies_burst = []  # while the burst also saturates the engine (reported, not bounded)
        self.burst_running = False
        self.probe_failures = 0
        self.slow_cut = 0
        self.slow_not_cut = 0
        self.silent_cut_s = []  # slow clients that fall silent: seconds from their last byte to the cut
        self.trickle_cut_s = []  # slow clients that trickle forever: seconds from connect to the cut
        self.big_status = None


def request_bytes(port, body, path="/v1/completions"):
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


def dechunk(body):
    out = b""
    while body:
        line, _, rest = body.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d+)", lines[0]) if lines else None
    if not match:
        return None, {}, b""
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return int(match.group(1)), headers, body


async def exchange(port, payload, timeout=60.0, hang_up=None):
    """Sends payload, reads the whole answer. hang_up: None, 'after_send', 'after_first'."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(payload)
        await writer.drain()
        if hang_up == "after_send":
            writer.transport.abort()
            return "hung_up", None, b""
        raw = b""
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            raw += chunk
            if hang_up == "after_first" and b"data: " in raw:
                writer.transport.abort()
                return "hung_up", None, b""
        return parse_response(raw)
    finally:
        writer.close()


def valid_answer(status, headers, body, stream):
    if status == 429:
        return headers.get("retry-after") is not None
    if status != 200:
        return False
    if stream:
        events = [line[6:] for line in body.decode(errors="replace").split("\n") if line.startswith("data: ")]
        if not events or events[-1] != "[DONE]":
            return False
        return all("choices" in json.loads(e) for e in events[:-1])
    answer = json.loads(body)
    return answer["choices"][0]["text"] is not None and answer["usage"]["completion_tokens"] >= 1


async def client(port, index, figures):
    stream = index % 3 == 0
    for round_index in range(ROUNDS):
        hang_up = None
        if index % 8 == 7:
            hang_up = "after_first" if stream else "after_send"
        body = {"prompt": f"Count: {index} {round_index},", "max_tokens": 3, "temperature": 0, "stream": stream}
        try:
            status, headers, answer = await exchange(port, request_bytes(port, body), hang_up=hang_up)
        except (ConnectionResetError, BrokenPipeError):
            figures.resets += 1
            continue
        except (asyncio.TimeoutError, OSError) as error:
            figures.invalid.append(f"client {index}: {type(error).__name__} {error}")
            continue
        if status == "hung_up":
            figures.disconnects += 1
            continue
        if status is None:
            figures.resets += 1  # closed without an HTTP answer
            continue
        try:
            ok = valid_answer(status, headers, answer, stream)
        except (ValueError, KeyError, IndexError, TypeError):
            ok = False
        if not ok:
            figures.invalid.append(f"client {index}: HTTP {status} {answer[:200]!r}")
        elif status == 429:
            figures.busy_429 += 1
            await asyncio.sleep(0.05)
        else:
            figures.ok += 1
            figures.ok_stream += stream


async def slow_client(port, figures, stop, trickle_forever):
    """Sends a byte every 0.5 s: 8 bytes then silence, or (trickle_forever) a header that never ends."""
    if trickle_forever:
        head = f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Trickle: ".encode()
        payload = iter(lambda: b"a", None)
    else:
        head = b""
        payload = (bytes([b]) for b in request_bytes(port, {"prompt": "slow", "max_tokens": 1})[:8])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        figures.slow_not_cut += 1
        return
    started = time.monotonic()
    last_byte = started
    cut = False
    try:
        writer.write(head)
        for byte in payload:
            if stop.is_set() or time.monotonic() - started > 3 * REQUEST_TIMEOUT_S:
                break
            writer.write(byte)
            await writer.drain()
            last_byte = time.monotonic()
            try:  # an answer or EOF before the request is complete means the server cut us
                data = await asyncio.wait_for(reader.read(4096), 0.5)
                if data == b"" or data.startswith(b"HTTP/1.1 408"):
                    cut = True
                    break
            except asyncio.TimeoutError:
                pass
        while not cut and not trickle_forever:  # silent now: wait (bounded) for the server to close
            data = await asyncio.wait_for(reader.read(4096), 10)
            cut = data == b""
    except (ConnectionResetError, BrokenPipeError, OSError):
        cut = True
    except asyncio.TimeoutError:
        cut = False
    finally:
        writer.transport.abort()
    now = time.monotonic()
    if cut and trickle_forever:
        figures.trickle_cut_s.append(now - started)
    elif cut:
        figures.silent_cut_s.append(now - last_byte)
    if cut and now - started < 3 * REQUEST_TIMEOUT_S:
        figures.slow_cut += 1
    else:
        figures.slow_not_cut += 1


async def big_chunked_body(port, figures):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    piece = b"a" * (1 << 20)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent_mb = 0
    try:
        for _ in range(BIG_MB):
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 10)
            sent_mb += 1
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except (ConnectionResetError, BrokenPipeError, asyncio.TimeoutError, OSError):
        pass  # refused mid-body: expected
    try:
        raw = await asyncio.wait_for(reader.read(65536), 10)
        figures.big_status = parse_response(raw)[0] if raw else "closed"
    except (ConnectionResetError, asyncio.TimeoutError, OSError):
        figures.big_status = "reset"
    # The 413 may be lost in the reset that follows a close while we still send: refused early is what counts.
    if figures.big_status in ("reset", "closed") and sent_mb < 16:
        figures.big_status = f"refused after {sent_mb} MB (413 lost in the reset)"
    writer.transport.abort()


async def probe(port, figures, stop):
    payload = request_bytes(port, {"prompt": "Hello", "max_tokens": 1, "temperature": 0})
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _, _ = await exchange(port, payload, timeout=60)
            if status not in (200, 429):
                figures.probe_failures += 1
        except (OSError, asyncio.TimeoutError):
            figures.probe_failures += 1
        (figures.probe_latencies_burst if figures.burst_running else figures.probe_latencies).append(
            time.monotonic() - started)
        await asyncio.sleep(0.25)


async def get_json(port, path):
    payload = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").encode()
    status, _, body = await exchange(port, payload, timeout=10)
    return json.loads(body) if status == 200 else {}


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


async def run(port, pid):
    figures = Figures()
    stop = asyncio.Event()
    started = time.monotonic()
    background = [asyncio.create_task(slow_client(port, figures, stop, i % 2 == 1)) for i in range(SLOW)]
    background.append(asyncio.create_task(big_chunked_body(port, figures)))
    probe_task = asyncio.create_task(probe(port, figures, stop))
    await asyncio.sleep(2.5)  # the attack alone first: the probe's latency shows what slow clients cost
    figures.burst_running = True
    await asyncio.gather(*(client(port, i, figures) for i in range(CLIENTS)))
    burst_s = time.monotonic() - started
    await asyncio.wait_for(asyncio.gather(*background), 3 * REQUEST_TIMEOUT_S + 10)
    stop.set()
    await probe_task
    stats = {}
    for _ in range(100):  # abrupt disconnects must leave nothing behind
        stats = await get_json(port, "/xpusim/stats")
        if (stats.get("active_requests") == 0 and stats.get("kv_reserved_tokens") == 0
                and stats.get("open_connections") == 1):  # the stats request's own
            break
        await asyncio.sleep(0.1)
    return figures, stats, burst_s, time.monotonic() - started


def main():
    if not os.path.exists(MODEL):
        print(f"skip: no {MODEL} (./setup.sh fetches it)")
        return 77
    binary = sys.argv[1]
    server = subprocess.Popen(
        [binary, "serve", "--model", "smollm2-135m", "--port", "0", "--threads", "1", "--quiet",
         "--max-requests", str(LIMIT), "--max-tokens-limit", "8", "--idle-timeout", str(IDLE_TIMEOUT_S),
         "--request-timeout", str(REQUEST_TIMEOUT_S)],
        stdout=subprocess.PIPE, text=True)
    signal.signal(signal.SIGALRM, lambda *_: (server.kill(), sys.exit("load test: deadline exceeded")))
    signal.alarm(DEADLINE_S)
    try:
        line = server.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            print("FAILED: the server did not start:", line)
            return 1
        port = int(match.group(1))
        figures, stats, burst_s, total_s = asyncio.run(run(port, server.pid))
        rss = peak_rss_mb(server.pid)
        stop_started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        stop_s = time.monotonic() - stop_started
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    lat = sorted(figures.probe_latencies) or [0.0]
    print(f"load test: {CLIENTS} clients x {ROUNDS} requests (limit {LIMIT} in flight), {SLOW} slow clients, "
          f"one {BIG_MB} MB chunked body, scale {SCALE}")
    print(f"  answers: {figures.ok} complete ({figures.ok_stream} streamed), {figures.busy_429} HTTP 429, "
          f"{figures.disconnects} abrupt disconnects, {figures.resets} resets/answerless closes, "
          f"{len(figures.invalid)} invalid")
    burst_lat = sorted(figures.probe_latencies_burst) or [0.0]
    print(f"  probe during the slow-client attack: {len(lat)} requests, latency median {lat[len(lat) // 2]:.3f} s, "
          f"max {lat[-1]:.3f} s; during the burst too: {len(burst_lat)} requests, median "
          f"{burst_lat[len(burst_lat) // 2]:.3f} s, max {burst_lat[-1]:.3f} s; {figures.probe_failures} failed")
    silent = sorted(figures.silent_cut_s) or [0.0]
    trickle = sorted(figures.trickle_cut_s) or [0.0]
    print(f"  slow clients cut: {figures.slow_cut} of {SLOW}: {len(figures.silent_cut_s)} silent ones "
          f"{silent[0]:.1f}..{silent[-1]:.1f} s after their last byte (idle timeout {IDLE_TIMEOUT_S} s), "
          f"{len(figures.trickle_cut_s)} trickling ones {trickle[0]:.1f}..{trickle[-1]:.1f} s after connecting "
          f"(request deadline {REQUEST_TIMEOUT_S} s); big chunked body: {figures.big_status}")
    print(f"  server peak RSS {rss:.0f} MB (bound {RSS_BOUND_MB}); burst {burst_s:.1f} s, total {total_s:.1f} s; "
          f"SIGTERM -> exit {stop_s:.2f} s; after: {stats}")
    failures = []
    if figures.invalid:
        failures.append(f"invalid answers: {figures.invalid[:5]}")
    if figures.resets:
        failures.append(f"{figures.resets} resets")
    if figures.ok < min(LIMIT, CLIENTS) // 2:
        failures.append(f"only {figures.ok} complete answers")
    if lat[-1] >= PROBE_LATENCY_BOUND_S or figures.probe_failures:
        failures.append(f"probe latency {lat[-1]:.2f} s / {figures.probe_failures} failures")
    if figures.slow_cut != SLOW:
        failures.append(f"{SLOW - figures.slow_cut} slow clients were not cut")
    if len(figures.trickle_cut_s) != SLOW // 2 or trickle[-1] > REQUEST_TIMEOUT_S + 1.5:
        failures.append(f"trickling clients: {len(figures.trickle_cut_s)} of {SLOW // 2} cut, the last after "
                        f"{trickle[-1]:.1f} s (deadline {REQUEST_TIMEOUT_S} s)")
    if figures.big_status != 413 and not str(figures.big_status).startswith("refused after"):
        failures.append(f"300 MB chunked body: {figures.big_status}, expected 413")
    if rss > RSS_BOUND_MB:
        failures.append(f"peak RSS {rss:.0f} MB over {RSS_BOUND_MB}")
    if (stats.get("active_requests") != 0 or stats.get("kv_reserved_tokens") != 0
            or stats.get("open_connections") != 1):
        failures.append(f"engine or connections not drained: {stats}")
    if stop_s > 2.0:
        failures.append(f"SIGTERM took {stop_s:.2f} s")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
