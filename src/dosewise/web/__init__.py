"""The web app: FastAPI over the services (create_app in dosewise.web.app)."""
