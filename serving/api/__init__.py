"""The HTTP API: versioned routes under /v1, one router per resource (routes/), shared dependencies (deps.py)."""
