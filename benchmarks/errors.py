"""Errors the user can fix: the CLI prints them on one line and exits with code 2."""


class BenchError(Exception):
    """Bad input (matrix, method, arch, dataset, scale, file); message names the field."""

    exit_code = 2


class MissingFileError(BenchError):
    """A required data or weight file is absent or fails its checksum."""


class TrainingDiverged(RuntimeError):
    """A loss term became NaN/inf; the run is recorded as failed, checkpoints are kept."""
