"""How good a reconstruction is, and what it is measured against.

- ``scores``: per-image MSE, PSNR and SSIM.
- ``pca_baseline``: PCA at the same code size, fitted once per run, and the verdict against it.
- ``ordering``: the order the Reconstructions page shows images in.
"""
