"""Model plugins: the ``ahoy.models`` entry point contract (:mod:`.contract`), their
discovery (:mod:`.registry`), the training tiers this box offers (:mod:`.tiers`),
and the built-in Ultralytics catalog as the first plugin."""
