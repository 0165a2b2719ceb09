"""Run the benchmark suite: abdou_torch and PyTorch eager interleaved (A B A B ...) in one
run, with the same threads, data and initial weights; print a markdown table of medians,
min-max and ratios ours / PyTorch, and optionally record it in benchmarks/RESULTS.md.

    python -m benchmarks [--threads 2] [--repeats 7] [--quick] [--record benchmarks/RESULTS.md]
"""
from __future__ import annotations

import argparse
import os
import sys

# Thread counts must be fixed before NumPy or PyTorch load their BLAS.
_THREADS = "2"
for _position, _arg in enumerate(sys.argv):
    if _arg == "--threads" and _position + 1 < len(sys.argv):
        _THREADS = sys.argv[_position + 1]
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_THREADS"):
    os.environ[_name] = _THREADS

from .report import environment, markdown_table, record  # noqa: E402
from .runner import run_interleaved, run_processes  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller epochs")
    parser.add_argument("--record", metavar="PATH", help="prepend the results to this file")
    parser.add_argument("--only", help="comma-separated workload names to run")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    only = set(args.only.split(",")) if args.only else None
    rows = run_interleaved(repeats, args.threads, args.quick, only)
    rows += run_processes(3 if args.quick else 5, only)
    table = markdown_table(rows) if rows else ""
    if not only or "h_ddp" in only:  # data parallel over MPI: 2 ranks against references
        from . import ddp
        table = (table + "\n\n" if table else "") + ddp.markdown(ddp.measure())
    env = environment(args.threads)
    print(env + "\n\n" + table)
    if args.record:
        record(args.record, env, table, " ".join(["python -m benchmarks"] + sys.argv[1:]))
        print(f"\nrecorded in {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
