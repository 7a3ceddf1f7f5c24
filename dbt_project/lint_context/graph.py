"""What sqlfluff's jinja templater sees as dbt's `graph` context: no nodes (dbt's own state at parse time)."""

nodes: dict = {}
