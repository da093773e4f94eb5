"""asyncio + aiohttp, the articles' async shape: one ClientSession, TCPConnector(limit=C),
Semaphore(C), gather over all N requests. aiohttp's payload reader raises the same
ClientPayloadError for a reset and for a close before the body's end, so its file says
`reset_reads_as_truncated`."""

import asyncio
import time

import aiohttp

import fanout_peer


async def fetch(session, semaphore, job, outcomes):
    async with semaphore:
        started = time.perf_counter()
        try:
            async with session.get(job.url) as response:
                await response.read()
                outcomes.record(response.status, started)
        except Exception as e:
            outcomes.fail(e)


async def main(job, outcomes):
    semaphore = asyncio.Semaphore(job.concurrency)
    connector = aiohttp.TCPConnector(limit=job.concurrency)
    timeout = aiohttp.ClientTimeout(total=job.timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(fetch(session, semaphore, job, outcomes) for _ in range(job.requests)))


fanout_peer.run(lambda job, outcomes: asyncio.run(main(job, outcomes)), {"aiohttp": aiohttp.__version__})
