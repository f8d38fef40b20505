"""The Applications page's four tabs, one module each, as in ae_core.applications: ``compression``,
``restoration``, ``classification`` and ``anomaly``, each with its ``*_tab(context)``."""
