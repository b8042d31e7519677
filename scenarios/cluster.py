"""Dask workers for the engine's large rounds: a local cluster, or a real one.

A round solved in parts (:mod:`matching.decompose`, XL) hands its parts to a
``concurrent.futures`` executor; :func:`dask_workers` gives it one on Dask, the engine
the scenarios already run on: a :class:`distributed.LocalCluster` of worker processes on
this machine by default, or the workers of a running scheduler (``tcp://host:8786``),
whose machines must have this package installed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

__all__ = ["dask_workers"]


@contextmanager
def dask_workers(workers: int = 0, address: str | None = None) -> Iterator[tuple[Executor, int]]:
    """An executor on Dask, and how many tasks it runs at once.

    Parameters
    ----------
    workers
        With no ``address``: the local cluster's worker processes (one thread each; at
        least one). With an ``address``: how many parts to hand out at once, 0 for as
        many as the cluster has threads.
    address
        A running scheduler, e.g. ``tcp://10.0.0.5:8786``; None for a local cluster,
        started here and stopped on exit.
    """
    from distributed import Client, LocalCluster

    if address:
        client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
        try:
            threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
            yield client.get_executor(), max(1, workers or threads)  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    n = max(1, workers)
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        yield client.get_executor(), n  # type: ignore[no-untyped-call]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
