"""spawn_child.py: runs one command and reports its wall time and rusage (used by bench/run.py).

    python3 -S bench/spawn_child.py CMD [ARGS...]

Why a separate, tiny process: Linux's ru_maxrss of a child includes the RSS of the process it
was forked from (the pre-exec memory image is folded in at exec). bench/run.py has DuckDB,
pyarrow and matplotlib loaded (well over 100 MiB), so a child forked from it would report at least
that. This launcher (python -S, about 8 MiB) starts CMD with posix_spawn, waits with os.wait4 and,
after CMD's own output, prints one line to stdout:

    \x1eBENCH-RUSAGE t0 wall maxrss_kib utime stime exitcode

t0 is time.perf_counter() just before the spawn (CLOCK_MONOTONIC, the same clock as the
driver's), wall is perf_counter() after wait4 minus t0. CMD inherits stdin/stdout/stderr.
"""

import os
import sys
import time


def main():
    cmd = sys.argv[1:]
    if not cmd:
        sys.stderr.write("usage: spawn_child.py CMD [ARGS...]\n")
        return 2
    sys.stdout.flush()
    t0 = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    line = "\x1eBENCH-RUSAGE %.6f %.6f %d %.6f %.6f %d\n" % (t0, wall, ru.ru_maxrss, ru.ru_utime, ru.ru_stime, code)
    os.write(1, line.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
