"""New images from a trained autoencoder, and how good they are.

- ``samplers``: codes drawn from N(0, I), a Gaussian or a Gaussian mixture fitted to the training codes, decoded in
  one call.
- ``paths``: interpolation, traversal of code dimensions and the decoded plane of a 2-number code.
- ``judge``: an independent classifier that scores generated images against real ones.
- ``report``: generation from a saved run scored against its real validation images.
"""
