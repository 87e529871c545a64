"""Cross-validation for transfer: train on draws from one collection, test on another."""

from md_sklearn.model_selection._transfer import SAMPLING_PROTOCOLS, TransferSplit, transfer_table

__all__ = ["SAMPLING_PROTOCOLS", "TransferSplit", "transfer_table"]
