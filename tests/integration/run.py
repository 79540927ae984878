# SPDX-License-Identifier: MIT
"""Runs every test_* function of tests/integration/test_*.py (or those named on
the command line) and prints a closing line 'N passed, N failed'."""

import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    wanted = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    tests = []
    for name in sorted(os.listdir(here)):
        if name.startswith("test_") and name.endswith(".py"):
            mod = importlib.import_module(name[:-3])
            for attr in dir(mod):
                fn = getattr(mod, attr)
                if attr.startswith("test_") and callable(fn):
                    tests.append((f"{name[:-3]}.{attr}", fn, fn.__code__.co_firstlineno))
    tests.sort(key=lambda t: (t[0].split(".")[0], t[2]))
    if wanted:
        tests = [t for t in tests if any(w in t[0] for w in wanted)]
    passed = failed = 0
    for name, fn, _ in tests:
        t0 = time.time()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print(f"FAIL {name} ({time.time() - t0:.1f}s): {e}", flush=True)
            if not isinstance(e, AssertionError) and type(e).__name__ != "Failure":
                traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
