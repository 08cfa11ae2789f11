#!/usr/bin/env python3
"""The disk's fsync rate as a commit sees it: 4 KiB overwritten in place, then fdatasync, for
SECONDS (default 2) on a 1 MiB file made at PATH and removed after. Prints fsyncs per second.

redb commits the same way (pages written in place, one fdatasync); one durable post can go no
faster than this. Usage: fsync_rate.py PATH [SECONDS]"""

import os
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    os.write(fd, b"\0" * (1 << 20))
    os.fsync(fd)
    block, n, start = b"x" * 4096, 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        os.pwrite(fd, block, (n % 256) * 4096)
        os.fdatasync(fd)
        n += 1
    print(f"{n / elapsed:.0f}")
finally:
    os.close(fd)
    os.unlink(path)
