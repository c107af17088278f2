"""The wire shapes of the store API (pydantic), bounded so a bad or huge body is refused clearly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Code = Annotated[str, Field(min_length=1, max_length=14, pattern=r"^[0-9]+$")]
MAX_TRACE_POINTS = 4000
MAX_FRAME_B64 = 2_000_000


class Item(BaseModel):
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    qty: int = Field(ge=0, le=10_000)
    weight_g: float | None = None
    amount_cents: int


class ReportAlert(BaseModel):
    t: float
    kind: str = Field(max_length=64)
    resolved: bool


class ReviewFlag(BaseModel):
    required: bool
    reasons: list[str] = Field(default_factory=list, max_length=64)


class Report(BaseModel):
    """The cart-trace v1 replay report, as the cart closed the session."""

    model_config = ConfigDict(extra="allow")
    version: Literal[1]
    session_id: Id
    items: list[Item] = Field(max_length=1000)
    total_cents: int
    alerts: list[ReportAlert] = Field(max_length=1000)
    review: ReviewFlag
    stats: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _total_adds_up(self) -> Report:
        lines = sum(item.amount_cents for item in self.items)
        if lines != self.total_cents:
            raise ValueError(f"total_cents {self.total_cents} is not the sum of the lines ({lines})")
        return self


class Weighing(BaseModel):
    """A weight change the cart attributed to one unit of `code`, or to nothing (code null)."""

    t: float
    weight_g: float
    code: str | None = Field(default=None, max_length=64)
    by_weight: bool = False
    verified: bool = False
    alone: bool = False  # the unit went in on its own (not a share of a group put in together)


class Trace(BaseModel):
    t0: float
    sps: float = Field(gt=0, le=10_000)
    values_g: list[float | None] = Field(max_length=MAX_TRACE_POINTS)  # None: a sample lost


class AlertEvidence(BaseModel):
    t: float
    kind: str = Field(max_length=64)
    detail: str = Field(default="", max_length=500)
    resolved: bool = False
    trace: Trace | None = None


class Frame(BaseModel):
    t: float
    media_type: Literal["image/png", "image/jpeg"]
    data_b64: str = Field(max_length=MAX_FRAME_B64, pattern=r"^[A-Za-z0-9+/]*={0,2}$")


class Evidence(BaseModel):
    alerts: list[AlertEvidence] = Field(default_factory=list, max_length=200)
    frames: list[Frame] = Field(default_factory=list, max_length=20)


class SessionMessage(BaseModel):
    """`session.closed/1`: a finished session, sent once and answered once, however often it is sent."""

    schema_: Literal["session.closed/1"] = Field(alias="schema")
    message_id: Id
    cart_id: Id
    session_id: Id
    sequence: int = Field(ge=1, le=1_000_000)
    report: Report
    weighings: list[Weighing] = Field(default_factory=list, max_length=2000)
    evidence: Evidence = Field(default_factory=Evidence)


class IngestAnswer(BaseModel):
    receipt_id: str
    cart_id: str
    session_id: str
    sequence: int
    status: Literal["charged", "pending_review"]
    total_cents: int


class Receipt(BaseModel):
    receipt_id: str
    cart_id: str
    session_id: str
    status: Literal["charged", "pending_review"]
    cart_total_cents: int
    charged_cents: int | None
    items: list[Item]
    decided_by_staff: bool


class CatalogRow(BaseModel):
    code: Code
    name: str
    price_cents: int
    sold_by: Literal["each", "weight"]
    weight_g: float | None
    weight_sd_g: float | None


class CatalogDelta(BaseModel):
    version: int
    since: int
    items: list[CatalogRow]
    removed: list[str]
    full: bool


class ConfirmedWeighingOut(BaseModel):
    id: int
    session_id: str
    code: str
    weight_g: float
    source: Literal["approved", "identified"]
    decided_unix: float


class FleetWeighingOut(BaseModel):
    id: int
    code: str
    weight_g: float


class FleetWeighings(BaseModel):
    weighings: list[FleetWeighingOut]
    next_since: int


class ConfirmedWeighings(BaseModel):
    weighings: list[ConfirmedWeighingOut]
    next_since: int
