"""The notification worker: the third interface (after the CLI and the web app).

It plans what is due and sends what the outbox holds, on a timer kept by APScheduler
(docs/adr/0015-notification-outbox-and-worker.md). ``dosewise worker`` runs it on its own; the
web app runs one in its own process unless ``DOSEWISE_WORKER=off`` (``make run`` needs nothing
else). Several workers on one PostgreSQL database share the work safely.
"""
