"""A run: one trained model with its settings, history, dataset, split and metrics.

- ``run``: the ``Run`` and how one is trained and evaluated.
- ``saving``: run names, saving and deleting through staging folders, and clearing what a killed save left.
- ``listing``: saved runs listed from their ``run.json``, which is checked before anything is believed.
- ``loading``: a saved run read back, never executing code from its files.
- ``model_file``: a run's ``model.keras`` read as weights only, its config checked.
- ``context``: a run with its dataset and every array derived from them, each computed once.
"""
