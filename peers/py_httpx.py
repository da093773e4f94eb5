"""httpx.AsyncClient, the newer articles' async shape: the client's pool limits connections to
C (Limits), gather over all N requests."""

import asyncio
import time

import httpx

import fanout_peer


async def fetch(client, job, outcomes):
    started = time.perf_counter()
    try:
        response = await client.get(job.url)
        outcomes.record(response.status_code, started)
    except Exception as e:
        outcomes.fail(e)


async def main(job, outcomes):
    limits = httpx.Limits(max_connections=job.concurrency, max_keepalive_connections=job.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=job.timeout_s) as client:
        await asyncio.gather(*(fetch(client, job, outcomes) for _ in range(job.requests)))


fanout_peer.run(lambda job, outcomes: asyncio.run(main(job, outcomes)), {"httpx": httpx.__version__})
