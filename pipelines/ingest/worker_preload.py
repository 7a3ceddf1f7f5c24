"""Imported once by the validation workers' fork server, so each worker starts warm."""

from pipelines.contract.fhir import fhir_model
from pipelines.contract.validation import validate_line  # noqa: F401 (imported to load it into the fork server)
from pipelines.contract.vocabulary import PATIENT_REFERENCE_FIELD, critical_information_types

critical_information_types()
for resource_type in PATIENT_REFERENCE_FIELD:
    fhir_model(resource_type)
