"""A run: one trained model with its settings, history, dataset, split and metrics.

- ``run``: the ``Run`` and how one is trained and evaluated.
- ``names``: what a run name may hold, whether it is free in a runs folder, and where runs are saved by default.
- ``saving``: saving and deleting through staging folders, and clearing what a killed save left.
- ``disk_budget``: what a saved run, a workspace's runs and a runs folder may take on disk, checked at save.
- ``history``: the per-batch losses a saved run keeps, decimated to a fixed bound.
- ``run_files``: a saved run's files opened without following links and within their size limits.
- ``summary``: a run's ``run.json``, read back and checked by declared rules before anything is believed.
- ``listing``: saved runs listed from their ``run.json``; a malformed one is named, never stops the listing.
- ``loading``: a saved run read back, never executing code from its files.
- ``model_file``: a run's ``model.keras`` read as weights only, its config checked.
- ``comparison``: runs side by side, one row of settings and scores each.
- ``context``: a run with its dataset and every array derived from them, each computed once.
- ``notebook``: a saved run's Jupyter notebook, which reopens it and measures and draws again, explained
  (its words in ``notebook_text``).
"""
