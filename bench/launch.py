"""Start a command as this small process's child and report its own peak memory and wall time.

Linux keeps a process's peak RSS across fork and exec (the maximum is stored per process, not
per address space), so a CLI forked straight from the bench process, which holds every journal
it has read (hundreds of MB), would report the bench's peak as its own. Forked from this launcher,
whose interpreter imports almost nothing, the CLI starts from ~10 MB and its `ru_maxrss` is its
own. The wall time is measured here, around the child only, so the launcher's own start-up (tens
of ms) is not counted.

Usage: python -m bench.launch REPORT_FILE COMMAND [ARG...]; writes `maxrss_kb wall_s` to
REPORT_FILE and exits with the command's exit code.
"""

import os
import subprocess
import sys
import time


def main() -> int:
    report, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    with open(report, "w", encoding="utf-8") as out:
        out.write(f"{usage.ru_maxrss} {wall}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
