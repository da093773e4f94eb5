"""asyncio.to_thread(requests.get) under Semaphore(C), as the articles write it: the blocking
call runs on the event loop's default executor, whose size Python sets (min(32, CPUs + 4))."""

import asyncio
import time

import requests
from requests.adapters import HTTPAdapter

import fanout_peer


async def fetch(session, semaphore, job, outcomes):
    async with semaphore:
        started = time.perf_counter()
        try:
            response = await asyncio.to_thread(session.get, job.url, timeout=job.timeout_s)
            outcomes.record(response.status_code, started)
        except Exception as e:
            outcomes.fail(e)


async def main(job, outcomes):
    semaphore = asyncio.Semaphore(job.concurrency)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=job.concurrency))
    await asyncio.gather(*(fetch(session, semaphore, job, outcomes) for _ in range(job.requests)))


fanout_peer.run(lambda job, outcomes: asyncio.run(main(job, outcomes)), {"requests": requests.__version__})
