import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The Powertools service name: the `service` dimension of every custom metric. */
export const SERVICE_NAME = 'okta-log-pipeline';
/** The CloudWatch namespace of the pipeline's custom metrics. */
export const METRICS_NAMESPACE = 'OktaLogPipeline';

/**
 * ESM bundles cannot `require`; some dependencies still do (Node built-ins from CommonJS code), so the bundle gets a
 * `require` of its own.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** This project's lock file, so bundling does not depend on the directory synth runs from. */
const PROJECT_LOCK_FILE = fileURLToPath(new URL('../../package-lock.json', import.meta.url));

export interface PipelineFunctionProps {
  /** The TypeScript handler file; it exports `handler`. */
  readonly entry: string;
  /** @default - no description */
  readonly description?: string;
  /** Added to the Powertools settings. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default - no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** The lock file esbuild resolves dependencies against. @default - this project's package-lock.json */
  readonly depsLockFilePath?: string;
  /** Active tracing also grants X-Ray writes, which cdk-nag asks to acknowledge. @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
  /**
   * Files to ship beside the bundle (file name -> content), for data known only at synth that is too large for the
   * environment (4 KB): the handler reads them next to itself. Part of the bundle, so a change redeploys the code.
   * @default - none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/**
 * Writes each bundled file where the bundling hook can copy it from: a temporary file named by its content's hash, so
 * the same content is written once and a synth never copies another's.
 */
const stageBundledFiles = (files: Readonly<Record<string, string>>): Array<[name: string, path: string]> => {
  const dir = join(tmpdir(), 'olp-bundled-files');
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, content]) => {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`bundled file name "${name}" must be a plain file name`);
    const path = join(dir, `${createHash('sha256').update(content).digest('hex')}-${name}`);
    if (!existsSync(path)) writeFileSync(path, content);
    return [name, path];
  });
};

/** A path as one shell word. */
const shellWord = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** The bundling hook that copies the staged files into the bundle's output directory. */
const copyInto = (files: ReadonlyArray<[string, string]>): nodejs.ICommandHooks => ({
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir, outputDir) =>
    files.map(([name, path]) => `cp ${shellWord(path)} ${shellWord(join(outputDir, name))}`),
});

/**
 * A pipeline Lambda: Node.js 24 on ARM, bundled by esbuild into minified ESM with source maps, with its own log group
 * (bounded retention) and its own role, which may write to that log group and nothing else until granted more.
 *
 * The role is explicit so the function needs no AWS managed policy (AWSLambdaBasicExecutionRole would allow writing
 * to every log group in the account).
 */
export class PipelineFunction extends Construct {
  public readonly lambdaFunction: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);

    this.lambdaFunction = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      depsLockFilePath: props.depsLockFilePath ?? PROJECT_LOCK_FILE,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        banner: ESM_REQUIRE_BANNER,
        // The runtime ships the AWS SDK v3; everything else is bundled.
        externalModules: ['@aws-sdk/*'],
        ...(props.bundledFiles === undefined ? {} : { commandHooks: copyInto(stageBundledFiles(props.bundledFiles)) }),
      },
    });
  }
}
