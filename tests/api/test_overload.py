"""Far more writes than the twin can take: it refuses the excess at once with 503 and
Retry-After, keeps its memory bounded, loses nothing it accepted, and is back to normal
within seconds of the load falling."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson

from ..server import Server


def resident_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def test_an_overloaded_twin_sheds_load_and_recovers_by_itself(tmp_path: Path) -> None:
    server = Server("demo", "--store", f"sqlite:///{tmp_path / 'twin.sqlite'}",
                    "--speed", "60", cwd=tmp_path)
    server.start()
    assert server.process is not None
    statuses: Counter[int] = Counter()
    accepted = 0
    retry_after: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    peak = [0.0]

    def flood(worker: int) -> None:
        nonlocal accepted
        now = time.time()
        # Encoded once: the clients must not be what runs out of CPU. Sent again, the same
        # readings are duplicates, which the twin still has to take in and check.
        body = orjson.dumps([{"sensor_id": f"L0{i % 4}-R{i % 2}0-T", "value": 21.0,
                              "time": now - 1e-4 * i, "seq": (worker << 32) + i}
                             for i in range(20_000)])
        headers = {"x-twinsync-source": f"flood-{worker}", "content-type": "application/json"}
        with server.client(timeout=60.0) as client:
            while not stop.is_set():
                response = client.post("/api/readings", content=body, headers=headers)
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        accepted += response.json()["accepted"]
                    elif response.status_code == 503:
                        retry_after.add(response.headers.get("retry-after", ""))

    def watch_memory() -> None:
        assert server.process is not None
        while not stop.is_set():
            peak[0] = max(peak[0], resident_megabytes(server.process.pid))
            time.sleep(0.2)

    try:
        threads = [threading.Thread(target=flood, args=(k,)) for k in range(40)]
        threads.append(threading.Thread(target=watch_memory))
        for thread in threads:
            thread.start()
        time.sleep(8.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        # The load has fallen: a plain request is served promptly again.
        recovered_in = None
        began = time.monotonic()
        while time.monotonic() - began < 15.0:
            response = httpx.post(f"{server.url}/api/readings", headers=server.headers,
                                  timeout=15.0, json=[
                {"sensor_id": "L00-R00-T", "value": 22.0, "time": time.time()}])
            if response.status_code == 200:
                recovered_in = time.monotonic() - began
                break
            time.sleep(0.2)
        stored = httpx.get(f"{server.url}/metrics", headers=server.headers, timeout=15.0).text
    finally:
        stop.set()
        server.stop()
    assert statuses[503] > 0, statuses  # the excess was refused, not queued
    assert retry_after <= {"1", "2"} and retry_after
    assert set(statuses) <= {200, 503}, statuses
    assert recovered_in is not None and recovered_in < 5.0
    assert peak[0] < 1500, f"resident memory peaked at {peak[0]:.0f} MB"
    assert accepted > 0 and "twinsync_writer_refused" in stored, (statuses, accepted)
