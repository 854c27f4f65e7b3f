"""Checks a cosigned checkpoint with tlog-scales, an independent C2SP implementation.

Usage: cosignature_check.py CHECKPOINT_FILE LOG_VKEY WITNESS_VKEY

Verifies the log's signature and the witness's cosignature/v1 line on the checkpoint;
prints a JSON summary; exits non-zero if either does not verify.
"""

import json
import sys

from tlog_scales.signing import Vkey
from tlog_scales.tlog import Checkpoint


def main() -> int:
    text = open(sys.argv[1], encoding="utf-8").read()
    checkpoint = Checkpoint.from_text(text)
    checkpoint.verify(Vkey.from_string(sys.argv[2]))
    checkpoint.verify(Vkey.from_string(sys.argv[3]))
    print(json.dumps({"origin": checkpoint.origin, "size": checkpoint.size,
                      "logSignature": "verified", "cosignature": "verified"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
