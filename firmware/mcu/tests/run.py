"""Test runner for the scale firmware on the MicroPython unix port (which has no pytest).

    micropython firmware/mcu/tests/run.py [-v] [test_module ...]

Imports every test_*.py next to this file (or the ones named), calls each function whose name
starts with test_, prints one line per failure and a summary, and exits 1 if anything failed.
"""

import os
import sys

HERE = sys.argv[0].rpartition("/")[0] or "."
ROOT = HERE.rpartition("/")[0] or "."
for sub in ("/hx711", "/scale_mcu", "/unix"):
    sys.path.insert(0, ROOT + sub)
sys.path.insert(0, HERE)


def main(argv):
    verbose = "-v" in argv
    names = [a for a in argv if not a.startswith("-")]
    if not names:
        names = sorted(n[:-3] for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py"))
    passed = failed = 0
    for name in names:
        module = __import__(name)
        for attr in sorted(dir(module)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(module, attr)
            try:
                fn()
            except Exception as exc:  # report every failure, keep going
                failed += 1
                print("FAIL", name + "." + attr)
                sys.print_exception(exc)
            else:
                passed += 1
                if verbose:
                    print("ok  ", name + "." + attr)
    print("mcu tests: %d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


sys.exit(main(sys.argv[1:]))
