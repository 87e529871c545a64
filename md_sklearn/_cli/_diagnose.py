"""Groups of checkpoints from the command line: folders, group.json, data files, factories."""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from md_sklearn._featurizer._groups import CHECKPOINT_SUFFIXES  # the endings ModelGroup reads

#: Optional file beside a group's checkpoints: model_kwargs, data, meta.
GROUP_FILE = "group.json"
#: Accepted names of the two arrays of a data file, in order of preference.
INPUT_KEYS = ("inputs", "x", "X")
LABEL_KEYS = ("labels", "y", "targets")


def import_factory(spec: str):
    """The callable named by ``"module:attribute"`` (e.g. ``md_sklearn.models:small_cnn``)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected --model as MODULE:FACTORY, got {spec!r}; "
                         "for example md_sklearn.models:small_cnn.")
    # like python -m: the current folder first, so mymodels.py beside the user is found
    # (the md-sklearn script's own folder is what Python puts on the path instead)
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise ValueError(
                f"cannot import module {module_name!r} of --model {spec!r}: no "
                f"{module_name.replace('.', '/')}.py in the current folder ({os.getcwd()}) or on "
                "the Python path; run from the folder that holds it, or add that folder to "
                "PYTHONPATH.") from None
        raise ValueError(f"module {module_name!r} of --model {spec!r} was found but its own "
                         f"imports failed ({error}); install what it needs.") from None
    except ImportError as error:
        raise ValueError(f"cannot import module {module_name!r} of --model {spec!r} "
                         f"({error}).") from None
    factory = module
    for part in attribute.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r}; "
                             f"expected --model MODULE:FACTORY naming a function.")
    if not callable(factory):
        raise TypeError(f"expected --model to name a callable, got a "
                        f"{type(factory).__name__} ({spec!r}).")
    return factory


def parse_kwargs(text, origin: str) -> dict:
    """A JSON object of keyword arguments (``None`` gives ``{}``)."""
    if text is None:
        return {}
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as error:
        raise ValueError(f"expected {origin} as a JSON object, got {text!r} ({error}).") from None
    if not isinstance(value, dict):
        raise ValueError(f"expected {origin} as a JSON object, got {type(value).__name__}.")
    return value


def load_data_file(path):
    """A ``TensorDataset`` from a ``.pt`` file (dict of tensors) or an ``.npz`` file."""
    import torch
    from torch.utils.data import TensorDataset

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist; "
                                "expected a .pt or .npz file with inputs and labels.")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        arrays = {key: torch.from_numpy(value) for key, value in arrays.items()}
    elif path.suffix in (".pt", ".pth"):
        try:
            arrays = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(f"cannot read data file {str(path)!r} as tensors ({error}); "
                             "save it with torch.save({'inputs': x, 'labels': y}, path).") from None
        if isinstance(arrays, (tuple, list)) and len(arrays) == 2:
            arrays = dict(zip(("inputs", "labels"), arrays))
    else:
        raise ValueError(f"expected a data file ending in .pt or .npz, got {str(path)!r}.")
    if not isinstance(arrays, dict):
        raise ValueError(f"expected data file {str(path)!r} to hold a dict of tensors "
                         f"with 'inputs' and 'labels', got {type(arrays).__name__}.")
    inputs = next((arrays[k] for k in INPUT_KEYS if k in arrays), None)
    labels = next((arrays[k] for k in LABEL_KEYS if k in arrays), None)
    if inputs is None or labels is None:
        raise ValueError(f"expected data file {str(path)!r} to hold 'inputs' and 'labels', "
                         f"got keys {sorted(arrays)}.")
    if inputs.is_floating_point() and inputs.dtype == torch.float64:
        inputs = inputs.float()
    if labels.is_floating_point():
        raise ValueError(f"expected integer class labels in {str(path)!r}, got {labels.dtype}.")
    if len(inputs) != len(labels):
        raise ValueError(f"expected as many inputs as labels in {str(path)!r}, got "
                         f"{len(inputs)} and {len(labels)}.")
    return TensorDataset(inputs, labels.long())


def discover_groups(paths) -> list[tuple[str, list[Path], dict]]:
    """``(name, checkpoint files, group.json settings)`` for each group on the command line.

    A folder is a group (its checkpoint files, sorted by name); checkpoint files
    given directly form one group together, named after their common folder.
    """
    groups, loose = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in CHECKPOINT_SUFFIXES)
            if not files:
                raise ValueError(f"group folder {str(path)!r} holds no checkpoint files; "
                                 f"expected files ending in {', '.join(CHECKPOINT_SUFFIXES)}.")
            groups.append((path.name, files, _group_settings(path)))
        elif path.is_file():
            if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
                raise ValueError(f"expected a checkpoint ending in "
                                 f"{', '.join(CHECKPOINT_SUFFIXES)}, got {str(path)!r}.")
            loose.append(path)
        else:
            raise FileNotFoundError(f"{str(path)!r} does not exist; expected a folder of "
                                    "checkpoints or a checkpoint file.")
    if loose:
        folder = loose[0].parent
        groups.append((folder.name or "group", loose, _group_settings(folder)))
    names = [name for name, _, _ in groups]
    if len(set(names)) != len(names):  # same folder names in different places
        groups = [(str(files[0].parent), files, settings) for _, files, settings in groups]
    return groups


def _group_settings(folder: Path) -> dict:
    file = folder / GROUP_FILE
    if not file.is_file():
        return {}
    try:
        settings = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {str(file)!r} ({error}); expected a JSON object with "
                         "model_kwargs, data and meta.") from None
    if not isinstance(settings, dict):
        raise ValueError(f"expected {str(file)!r} to hold a JSON object, got "
                         f"{type(settings).__name__}.")
    if "data" in settings:
        settings["data"] = str((folder / settings["data"]).resolve())
    return settings


def build_groups(args):
    """The :class:`~md_sklearn.ModelGroup` list of a diagnose/featurize command."""
    from md_sklearn import ModelGroup
    from md_sklearn._utils._extras import require

    require("torch", f"md-sklearn {args.command}")

    factory = import_factory(args.model)
    common_kwargs = parse_kwargs(args.model_kwargs, "--model-kwargs")
    datasets = {}
    groups = []
    for name, files, settings in discover_groups(args.groups):
        kwargs = {**common_kwargs, **parse_kwargs(settings.get("model_kwargs"),
                                                 f"model_kwargs of group {name!r}")}
        data_path = settings.get("data", args.data)
        if data_path is None:
            raise ValueError(f"group {name!r} has no training data; pass --data FILE "
                             f"(or put \"data\" in its {GROUP_FILE}).")
        if data_path not in datasets:
            datasets[data_path] = load_data_file(data_path)
        groups.append(ModelGroup([str(f) for f in files], datasets[data_path],
                                 build_model=functools.partial(factory, **kwargs), name=name,
                                 meta=settings.get("meta"), allow_pickle=args.allow_pickle))
    return groups


def featurizer_for(args, metrics, return_uncertainty=False):
    """A :class:`~md_sklearn.LandscapeFeaturizer` with the command's options."""
    from md_sklearn import LandscapeFeaturizer

    options = {name: value for name, value in (
        ("curve_epochs", args.curve_epochs), ("curve_steps", args.curve_steps),
        ("hessian_max_probes", args.hessian_probes),
        ("hessian_n_batches", getattr(args, "hessian_batches", None))) if value is not None}
    return LandscapeFeaturizer(metrics=tuple(metrics), device=args.device,
                               random_state=args.random_state, n_jobs=args.n_jobs,
                               cache_dir=args.cache_dir, progress=not args.no_progress,
                               return_uncertainty=return_uncertainty, **options)


def featurize_command(args) -> int:
    from md_sklearn._featurizer._transformer import DEFAULT_METRICS

    metrics = DEFAULT_METRICS if args.metrics is None else [
        m.strip() for m in args.metrics.split(",") if m.strip()]
    features = featurizer_for(args, metrics).fit_transform(build_groups(args))
    if args.output is None:
        print(features.to_string())
        return 0
    output = Path(args.output)
    if output.suffix not in (".csv", ".parquet"):
        raise ValueError(f"expected --output ending in .csv or .parquet, got {str(output)!r}.")
    from md_sklearn._utils._atomic import write_atomic

    write_atomic(output, lambda tmp: (features.to_csv(tmp) if output.suffix == ".csv"
                                      else features.to_parquet(tmp)))
    print(f"wrote {len(features)} rows to {output}")
    return 0


def load_tree(spec: str):
    """A fitted MDTreeClassifier: a pretrained name or a joblib file."""
    from md_sklearn import MDTreeClassifier, pretrained
    from md_sklearn._tree._pretrained import PRETRAINED_NAMES

    if spec in PRETRAINED_NAMES:
        return pretrained(spec)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"expected --tree to be one of {list(PRETRAINED_NAMES)} or a joblib "
                         f"file of a fitted MDTreeClassifier, got {spec!r}.")
    import joblib

    tree = joblib.load(path)
    if not isinstance(tree, MDTreeClassifier):
        raise TypeError(f"expected {spec!r} to hold a fitted MDTreeClassifier, got "
                        f"{type(tree).__name__}.")
    return tree


def diagnose_command(args) -> int:
    from md_sklearn import explain
    from md_sklearn._featurizer._metrics import metric_names
    from md_sklearn._report._confidence import FRAGILE_LEVEL

    tree = load_tree(args.tree)
    columns = [str(c) for c in tree.feature_names_in_]
    unknown = [c for c in columns if c not in metric_names()]
    if unknown:
        raise ValueError(f"the tree uses features {unknown} that the featurizer does not "
                         f"compute; expected a tree over {list(metric_names())}.")
    confidence = not getattr(args, "no_confidence", False)
    groups = build_groups(args)
    with warnings.catch_warnings():  # the one-curve note is said below, once, in words
        warnings.filterwarnings("ignore", message="mode_connectivity_peak_se is NaN")
        features = featurizer_for(args, columns, confidence).fit_transform(groups)
    se_columns = [f"{c}_se" for c in columns] if confidence else []
    standard_errors, unknown = _known_standard_errors(features, columns) if confidence else (
        None, {})
    report = explain(tree, features[columns], standard_errors)
    if args.format == "csv":
        report.to_frame().to_csv(sys.stdout)
        if report.about_tree() is not None:  # the table stays plain CSV; the words go aside
            print(report.about_tree(), file=sys.stderr)
        return 0
    print(features[columns + se_columns].to_string(float_format=lambda v: f"{v:.4g}"))
    print()
    print(report)
    if confidence:
        print()
        print(f"confidence: the probability that a diagnosis would change were the features "
              f"measured again (Gaussian noise of the *_se columns, exact for the tree's "
              f"regions); FRAGILE above {FRAGILE_LEVEL:g}.")
        for column, groups_without in unknown.items():
            print(f"note: {column} is unknown for {len(groups_without)} group(s) "
                  f"({', '.join(map(str, groups_without[:3]))}{' ...' if len(groups_without) > 3 else ''}"
                  f"): {_UNKNOWN_SE_REASON.get(column, 'not computed')}; treated as 0, so "
                  "the confidence leaves out that feature's noise.")
    return 0


#: Why a standard error can be NaN, per column, and what gives it.
_UNKNOWN_SE_REASON = {
    "mode_connectivity_peak_se": "the paper's one curve, between the first two members, "
                                 "cannot measure its own noise",
    "train_error_se": "one member has no spread; give each group two or more members",
}


def _known_standard_errors(features, columns):
    """The ``_se`` columns with NaN replaced by 0, and ``{column: [groups]}`` of those NaN."""
    se = features[[f"{c}_se" for c in columns]].copy()
    unknown = {}
    for column in se.columns:
        missing = se[column].isna() & features[column[:-3]].notna()
        if missing.any():
            unknown[column] = list(se.index[missing])
    return se.fillna(0.0), unknown
