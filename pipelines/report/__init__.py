"""Evaluation packages for the ministry's reporting cycle: as-of data, data files, report."""
