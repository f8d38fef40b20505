"""The latent space: codes mapped to 2-D or 3-D and explored.

- ``projection``: PCA, t-SNE (openTSNE) and UMAP maps of codes, and how faithful each map is.
- ``umap_import``: UMAP imported with numba's on-disk cache, so its compile is paid once per machine.
- ``alignment``: maps of successive epochs turned onto each other.
- ``sampling``: which images a map shows.
- ``maps``: a run's map, computed once per run and parameters, and the map over training.
- ``nearest``: the one nearest-neighbour search (scikit-learn's), for the map and for generation's judge.
- ``neighbours``: a mapped image beside its nearest neighbours in code and pixel space.
- ``decoding``: the image at any spot of a map.
- ``code_variance``: how much each code dimension varies, which carry nothing, and the codes' total spread.
- ``export``: codes and map coordinates as CSV.
"""
