"""The lesson: eight steps that tell the textbook chapter's argument on the bundled digits. ``steps`` holds each
step's idea, prediction and answer; ``experiments`` what each step runs (step 7's in ``four_uses``), from the lab's
own functions and figures, into a ``result.StepResult``; ``shared_runs`` trains a run once for a whole server however
many ask for it; ``drawn_digit`` what a model makes of a digit someone drew."""
