"""Every session-state key and element key the pages use; no other module spells one.

Keys starting with SETTING_PREFIX belong to widgets whose values outlive a page switch (see session.start_page).
"""

SETTING_PREFIX = "setting."

# Persistent widgets: the dataset and run every page works on
DATASET = SETTING_PREFIX + "dataset"  # name of the dataset every page works on (the Data page's selectbox)
CURRENT_RUN = SETTING_PREFIX + "current_run"  # a key of RUNS (the run selectbox above every page on a run)

# Persistent widgets of the Train page; the recommended settings fill them (see pages/train.py)
PRESET = SETTING_PREFIX + "preset"
ARCHITECTURE = SETTING_PREFIX + "architecture"
LATENT = SETTING_PREFIX + "latent"
HIDDEN_UNITS = SETTING_PREFIX + "hidden_units"
FILTERS = SETTING_PREFIX + "filters"
ACTIVATION = SETTING_PREFIX + "activation"
LOSS = SETTING_PREFIX + "loss"
NOISE_TYPE = SETTING_PREFIX + "noise_type"
NOISE_LEVEL = SETTING_PREFIX + "noise_level"
L1 = SETTING_PREFIX + "l1"
BETA = SETTING_PREFIX + "beta"
OPTIMIZER = SETTING_PREFIX + "optimizer"
LEARNING_RATE = SETTING_PREFIX + "lr"
BATCH_SIZE = SETTING_PREFIX + "batch_size"
EPOCHS = SETTING_PREFIX + "epochs"
SEED = SETTING_PREFIX + "seed"
RUN_NAME = SETTING_PREFIX + "run_name"
LOG_SCALE = SETTING_PREFIX + "log_scale"
HOLD_OUT = SETTING_PREFIX + "hold_out"  # a class index left out of training, or None

# Persistent widgets of the Reconstructions page
SPLIT = SETTING_PREFIX + "split"
ORDER = SETTING_PREFIX + "order"
COUNT = SETTING_PREFIX + "count"

# Persistent widgets of the Latent space page; a link's query parameters set them first (see pages/latent.py)
LATENT_METHOD = SETTING_PREFIX + "latent.method"
LATENT_DIMS = SETTING_PREFIX + "latent.dims"
LATENT_SAMPLES = SETTING_PREFIX + "latent.samples"
LATENT_SEED = SETTING_PREFIX + "latent.seed"
LATENT_PERPLEXITY = SETTING_PREFIX + "latent.perplexity"
LATENT_ITERATIONS = SETTING_PREFIX + "latent.iterations"
LATENT_NEIGHBOURS = SETTING_PREFIX + "latent.neighbours"
LATENT_MIN_DIST = SETTING_PREFIX + "latent.min_dist"
LATENT_POINTS = "latent.points"  # list of map rows being inspected (from the chart's selection or the link)
LATENT_SEEN_SELECTION = "latent.seen_selection"  # the chart selection already copied into LATENT_POINTS
LATENT_INSPECTED = "latent.inspected"  # which of several selected points the inspector shows
LATENT_SPOT_PREFIX = "latent.spot."  # + method + axis: the sliders of the spot to decode
LATENT_EPOCH = "latent.epoch"  # the epoch slider of the map over training
LATENT_PARAMS_RUN = "latent.params_run"  # the run whose map the method's parameters were chosen for
LATENT_CHART = "latent_chart"
LATENT_EPOCH_CHART = "latent_epoch_chart"
LATENT_VARIANCE_CHART = "latent_variance_chart"
LATENT_ERROR_MAP = "latent_error_map"

# Widgets of the Generate page; pickers of images and dimensions are per run (+ run id), as each run has its own.
# A link's query parameters set the others first (see pages/generate.py)
FITTED_SAMPLER = SETTING_PREFIX + "fitted_sampler"  # beside N(0, I) for a plain autoencoder
VAE_SAMPLER = SETTING_PREFIX + "vae_sampler"
MIXTURE_COMPONENTS = SETTING_PREFIX + "mixture_components"  # None: chosen by BIC
TEMPERATURE = SETTING_PREFIX + "temperature"
SAMPLE_SEED = SETTING_PREFIX + "sample_seed"
GRID_SIDE = SETTING_PREFIX + "grid_side"
INTERPOLATION = SETTING_PREFIX + "interpolation"
INTERPOLATION_STEPS = SETTING_PREFIX + "interpolation_steps"
TRAVERSAL_EXTENT = SETTING_PREFIX + "traversal_extent"
MANIFOLD_SIZE = SETTING_PREFIX + "manifold_size"
INTERPOLATE_FROM_PREFIX = "interpolate_from."
INTERPOLATE_TO_PREFIX = "interpolate_to."
TRAVERSE_IMAGE_PREFIX = "traverse_image."
TRAVERSE_DIMS_PREFIX = "traverse_dims."
TRAVERSAL_CHART = "traversal_chart"
GRID_DOWNLOAD_PREFIX = "grid_download."  # + sampler name

# Widgets of the Applications page; the open tab decides which panel computes. A link's query parameters set the tab
# and its settings first (see pages/applications.py)
APPLICATION_TAB = "application_tab"
COMPRESSION_PRECISION = SETTING_PREFIX + "compression_precision"
DEGRADATION = SETTING_PREFIX + "degradation"
DEGRADATION_LEVEL = SETTING_PREFIX + "degradation_level"
DENOISER = "denoiser"  # a key of RUNS: the denoising run beside the current one, or None
CONFUSION_FEATURES = "confusion_features"
CONFUSION_CLASSIFIER = "confusion_classifier"
CONFUSION_LABELS = "confusion_labels"
ANOMALY_RUN = "anomaly_run"  # a key of RUNS: the run trained without a class that the anomaly tab scores
ANOMALY_CLASS = "anomaly_class"  # the class to hold out in a run the anomaly tab offers to train
THRESHOLD_PREFIX = "threshold."  # + run id: the anomaly threshold slider of that run

# Session state the pages write
WORKSPACE = "workspace"  # the ae_core.workspaces.store.Workspace this session works in (its token is in the address)
WORKSPACE_PROBLEMS = "workspace_problems"  # what of the workspace could not be read back when it opened
ADMIN = "admin"  # True once this session gave the server's admin token
LINKED_RUN = "linked_run"  # the run id the address named when this session opened; popped once followed
UPLOADS = "uploaded_datasets"  # dict: dataset name -> Dataset the user uploaded in this session
UPLOAD_ERROR = "upload_error"  # why the latest upload was refused, shown under the uploader
UPLOADER = "upload_widget"
UPLOAD_NAMES = "upload_names"  # set of the names of every upload this session made; a repeated name is numbered
PUBLISH_UPLOAD_PREFIX = "publish_upload."  # + run id: the checkbox agreeing to publish a run trained on an upload
DELETE_PENDING = "delete_pending"  # name of the saved run whose deletion awaits confirmation
KEPT_DELETE_PENDING = "kept_delete_pending"  # name of this workspace's kept run whose deletion awaits confirmation
CHANGE_OUTCOME = "change_outcome"  # ("success" or "error", text): what the last open, rename or delete did, shown once
SAVE_OUTCOME = "save_outcome"  # ("success" or "error", text): what the last Save run did, shown once
JOB = "training_job"  # this session's TrainingJob, absent before the first start
COLLECTED_JOB = "collected_job"  # the ended job whose run is already in RUNS
DISMISSED_JOB = "dismissed_job"  # the ended job whose outcome gave way to a run opened after it (Train page)
START_REQUESTED = "start_requested"  # set by "Train without class K" (Applications): the Train page starts it once
HOLD_OUT_CLEARED = "hold_out_cleared"  # the ended job after which "Hold out a class" was set back to none
RUNS = "session_runs"  # dict: run name -> Run trained or opened in this session
RECOMMENDED_FOR = "recommended_for"  # (dataset name, preset) whose recommended settings fill the Train widgets
NAVIGATION_FIXED = "navigation_fixed"  # rerun once through app.py (see streamlit_patches.use_app_navigation)
CLASSIFIED = "classified_runs"  # set of run ids whose classifiers were trained on a button press

# Element keys: charts found by tests and kept across reruns
SAMPLES_CHART = "samples"
CLASS_COUNTS_CHART = "class_counts"
LOSS_CHART = "loss_chart"
COMPARE_CHART = "compare_chart"
ERROR_HEATMAP = "error_heatmap"
SAVED_RUN = "saved_run"  # the saved-run selectbox
KEPT_RUN = "kept_run"  # the selectbox of the runs this workspace keeps
SAVE_BUTTON = "save_button"
SAVE_AS_PREFIX = "save_as."  # + run id: the "Save as" text input of that run
RENAME_TO_PREFIX = "rename_to."  # + saved run's name: its "New name" text input
ADMIN_TOKEN_INPUT = "admin_token_input"
RATE_DISTORTION_CHART = "rate_distortion"
RESTORATION_SWEEP_CHART = "restoration_sweep"
ACCURACY_CHART = "accuracy_chart"
CONFUSION_CHART = "confusion_chart"
ANOMALY_HISTOGRAM = "anomaly_histogram"
ROC_CHART = "roc_chart"
CLASS_SHARE_CHART = "class_share_chart"  # the Generate page's predicted classes per batch
DISTANCE_CHART = "distance_chart"  # the Generate page's distances to the nearest training image
