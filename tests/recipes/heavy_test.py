#!/usr/bin/env python3
"""The heavy "test" that the recipes of docs/CI.md protect with the lock.

Appends `enter`, a `tick` every 0.1 s and `leave` to $HEAVY_LOG, each line with the job
($HEAVY_ID), the wall clock and the PID, for $HEAVY_SECONDS; then exits $HEAVY_EXIT.
Each line is one append (O_APPEND), so the file's order is the order of the writes: a
section that begins while another one is still writing shows up as interleaved lines.
Signals keep their default actions (SIGINT ends it through KeyboardInterrupt), as with
an ordinary test program.
"""
import os
import sys
import time


def say(word):
    with open(os.environ["HEAVY_LOG"], "a") as f:
        f.write(f"{word} {os.environ['HEAVY_ID']} {time.time():.6f} {os.getpid()}\n")


def main():
    seconds = float(os.environ.get("HEAVY_SECONDS", "1"))
    say("enter")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        say("tick")
    say("leave")
    return int(os.environ.get("HEAVY_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main())
