"""What the page files share, and the panels their bodies are made of. UI only: widgets in, ae_core calls, st.* out.

The session and the server
- ``keys``: every session-state and element key the pages use.
- ``session``: what every page does first (``start_page``), persistent settings, this session's job and runs.
- ``datasets``: the built-in datasets, this session's upload, and the one chosen on the Data page.
- ``workspace``: this browser's workspace: its token in the address, its runs and upload kept on disk, its link.
- ``guards``: ``require_run`` and ``require_context``, which say what a page is missing and link to where to get it.
- ``server``: what one server shares between sessions: the training queue, the background worker (and the judges
  it trains), the watchdog.
- ``sharing``: the runs folder everyone on the server shares: save, open and delete runs.
- ``kept_runs``: the runs this workspace keeps for a reload, what they take of its quota, and deleting them.
- ``streamlit_patches``: the two changes to private Streamlit behaviour, checked at import.
- ``layout``: rows of controls and of metrics that wrap, whole, onto more lines on a narrow screen.

Panels, by page
- Train: ``training_settings`` (the settings box), ``training_view`` (the buttons, the live view, the outcome).
- Latent space: ``latent_view`` (the view a link holds), ``map_panel`` (the map), ``map_inspector`` (its points).
- Generate: ``sampling_panel`` (samplers and the judge), ``code_walks`` (interpolation, traversal, manifold grid).
- Applications: ``applications`` (one module per tab).
"""
