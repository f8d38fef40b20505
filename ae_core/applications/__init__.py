"""What a trained autoencoder is for: compression, restoration, classification and anomaly detection.

Each module puts the autoencoder beside a classical baseline on the same images and states a verdict derived from
the numbers. Functions take a ``RunContext`` (the run, its dataset on its own split, cached codes and errors) or
plain arrays, and return numpy arrays, dataclasses of figures and Plotly figures; nothing here imports Streamlit.
"""


def fit_pca(x_train, n_components: int, seed: int = 0):
    """scikit-learn PCA fitted on ``x_train`` (n, height, width, channels) with ``n_components``, capped at what
    the data allows (pixels, images)."""
    from sklearn.decomposition import PCA

    flat_train = x_train.reshape(len(x_train), -1)  # (n, pixels)
    return PCA(n_components=min(n_components, *flat_train.shape), random_state=seed).fit(flat_train)


def context_pca(context):
    """``fit_pca`` on a RunContext's training images with as many components as the run's code, fitted once per
    run: compression and classification share it."""
    latent_dim = context.codes("validation").shape[1]
    seed = context.run.train_config.seed
    return context.cached(("pca", latent_dim, seed), lambda: fit_pca(context.dataset.x_train, latent_dim, seed))


def text_table(rows: list[dict]) -> str:
    """Rows of equal keys as aligned text columns, numbers to 4 significant digits, for the command line."""
    cells = [list(rows[0])] + [[f"{value:.4g}" if isinstance(value, float) else str(value) for value in row.values()]
                               for row in rows]  # fmt: skip
    widths = [max(len(line[column]) for line in cells) for column in range(len(cells[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in cells)
