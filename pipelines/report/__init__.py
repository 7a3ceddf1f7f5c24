"""The evaluation package's report for the ministry (report.html and report.pdf), in bokmål."""
