import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as YAML from 'yaml';
import { defaultGlueColumns, glueColumnsOfTemplate } from './glue-columns';
import { envOf, IMAGE, objectOfKind, podSpecOf, testCluster } from './helpers';
import { MlopsEksCluster, MlopsNetwork, OutputCatalog, OutputFormat, PodIdentityPreprocessing, PodIdentityPreprocessingProps } from '../../src';
import { OUTPUT_TABLES } from '../../src/preprocessing/catalog/tables';
import { runAwsSolutions } from '../nag';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/**
 * The table columns the processor's Parquet files carry (SPEC §15), written out here so that a
 * change to src/preprocessing/catalog/tables.ts is a deliberate one.
 */
const CLEANED = [
  ['id', 'bigint'], ['name', 'string'], ['age', 'double'], ['salary', 'double'], ['hire_date', 'string'],
  ['department', 'string'], ['bonus', 'double'], ['address', 'string'], ['phone', 'string'], ['email', 'string'],
];
const EXPECTED_COLUMNS: Record<string, string[][]> = {
  cleaned_data: CLEANED,
  transformed_data: [...CLEANED, ['address_length', 'bigint'], ['salary_category', 'string'], ['age_group', 'string']],
  department_statistics: [['department', 'string'], ['average_salary', 'double'], ['average_age', 'double']],
};

/**
 * The keys Athena documents for partition projection ("Supported types for partition projection",
 * date type, and "Set up partition projection"): for a date column `projection.<col>.type`,
 * `.range` and `.format` are required, `.interval` and `.interval.unit` optional; for the table
 * `projection.enabled` and `storage.location.template`.
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
 */
const DATE_PROJECTION_KEYS = { required: ['type', 'range', 'format'], optional: ['interval', 'interval.unit'] };
const DATE_INTERVAL_UNITS = ['YEARS', 'MONTHS', 'WEEKS', 'DAYS', 'HOURS', 'MINUTES', 'SECONDS'];
/** A range bound: a date in the column's format, or NOW with an optional offset such as NOW-3YEARS. */
const RELATIVE_DATE = /^NOW(\s*[+-]\s*\d+\s*(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?))?$/;

/** The statements of the policies attached to a role, resolved. */
/** Statements with their intrinsic functions rendered as strings (see render). */
function renderedStatementsOf(template: Template, stack: Stack, role: iam.IRole): any[] {
  const intrinsic = (v: any) => v !== null && typeof v === 'object' && (v['Fn::Join'] || v.Ref !== undefined || v['Fn::GetAtt']);
  return statementsOf(template, stack, role).map((s) => JSON.parse(JSON.stringify(s, (_, v) => (intrinsic(v) ? render(v) : v))));
}

function statementsOf(template: Template, stack: Stack, role: iam.IRole): any[] {
  const roleRef = stack.resolve((role.node.defaultChild as iam.CfnRole).ref);
  return Object.values<any>(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Renders a resolved value as a string with `{Ref}` / `{Id.Attribute}` placeholders, to compare strings that hold deploy-time names. */
function render(value: any): string {
  if (typeof value === 'string') return value;
  if (value.Ref !== undefined) return `{${value.Ref}}`;
  if (value['Fn::GetAtt']) return `{${value['Fn::GetAtt'].join('.')}}`;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

describe('PodIdentityPreprocessing catalog: Glue tables of the Parquet outputs', () => {
  let stack: Stack;
  let template: Template;
  let withCatalog: PodIdentityPreprocessing;
  let plain: PodIdentityPreprocessing;
  let kmsWorkload: PodIdentityPreprocessing;
  let analyst: iam.Role;
  let kmsAnalyst: iam.Role;
  let kmsOutput: s3.IBucket;

  beforeAll(() => {
    stack = new Stack(new App(), 'Catalog', { env: ENV });
    const cluster = testCluster(stack).cluster;
    const workload = (id: string, props: Partial<PodIdentityPreprocessingProps>) =>
      new PodIdentityPreprocessing(stack, id, { cluster, image: IMAGE, ...props });
    withCatalog = workload('Preprocessing', {
      namespace: 'analytics',
      createAdditionalBuckets: true,
      outputFormat: OutputFormat.PARQUET,
      catalog: { databaseName: 'mlops_outputs', firstRunDate: '2026-12-07', athenaWorkgroup: { resultsExpiration: Duration.days(7) } },
    });
    plain = workload('Plain', { namespace: 'plain' });
    kmsOutput = s3.Bucket.fromBucketAttributes(stack, 'KmsOutput', {
      bucketArn: 'arn:aws:s3:::acme-processed',
      encryptionKey: kms.Key.fromKeyArn(stack, 'OutputKey', KMS_KEY_ARN),
    });
    kmsWorkload = workload('Kms', {
      namespace: 'kms',
      applyManifests: false,
      inputBucket: s3.Bucket.fromBucketName(stack, 'KmsInput', 'acme-raw'),
      outputBucket: kmsOutput,
      outputPrefix: 'runs/',
      outputFormat: OutputFormat.CSV_AND_PARQUET,
      catalog: { databaseName: 'kms_outputs' },
    });
    analyst = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
    withCatalog.grantQuery(analyst);
    kmsAnalyst = new iam.Role(stack, 'KmsAnalyst', { assumedBy: new iam.AccountRootPrincipal() });
    kmsWorkload.grantQuery(kmsAnalyst);
    template = Template.fromStack(stack);
  });

  describe('outputFormat', () => {
    test('sets the pod\'s OUTPUT_FORMAT: csv by default, parquet, both (the names the processor reads)', () => {
      const cronJobOf = (w: PodIdentityPreprocessing) => objectOfKind(w.manifests, 'CronJob');
      expect(envOf(cronJobOf(plain)).OUTPUT_FORMAT).toBe('csv');
      expect(envOf(cronJobOf(withCatalog)).OUTPUT_FORMAT).toBe('parquet');
      expect(envOf(cronJobOf(kmsWorkload)).OUTPUT_FORMAT).toBe('both');
    });

    test('the GitOps YAML carries it too (it is rendered from the same objects)', () => {
      const documents = YAML.parseAllDocuments(kmsWorkload.manifestYaml).map((d) => d.toJS());
      const env = podSpecOf(objectOfKind(documents, 'CronJob')).containers[0].env;
      expect(env).toContainEqual({ name: 'OUTPUT_FORMAT', value: 'both' });
    });
  });

  describe('the Glue database and tables', () => {
    test('one database per catalog, named by databaseName, deleted with the stack (metadata only)', () => {
      const databases = Object.values<any>(template.findResources('AWS::Glue::Database'));
      expect(databases.map((d) => d.Properties.DatabaseInput.Name).sort()).toEqual(['kms_outputs', 'mlops_outputs']);
      expect(databases.map((d) => d.DeletionPolicy)).toEqual(['Delete', 'Delete']);
      expect(databases.map((d) => d.Properties.CatalogId)).toEqual([ENV.account, ENV.account]);
    });

    test('one EXTERNAL_TABLE per Parquet output, with the exact column names and Hive types of the files', () => {
      const tables = Object.values<any>(template.findResources('AWS::Glue::Table')).map((t) => t.Properties);
      expect(tables).toHaveLength(6);
      for (const table of tables) {
        expect(table.TableInput.TableType).toBe('EXTERNAL_TABLE');
        expect(table.TableInput.PartitionKeys.map((c: any) => [c.Name, c.Type])).toEqual([['run_date', 'string']]);
      }
      expect(glueColumnsOfTemplate(template.toJSON())).toEqual(EXPECTED_COLUMNS);
      expect(OUTPUT_TABLES.map((t) => t.name)).toEqual(Object.keys(EXPECTED_COLUMNS));
    });

    test('an OutputCatalog on its own (an imported bucket, no workload) declares the same columns', () => {
      expect(defaultGlueColumns()).toEqual(EXPECTED_COLUMNS);
    });

    test('column names are lower case without spaces (Glue stores and Athena folds names in lower case)', () => {
      for (const table of OUTPUT_TABLES) {
        for (const column of table.columns) expect(column.name).toMatch(/^[a-z][a-z0-9_]*$/);
      }
    });

    test('Parquet SerDe, input and output formats, classification parquet, not client-side encrypted', () => {
      for (const table of Object.values<any>(template.findResources('AWS::Glue::Table'))) {
        const input = table.Properties.TableInput;
        expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
        expect(input.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
        expect(input.StorageDescriptor.OutputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');
        expect(input.Parameters.classification).toBe('parquet');
        expect(input.Parameters.has_encrypted_data).toBe(false);
      }
    });

    test('each table is located at <outputPrefix>tables/<name>/ of the workload\'s output bucket', () => {
      const locations = Object.values<any>(template.findResources('AWS::Glue::Table'))
        .map((t) => render(t.Properties.TableInput.StorageDescriptor.Location)).sort();
      const bucketRef = stack.resolve(withCatalog.outputBucket.bucketName).Ref;
      expect(locations).toEqual([
        's3://acme-processed/runs/tables/cleaned_data/',
        's3://acme-processed/runs/tables/department_statistics/',
        's3://acme-processed/runs/tables/transformed_data/',
        `s3://{${bucketRef}}/output/tables/cleaned_data/`,
        `s3://{${bucketRef}}/output/tables/department_statistics/`,
        `s3://{${bucketRef}}/output/tables/transformed_data/`,
      ]);
    });

    test('the tables are exposed: database, the three tables by name, and as a list', () => {
      const catalog = withCatalog.catalog!;
      expect(stack.resolve(catalog.database.databaseName)).toEqual({ Ref: expect.stringMatching(/CatalogDatabase/) });
      expect([catalog.cleanedDataTable, catalog.transformedDataTable, catalog.departmentStatisticsTable]
        .map((t) => template.toJSON().Resources[stack.resolve(t.tableName).Ref].Properties.TableInput.Name))
        .toEqual(['cleaned_data', 'transformed_data', 'department_statistics']);
      expect(catalog.tables).toHaveLength(3);
      expect(plain.catalog).toBeUndefined();
    });
  });

  describe('partition projection on run_date (Athena reads new runs with no crawler and no MSCK REPAIR TABLE)', () => {
    test('only documented projection keys, the required ones present, values well formed', () => {
      for (const table of Object.values<any>(template.findResources('AWS::Glue::Table'))) {
        const parameters: Record<string, any> = table.Properties.TableInput.Parameters;
        const partitionColumns: string[] = table.Properties.TableInput.PartitionKeys.map((c: any) => c.Name);
        expect(parameters['projection.enabled']).toBe('true');
        for (const column of partitionColumns) {
          const prefix = `projection.${column}.`;
          const keys = Object.keys(parameters).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
          expect(keys.filter((k) => ![...DATE_PROJECTION_KEYS.required, ...DATE_PROJECTION_KEYS.optional].includes(k))).toEqual([]);
          expect(keys).toEqual(expect.arrayContaining(DATE_PROJECTION_KEYS.required));
          expect(parameters[`${prefix}type`]).toBe('date');
          expect(parameters[`${prefix}format`]).toBe('yyyy-MM-dd');
          const bounds = parameters[`${prefix}range`].split(',');
          expect(bounds).toHaveLength(2);
          for (const bound of bounds) expect(bound).toMatch(/^\d{4}-\d{2}-\d{2}$|^NOW/);
          for (const bound of bounds.filter((b: string) => b.startsWith('NOW'))) expect(bound).toMatch(RELATIVE_DATE);
          if (parameters[`${prefix}interval`] !== undefined) expect(parameters[`${prefix}interval`]).toMatch(/^[1-9]\d*$/);
          if (parameters[`${prefix}interval.unit`] !== undefined) expect(DATE_INTERVAL_UNITS).toContain(parameters[`${prefix}interval.unit`]);
        }
        const otherProjectionKeys = Object.keys(parameters)
          .filter((k) => k.startsWith('projection.') && k !== 'projection.enabled' && !partitionColumns.some((c) => k.startsWith(`projection.${c}.`)));
        expect(otherProjectionKeys).toEqual([]);
      }
    });

    test('the range runs from firstRunDate (default 2026-12-01) to NOW', () => {
      const ranges = Object.values<any>(template.findResources('AWS::Glue::Table'))
        .map((t) => t.Properties.TableInput.Parameters['projection.run_date.range']).sort();
      expect(ranges).toEqual([...Array(3).fill('2026-12-01,NOW'), ...Array(3).fill('2026-12-07,NOW')]);
    });

    test('storage.location.template is the table\'s location followed by the Hive folder run_date=${run_date}/', () => {
      for (const table of Object.values<any>(template.findResources('AWS::Glue::Table'))) {
        const input = table.Properties.TableInput;
        const template_ = render(input.Parameters['storage.location.template']);
        expect(template_).toBe(`${render(input.StorageDescriptor.Location)}run_date=\${run_date}/`);
      }
    });
  });

  describe('access', () => {
    test('the pod role gains nothing for the catalog (it is static): the same statements as a workload without one', () => {
      const shape = (statements: any[]) => statements
        .map((s) => ({ Action: s.Action, Effect: s.Effect, Condition: s.Condition && Object.keys(s.Condition) }));
      const catalogStatements = statementsOf(template, stack, withCatalog.role);
      expect(shape(catalogStatements)).toEqual(shape(statementsOf(template, stack, plain.role)));
      expect(JSON.stringify(catalogStatements)).not.toMatch(/glue:|athena:/);
    });

    test('grantQuery: the tables\' prefix, the Glue objects, the workgroup and its results bucket, and nothing else', () => {
      const bucket = withCatalog.outputBucket;
      const catalog = withCatalog.catalog!;
      const results = catalog.resultsBucket!;
      const glueArn = (resource: string) => `arn:{AWS::Partition}:glue:eu-west-1:123456789012:${resource}`;
      const statements = renderedStatementsOf(template, stack, analyst);
      const bucketArn = render(stack.resolve(bucket.bucketArn));
      const resultsArn = render(stack.resolve(results.bucketArn));
      const databaseName = 'mlops_outputs';
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/output/tables/*` },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['output/tables/*'] } } },
        { Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: bucketArn },
        {
          Effect: 'Allow',
          Action: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
          Resource: [
            glueArn('catalog'),
            glueArn(`database/${databaseName}`),
            ...['cleaned_data', 'transformed_data', 'department_statistics'].map((t) => glueArn(`table/${databaseName}/${t}`)),
          ],
        },
        {
          Effect: 'Allow',
          Action: ['athena:StartQueryExecution', 'athena:StopQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:GetWorkGroup'],
          Resource: 'arn:{AWS::Partition}:athena:eu-west-1:123456789012:workgroup/mlops_outputs',
        },
        { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: resultsArn },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: `${resultsArn}/*` },
      ]);
    });

    test('grantQuery without a workgroup, on a KMS-encrypted bucket: no Athena statement, kms:Decrypt on the bucket\'s key', () => {
      const statements = renderedStatementsOf(template, stack, kmsAnalyst);
      expect(statements.map((s) => s.Action)).toEqual([
        's3:GetObject', 's3:ListBucket', 's3:GetBucketLocation',
        ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
        'kms:Decrypt',
      ]);
      expect(statements[0].Resource).toBe('arn:aws:s3:::acme-processed/runs/tables/*');
      expect(statements[1].Condition).toEqual({ StringLike: { 's3:prefix': ['runs/tables/*'] } });
      expect(statements[4].Resource).toBe(KMS_KEY_ARN);
      expect(kmsWorkload.catalog!.workgroup).toBeUndefined();
    });
  });

  describe('the Athena workgroup (athenaWorkgroup)', () => {
    test('engine version 3, settings enforced, results encrypted in the bucket created for them', () => {
      const workgroups = Object.values<any>(template.findResources('AWS::Athena::WorkGroup'));
      expect(workgroups).toHaveLength(1);
      const props = workgroups[0].Properties;
      expect(props.Name).toBe('mlops_outputs');
      expect(props.RecursiveDeleteOption).toBe(true);
      const configuration = props.WorkGroupConfiguration;
      expect(configuration.EnforceWorkGroupConfiguration).toBe(true);
      expect(configuration.PublishCloudWatchMetricsEnabled).toBe(true);
      expect(configuration.EngineVersion).toEqual({ SelectedEngineVersion: 'Athena engine version 3' });
      expect(render(configuration.ResultConfiguration.OutputLocation)).toBe(`s3://${render(stack.resolve(withCatalog.catalog!.resultsBucket!.bucketName))}/`);
      expect(configuration.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
      expect(configuration.ResultConfiguration.ExpectedBucketOwner).toBe(ENV.account);
    });

    test('the results bucket: encrypted, public access blocked, TLS only, access-logged to the logs bucket, results expire', () => {
      const resultsId = stack.resolve(withCatalog.catalog!.resultsBucket!.bucketName).Ref;
      const bucket = template.toJSON().Resources[resultsId].Properties;
      expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
      expect(bucket.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.LoggingConfiguration).toEqual({
        DestinationBucketName: stack.resolve(withCatalog.logsBucket!.bucketName), LogFilePrefix: 'athena-results-bucket/',
      });
      expect(bucket.LifecycleConfiguration.Rules).toContainEqual({ Id: 'ExpireQueryResults', ExpirationInDays: 7, Status: 'Enabled' });
      const policy = Object.values<any>(template.findResources('AWS::S3::BucketPolicy'))
        .find((p) => p.Properties.Bucket.Ref === resultsId).Properties.PolicyDocument.Statement;
      expect(policy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    });
  });
});

describe('catalog props are checked at synth, naming the prop', () => {
  const build = (props: Partial<PodIdentityPreprocessingProps>) => () => {
    const stack = new Stack(new App(), 'Invalid', { env: ENV });
    new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: testCluster(stack).cluster, image: IMAGE, ...props });
  };

  test('a catalog needs an outputFormat that writes Parquet', () => {
    expect(build({ catalog: { databaseName: 'outputs' } })).toThrow(/invalid 'catalog': needs outputFormat .*\(outputFormat is CSV\)/);
  });

  test('databaseName follows Athena\'s rule', () => {
    expect(build({ outputFormat: OutputFormat.PARQUET, catalog: { databaseName: 'My-Outputs' } })).toThrow(/invalid 'catalog.databaseName'/);
  });

  test('firstRunDate is a real date written YYYY-MM-DD', () => {
    expect(build({ outputFormat: OutputFormat.PARQUET, catalog: { databaseName: 'outputs', firstRunDate: '2026-02-30' } }))
      .toThrow(/invalid 'catalog.firstRunDate': '2026-02-30'/);
  });

  test('results expire after whole days', () => {
    expect(build({
      outputFormat: OutputFormat.PARQUET,
      catalog: { databaseName: 'outputs', athenaWorkgroup: { resultsExpiration: Duration.hours(36) } },
    })).toThrow(/invalid 'catalog.athenaWorkgroup.resultsExpiration'/);
  });

  test('two catalogs in one stack need two databases (CloudFormation would fail the second at deploy)', () => {
    const stack = new Stack(new App(), 'SameDatabase', { env: ENV });
    const cluster = testCluster(stack).cluster;
    const props = { cluster, image: IMAGE, outputFormat: OutputFormat.PARQUET, catalog: { databaseName: 'outputs' } };
    new PodIdentityPreprocessing(stack, 'First', { ...props, namespace: 'first' });
    expect(() => new PodIdentityPreprocessing(stack, 'Second', { ...props, namespace: 'second' }))
      .toThrow(/invalid 'catalog.databaseName': 'outputs' is already the database of SameDatabase\/First\/Catalog/);
  });

  test('an OutputCatalog on its own names its own props', () => {
    const stack = new Stack(new App(), 'Standalone', { env: ENV });
    const bucket = s3.Bucket.fromBucketName(stack, 'Output', 'outputs');
    expect(() => new OutputCatalog(stack, 'Catalog', { bucket, databaseName: 'Outputs' })).toThrow(/^OutputCatalog: invalid 'databaseName'/);
  });

  test('grantQuery without a catalog names the prop', () => {
    const stack = new Stack(new App(), 'NoCatalog', { env: ENV });
    const workload = new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: testCluster(stack).cluster, image: IMAGE });
    expect(() => workload.grantQuery(new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() })))
      .toThrow(/invalid 'catalog': is not set/);
  });
});

describe('cdk-nag AwsSolutions on a workload with a catalog, a workgroup and a grantQuery', () => {
  test('no unacknowledged finding, every acknowledgement with a reason', () => {
    const report = runAwsSolutions((app) => {
      const stack = new Stack(app, 'CatalogNag', { env: ENV });
      const cluster = new MlopsEksCluster(stack, 'Eks', { vpc: new MlopsNetwork(stack, 'Network').vpc, kubernetesVersion: eks.KubernetesVersion.V1_36 });
      const workload = new PodIdentityPreprocessing(stack, 'Preprocessing', {
        cluster: cluster.cluster,
        image: IMAGE,
        createAdditionalBuckets: true,
        outputFormat: OutputFormat.PARQUET,
        catalog: { databaseName: 'outputs', athenaWorkgroup: {} },
      });
      workload.grantQuery(new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    expect(report.violations).toEqual([]);
    // The two wildcards grantQuery adds are acknowledged, each for its own prefix.
    expect(report.acknowledgements.map((a) => a.id)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^Annotation::AwsSolutions-IAM5\[Resource::<\w*ProcessedDataBucket\w+\.Arn>\/output\/tables\/\*\]$/),
      expect.stringMatching(/^Annotation::AwsSolutions-IAM5\[Resource::<\w*CatalogQueryResultsBucket\w+\.Arn>\/\*\]$/),
    ]));
    for (const { id, reason } of report.acknowledgements) {
      expect(`${id}: ${reason}`).toMatch(/: \S.{30,}/);
    }
  });
});
