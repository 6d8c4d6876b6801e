#!/usr/bin/env python3
# Copyright 2026 The Postroom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""postroomctl end to end: runs ctl_cases.py against postroomd on the harness's private bus,
keyring and Dovecot. Exit 77 only when a needed program is missing (as the harness says)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    missing = harness.missing_requirements()
    if missing:
        print("skipped, not installed: " + " ".join(missing), file=sys.stderr)
        return harness.SKIP
    with harness.Stack(seed={"INBOX": 40, "Archive": 10}) as stack:
        env = stack.env()
        env.update(stack.server.env())
        env["POSTROOM_BUS_ADDRESS"] = stack.address
        env["POSTROOMCTL"] = harness.POSTROOMCTL
        cases = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ctl_cases.py")
        result = subprocess.run([sys.executable, cases, "-v"], env=env)
        if result.returncode != 0:
            print(stack.log_tail(), file=sys.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
