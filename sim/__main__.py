"""python -m sim [--seed 7] [--fleet 300,350,400] [--policies all] [--out sim-out]"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from services.dispatch import policies
from sim.experiment import Setup, best_policy, run, write


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    ap.add_argument("--seed", type=int, default=7, help="the day's seed")
    ap.add_argument("--city-seed", type=int, default=1, help="homes, shops and technicians")
    ap.add_argument("--repairs", type=float, default=2000, help="expected repairs in the day")
    ap.add_argument("--orders", type=float, default=3000, help="expected delivery orders")
    ap.add_argument("--fleet", default="400", help="technicians, comma-separated sizes")
    ap.add_argument("--policies", default="all",
                    help=f"comma-separated, of: {', '.join(policies.POLICIES)}")
    ap.add_argument("--history-days", type=int, default=3, help="days to learn demand from")
    ap.add_argument("--batch-seconds", type=float, default=30.0, help="batched: interval")
    ap.add_argument("--out", default="sim-out", help="folder for report.md, .json and PNGs")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    chosen = list(policies.POLICIES) if args.policies == "all" else [
        policies.check_policy(p.strip()) for p in args.policies.split(",") if p.strip()]
    if not 30 <= args.batch_seconds <= 60:
        ap.error("--batch-seconds must be between 30 and 60")
    setup = Setup(seed=args.seed, city_seed=args.city_seed, repairs=args.repairs,
                  orders=args.orders, fleets=[int(f) for f in args.fleet.split(",")],
                  policies=chosen, history_days=args.history_days, batch_s=args.batch_seconds)
    began = time.perf_counter()
    results = run(setup, progress=not args.quiet)
    command = "python -m sim " + shlex.join(argv if argv is not None else sys.argv[1:])
    path = write(results, Path(args.out), command, plots=not args.no_plots)
    print(f"{path} ({time.perf_counter() - began:.0f} s); best policy: {best_policy(results)}")
    for policy, by_fleet in results["runs"].items():
        for fleet, r in sorted(by_fleet.items()):
            print(f"  {policy:20s} {fleet:5d} technicians: {r['within_15']:.1%} within 15 min, "
                  f"p90 {r['arrival_p90']} min, Gini {r['gini_jobs']:.3f}, {r['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
