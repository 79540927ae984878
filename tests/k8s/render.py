#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes k8s/sonde.yaml, the all-in-one manifest: the files of k8s/base in
the order its kustomization.yaml lists them, comments kept. With --check,
writes nothing and exits 1 when k8s/sonde.yaml differs from what it would
write (tests/integration/test_k8s_manifests.py runs that)."""

import os
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASE = os.path.join(ROOT, "k8s", "base")
OUT = os.path.join(ROOT, "k8s", "sonde.yaml")
HEADER = """\
# SPDX-License-Identifier: MIT
# GENERATED from k8s/base by tests/k8s/render.py: edit k8s/base, then run
#   python3 tests/k8s/render.py
# kubectl apply -f k8s/sonde.yaml  ≡  kubectl apply -k k8s/base
"""


def base_files():
    with open(os.path.join(BASE, "kustomization.yaml")) as f:
        return yaml.safe_load(f)["resources"]


def render():
    parts = [HEADER]
    for name in base_files():
        with open(os.path.join(BASE, name)) as f:
            text = f.read()
        # each file's own SPDX line is said once, in the header
        lines = [l for l in text.splitlines() if not l.startswith("# SPDX-License-Identifier")]
        parts.append(f"---\n# k8s/base/{name}\n" + "\n".join(lines).strip("\n") + "\n")
    return "".join(parts)


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        with open(OUT) as f:
            if f.read() != text:
                print("k8s/sonde.yaml is stale: run python3 tests/k8s/render.py", file=sys.stderr)
                return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
