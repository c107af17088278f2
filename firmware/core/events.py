"""What the cart core takes in: sensor readings and the shopper's touches, each stamped with `t`,
seconds on the session's clock (monotonic; injected, never read by the core itself).

Devices (scale link, camera reader, screen) and the trace replayer all produce these; the cart
pipeline journals each one before the core acts on it. Names are past tense: facts, not requests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class ScaleSampled:
    """Consecutive load-cell samples in grams: `values_g[i]` was taken at `t + i / sps`."""

    kind: ClassVar[str] = "scale.sampled"
    t: float
    sps: float
    values_g: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ScaleFaulted:
    """The scale stopped giving trustworthy samples (link lost, chip silent, saturated)."""

    kind: ClassVar[str] = "scale.faulted"
    t: float
    reason: str


@dataclass(frozen=True, slots=True)
class ScaleRestored:
    kind: ClassVar[str] = "scale.restored"
    t: float


@dataclass(frozen=True, slots=True)
class CodeRead:
    """One deliberate scan: a hand-scanner beep, or the camera reader's debounced decision."""

    kind: ClassVar[str] = "scan.read"
    t: float
    text: str
    symbology: str | None = None
    source: str = "scanner"  # "scanner" | "camera"


@dataclass(frozen=True, slots=True)
class FrameCaptured:
    """One camera frame, by the path of its image file (trace replay) or a capture id."""

    kind: ClassVar[str] = "camera.frame"
    t: float
    image: str


@dataclass(frozen=True, slots=True)
class CameraFaulted:
    kind: ClassVar[str] = "camera.faulted"
    t: float
    reason: str


@dataclass(frozen=True, slots=True)
class CameraRestored:
    kind: ClassVar[str] = "camera.restored"
    t: float


@dataclass(frozen=True, slots=True)
class PluKeyed:
    """The shopper keyed a produce PLU (or picked the product by name, which gives its PLU)."""

    kind: ClassVar[str] = "input.plu"
    t: float
    plu: str


@dataclass(frozen=True, slots=True)
class RemovalAnnounced:
    """The shopper says which item is being (or was just) taken out."""

    kind: ClassVar[str] = "input.remove"
    t: float
    code: str


@dataclass(frozen=True, slots=True)
class CheckoutRequested:
    kind: ClassVar[str] = "input.checkout"
    t: float


@dataclass(frozen=True, slots=True)
class SessionEnded:
    kind: ClassVar[str] = "session.ended"
    t: float


@dataclass(frozen=True, slots=True)
class ClockTicked:
    """Time passed with nothing else happening; deadlines (grace periods) may fire."""

    kind: ClassVar[str] = "clock.ticked"
    t: float


@dataclass(frozen=True, slots=True)
class WeightSettled:
    """The weighing stage's output: the basket came to rest at a new level.

    `delta_g` is the change against the previous settled level, `noise_g` the sample spread seen
    while it settled, `settle_s` how long the basket had been moving before it came to rest,
    `rise_g` how far the basket read above its level before while it moved (briefly smoothed): a
    hand gripping an item to lift it out presses it first; a hand letting go of one does not.
    """

    kind: ClassVar[str] = "scale.settled"
    t: float
    delta_g: float
    level_g: float
    noise_g: float
    settle_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    rise_g: float | None = None  # None: not measured (a journal written before it was)


@dataclass(frozen=True, slots=True)
class ScaleMotion:
    """The weighing stage's word that the basket began to move (a hand, a push), or came to rest
    again with no change to report (a settled change says so itself)."""

    kind: ClassVar[str] = "scale.motion"
    t: float
    moving: bool


Event = (
    ScaleSampled
    | ScaleFaulted
    | ScaleRestored
    | CodeRead
    | FrameCaptured
    | CameraFaulted
    | CameraRestored
    | PluKeyed
    | RemovalAnnounced
    | CheckoutRequested
    | SessionEnded
    | ClockTicked
    | WeightSettled
    | ScaleMotion
)

EVENT_TYPES: dict[str, type] = {
    cls.kind: cls
    for cls in (
        ScaleSampled,
        ScaleFaulted,
        ScaleRestored,
        CodeRead,
        FrameCaptured,
        CameraFaulted,
        CameraRestored,
        PluKeyed,
        RemovalAnnounced,
        CheckoutRequested,
        SessionEnded,
        ClockTicked,
        WeightSettled,
        ScaleMotion,
    )
}


def event_to_dict(event: Event) -> dict[str, Any]:
    data = asdict(event)
    if isinstance(event, ScaleSampled):
        data["values_g"] = list(event.values_g)
    return {"kind": event.kind, **data}


def event_from_dict(data: dict[str, Any]) -> Event:
    data = dict(data)
    cls = EVENT_TYPES[data.pop("kind")]
    if cls is ScaleSampled:
        data["values_g"] = tuple(data["values_g"])
    return cls(**data)
