"""The web app: server-rendered pages (Jinja2) for collectors, finance, data scientists and admins, served by the same
FastAPI process and reading the same services as the /v1 API. Sessions and CSRF: `auth.py`; pages: `routes_*.py`."""
