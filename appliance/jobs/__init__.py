"""Governed job kinds: what each asks of the box, and how it runs in the worker."""
