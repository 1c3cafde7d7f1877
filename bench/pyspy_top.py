"""Top costs from py-spy's raw (collapsed) stacks: the share of working samples in which
each function is on the stack (inclusive) and at the top (self).

    py-spy record -r 50 -d 20 -f raw -o orders.txt --pid PID
    .venv/bin/python -m bench.pyspy_top orders.txt [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import re

# Leaf frames that mean "waiting", not working: the eventlet hub's poll, a blocking read of an
# RPC reply in the gateway, gunicorn's arbiter. Shares are of the samples that did work.
IDLE_LEAVES = ("do_poll (", "_read (amqp/transport.py)", "wait_for_signals (", "select (",
               "_worker (concurrent/futures/thread.py)", "wait (threading.py)")

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "python3.11/", "/saga/", "/saga-base/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m['func']} ({path})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for name in args.files:
        inclusive: collections.Counter = collections.Counter()
        self_: collections.Counter = collections.Counter()
        total = idle = 0
        with open(name) as f:
            for line in f:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if not stack:
                    continue
                if not count.isdigit():
                    continue  # a line py-spy wrapped (a frame name with a newline)
                n = int(count)
                frames = [frame_name(fr) for fr in stack.split(";")]
                if frames[-1].startswith(IDLE_LEAVES) or frames[-1].startswith("process "):
                    idle += n
                    continue
                total += n
                for fr in set(frames):
                    inclusive[fr] += n
                self_[frames[-1]] += n
        print(f"\n== {name}: {total} working samples ({idle} waiting, left out)")
        print("inclusive:")
        for fr, n in inclusive.most_common(args.top + 12):
            if fr.startswith(("process ", "main (eventlet", "run (threading", "_bootstrap")):
                continue
            print(f"  {100 * n / total:5.1f}%  {fr}")
        print("self:")
        for fr, n in self_.most_common(args.top // 2):
            print(f"  {100 * n / total:5.1f}%  {fr}")


if __name__ == "__main__":
    main()
