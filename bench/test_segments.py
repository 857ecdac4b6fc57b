"""bench/segments.py on a hand-made trace: one request, every segment's length known."""

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def syscall(pid, cpu, t, nr, fd, ret, took=10):
    """The enter and exit lines perf script prints for one call, `took` µs apart."""
    exit_t = t + took / 1e6
    return [
        f"   {pid}/{pid}   [{cpu:03}]     {t:.6f}: raw_syscalls:sys_enter: NR {nr} ({fd:x}, 7f00, 64, 0, 0, 0)",
        f"   {pid}/{pid}   [{cpu:03}]     {exit_t:.6f}:  raw_syscalls:sys_exit: NR {nr} = {ret}",
    ]


def test_one_request_is_cut_into_its_segments(tmp_path):
    client, proxy, mock = 300, 200, 100
    sendto, recvfrom, writev = 44, 45, 20
    lines = [
        "     0/0     [001]     0.999990: sched:sched_switch: prev_comm=swapper/1 prev_pid=0 "
        "prev_prio=120 prev_state=R ==> next_comm=proxy next_pid=200 next_prio=120",
    ]
    lines += syscall(client, 0, 1.000000, sendto, 3, 100, took=5)
    lines += syscall(proxy, 1, 1.000040, recvfrom, 7, 100)  # read at 50: hop_in 50
    lines += syscall(proxy, 1, 1.000080, writev, 9, 100)  # proxy_request 30
    lines += syscall(mock, 0, 1.000100, recvfrom, 5, 100)  # read at 110: hop_up 30
    lines += syscall(mock, 0, 1.000150, writev, 5, 500)  # mock 40, done at 160
    lines += syscall(proxy, 1, 1.000170, recvfrom, 9, 500)  # read at 180: hop_back 20
    lines += syscall(proxy, 1, 1.000200, writev, 7, 500)  # proxy_answer 20, done at 210
    lines += syscall(client, 0, 1.000220, recvfrom, 3, 500)  # read at 230: hop_out 20
    trace = tmp_path / "trace.txt"
    trace.write_text("\n".join(lines) + "\n")

    out = subprocess.run(
        [sys.executable, str(HERE / "segments.py"), str(trace), "--mock", str(mock),
         "--proxy", f"proxy={proxy}", "--cpu", "1"],
        check=True, capture_output=True, text=True,
    ).stdout

    assert "1 requests matched" in out, out
    p50 = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) > 5 and words[1].replace(".", "").isdigit():
            p50[words[0]] = float(words[1])
    assert p50 == {
        "hop_in": 50, "proxy_request": 30, "hop_up": 30, "mock": 40, "hop_back": 20,
        "proxy_answer": 20, "hop_out": 20, "total": 230,
    }, out
    assert "proxy/200 100%" in out, out
