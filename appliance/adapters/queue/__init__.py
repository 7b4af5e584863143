"""Job queues: huey on SQLite in the data dir (the worker process consumes it)."""
