"""What a user or the server's operator chooses, checked in one way (``ae_core.validation``).

- ``model_config``: ``ModelConfig``, what to build, and the presets.
- ``train_config``: ``TrainConfig``, how to train.
- ``recommended``: the default model and training for a dataset and preset.
- ``limits``: every size limit, each set by an ``AE_MAX_*`` environment variable.
- ``environment``: the server's other environment variables, and the one parser every ``AE_*`` variable is read
  with (pydantic-settings): blank means unset, a malformed value is refused saying what to do.

Free of Keras, so the pages and the command line can describe and check settings without loading it.
"""
