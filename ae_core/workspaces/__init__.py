"""A workspace: what one browser makes on a server (its runs, finished or stopped, and its upload), kept on disk under
a long random token that the browser's address holds, so a reload, a reopened tab or a server restart loses nothing.

- ``store``: tokens, a workspace's folders, when it was last opened, and removing the ones nobody opened for a while.
- ``uploads``: a workspace's one upload written as plain arrays and read back without pickle.
- ``upload_memory``: the server's memory budget for the uploads every session holds, decoding them one at a time.
"""
