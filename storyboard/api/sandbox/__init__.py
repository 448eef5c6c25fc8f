"""A local stand-in for the ShortAPI job API: real HTTP on loopback, no money.

It speaks ShortAPI's published contract exactly (auth, create, query, result URLs, both error
styles), so ``storyboard run --sandbox`` and the test suite exercise the client's
real HTTP stack: connection pooling, timeouts, retries and downloads included.

Three things make it useful beyond a mock:

* **A ledger** of everything the server saw: every charged create with its request
  hash, duplicates per hash (the number that must stay zero: paying twice), call and
  fault counts. Tests in another process read it from ``GET /_sandbox/ledger``.
* **Faults on request**, each a rate. Whether a request faults is a pure function of
  (seed, fault, request hash or job, attempt number), never of thread timing, so a
  run with a given seed meets the same faults every time; and since each attempt is
  drawn afresh, a client that retries correctly always gets through at rates < 1.
* **Time without threads**: a job's status follows from the time since its create
  (queued, then generating, then done after its latency), so a thousand jobs cost
  nothing between queries. ``parse_latency`` reads the CLI's latency specs (fixed,
  a uniform range, or a log-normal), each drawn per request hash, never at random.
* **Videos a person can check by eye** (``media/placeholder.py``): the requested
  aspect ratio and length at a small size, 24 fps, a tone when ``sound`` is on, and
  on every frame the request's short hash, prompt, shot and time. A request's first
  job always gets the same bytes; its n-th job (another candidate of it) gets another
  colour, drawn from ``<hash>#<n>``, as the model makes another video each time.
* **Jobs that outlive the server**, as real ones do: a job id carries its duration
  and outcome under an HMAC (``sbx1-<duration>-<fails>-<random>-<mac>``), so a
  sandbox restarted after an interrupted ``storyboard run --sandbox`` recognises the
  ids the client journaled and answers them as finished jobs, instead of "job not
  found" for work that was paid for. Such a restored job is not a create: the ledger
  lists it under ``restored``, never under creates or duplicates.

When a job created with a ``callback_url`` ends, it POSTs a small hint there
(``callbacks``: one dispatcher thread, a few tries with short timeouts, counted in the
ledger; the real payload is undocumented, so clients re-query on any callback). Routes::

    POST /api/v1/job/create        {"model", "args", "callback_url"?}  (Bearer auth)
    GET  /api/v1/job/query?id=ID                                       (Bearer auth)
    GET  /files/<job_id>.mp4?token=T                                   (result URLs)
    GET  /_sandbox/ledger                                              (no auth)


The modules, by concern: ``faults`` and ``latency`` (what a sandbox varies on purpose),
``jobids`` (ids that carry a job's fate), ``ledger`` (settings, and every create seen),
``callbacks`` (calling ``callback_url`` when a job ends),
``service`` (the API's answers) and ``http`` (the loopback server).
"""

from storyboard.api.contract import CREATE_PATH, QUERY_PATH
from storyboard.api.sandbox.callbacks import CallbackPolicy
from storyboard.api.sandbox.checks import request_problem
from storyboard.api.sandbox.faults import Faults, fault_draw
from storyboard.api.sandbox.jobids import make_job_id, read_job_id
from storyboard.api.sandbox.latency import LATENCY_FORMS, parse_latency
from storyboard.api.sandbox.ledger import CreateRecord, Ledger, SandboxConfig
from storyboard.api.sandbox.service import FILES_PREFIX, LEDGER_PATH, Sandbox, serve

__all__ = [
    "CREATE_PATH",
    "FILES_PREFIX",
    "LATENCY_FORMS",
    "LEDGER_PATH",
    "QUERY_PATH",
    "CallbackPolicy",
    "CreateRecord",
    "Faults",
    "Ledger",
    "Sandbox",
    "SandboxConfig",
    "fault_draw",
    "make_job_id",
    "parse_latency",
    "read_job_id",
    "request_problem",
    "serve",
]
