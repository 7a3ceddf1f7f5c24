-- Organisations (organisation numbers) that sent at least one event through the API in each month,
-- by organisation type and by EPJ product (adoption per product); once in every region, type and
-- product they sent under, once nationally and in the total: parts do not add up.
{{ api_senders_metric('api_organisations', 'organisation_id', dimensions=['organisation_type', 'epj_product']) }}
