"""`local` backend: an asyncio queue in the server process + a pool of worker processes.

The event loop only claims rows, loads bars (in a thread) and awaits futures; the backtest itself runs
in a worker process, so a long run never blocks requests. The queue is not the source of truth — the
database is: on startup `recover()` re-queues whatever a dead process left pending or running.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import anyio.to_thread

from quantops.jobs.base import JobBackend, JobHandler
from quantops.jobs.runner import run_payload, warm_up

log = logging.getLogger(__name__)


def _ping(seconds: float) -> int:
    import os

    time.sleep(seconds)
    return os.getpid()


class LocalJobBackend(JobBackend):
    name = "local"

    def __init__(self, handler: JobHandler, workers: int, timeout_seconds: float, max_attempts: int) -> None:
        self.handler = handler
        self.workers = max(1, workers)
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._executor: ProcessPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._active = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        # forkserver: children fork from a clean, single-threaded server (no copy of the event loop,
        # DB or DuckDB handles) that already imported the engine.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["quantops.jobs.runner"])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=warm_up)

    async def start(self) -> None:
        if self._executor is not None:
            return
        self._executor = self._new_executor()
        self._tasks = [
            asyncio.create_task(self._dispatch(), name=f"job-dispatch-{i}") for i in range(self.workers)
        ]
        self._tasks.append(asyncio.create_task(self._spawn_workers(), name="job-warm-up"))

    async def _spawn_workers(self) -> None:
        """Start every worker process now (their initializer compiles the engine), not on the first job.

        Submitting is done from a thread: the first submit starts the forkserver and waits for it to
        import the engine (seconds), which must not stall the event loop.
        """
        executor = self._executor
        if executor is None:
            return
        try:
            futures = await anyio.to_thread.run_sync(
                lambda: [executor.submit(_ping, 0.05) for _ in range(self.workers)], abandon_on_cancel=True
            )
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except Exception:  # warm-up is an optimisation; a broken pool is handled by the dispatcher
            log.exception("warming up job workers failed")

    async def enqueue(self, backtest_id: str) -> None:
        self._queue.put_nowait(backtest_id)

    def queued(self) -> int:
        return self._queue.qsize() + self._active

    async def recover(self) -> dict[str, int]:
        requeued = failed = 0
        for backtest_id, status, attempts in await self.handler.unfinished_ids():
            if status == "running" and attempts >= self.max_attempts:
                reason = (
                    f"interrupted: the process running it died {attempts} time(s); "
                    f"gave up after {self.max_attempts} attempts"
                )
                failed += await self.handler.fail(backtest_id, reason)
                continue
            await self.enqueue(backtest_id)
            requeued += 1
        if requeued or failed:
            log.warning("job recovery: re-queued %d, failed %d", requeued, failed)
        return {"requeued": requeued, "failed": failed}

    async def _dispatch(self) -> None:
        while True:
            backtest_id = await self._queue.get()
            self._active += 1
            try:
                await self._run_one(backtest_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s: unexpected error in dispatcher", backtest_id)
                await self.handler.fail(backtest_id, "internal error while running the job")
            finally:
                self._active -= 1
                self._queue.task_done()

    async def _run_one(self, backtest_id: str) -> None:
        attempt = await self.handler.claim(backtest_id)
        if attempt is None:
            return  # cancelled, already done, or attempts exhausted (recovery failed it)
        try:
            payload = await self.handler.load_payload(backtest_id, attempt)
        except Exception as exc:  # symbol vanished, bars invalid...
            await self.handler.fail(backtest_id, f"could not load bars: {exc}", attempt)
            return
        if payload is None:
            return
        executor = self._executor
        if executor is None:
            raise RuntimeError("local job backend is not started")
        loop = asyncio.get_running_loop()
        try:
            outcome = await asyncio.wait_for(
                loop.run_in_executor(executor, run_payload, payload), self.timeout_seconds
            )
        except TimeoutError:
            await self.handler.fail(backtest_id, f"timed out after {self.timeout_seconds:g} s", attempt)
        except BrokenProcessPool:
            # A worker process died (OOM kill, segfault): replace the pool, retry while attempts remain.
            log.error("job %s: worker process died (attempt %d)", backtest_id, attempt)
            self._replace_executor(executor)
            if attempt < self.max_attempts:
                await self.enqueue(backtest_id)
            else:
                await self.handler.fail(
                    backtest_id, f"worker process died on each of {attempt} attempts", attempt
                )
        except Exception as exc:
            await self.handler.fail(backtest_id, f"{type(exc).__name__}: {exc}", attempt)
        else:
            await self.handler.finish(payload, outcome)

    def _replace_executor(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False, cancel_futures=True)
