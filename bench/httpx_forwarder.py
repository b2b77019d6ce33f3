"""For comparison only: the same forwarding done with httpx (what the gateway does not use)."""
import os

import httpx
from fastapi import FastAPI, Request, Response

UPSTREAM = os.environ["UPSTREAM"]
app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM, limits=httpx.Limits(max_connections=200))


@app.api_route("/api/v1/identity/{path:path}", methods=["GET", "POST"])
async def forward(path: str, request: Request) -> Response:
    resp = await client.request(request.method, f"/{path}", content=await request.body())
    return Response(resp.content, status_code=resp.status_code, media_type=resp.headers.get("content-type"))
