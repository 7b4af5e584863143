"""The YAML inference runtime: the pipeline file's schema and validation, and the
one inference path (letterbox in, decoding and NMS out) that the appliance's
evaluation and export gates use too."""
