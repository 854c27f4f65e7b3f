"""Checks a Guildmark node's ledger with tlog-scales, an independent tlog-tiles client.

Usage: tlog_check.py BASE_URL VERIFIER_KEY [OLD_CHECKPOINT_FILE [OUR_CONSISTENCY_JSON]]

Reads /checkpoint and verifies its signature with the verifier key; recomputes the root
from the hash tiles; fetches every entry from the entry bundles and checks its inclusion
proof (computed by tlog-scales from the tiles) against the checkpoint; with an older
checkpoint, verifies it too and checks a consistency proof between the two, and compares
tlog-scales' consistency proof with the node's own. Prints a JSON summary; exits non-zero
on any failure.
"""

import base64
import json
import sys

from tlog_scales.backend import HttpBackend
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey
from tlog_scales.tiles import leaf_hash
from tlog_scales.tlog import Checkpoint


def main() -> int:
    base, vkey_text = sys.argv[1], sys.argv[2]
    vkey = Vkey.from_string(vkey_text)
    reader = TilesReader(HttpBackend(base))
    checkpoint = reader.get_checkpoint()
    checkpoint.verify(vkey)
    if reader.calculate_root_hash() != checkpoint.root_hash:
        raise SystemExit("the root recomputed from the tiles differs from the checkpoint's")
    for index in range(checkpoint.size):
        entry = reader.get_entry(index)
        reader.get_inclusion_proof(index, checkpoint.size).check(
            leaf_hash(entry), checkpoint.root_hash
        )
    summary = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "checkpointSignature": "verified",
        "inclusionProofsChecked": checkpoint.size,
    }
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            old = Checkpoint.from_text(f.read())
        old.verify(vkey)
        proof = reader.get_consistency_proof(old.size, checkpoint.size)
        proof.check(old.root_hash, checkpoint.root_hash)
        summary["consistency"] = {"from": old.size, "to": checkpoint.size, "verified": True}
        if len(sys.argv) > 4:
            with open(sys.argv[4]) as f:
                ours = json.load(f)
            theirs = [base64.b64encode(h).decode() for h in proof.node_hashes]
            if ours["proof"] != theirs:
                raise SystemExit(f"the node's consistency proof {ours['proof']} differs from {theirs}")
            summary["consistency"]["sameProofAsNode"] = True
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
