"""Training, as pure values: the model catalog, the hyperparameter schema and the
event vocabulary spoken between a training subprocess and its supervisor."""
