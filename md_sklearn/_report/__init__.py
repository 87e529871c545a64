"""Diagnosis reports: a fitted tree's verdict on each sample, in words (``explain``)."""

from md_sklearn._report._explain import explain
from md_sklearn._report._records import DiagnosisRecord, DiagnosisReport, PathStep

__all__ = ["DiagnosisRecord", "DiagnosisReport", "PathStep", "explain"]
