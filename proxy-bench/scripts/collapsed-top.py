#!/usr/bin/env python3
"""Top frames of an async-profiler collapsed-stack file, for the stacks that pass through a filter frame.

usage: collapsed-top.py FILE [--filter NioEventLoop.run] [--top 30] [--units N]
Prints: samples kept, the share in the kernel (frames ending in _[k]), the top frames by self samples, the top
frames by inclusive samples (anywhere on the stack), and a few named buckets (syscalls by name, Warren packages).
With --units the shares are also given as samples per unit (1 sample = the profiler's interval, 1 ms by default).
"""
import argparse
import collections
import re

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--filter", default="NioEventLoop.run")
ap.add_argument("--top", type=int, default=30)
ap.add_argument("--units", type=int, default=0)
ap.add_argument("--interval-us", type=float, default=1000.0)
a = ap.parse_args()

self_c = collections.Counter()
incl = collections.Counter()
syscalls = collections.Counter()
user = collections.Counter()
user_incl = collections.Counter()
user_total = [0]
total = 0
kernel = 0
for line in open(a.file):
    stack, _, n = line.rstrip("\n").rpartition(" ")
    if not stack or a.filter not in stack:
        continue
    n = int(n)
    frames = stack.split(";")
    total += n
    leaf = frames[-1]
    self_c[leaf] += n
    if leaf.endswith("_[k]"):
        kernel += n
    for f in set(frames):
        incl[f] += n
    # the system call: the user-space frame just above the kernel entry (libc's write, epoll_wait, ...)
    entry = next((i for i, f in enumerate(frames) if f.startswith("entry_SYSCALL")), None)
    if entry is not None:
        syscalls[frames[entry - 1] if entry > 0 else "?"] += n
    else:
        user[";".join(f for f in frames if "/" in f and not f.startswith("java/lang/Thread"))] += 0
        for f in set(frames):
            if "/" in f:
                user_incl[f] += n
        user_total[0] += n


def per(n):
    s = f"{100.0 * n / total:6.2f} %"
    if a.units:
        s += f"  {n * a.interval_us / a.units:8.2f} us/unit"
    return s


print(f"{a.file}: {total} samples through {a.filter}; kernel (self in a _[k] frame) {per(kernel)}")
print("\ntop frames by self samples:")
for f, n in self_c.most_common(a.top):
    print(f"  {per(n)}  {f}")
print("\ntop frames by inclusive samples:")
for f, n in incl.most_common(a.top):
    print(f"  {per(n)}  {f}")
print("\nsamples inside system calls, by the user-space frame that made the call:")
for f, n in syscalls.most_common(15):
    print(f"  {per(n)}  {f}")
print(f"\nuser space only (stacks without a kernel entry): {per(user_total[0])}; top Java frames, inclusive:")
for f, n in user_incl.most_common(a.top):
    print(f"  {per(n)}  {f}")
