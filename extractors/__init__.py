"""Loss-landscape metrics of PyTorch models (placeholder: built in the extractors issue)."""

__all__ = []
