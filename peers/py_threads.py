"""requests + ThreadPoolExecutor, the articles' threads shape: one requests.Session whose pool
keeps C connections, C worker threads."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

import fanout_peer


def main(job, outcomes):
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=job.concurrency))

    def fetch(_):
        started = time.perf_counter()
        try:
            response = session.get(job.url, timeout=job.timeout_s)
            outcomes.record(response.status_code, started)
        except Exception as e:
            outcomes.fail(e)

    with ThreadPoolExecutor(max_workers=job.concurrency) as pool:
        list(pool.map(fetch, range(job.requests)))


fanout_peer.run(main, {"requests": requests.__version__})
