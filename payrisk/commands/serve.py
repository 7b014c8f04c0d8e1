"""`payrisk serve [--host H] [--port P]`: the API with uvicorn, in ONE worker process.

One process on purpose: the model (LightGBM) is loaded in the app's lifespan, and forking after it is loaded is
unsafe; scale with more containers, not workers. Settings come from the environment (PAYRISK_*).
"""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Run the payrisk API (serving.app:app) with uvicorn, one worker."""
    import uvicorn

    uvicorn.run("serving.app:app", host=host, port=port, workers=1, reload=False, log_level="info")
