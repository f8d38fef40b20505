"""A terminal progress bar (tqdm) that listens to training."""

from tqdm import tqdm

from ae_core.training.events import BatchProgress, EpochEnd, TrainingListener


class ProgressBar(TrainingListener):
    """Shows samples trained, throughput, ETA and the latest losses; use as a context manager."""

    def __init__(self):
        self.bar = None
        self.last_epoch_logs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.close()

    def on_batch(self, progress: BatchProgress) -> None:
        if self.bar is None:
            self.bar = tqdm(total=progress.samples_total, unit="img", unit_scale=True, dynamic_ncols=True)
        self.bar.set_description(f"epoch {progress.epoch}/{progress.epochs}")
        self.bar.set_postfix(loss=f"{progress.logs['loss']:.4f}", **self.last_epoch_logs, refresh=False)
        self.bar.update(progress.samples_seen - self.bar.n)

    def on_epoch_end(self, epoch: EpochEnd) -> None:
        self.last_epoch_logs = {"val_loss": f"{epoch.logs['val_loss']:.4f}"}
