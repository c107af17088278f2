"""The FastAPI application: the cart API, the staff review console and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse

from cart_store import __version__, api, review
from cart_store.db import open_db
from cart_store.schemas import SessionMessage

DESCRIPTION = (
    "Smart-cart store service. Cart routes (/v1) need per-cart HMAC-signed requests: headers "
    "X-Cart-Id, X-Cart-Timestamp, X-Cart-Nonce, X-Cart-Signature (see store/PROTOCOL.md)."
)


def create_app(db_url: str) -> FastAPI:
    app = FastAPI(title="cart-store", version=__version__, description=DESCRIPTION)
    app.state.engine, app.state.sessions = open_db(db_url)
    app.include_router(api.router)
    app.include_router(review.router)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the database answers")
    def healthz() -> dict[str, bool]:
        with app.state.sessions() as db:
            db.connection()
        return {"ok": True}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/review", status_code=303)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    message = SessionMessage.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas.update(message.pop("$defs", {}))
    schemas["SessionMessage"] = message
    components["securitySchemes"] = {
        "cartSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Cart-Signature",
            "description": "HMAC-SHA256 over the canonical request, see store/PROTOCOL.md",
        }
    }
    for path, operations in schema["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = [{"cartSignature": []}]
    return dict(sorted(schema.items()))
