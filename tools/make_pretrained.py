"""Regenerate md_sklearn/_data/pretrained_trees.json from the published collections.

Fits the paper's trees ``q1``, ``q1_cka``, ``q2_width`` and ``q2_data`` (Brent
search) on every model of the clean collection F whose label is not ``optimal``
(``q2_data``: width >= 32 only, as the paper), with the features each hierarchy
tests, and writes their thresholds, training ranges and leaf class counts, their
accuracy on the noisy collection F', the range of each feature over the models of
both collections (the region the tree has evidence for) and where the models come
from (ResNet-18, CIFAR-10, the metric settings of ``extractors.defaults``); never the
tables. Run from anywhere::

    python tools/make_pretrained.py [--data-home DIR] [--output PATH] [--check]

``--check`` writes nothing and exits with status 1 when the file differs from
what the published table gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the working tree, not an installed copy

from extractors import defaults as D  # noqa: E402  (plain Python, no torch)
from md_sklearn import MDTreeClassifier  # noqa: E402
from md_sklearn._protocol import (  # noqa: E402
    BATCH_SIZES,
    DATA_LEVELS,
    PUBLISHED_FILES,
    TIE_LABEL,
    WIDTHS,
)
from md_sklearn._tree._pretrained import (  # noqa: E402
    PRETRAINED_TREES,  # noqa: E402
    SUMMARY_FORMAT,
    hierarchy_features,
    training_classes,
    tree_summary,
)
from md_sklearn._utils._atomic import write_text_atomic  # noqa: E402
from md_sklearn.datasets import load_model_diagnosis  # noqa: E402

DEFAULT_OUTPUT = ROOT / "md_sklearn" / "_data" / "pretrained_trees.json"


def training_rows(clean, name):
    """Rows of the clean table a pretrained tree is fitted on."""
    label_column, min_width = PRETRAINED_TREES[name]
    keep = clean[label_column] != TIE_LABEL
    if min_width is not None:
        keep &= clean["width"] >= min_width
    return clean[keep]


def covered_rows(table, name):
    """Every model of a table the tree's task covers (any label; width limit kept)."""
    _, min_width = PRETRAINED_TREES[name]
    return table if min_width is None else table[table["width"] >= min_width]


def provenance():
    """Where the trees' models and features come from (docs/extractors.rst, "How the
    paper measured each metric"; the settings are those of ``extractors.defaults``)."""
    curve = "t = " + ", ".join(f"{t:g}" for t in D.CURVE_POINTS)
    return {
        "models": "ResNet-18",
        "dataset": "CIFAR-10",
        "training": (
            f"ResNet-18 of width k (stage widths k, 2k, 4k, 8k; k in {list(WIDTHS)}), "
            f"SGD with momentum 0.9, weight decay 5e-4, constant learning rate near 0.05, "
            f"no augmentation, batch sizes {BATCH_SIZES[0]}..{BATCH_SIZES[-1]}, on the "
            f"first data x 5,000 CIFAR-10 images (data in {DATA_LEVELS[0]}..{DATA_LEVELS[-1]})"
            f"; 5 seeds per configuration, a row is their aggregate; noisy collection: "
            f"labels redrawn with probability 0.1; float32, eval mode"
        ),
        "metrics": {
            "train_error": "percent, 100 (1 - accuracy) on every training sample, mean over "
                           "the seeds",
            "mode_connectivity_peak": (
                f"percent, <= 0: minus the largest train error at {curve} on a quadratic "
                f"Bezier curve between the first two seeds, trained {D.CURVE_EPOCHS} epochs "
                f"on all 50,000 images (constant steps on subsets), batch "
                f"{D.CURVE_BATCH_SIZE}, lr {D.CURVE_LR:g}, BatchNorm re-estimated"
            ),
            "hessian_t": (
                f"natural log of the mean over seeds of the Hessian trace of the mean "
                f"cross-entropy on one random batch of {D.HESSIAN_N_SAMPLES} training samples "
                f"(Hutchinson, at most {D.TRACE_MAX_PROBES} probes, rtol {D.TRACE_RTOL:g}; "
                f"no weight decay)"
            ),
            "CKA": (
                f"in [0, 1]: mean linear CKA of the seeds' softmax outputs over ordered pairs, "
                f"on "
                f"{D.CKA_N_BATCHES} batches of {D.CKA_BATCH_SIZE} training inputs mixed "
                f"with mixup Beta({D.CKA_MIXUP_ALPHA:g}, {D.CKA_MIXUP_ALPHA:g})"
            ),
        },
        "documentation": "docs/extractors.rst, 'How the paper measured each metric'",
    }


def build(clean, noisy):
    """The summary of every pretrained tree, as a JSON-ready dict."""
    trees = {}
    for name, (label_column, min_width) in PRETRAINED_TREES.items():
        rows = training_rows(clean, name)
        features = hierarchy_features(name)
        clf = MDTreeClassifier(name, classes=training_classes(name))
        clf.fit(rows[features], rows[label_column])
        summary = tree_summary(clf, label_column=label_column, min_width=min_width)
        summary["rows"] = {"collection": "clean", **summary["rows"]}
        scored = training_rows(noisy, name)
        summary["scored"] = {
            "collection": "noisy",
            "n_samples": len(scored),
            "accuracy": float(clf.score(scored[features], scored[label_column])),
        }
        both = [covered_rows(clean, name), covered_rows(noisy, name)]
        summary["measured_range"] = {
            f: [float(min(t[f].min() for t in both)), float(max(t[f].max() for t in both))]
            for f in features
        }
        trees[name] = summary
    files = {which: PUBLISHED_FILES[which] for which in ("clean", "noisy")}
    return {
        "format": SUMMARY_FORMAT,
        "generated_by": "python tools/make_pretrained.py",
        "source": {which: {"file": f, "sha256": h} for which, (f, h) in files.items()},
        "provenance": provenance(),
        "trees": trees,
    }


def render(summaries):
    """The file's text: stable key order, floats written to round-trip exactly."""
    return json.dumps(summaries, indent=2) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python tools/make_pretrained.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-home", metavar="DIR", help="folder holding the published CSVs")
    parser.add_argument(
        "--output", metavar="PATH", default=str(DEFAULT_OUTPUT),
        help=f"file to write (default: {DEFAULT_OUTPUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with --output instead of writing it"
    )
    args = parser.parse_args(argv)
    output = Path(args.output)
    if not output.parent.is_dir():
        parser.error(f"--output: expected a path in an existing folder, got {output}")
    tables = [load_model_diagnosis(which, data_home=args.data_home)
              for which in ("clean", "noisy")]
    text = render(build(*tables))
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(f"{output} differs from the published table's trees; rerun without --check")
            return 1
        print(f"{output} is up to date")
        return 0
    write_text_atomic(output, text)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
