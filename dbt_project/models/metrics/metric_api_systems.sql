-- EPJ products (source.system normalised to its product, docs/definitions.md; the core record's own
-- portal is not one) that sent at least one event through the API in each month, once in every
-- region and organisation type they sent under, once nationally: parts do not add up.
{{ api_senders_metric('api_systems', 'epj_product', "epj_product <> 'kjernejournal-portal'") }}
