"""WebSocket subscribers for the ingest bench, in a process of their own.

``python -m twinsync.bench.ws_clients URL CLIENTS`` opens ``CLIENTS`` real WebSocket
connections to ``URL``, subscribes each to every element (``*``), prints ``ready`` once
every snapshot has arrived, and then counts the deltas each receives and how long after
their ``committed_at`` they arrived. It stops when its standard input closes, and prints
its figures as one JSON object. A delta is counted, not decoded (a dashboard decodes on
its own machine; here the clients share the server's cores).

A process of its own, as a dashboard is: the clients' decoding must not run on the
server's interpreter, and the clock both read is the same machine's.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from typing import Any

import numpy as np
import orjson
import websockets

#: A delta as the hub encodes it: its type, then when its oldest change was committed.
DELTA_HEAD = re.compile(r'\{"type":"delta","committed_at":([0-9.eE+-]+)')


def _moved_count(text: str) -> int:
    """How many moved values a delta carries: the entries of its ``sensor_quality``
    column (numbers, so the commas between them count them without decoding)."""
    start = text.find('"sensor_quality":[')
    if start < 0:
        return 0
    start += len('"sensor_quality":[')
    end = text.find("]", start)
    return 0 if end == start else text.count(",", start, end) + 1


async def _client(url: str, ready: asyncio.Event, counts: list[int], delays: list[float],
                  stopping: asyncio.Event, snapshots: list[int]) -> None:
    # The token comes in the environment, never on a command line others can read.
    token = os.environ.get("TWINSYNC_TOKEN", "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with websockets.connect(url, max_size=None, additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "subscribe", "elements": "*", "id": 1}))
        while not stopping.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.2)
            except TimeoutError:
                continue
            received = time.time()
            text = raw if isinstance(raw, str) else raw.decode()
            if text.startswith('{"type":"delta"'):
                # Counted, not decoded: a dashboard decodes on its own machine, and here
                # the clients share the server's two cores. The head of the message says
                # when its oldest change was committed.
                counts[0] += text.count('"kind":') + _moved_count(text)
                head = DELTA_HEAD.match(text)
                if head is not None:
                    delays.append(received - float(head.group(1)))
                continue
            message = orjson.loads(text)
            if message.get("type") == "snapshot":
                snapshots[0] += 1
                if not message.get("resync"):
                    ready.set()


async def run(url: str, clients: int) -> dict[str, Any]:
    stopping = asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    counts = [[0] for _ in range(clients)]
    delays: list[float] = []
    snapshots = [[0] for _ in range(clients)]
    tasks = [asyncio.create_task(_client(url, readies[k], counts[k], delays, stopping,
                                         snapshots[k])) for k in range(clients)]
    await asyncio.gather(*(r.wait() for r in readies))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the bench closes our input
    stopping.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    lag = np.array(delays) if delays else np.zeros(1)
    return {
        "clients": clients,
        "changes_received": [c[0] for c in counts],
        "deltas": len(delays),
        "resyncs": sum(s[0] - 1 for s in snapshots),
        "commit_to_client_ms": {
            "p50": round(float(np.percentile(lag, 50)) * 1000, 1),
            "p99": round(float(np.percentile(lag, 99)) * 1000, 1),
            "max": round(float(lag.max()) * 1000, 1),
        },
    }


def main() -> None:
    url, clients = sys.argv[1], int(sys.argv[2])
    print(json.dumps(asyncio.run(run(url, clients))), flush=True)


if __name__ == "__main__":
    main()
