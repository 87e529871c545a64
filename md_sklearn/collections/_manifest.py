"""The manifest of a collection folder: its training settings, checked on every resume."""

import json

from md_sklearn._utils._atomic import write_json_atomic
from md_sklearn.collections._checkpoints import default_checkpoint_format
from md_sklearn.collections._constants import MANIFEST_FORMAT, MANIFEST_NAME


def open_manifest(output_dir, settings, parameters, grid):
    """Create or check the manifest; return the checkpoint format of the collection."""
    path = output_dir / MANIFEST_NAME
    grid = {name: list(values) for name, values in grid.items()}
    parameters = {str(width): count for width, count in parameters.items()}
    if not path.is_file():
        if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
            raise ValueError(
                f"expected output_dir to be a new or empty folder or a collection, got "
                f"{str(output_dir)!r} which holds other files and no {MANIFEST_NAME}; "
                "pass a new folder."
            )
        checkpoint_format = default_checkpoint_format()
        write_json_atomic(path, {"format": MANIFEST_FORMAT, "settings": settings,
                                 "parameters": parameters, "grid": grid,
                                 "checkpoint_format": checkpoint_format})
        return checkpoint_format
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        recorded = manifest["settings"]
        checkpoint_format = manifest["checkpoint_format"]
        recorded_parameters = manifest["parameters"]
        recorded_grid = manifest["grid"]
        if manifest["format"] != MANIFEST_FORMAT:
            raise ValueError(f"format {manifest['format']!r}, expected {MANIFEST_FORMAT!r}")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"expected {str(path)!r} to be a collection manifest, got an unreadable file "
            f"({error}); pass another output_dir."
        ) from error
    settings = json.loads(json.dumps(settings))
    differing = sorted(key for key in settings.keys() | recorded.keys()
                       if settings.get(key) != recorded.get(key))
    if differing:
        details = "; ".join(f"{key}: recorded {recorded.get(key)!r}, got {settings.get(key)!r}"
                            for key in differing)
        raise ValueError(
            f"expected the settings of the collection in {str(output_dir)!r}, got different "
            f"ones ({details}); pass the recorded settings to extend it, or a new output_dir."
        )
    for width, count in parameters.items():
        if recorded_parameters.get(width, count) != count:
            raise ValueError(
                f"expected build_model({width}) to have the {recorded_parameters[width]} "
                f"parameters recorded in {str(path)!r}, got {count}; pass the same "
                "architecture, or a new output_dir."
            )
    merged_grid = {name: sorted(set(recorded_grid.get(name, [])) | set(values))
                   for name, values in grid.items()}
    if merged_grid != recorded_grid or parameters.keys() - recorded_parameters.keys():
        manifest["grid"] = merged_grid
        manifest["parameters"] = {**recorded_parameters, **parameters}
        write_json_atomic(path, manifest)
    return checkpoint_format
