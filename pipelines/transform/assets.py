"""Every dbt model and seed as a Dagster asset; dbt tests become asset checks."""

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.transform.project import KritinfoDbtTranslator, dbt_project, ensure_manifest

ensure_manifest()


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=KritinfoDbtTranslator(), project=dbt_project)
def kritinfo_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
