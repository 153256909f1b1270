"""REST for readings: push a batch, read history, see what was refused."""

from __future__ import annotations

import time
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, Query, Request

from ..ingest.decoded import DEFAULT_LIMITS, Decoded, DecodeLimits, Reject
from ..ingest.payloads import decode_payload
from ..pipeline import DeadLetter, IncomingBatch
from ..pipeline.limits import short_repr
from ..service import IngestResult, TwinService
from ..tokens import Role
from .access import identity_of
from .auth import Identity
from .contract import errors, json_body
from .deps import Position, service, time_param
from .errors import rate_limited
from .limits import BodyTooLarge, limits_of, read_body, too_large
from .rates import RateLimited
from .responses import JSON
from .schemas.readings import (
    BatchRefused,
    DeadLetterPage,
    History,
    IngestAnswer,
    ReadingsBody,
    TooLarge,
)

router = APIRouter(prefix="/api", default_response_class=JSON)
Service = Annotated[TwinService, Depends(service)]


class Refusal(TypedDict):
    """One refused reading in the answer to a batch; ``index`` is None when unknown."""

    index: int | None
    reason: str
    detail: str


def source_of(request: Request) -> str:
    """Whose clock the readings' times come from: a device token's own name (it may not
    speak for another clock), else a named source, else the client address."""
    identity = identity_of(request)
    if identity.role is Role.DEVICE:
        return f"device:{identity.name}"
    named = request.headers.get("x-twinsync-source") or request.query_params.get("source")
    if named:
        return named
    host = request.client.host if request.client else "unknown"
    return f"http:{host}"


def decode_readings(body: bytes, received_at: float, source: str,
                    limits: DecodeLimits = DEFAULT_LIMITS) -> Decoded:
    """Body → readings, the body position of each, and rejects, by the one decoder.

    The body is a reading, ``[reading, …]``, ``{"readings": [reading, …]}`` or a SenML
    pack (RFC 8428 JSON), exactly as over MQTT (``twinsync.ingest.payloads``). A reject
    with position None refused the body as a whole."""
    return decode_payload(body, None, "auto", now=received_at, limits=limits)


def keep_granted(decoded: Decoded, identity: Identity) -> None:
    """Turn the readings of sensors the identity was not granted into rejects."""
    if identity.role is not Role.DEVICE:
        return
    granted = identity.record.grant_check()
    kept, positions = [], []
    for reading, position in zip(decoded.readings, decoded.positions, strict=True):
        if isinstance(reading.sensor_id, str) and granted(reading.sensor_id):
            kept.append(reading)
            positions.append(position)
        else:
            decoded.rejects.append(Reject(
                "sensor_not_granted", f"this token may not post readings of "
                f"{short_repr(reading.sensor_id)}", reading._asdict(), position))
    decoded.readings, decoded.positions = kept, positions


def _letters(decoded: Decoded, received_at: float, source: str
             ) -> list[tuple[int | None, DeadLetter]]:
    return [(r.position, DeadLetter(received_at, source, r.reason, r.detail, r.payload))
            for r in decoded.rejects]


@router.post(
    "/readings", response_model=IngestAnswer,
    responses=errors(400, 413, s400=BatchRefused, s413=TooLarge),
    openapi_extra=json_body(ReadingsBody, "A reading, a list of them, `{\"readings\": "
                            "[...]}` or a SenML pack; read by the route itself (msgspec)"))
async def post_readings(request: Request, svc: Service) -> JSON:
    """A batch of readings ``{sensor_id, value, unit?, time?, seq?}``.

    Answers how many were accepted (committed) and, for each refused one, its position in
    the batch and the reason; refused readings are kept as dead letters and the rest of
    the batch is accepted. A body that is not JSON, or holds no reading at all, is kept as
    a dead letter and answered with 400. A body or a batch past its limit
    (docs/LIMITS.md) is answered with 413 and the limit, and nothing of it is kept.
    """
    received_at = time.time()
    source = source_of(request)
    limits = limits_of(request)
    try:
        raw = await read_body(request, limits.max_body_bytes)
    except BodyTooLarge as exc:
        return too_large(exc.reason, str(exc), exc.limit)
    decoded = decode_readings(raw, received_at, source, limits.decode)
    past = [r for r in decoded.rejects if r.reason == "too_many_readings"]
    if past:
        # Refused before the rate is taken: a batch that is not kept costs the token
        # nothing, so the parts its sender is told to send are not then refused 429.
        return too_large("too_many_readings", past[0].detail, limits.max_readings,
                         readings=decoded.items)
    identity = identity_of(request)
    wait = request.app.state.rates.readings.take(identity.record.id, float(decoded.items),
                                                 time.monotonic())
    if wait > 0:
        # Past the token's readings a second: nothing of the batch is kept; the sender
        # keeps it and sends it again after Retry-After.
        return rate_limited(RateLimited("readings", wait))
    keep_granted(decoded, identity)
    early = _letters(decoded, received_at, source)
    whole = [letter for index, letter in early if index is None]
    if whole:
        await svc.add_dead_letters(whole)
        refusal: Refusal = {"index": None, "reason": whole[0].reason,
                            "detail": whole[0].detail}
        return JSON({"error": refusal["reason"], "detail": refusal["detail"], "accepted": 0,
                     "rejected": [refusal]}, status_code=400)
    readings, positions = decoded.readings, decoded.positions
    if readings:
        result = await svc.ingest(IncomingBatch(readings, source, received_at, "http"),
                                  [d for _, d in early])
    else:
        await svc.add_dead_letters([d for _, d in early])
        result = IngestResult(0)
    rejected: list[Refusal] = [{"index": positions[i], "reason": r, "detail": d}
                               for i, r, d in result.rejected]
    rejected += [{"index": p, "reason": d.reason, "detail": d.detail} for p, d in early]
    rejected.sort(key=lambda r: -1 if r["index"] is None else r["index"])
    return JSON({**result.to_dict(), "rejected": rejected})


@router.get("/sensors/{sensor_id:id}/readings", response_model=History,
            responses=errors(404))
async def get_readings(sensor_id: str, svc: Service, start: str | None = None,
                       end: str | None = None,
                       every: Annotated[float | None, Query(gt=0)] = None,
                       limit: Annotated[int, Query(ge=1, le=1_000_000)] = 100_000) -> JSON:
    """History of a sensor as columns, raw or downsampled to ``every`` seconds
    (min, max, mean and count per bucket), with each reading's anomaly score (the highest
    per bucket; null where none was scored). Times are ISO 8601 or epoch seconds; the
    default window is the last 24 hours."""
    now = time.time()
    end_time = time_param(end, now + 1.0, "end")
    start_time = time_param(start, end_time - 86_400.0, "start")
    row, unit = await svc.view(svc.sensor_row_and_unit, sensor_id)
    head = {"sensor_id": sensor_id, "unit": unit, "start": start_time, "end": end_time}
    if every is not None:
        buckets = await svc.history(svc.store.downsample, row, start_time, end_time, every)
        return JSON({**head, "every": every, "time": buckets.start, "min": buckets.minimum,
                     "max": buckets.maximum, "mean": buckets.mean, "count": buckets.count,
                     "anomaly": buckets.anomaly})
    history = await svc.history(svc.store.history, row, start_time, end_time, limit)
    return JSON({**head, "every": None, "time": history.event_time, "value": history.value,
                 "raw_value": history.raw_value, "received_at": history.received_at,
                 "seq": history.seq, "quality": history.quality, "flags": history.flags,
                 "anomaly": history.anomaly})


@router.get("/dead-letters", response_model=DeadLetterPage)
async def get_dead_letters(svc: Service, after: Position = 0, reason: str | None = None,
                           limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> JSON:
    """Input that could not be used, oldest first, with the reason. A page holds at most
    ``limit`` letters and a few MB (the store's page bound), so it may hold fewer; when
    more follow, ``next_after`` is the ``after`` of the next page (else null)."""
    store = svc.store

    def read() -> tuple[list[DeadLetter], bool, int]:
        letters = store.dead_letters(after=after, reason=reason, limit=limit)
        more = bool(letters) and bool(store.dead_letters(after=letters[-1].id or 0,
                                                         reason=reason, limit=1))
        return letters, more, store.counts()["dead_letters"]

    letters, more, count = await svc.history(read)
    out = []
    for letter in letters:
        data = letter.to_dict()
        if isinstance(letter.payload, bytes):
            data["payload"] = letter.payload.decode("utf-8", "backslashreplace")
            data["payload_encoding"] = "bytes"
        out.append(data)
    return JSON({"dead_letters": out, "next_after": letters[-1].id if more else None,
                 "count": count})
