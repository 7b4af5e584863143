"""A second plugin of the test distribution that cannot load: its ML library is
not installed. The appliance must list it as unavailable, and keep serving."""

import imaginary_ml_lib  # type: ignore[import-not-found]  # noqa: F401

PLUGIN = None
