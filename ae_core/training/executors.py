"""Where a ``TrainingJob`` trains: an executor hands a ``TrainingTask`` to a worker and returns the server's end of
it (``send`` commands, ``receive`` messages, ``kill``; see ``local_workers.LocalTraining``).

- ``local``, the default: worker processes on this machine (``local_workers``), as many at once as the server's
  ``TrainingQueue`` admits.
- ``ray``: the Ray cluster that ``RAY_ADDRESS`` names (``ray_workers``); Ray's scheduler decides where and when.

AE_EXECUTOR chooses; unset, it is ``ray`` when ``RAY_ADDRESS`` is set, else ``local``.
"""

from functools import cache

from ae_core.settings import environment
from ae_core.settings.environment import EXECUTORS, ServerEnvironment
from ae_core.validation import OneOf, check

EXECUTOR_ENV = ServerEnvironment.variable("executor")


@cache
def local_workers():
    """This process's local workers, as many kept warm as trainings may run at once."""
    from ae_core.training.local_workers import LocalWorkers

    return LocalWorkers(warm=environment.current().max_concurrent_trainings)


def executor(name: str | None = None, one_training: bool = False):
    """The executor called ``name`` ("local" or "ray"); None: the one AE_EXECUTOR chooses. A server shares one;
    ``one_training`` gives a caller that trains once (the command line) local workers started on demand, none warm."""
    name = check("executor", name or environment.current().executor, OneOf(EXECUTORS))
    if name == "ray":
        from ae_core.training.ray_workers import ray_workers

        return ray_workers()
    if one_training:
        from ae_core.training.local_workers import LocalWorkers

        return LocalWorkers(warm=0)
    return local_workers()
