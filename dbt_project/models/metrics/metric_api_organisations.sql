-- Organisations that sent at least one event through the API in each month, in the region of the
-- organisation, by organisation type.
{{ api_senders_metric('api_organisations', 'organisation_id') }}
