"""A plugin module that fails when imported (a missing dependency, say)."""

raise ImportError("No module named 'imaginary_ml_lib'")
