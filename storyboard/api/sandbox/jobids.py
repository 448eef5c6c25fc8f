"""A sandbox's job ids: they carry the job's duration and fate, signed so no other id passes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# Job ids: ``sbx1-<duration>-<fails 0|1>-<12 random hex>-<10 hex HMAC of the rest>``.
# The key is no secret worth keeping (this is a sandbox); it only has to be the same
# in every process, so that a restarted sandbox can trust what an id says.
_JOB_ID_KEY = b"storyboard-sandbox job ids v1"
_JOB_ID = re.compile(r"(sbx1-(\d{1,3})-([01])-[0-9a-f]{12})-([0-9a-f]{10})")


# --- job ids -------------------------------------------------------------------------


def _job_id_mac(body: str) -> str:
    return hmac.new(_JOB_ID_KEY, body.encode("ascii"), hashlib.sha256).hexdigest()[:10]


def make_job_id(duration: int, fails: bool) -> str:
    """A fresh job id that says, verifiably, how long the job's video is and if it fails."""
    body = f"sbx1-{duration}-{int(fails)}-{secrets.token_hex(6)}"
    return f"{body}-{_job_id_mac(body)}"


def read_job_id(job_id: str) -> tuple[int, bool] | None:
    """``(duration, fails)`` from a job id this sandbox (in any process) made, else None."""
    match = _JOB_ID.fullmatch(job_id)
    if match is None:
        return None
    body, duration, fails, mac = match.groups()
    if not hmac.compare_digest(mac, _job_id_mac(body)):
        return None
    return int(duration), fails == "1"
