"""What sqlfluff's jinja templater sees as dbt's `model` context (it renders models without dbt):
a model of the metric registry, so `declare_metric` renders."""

unique_id = "model.kritinfo.metric_linted"
resource_type = "model"
