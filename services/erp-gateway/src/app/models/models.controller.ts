import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import type { Actor, ModelRegistryEntryEntity } from '@pipac/persistence';
import { Caller } from '../auth/caller.decorator';
import { Roles } from '../auth/roles';
import { InvalidInputException } from '../http/problem';
import { Reason, validated } from '../http/validation';
import { GATEWAY_OPTIONS, type ErpGatewayOptions } from '../gateway-options';
import { Stores } from '../stores';

export class RegisterModelDto {
  @ApiProperty({
    type: String,
    description:
      "Path of the ONNX file on the gateway's host; its card is <name>.card.json beside it",
  })
  @IsString()
  @Length(1, 512)
  @Matches(/\.onnx$/, { message: 'location must name an .onnx file' })
  location!: string;
}

export class DeployModelDto {
  @Reason()
  reason!: string;
}

interface Card {
  format?: string;
  version?: string;
  step?: string;
  recipe?: { name?: string };
}

/**
 * The engineer's endpoints: register a trained policy (its card must match the file and the
 * cell's recipe), and deploy it to its step. Deploying copies it to the step's model folder,
 * where the agent's hot reload picks it up (and refuses it, keeping the old one, if it does
 * not fit the step).
 */
@ApiTags('models')
@ApiSecurity('apiKey')
@Controller('models')
export class ModelsController {
  constructor(
    @Inject(Stores) private readonly stores: Stores,
    @Inject(GATEWAY_OPTIONS) private readonly options: ErpGatewayOptions,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Registered models and which one each step runs' })
  @ApiOkResponse({ description: 'Registry entries' })
  list(): Promise<ModelRegistryEntryEntity[]> {
    return this.stores.models.list(this.options.recipe);
  }

  @Post()
  @Roles('engineer')
  @ApiOperation({ summary: 'Register a trained policy (ONNX file and model card)' })
  @ApiBody({ type: RegisterModelDto })
  @ApiOkResponse({ description: 'The registry entry' })
  async register(
    @Caller() caller: Actor,
    @Body(validated(RegisterModelDto)) body: RegisterModelDto,
  ): Promise<ModelRegistryEntryEntity> {
    const bytes = await readFile(body.location).catch(() => {
      throw new InvalidInputException(
        [{ field: 'location', reason: `cannot read ${body.location}` }],
        422,
      );
    });
    const cardPath = body.location.replace(/\.onnx$/, '.card.json');
    const card = await readFile(cardPath, 'utf8')
      .then((text) => JSON.parse(text) as Card)
      .catch(() => {
        throw new InvalidInputException(
          [{ field: 'location', reason: `no readable model card at ${cardPath}` }],
          422,
        );
      });
    const version = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const problems: string[] = [];
    if (card.format !== 'pipac.model-card/v1') problems.push(`card format is ${card.format}`);
    if (card.version !== version)
      problems.push(`the card says ${card.version}, the file is ${version}`);
    if (card.recipe?.name !== this.options.recipe)
      problems.push(`trained on recipe ${card.recipe?.name}`);
    if (!card.step || !this.options.steps.includes(card.step))
      problems.push(`trained for step ${card.step}`);
    if (problems.length > 0) {
      throw new InvalidInputException(
        problems.map((reason) => ({ field: 'location', reason })),
        422,
      );
    }
    return this.stores.models.register(
      {
        version,
        recipe: this.options.recipe,
        step: card.step!,
        location: body.location,
        card: card as Record<string, unknown>,
      },
      caller,
    );
  }

  @Post(':version/deploy')
  @HttpCode(200)
  @Roles('engineer')
  @ApiOperation({ summary: 'Deploy a registered model to its step (the agent reloads it)' })
  @ApiParam({ name: 'version', description: 'sha256:<hex>' })
  @ApiBody({ type: DeployModelDto })
  @ApiOkResponse({ description: 'The registry entry, now deployed' })
  async deploy(
    @Param('version') version: string,
    @Caller() caller: Actor,
    @Body(validated(DeployModelDto)) body: DeployModelDto,
  ): Promise<ModelRegistryEntryEntity> {
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
      return deployed;
    } finally {
      await rm(staged.model, { force: true });
      await rm(staged.card, { force: true });
    }
  }
}
