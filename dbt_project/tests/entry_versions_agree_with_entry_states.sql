-- Fails with each entry state whose content in int_metric_entry_versions came from another event
-- than the one int_entry_states took its state from (both pick the entry's latest event of the
-- day; this keeps their orderings the same).
select versions.entry_id, versions.valid_from
from {{ ref('int_metric_entry_versions') }} as versions
inner join {{ ref('int_entry_states') }} as states
    on states.entry_id = versions.entry_id
    and states.valid_from = versions.valid_from
where versions.clinical_status is distinct from states.clinical_status
    or versions.verification_status is distinct from states.verification_status
union all
-- ... and each entry state missing from int_metric_entry_versions.
select states.entry_id, states.valid_from
from {{ ref('int_entry_states') }} as states
anti join {{ ref('int_metric_entry_versions') }} as versions
    on versions.entry_id = states.entry_id
    and versions.valid_from = states.valid_from
