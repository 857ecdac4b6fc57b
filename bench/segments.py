"""Cuts each c=1 request of a `bench/segments` run into its hops and the proxies' own work.

Reads `perf script` output of the run's syscall and scheduler tracepoints and prints, per
proxy, the percentiles of each segment of a request and what the slowest 1% are made of.
Standard library only; called by bench/segments, which says what the segments mean.

    python3 bench/segments.py TRACE_TEXT --mock PID --proxy NAME=PID [--proxy NAME=PID] --cpu N
"""

import argparse
import bisect
import collections
import re

# The calls bench/segments traces (not read and write: perf writes its own trace with them).
RECV = {19, 45}  # readv, recvfrom
SEND = {20, 44}  # writev, sendto

SYSCALL = re.compile(
    r"\s*(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit): NR (\d+) (.*)"
)
SWITCH = re.compile(
    r"\s*\d+/\d+\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch: prev_comm=.* prev_pid=\d+ .*"
    r"==> next_comm=(.*) next_pid=(\d+)"
)

SEGMENTS = [
    ("hop_in", "client send -> proxy has read the request (wake-up included)"),
    ("proxy_request", "proxy: request read -> upstream write begins (its CPU)"),
    ("hop_up", "upstream write -> mock has read it"),
    ("mock", "mock: read -> write"),
    ("hop_back", "mock's write done -> proxy has read the answer"),
    ("proxy_answer", "proxy: answer read -> client write begins (its CPU)"),
    ("hop_out", "client write done -> client has read it"),
    ("total", "client send -> client read"),
]


def calls(events):
    """A thread's syscalls as (enter_us, exit_us, nr, fd, ret), enter and exit paired."""
    out, pending = [], None
    for t, kind, nr, value in events:
        if kind == "enter":
            pending = (t, nr, value)
        elif pending and pending[1] == nr:
            out.append((pending[0], t, nr, pending[2], value))
            pending = None
    return out


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--mock", required=True)
    ap.add_argument("--proxy", action="append", required=True, help="NAME=PID")
    ap.add_argument("--cpu", default="1", help="the proxies' CPU")
    args = ap.parse_args()
    proxies = dict(p.split("=", 1) for p in args.proxy)

    threads = collections.defaultdict(list)
    switches = []
    for line in open(args.trace, encoding="utf-8", errors="replace"):
        m = SYSCALL.match(line)
        if m:
            pid, tid, _, t, kind, nr, rest = m.groups()
            if kind == "enter":
                value = int(rest.strip("()").split(",")[0], 16)
            else:
                value = int(rest.split("=")[1])
            threads[(pid, tid)].append((float(t) * 1e6, kind, int(nr), value))
            continue
        m = SWITCH.match(line)
        if m and int(m.group(1)) == int(args.cpu):
            switches.append((float(m.group(2)) * 1e6, f"{m.group(3)}/{m.group(4)}"))

    def of(pids, exclude=False):
        keys = [k for k in threads if (k[0] in pids) != exclude]
        return sorted(c for k in keys for c in calls(threads[k]))

    mock = of({args.mock})
    client = of({args.mock, *proxies.values()}, exclude=True)
    client_sends = [c for c in client if c[2] in SEND]
    client_sends_t = [c[0] for c in client_sends]
    client_reads = [c for c in client if c[2] in RECV and c[4] > 0]
    client_reads_t = [c[1] for c in client_reads]
    # The mock's requests: a read, then a write on the same connection.
    served = []
    for i, c in enumerate(mock):
        if c[2] in RECV and c[4] > 0:
            for d in mock[i + 1 : i + 6]:
                if d[2] in SEND and d[3] == c[3]:
                    served.append((c[1], d[0], d[1]))
                    break

    switch_t = [s[0] for s in switches]

    def ran(t0, t1):
        """Who was on the proxies' CPU between t0 and t1, µs per thread."""
        i = bisect.bisect_right(switch_t, t0) - 1
        current = switches[i][1] if i >= 0 else "?"
        out, t = collections.Counter(), t0
        for when, nxt in switches[i + 1 :]:
            if when >= t1:
                break
            out[current] += when - t
            t, current = when, nxt
        out[current] += t1 - t
        return out

    for name, pid in proxies.items():
        own = of({pid})
        reads = [c for c in own if c[2] in RECV and c[4] > 0]
        reads_t = [c[1] for c in reads]
        writes = [c for c in own if c[2] in SEND]
        writes_t = [c[0] for c in writes]
        rows = []
        for m_read, m_write, m_done in served:
            # The proxy's upstream write: its last write before the mock read the request.
            i = bisect.bisect_left(writes_t, m_read) - 1
            if i < 0 or m_read - writes[i][0] > 3000:
                continue
            up_write = writes[i]
            upstream_fd = up_write[3]
            # The client's request: the proxy's last read on another connection before it.
            j = bisect.bisect_right(reads_t, up_write[0]) - 1
            while j >= 0 and reads[j][3] == upstream_fd:
                j -= 1
            if j < 0 or up_write[0] - reads[j][1] > 5000:
                continue
            req_read = reads[j]
            # The answer: the proxy's first read on the upstream connection after the mock wrote.
            k = bisect.bisect_right(reads_t, m_done)
            while k < len(reads) and reads[k][3] != upstream_fd:
                k += 1
            if k == len(reads) or reads[k][1] - m_done > 5000:
                continue
            ans_read = reads[k]
            w = bisect.bisect_left(writes_t, ans_read[1])
            while w < len(writes) and writes[w][3] != req_read[3]:
                w += 1
            if w == len(writes) or writes[w][0] - ans_read[1] > 5000:
                continue
            client_write = writes[w]
            s = bisect.bisect_left(client_sends_t, req_read[1]) - 1
            r = bisect.bisect_right(client_reads_t, client_write[1])
            if s < 0 or r == len(client_reads) or req_read[1] - client_sends[s][0] > 5000:
                continue
            send, got = client_sends[s][0], client_reads[r][1]
            rows.append(
                {
                    "hop_in": req_read[1] - send,
                    "proxy_request": up_write[0] - req_read[1],
                    "hop_up": m_read - up_write[0],
                    "mock": m_write - m_read,
                    "hop_back": ans_read[1] - m_done,
                    "proxy_answer": client_write[0] - ans_read[1],
                    "hop_out": got - client_write[1],
                    "total": got - send,
                    "_windows": [(req_read[1], up_write[0]), (ans_read[1], client_write[0])],
                }
            )
        print(f"\n{name} (pid {pid}): {len(rows)} requests matched")
        if not rows:
            continue
        print(f"  {'segment':14} {'p50':>7} {'p90':>7} {'p99':>7} {'p99.9':>7}  µs")
        for seg, what in SEGMENTS:
            v = [r[seg] for r in rows]
            print(
                f"  {seg:14} {percentile(v, .5):7.0f} {percentile(v, .9):7.0f} "
                f"{percentile(v, .99):7.0f} {percentile(v, .999):7.0f}  {what}"
            )
        slow = sorted(rows, key=lambda r: r["total"])[-max(1, len(rows) // 100) :]
        means = {seg: sum(r[seg] for r in slow) / len(slow) for seg, _ in SEGMENTS}
        print("  slowest 1%, mean µs: " + ", ".join(f"{k} {v:.0f}" for k, v in means.items()))
        on_cpu = collections.Counter()
        for r in slow:
            for t0, t1 in r["_windows"]:
                on_cpu.update(ran(t0, t1))
        total = sum(on_cpu.values()) or 1
        print(
            "  on the proxies' CPU during their own segments of those: "
            + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in on_cpu.most_common(5))
        )


if __name__ == "__main__":
    main()
