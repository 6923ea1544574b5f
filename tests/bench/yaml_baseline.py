#!/usr/bin/python3
"""yaml_baseline: the benchmarks' yardstick — PyYAML's C loader (libyaml, as drover uses) on
the same manifest files.

  parse --repeat N FILE...   parse every file N times (yaml.load_all with CSafeLoader: the
                             files hold many documents each); print the median wall and CPU
                             seconds of one full pass, "WALL CPU", reading and parsing only
                             (no interpreter start, no import)
  hold SECONDS FILE...       parse every file once, print "holding", then keep the parsed
                             documents in memory for SECONDS (its RSS is the footprint
                             baseline)
"""
import statistics
import sys
import time

import yaml

MAX_REPEAT = 20
MAX_HOLD_S = 3600


def load(files):
    docs = []
    for path in files:
        with open(path, "rb") as f:
            docs.extend(yaml.load_all(f, Loader=yaml.CSafeLoader))
    return docs


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "parse" and args[1] == "--repeat":
        repeat = max(1, min(MAX_REPEAT, int(args[2])))
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            docs = load(args[3:])
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            del docs
        print("%.3f %.3f" % (statistics.median(walls), statistics.median(cpus)))
    elif len(args) >= 2 and args[0] == "hold":
        hold = max(0, min(MAX_HOLD_S, int(args[1])))
        docs = load(args[2:])
        print("holding %d documents" % len(docs), flush=True)
        time.sleep(hold)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
