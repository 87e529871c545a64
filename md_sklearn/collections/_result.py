"""What :func:`build_collection` returns: the tables, the checkpoints and the data."""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from torch.utils.data import Dataset

from md_sklearn.collections._subset import training_subset


@dataclass(frozen=True)
class Configuration:
    """One configuration of a collection: its knobs and its members' checkpoints.

    Attributes
    ----------
    width : int
        The argument given to ``build_model``.
    batch_size : int
        SGD batch size.
    data_fraction : float
        Share of the training set used (its first ``data_amount`` samples).
    data_amount : int
        Number of training samples used.
    epochs : int
        Epochs each member was trained for.
    seeds : tuple of int
        The members' seeds, in the order of ``checkpoints``.
    checkpoints : tuple of pathlib.Path
        The members' state-dict files.
    """

    width: int
    batch_size: int
    data_fraction: float
    data_amount: int
    epochs: int
    seeds: tuple
    checkpoints: tuple


@dataclass(frozen=True, eq=False)
class Collection:
    """A trained and labelled collection, as returned by :func:`build_collection`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per configuration (the file ``configurations.csv``): ``width``,
        ``bs``, ``data`` (the data fraction), ``data_amount``, ``epochs``,
        ``para_amount``, ``n_models``, ``test_acc``, ``test_acc_std``,
        ``train_acc``, ``train_loss``, ``test_loss`` (means over the seeds;
        accuracies in percent, train metrics on the data each model saw, noisy
        labels included), then the RFI columns and the three diagnosis labels
        of :func:`md_sklearn.labels.label_collection`.
    members : pandas.DataFrame
        One row per trained model (the file ``members.csv``): the knobs,
        ``seed``, ``test_acc``, ``train_acc``, ``test_loss``, ``train_loss`` and
        ``checkpoint`` (path relative to ``output_dir``).
    output_dir : pathlib.Path
        The collection folder.
    settings : dict
        The training settings recorded in the manifest.

    Notes
    -----
    To reopen a collection, call :func:`build_collection` again with the same
    arguments: every model is found on disk, nothing is retrained, and the
    same object comes back in well under a second for a digits-sized grid.
    A group of models for the landscape metrics is one configuration's
    ``checkpoints`` with ``training_data(data_fraction)``, the exact samples
    and labels its members saw.
    """

    table: pd.DataFrame
    members: pd.DataFrame
    output_dir: Path
    settings: dict
    _train_data: Dataset = field(repr=False)

    def member_paths(self, width, batch_size, data_fraction):
        """Checkpoint paths of one configuration's members, in seed order.

        Parameters
        ----------
        width, batch_size : int
            The configuration's width and batch size.
        data_fraction : float
            The configuration's data fraction, as given to :func:`build_collection`.

        Returns
        -------
        paths : list of pathlib.Path

        Raises
        ------
        KeyError
            If the configuration is not in the collection.
        """
        rows = self.members[(self.members["width"] == width)
                            & (self.members["bs"] == batch_size)
                            & (self.members["data"] == data_fraction)]
        if rows.empty:
            raise KeyError(
                f"no configuration width={width}, batch_size={batch_size}, "
                f"data_fraction={data_fraction} in this collection; see Collection.table."
            )
        rows = rows.sort_values("seed")
        return [self.output_dir / relative for relative in rows["checkpoint"]]

    def training_data(self, data_fraction):
        """The exact data the configurations with ``data_fraction`` were trained on.

        The first samples of the training set, with the collection's (noisy)
        labels; see :func:`training_subset`.

        Parameters
        ----------
        data_fraction : float
            A data fraction of the collection.

        Returns
        -------
        torch.utils.data.TensorDataset
        """
        return training_subset(
            self._train_data, data_fraction, label_noise=self.settings["label_noise"],
            random_state=self.settings["random_state"], n_classes=self.settings["n_classes"],
        )

    def configurations(self):
        """Every configuration of :attr:`table`, in its row order.

        Returns
        -------
        list of Configuration
        """
        by_configuration = {
            key: rows.sort_values("seed")
            for key, rows in self.members.groupby(["width", "bs", "data"], sort=False)
        }
        configurations = []
        for row in self.table.itertuples(index=False):
            rows = by_configuration[(row.width, row.bs, row.data)]
            configurations.append(Configuration(
                width=int(row.width), batch_size=int(row.bs), data_fraction=float(row.data),
                data_amount=int(row.data_amount), epochs=int(row.epochs),
                seeds=tuple(int(seed) for seed in rows["seed"]),
                checkpoints=tuple(self.output_dir / path for path in rows["checkpoint"]),
            ))
        return configurations
