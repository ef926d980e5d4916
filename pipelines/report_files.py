"""Names of the per-run files besides the tables and summary.json."""

REPORT = "report.html"
RUN_INFO = "run.json"
RUN_LOG = "run.log"
