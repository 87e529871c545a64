"""Regenerate md_sklearn/_data/pretrained_trees.json from the published clean collection.

Fits the paper's trees ``q1``, ``q1_cka``, ``q2_width`` and ``q2_data`` (Brent
search) on every model of the clean collection F whose label is not ``optimal``
(``q2_data``: width >= 32 only, as the paper), with the features each hierarchy
tests, and writes their thresholds, training ranges and leaf class counts; never
the table. Run from anywhere::

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

from md_sklearn import MDTreeClassifier  # noqa: E402
from md_sklearn._protocol import PUBLISHED_FILES, TIE_LABEL  # noqa: E402
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


def build(clean):
    """The summary of every pretrained tree, as a JSON-ready dict."""
    trees = {}
    for name, (label_column, min_width) in PRETRAINED_TREES.items():
        rows = training_rows(clean, name)
        features = hierarchy_features(name)
        clf = MDTreeClassifier(name, classes=training_classes(name))
        clf.fit(rows[features], rows[label_column])
        trees[name] = tree_summary(clf, label_column=label_column, min_width=min_width)
    filename, sha256 = PUBLISHED_FILES["clean"]
    return {
        "format": SUMMARY_FORMAT,
        "generated_by": "python tools/make_pretrained.py",
        "source": {"collection": "clean", "file": filename, "sha256": sha256},
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
    text = render(build(load_model_diagnosis("clean", data_home=args.data_home)))
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
