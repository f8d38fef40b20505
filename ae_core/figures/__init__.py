"""Every figure and composite image: numpy in, Plotly figures or uint8 images out.

- ``palette``: the ten colours of classes and series, and the grey of what is set aside.
- ``images``: image grids, side-by-side comparisons, enlargement, PNG encoding.
- ``training``: loss curves and the comparison of runs.
- ``data``: a dataset's sample grid and class counts.
- ``reconstructions``: per-pixel error maps.
- ``latent``: latent maps, the map over training and code variance.
- ``generation``: the judge's scores of generated images, and the traversal of code dimensions.
- ``applications``: the charts of compression, restoration, classification and anomaly detection.
"""
