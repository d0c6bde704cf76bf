import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'kafka', 'kafka.sh');

/**
 * A broker of its own for a test that stops and restarts it (the shared one of the test
 * command must stay up for the other suites): the project's kafka.sh on another port.
 */
export class KafkaBroker {
  constructor(readonly port: number) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.script('start');
  }

  /** Starts again on the data of the last run, as a restarted broker does. */
  async resume(): Promise<void> {
    await this.script('resume');
  }

  /** Freezes the broker process (SIGSTOP): connections stay open, nothing is answered. */
  async pause(): Promise<void> {
    await this.script('pause');
  }

  /** Lets a paused broker go on; it handles what it received meanwhile. */
  async unpause(): Promise<void> {
    await this.script('unpause');
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }

  private async script(command: string): Promise<void> {
    await run('bash', [SCRIPT, command], {
      env: { ...process.env, PIPAC_KAFKA_PORT: String(this.port) },
      timeout: 120_000,
    });
  }
}
