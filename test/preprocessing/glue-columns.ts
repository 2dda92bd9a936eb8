/**
 * The columns of the Glue tables that `catalog` creates, as a synthesized template declares them:
 * `{ "cleaned_data": [["id", "bigint"], …], … }` (the partition column `run_date` is not among
 * them: it is in the files' path, not in the files). A test that reads the schema of Parquet files
 * the processor wrote (pyarrow: int64 → bigint, double → double, string → string) compares it with
 * this. Run as a program it prints them for the catalog of a default workload:
 * `npx ts-node test/preprocessing/glue-columns.ts`.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { OutputCatalog } from '../../src';

export type GlueColumns = Record<string, Array<[string, string]>>;

/** The columns of every AWS::Glue::Table in a template, by table name. */
export function glueColumnsOfTemplate(template: { Resources?: Record<string, any> }): GlueColumns {
  return Object.fromEntries(Object.values<any>(template.Resources ?? {})
    .filter((resource) => resource.Type === 'AWS::Glue::Table')
    .map((resource) => resource.Properties.TableInput)
    .map((table) => [table.Name, table.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type])]));
}

/** The columns of the tables of an OutputCatalog on the default output prefix. */
export function defaultGlueColumns(): GlueColumns {
  const stack = new Stack(new App(), 'GlueColumns');
  new OutputCatalog(stack, 'Catalog', { bucket: s3.Bucket.fromBucketName(stack, 'Output', 'outputs'), databaseName: 'outputs' });
  return glueColumnsOfTemplate(Template.fromStack(stack).toJSON());
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(defaultGlueColumns())}\n`);
}
