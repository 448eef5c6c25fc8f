"""A poll's sleep between two queries: its full length, or cut short by a stop request."""

from __future__ import annotations

import asyncio
import time

from storyboard.execute.stop import Stop


def test_sleep_lasts_its_seconds() -> None:
    async def main() -> float:
        stop = Stop()
        t0 = time.monotonic()
        await stop.sleep(0.05)
        return time.monotonic() - t0

    assert asyncio.run(main()) >= 0.05


def test_a_stop_wakes_every_sleeping_poll_at_once() -> None:
    async def main() -> tuple[float, bool]:
        stop = Stop()
        sleeping = [asyncio.ensure_future(stop.sleep(30)) for _ in range(3)]
        await asyncio.sleep(0)
        t0 = time.monotonic()
        stop.request()  # what Executor.request_stop does
        await asyncio.wait_for(asyncio.gather(*sleeping), timeout=5)
        return time.monotonic() - t0, stop.requested

    waited, requested = asyncio.run(main())
    assert waited < 1 and requested


def test_no_sleep_once_stopped() -> None:
    async def main() -> float:
        stop = Stop()
        stop.request()
        t0 = time.monotonic()
        await stop.sleep(30)
        return time.monotonic() - t0

    assert asyncio.run(main()) < 1


def test_a_cancelled_sleep_leaves_nothing_behind() -> None:
    async def main() -> int:
        stop = Stop()
        task = asyncio.ensure_future(stop.sleep(30))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        stop.request()  # wakes nobody, raises nothing
        return len(stop._sleepers)

    assert asyncio.run(main()) == 0
