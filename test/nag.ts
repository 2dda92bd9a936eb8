import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** One acknowledged finding: its rule ID and the reason given. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** What cdk-nag's AwsSolutions pack reports for an app, and what the app acknowledged. */
export interface NagReport {
  readonly violations: any[];
  readonly acknowledgements: Acknowledgement[];
}

/**
 * Builds an app with `build`, synthesizes it under cdk-nag's AwsSolutions pack into a temporary
 * directory (removed afterwards), and reads the report.
 */
export function runAwsSolutions(build: (app: App) => void): NagReport {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  try {
    const app = new App({ outdir });
    build(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch (error) {
      // Unacknowledged findings fail the synth; the report lists them.
      if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) {
        throw error;
      }
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    // A plugin with no findings is left out of the report.
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    return { violations: nag?.violations ?? [], acknowledgements: collectAcknowledgements(app) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function collectAcknowledgements(app: App): Acknowledgement[] {
  return app.node.findAll().flatMap((construct) => construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.entries<any>(entry.data).map(([id, reason]) => ({ id, reason: String(reason) }))));
}
