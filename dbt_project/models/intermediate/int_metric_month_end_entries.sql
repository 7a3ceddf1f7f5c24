-- Every entry active at the end of a reported month end, with the content of its version then and
-- the county (and region) its person is counted in that day: the latest home municipality known,
-- as for coverage.
select
    month_ends.period_end,
    versions.entry_id,
    versions.patient_pseudonym,
    versions.critical_information_type,
    versions.resource_type,
    versions.has_atc_code,
    versions.is_ips_complete,
    residences.county_code,
    counties.health_region
from {{ ref('int_month_ends') }} as month_ends
inner join {{ ref('int_metric_entry_versions') }} as versions
    on versions.valid_from <= month_ends.period_end
    and (versions.valid_to is null or versions.valid_to > month_ends.period_end)
inner join {{ ref('int_person_residences') }} as residences
    on residences.patient_pseudonym = versions.patient_pseudonym
    and residences.valid_from <= month_ends.period_end
    and (residences.valid_to is null or residences.valid_to > month_ends.period_end)
inner join (select distinct county_code, health_region from {{ ref('counties') }}) as counties
    on counties.county_code = residences.county_code
where versions.is_active
