-- Organisations (organisation numbers) that sent at least one event through the API in each month,
-- once in every region and organisation type they sent under, once nationally: parts do not add up.
{{ api_senders_metric('api_organisations', 'organisation_id') }}
