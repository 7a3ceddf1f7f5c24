-- EPJ systems (source.system; the core record's own portal is not one) that sent at least one
-- event through the API in each month, in the region of the sending organisation, by organisation
-- type. A system used in several regions counts once nationally: regions do not add up.
{{ api_senders_metric('api_systems', 'source_system', "source_system <> 'kjernejournal-portal'") }}
