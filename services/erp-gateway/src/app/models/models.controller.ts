import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import type { Actor, ModelRegistryEntryEntity } from '@pipac/persistence';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { ApiAuthenticated, ApiJsonBody, ApiProblems } from '../http/api-problems';
import { InvalidInputException } from '../http/problem';
import { IsFreeText, Reason, textParam, validated } from '../http/validation';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { Stores } from '../stores';

export class RegisterModelDto {
  @ApiProperty({
    type: String,
    description:
      "Path of the ONNX file relative to the gateway's models directory (e.g. nitration/alternate-2.onnx); " +
      'its card is <name>.card.json beside it',
    example: 'nitration/alternate-2.onnx',
    minLength: 1,
    maxLength: 512,
    pattern: '\\.onnx$',
  })
  @IsString()
  @Length(1, 512)
  @Matches(/\.onnx$/, { message: 'location must name an .onnx file' })
  @IsFreeText()
  location!: string;
}

export class DeployModelDto {
  @Reason()
  reason!: string;
}

interface Card {
  format?: unknown;
  version?: unknown;
  step?: unknown;
  recipe?: { name?: unknown } | null;
}

/** A registry entry as the API shows it: the location relative to the models directory. */
export class ModelView {
  @ApiProperty({ type: String, example: 'sha256:3f0e…', description: 'sha256 of the ONNX file' })
  version!: string;
  @ApiProperty({ type: String }) recipe!: string;
  @ApiProperty({ type: String }) step!: string;
  @ApiProperty({
    type: String,
    description: 'Relative to the models directory (never a host path)',
    example: 'nitration/alternate-2.onnx',
  })
  location!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The model card (pipac.model-card/v1)',
  })
  card!: Record<string, unknown>;
  @ApiProperty({ type: String, enum: ['registered', 'deployed', 'retired'] })
  status!: ModelRegistryEntryEntity['status'];
  @ApiProperty({ type: String, format: 'date-time' }) registeredAt!: string;
  @ApiProperty({ type: String }) registeredBy!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deployedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) deployedBy!: string | null;
}

/**
 * One answer for every location outside the models directory, whether or not a file is
 * there: telling them apart would let a caller probe the host's file system.
 */
const OUTSIDE = 'must be a path inside the models directory (relative, without ..)';

/**
 * The engineer's endpoints: register a trained policy (its card must match the file and the
 * cell's recipe), and deploy it to its step. Deploying copies it to the step's model folder,
 * where the agent's hot reload picks it up (and refuses it, keeping the old one, if it does
 * not fit the step).
 */
@ApiTags('models')
@ApiAuthenticated()
@Controller('models')
export class ModelsController {
  constructor(
    @Inject(Stores) private readonly stores: Stores,
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Registered models and which one each step runs',
    description: 'Locations are relative to the models directory; the host path is not shown.',
  })
  @ApiOkResponse({ type: ModelView, isArray: true, description: 'Registry entries' })
  async list(): Promise<ModelView[]> {
    return (await this.stores.models.list(this.options.recipe)).map((m) => this.view(m));
  }

  @Post()
  @Roles('engineer')
  @ApiOperation({
    summary: 'Register a trained policy (ONNX file and model card)',
    description:
      'The file must lie in the models directory; any other location, existing or not, is refused alike (400).',
  })
  @ApiBody({ type: RegisterModelDto })
  @ApiCreatedResponse({ type: ModelView, description: 'The registry entry' })
  @ApiJsonBody(
    'A malformed location, one outside the models directory, or a card that is not a JSON object',
  )
  @ApiProblems({
    409: 'That file is registered already',
    422: 'No such file or card, or a card that does not fit the file or the cell',
  })
  async register(
    @Caller() caller: Actor,
    @Body(validated(RegisterModelDto)) body: RegisterModelDto,
  ): Promise<ModelView> {
    const file = await this.confined(body.location);
    const shown = body.location;
    const bytes = await readFile(file).catch(() => {
      throw new InvalidInputException([{ field: 'location', reason: `cannot read ${shown}` }], 422);
    });
    const cardFile = file.replace(/\.onnx$/, '.card.json');
    const cardText = await readFile(cardFile, 'utf8').catch(() => {
      throw new InvalidInputException(
        [{ field: 'location', reason: `no readable model card beside ${shown}` }],
        422,
      );
    });
    const card = parseCard(cardText);
    if (!card) {
      throw new InvalidInputException([
        { field: 'location', reason: `the model card beside ${shown} is not a JSON object` },
      ]);
    }
    const version = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const problems: string[] = [];
    if (card.format !== 'pipac.model-card/v1')
      problems.push(`card format is ${String(card.format)}`);
    if (card.version !== version)
      problems.push(`the card says ${String(card.version)}, the file is ${version}`);
    if (card.recipe?.name !== this.options.recipe)
      problems.push(`trained on recipe ${String(card.recipe?.name)}`);
    const step = typeof card.step === 'string' ? card.step : undefined;
    if (!step || !this.options.steps.includes(step))
      problems.push(`trained for step ${String(card.step)}`);
    if (problems.length > 0) {
      throw new InvalidInputException(
        problems.map((reason) => ({ field: 'location', reason })),
        422,
      );
    }
    const entry = await this.stores.models.register(
      {
        version,
        recipe: this.options.recipe,
        step: step!,
        location: file,
        card: { ...card },
      },
      caller,
    );
    return this.view(entry);
  }

  @Post(':version/deploy')
  @HttpCode(200)
  @Roles('engineer')
  @ApiOperation({ summary: 'Deploy a registered model to its step (the agent reloads it)' })
  @ApiParam({
    name: 'version',
    description: 'sha256:<hex>',
    schema: { type: 'string', minLength: 1, maxLength: 80 },
  })
  @ApiBody({ type: DeployModelDto })
  @ApiOkResponse({ type: ModelView, description: 'The registry entry, now deployed' })
  @ApiJsonBody('A malformed version or reason')
  @ApiProblems({ 404: 'No registered model of that version' })
  async deploy(
    @Param('version', textParam('version', 80)) version: string,
    @Caller() caller: Actor,
    @Body(validated(DeployModelDto)) body: DeployModelDto,
  ): Promise<ModelView> {
    const entry = (await this.stores.models.list(this.options.recipe)).find(
      (m) => m.version === version,
    );
    if (!entry)
      throw new InvalidInputException(
        [{ field: 'version', reason: `no registered model ${version}` }],
        404,
      );
    // Stage both files beside their destination, record the deployment, then move them in:
    // a failed step leaves the running model untouched.
    const dir = join(this.options.modelsDir, entry.step);
    await mkdir(dir, { recursive: true });
    const staged = {
      model: join(dir, '.policy.onnx.staged'),
      card: join(dir, '.policy.card.json.staged'),
    };
    await copyFile(entry.location, staged.model);
    await copyFile(entry.location.replace(/\.onnx$/, '.card.json'), staged.card);
    try {
      const deployed = await this.stores.models.deploy(version, caller, body.reason);
      await rename(staged.model, join(dir, 'policy.onnx'));
      await rename(staged.card, join(dir, 'policy.card.json'));
      return this.view(deployed);
    } finally {
      await rm(staged.model, { force: true });
      await rm(staged.card, { force: true });
    }
  }

  /**
   * The absolute path of `location` if it lies in the models directory, after following
   * symbolic links (a link inside pointing outside is refused alike); else the one uniform
   * 400. A file that does not exist inside the directory is left for the read to report.
   */
  private async confined(location: string): Promise<string> {
    const outside = () => new InvalidInputException([{ field: 'location', reason: OUTSIDE }]);
    const root = resolve(this.options.modelsDir);
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..')) throw outside();
    const file = resolve(root, location);
    if (!inside(root, file)) throw outside();
    const [realRoot, realFile] = await Promise.all([
      realpath(root).catch(() => root),
      realpath(file).catch(() => undefined),
    ]);
    if (realFile !== undefined && !inside(realRoot, realFile)) throw outside();
    // The registry keeps the path the deployment copies from (its column holds 512).
    if (file.length > 512) throw outside();
    return file;
  }

  /** The entry with its location relative to the models directory, never a host path. */
  private view(entry: ModelRegistryEntryEntity): ModelView {
    const root = resolve(this.options.modelsDir);
    const file = resolve(root, entry.location);
    return {
      ...entry,
      // An entry registered from elsewhere (before locations were confined) shows its file
      // name only.
      location: inside(root, file) ? relative(root, file).split(sep).join('/') : basename(file),
    };
  }
}

function inside(root: string, file: string): boolean {
  const path = relative(root, file);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/** The card as an object, or undefined when the text is not a JSON object. */
function parseCard(text: string): Card | undefined {
  try {
    const card: unknown = JSON.parse(text);
    return typeof card === 'object' && card !== null && !Array.isArray(card) ? card : undefined;
  } catch {
    return undefined;
  }
}
