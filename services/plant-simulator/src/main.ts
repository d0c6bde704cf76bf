import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { workspaceRoot } from '@pipac/config';
import { loadRecipe } from '@pipac/recipe';
import { SCENARIO_NAMES } from '@pipac/twin';
import { routeNodeOpcuaWarnings } from '@pipac/opcua';
import { PlantSimulator } from './app/plant-simulator';
import { simulatorHostnames, simulatorSecurity, type SecurityFlags } from './app/simulator.config';

// The repository (or the image's /app, where the bundle runs).
const REPOSITORY_ROOT = workspaceRoot(join(__dirname, '..', '..', '..'));

interface Options extends SecurityFlags {
  recipe: string;
  host: string;
  hostname?: string[];
  port: number;
  timeFactor: number;
  scenario?: string;
  duration: number;
  seed: number;
  warmUp: number;
  nodeMaps?: string;
}

function positive(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!(Number.isFinite(value) && value > 0)) {
      throw new InvalidArgumentError(`${name} must be a positive number, got "${text}"`);
    }
    return value;
  };
}

function nonNegativeInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!(Number.isInteger(value) && value >= 0)) {
      throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got "${text}"`);
    }
    return value;
  };
}

export function buildProgram(): Command {
  const program = new Command('plant-simulator').description(
    "Serve a recipe's plant over OPC UA: one flow-reactor module per step and its inline analyser (LADS models), driven by the digital twin",
  );
  declarePlantOptions(program);
  declareSecurityOptions(program);
  return program
    .option(
      '--node-maps <dir>',
      "write each device's node map (JSON) here, for the device adapters",
    )
    .action(serve);
}

/** What is simulated and where it is served. */
function declarePlantOptions(program: Command): void {
  program
    .option(
      '-r, --recipe <file>',
      'recipe (YAML)',
      join(REPOSITORY_ROOT, 'recipes', 'paracetamol.yaml'),
    )
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option(
      '--hostname <name...>',
      "host names and IP addresses clients reach the simulator by: its endpoints and its certificate's subjectAltName (default: --host, or the machine's name when --host is 0.0.0.0)",
    )
    .option('--port <n>', 'OPC UA port', nonNegativeInteger('--port'), 4840)
    .option(
      '--time-factor <x>',
      'simulated seconds per wall-clock second',
      positive('--time-factor'),
      1,
    )
    .addOption(new Option('--scenario <name>', 'disturbance scenario').choices([...SCENARIO_NAMES]))
    .option(
      '--duration <seconds>',
      'length of the scenario, simulated s',
      positive('--duration'),
      28_800,
    )
    .option(
      '--seed <n>',
      'seed of the scenario and the analyser noise',
      nonNegativeInteger('--seed'),
      1,
    )
    .option(
      '--warm-up <seconds>',
      'simulated s at the setpoints before serving',
      nonNegativeInteger('--warm-up'),
      7200,
    );
}

/** Who may connect, and how (OPC UA Part 2 security, Part 4 user identity tokens). */
function declareSecurityOptions(program: Command): void {
  program
    .option(
      '--pki <dir>',
      'certificates and trust lists',
      join(REPOSITORY_ROOT, '.pipac', 'pki', 'plant-simulator'),
    )
    .option(
      '--users-file <file>',
      'users allowed in (YAML list of username, password); or PIPAC_OPCUA_USERS=name:password,…',
    )
    .option('--allow-anonymous', 'allow anonymous sessions (off by default)', false)
    .option(
      '--user-certificates',
      'offer X509 user identity tokens: users whose certificate the user trust list holds (off by default)',
      false,
    )
    .option(
      '--user-pki <dir>',
      'the user trust list (trusted/certs, issuers/certs and crl, rejected); unknown user certificates are refused (default: <pki>/user)',
    )
    .option(
      '--certificate <file>',
      "the server's application certificate, PEM (default: self-signed, made in <pki>/own)",
    )
    .option('--private-key <file>', 'the private key of --certificate, PEM')
    .option(
      '--accept-unknown-certificates',
      'trust every client application certificate on first contact (development only; never user certificates)',
      false,
    )
    .addOption(
      new Option('--security-mode <mode...>', 'message security modes offered')
        .choices(['None', 'Sign', 'SignAndEncrypt'])
        .default(['SignAndEncrypt']),
    );
}

/** Serves the plant until SIGINT or SIGTERM. */
async function serve(options: Options): Promise<void> {
  const security = simulatorSecurity(options);
  const hostnames = simulatorHostnames(options.hostname);
  const simulator = await PlantSimulator.start({
    recipe: loadRecipe(options.recipe),
    host: options.host,
    ...(hostnames ? { hostnames } : {}),
    port: options.port,
    ...security,
    timeFactor: options.timeFactor,
    seed: options.seed,
    warmUp: options.warmUp,
    ...(options.scenario
      ? { scenario: { name: options.scenario, duration: options.duration } }
      : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (options.nodeMaps) {
    mkdirSync(options.nodeMaps, { recursive: true });
    for (const map of simulator.nodeMaps()) {
      writeFileSync(
        join(options.nodeMaps, `${map.device}.json`),
        `${JSON.stringify(map, null, 2)}\n`,
      );
    }
  }
  process.stderr.write(
    `plant-simulator: serving ${simulator.nodeMaps().length} devices at ${simulator.endpointUrl} (time factor ${options.timeFactor})\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.stop();
}

if (require.main === module) {
  routeNodeOpcuaWarnings();
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`plant-simulator: ${(error as Error).message}\n`);
      process.exit(2);
    });
}
